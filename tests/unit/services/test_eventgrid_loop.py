"""Event Grid into the events queue through the loop: with ``EVENTS_QUEUE_RESOURCE_ID`` set, a registry's
storage accounts and ACR each get a system topic and an event subscription delivering to the events queue
(regctl's own writes filtered out); one deleted by hand is drift the region sync heals; they go with the
registry, before the resources they are about. Without the setting regctl writes and reads none."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.domain.kinds import eventgrid
from shared.domain.records import OperationStatus
from shared.domain.resources import Part
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import SETTINGS, World

QUEUE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/regctl-control/providers/"
    "Microsoft.ServiceBus/namespaces/regctl-bus/queues/regctl-events"
)
WITH_EVENTS = SETTINGS.model_copy(update={"events_queue_resource_id": QUEUE})


@pytest.fixture
def world() -> Iterator[World]:
    made = World(settings=WITH_EVENTS)
    try:
        yield made
    finally:
        eventgrid.configure("")  # the setting is process-wide: leave the other tests without it


def created(world: World) -> World:
    accepted = world.api.create(DEMO1)
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    return world


def test_every_storage_account_and_the_acr_get_a_topic_and_a_subscription_to_the_events_queue(world: World):
    created(world)
    grid, arm = world.arm.eventgrid, world.arm
    assert arm.acr is not None
    sources = {a.id for a in arm.storage.values()} | {arm.acr.id}
    assert {t.source for t in grid.topics.values()} == sources and len(sources) == 4
    for topic in grid.topics.values():
        expected = (
            "Microsoft.ContainerRegistry.Registries"
            if topic.source == arm.acr.id
            else "Microsoft.Storage.StorageAccounts"
        )
        assert topic.topic_type == expected and topic.state == "Succeeded"
        account = next((a for a in arm.storage.values() if a.id == topic.source), None)
        assert topic.location == (account.region if account else "eastus")
    assert {topic for topic, _ in grid.subscriptions} == set(grid.topics)
    by_topic = {grid.topics[t].source: s for (t, _), s in grid.subscriptions.items()}
    for source, sub in by_topic.items():
        assert sub.name == "regctl-events"
        assert sub.properties["destination"] == {"endpointType": "ServiceBusQueue", "properties": {"resourceId": QUEUE}}
        flt = sub.properties["filter"]
        if source == arm.acr.id:
            assert flt["includedEventTypes"] == [
                "Microsoft.ContainerRegistry.ImagePushed",
                "Microsoft.ContainerRegistry.ImageDeleted",
            ]
            assert flt["advancedFilters"] == [
                {"operatorType": "StringNotBeginsWith", "key": "data.target.repository", "values": ["environments/"]}
            ]
        else:
            assert flt["includedEventTypes"] == ["Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobDeleted"]
            assert flt["advancedFilters"] == [
                {
                    "operatorType": "StringNotBeginsWith",
                    "key": "subject",
                    "values": ["/blobServices/default/containers/assets/", "/blobServices/default/containers/upload-"],
                }
            ]
    record = world.store.get_registry("demoregistry1")
    assert record.drift == []
    assert len(record.resources["event_topics"]) == 4


def test_a_subscription_deleted_by_hand_is_drift_the_region_sync_heals(world: World):
    created(world)
    grid = world.arm.eventgrid
    key = next(iter(grid.subscriptions))
    del grid.subscriptions[key]
    report = world.region_sync.run()
    assert report.healing == ["demoregistry1"]
    drift = world.store.get_registry("demoregistry1").drift
    assert [(d["field"], d["desired"], d["actual"]) for d in drift] == [("exists", "present", "missing")]
    assert drift[0]["resource"].startswith("event subscription of")
    world.drain()
    assert key in grid.subscriptions and len(grid.subscriptions) == 4
    assert world.store.get_registry("demoregistry1").drift == []


def test_a_topic_deleted_by_hand_comes_back_with_its_subscription(world: World):
    created(world)
    grid = world.arm.eventgrid
    name = next(iter(grid.topics))
    grid.finish("topic", name, None)  # as Azure does: its subscriptions go with it
    assert len(grid.topics) == 3 and len(grid.subscriptions) == 3
    assert world.region_sync.run().healing == ["demoregistry1"]
    world.drain()
    assert name in grid.topics and (name, "regctl-events") in grid.subscriptions
    assert world.store.get_registry("demoregistry1").drift == []


def test_a_subscription_changed_by_hand_is_put_back(world: World):
    created(world)
    grid = world.arm.eventgrid
    key = next(iter(grid.subscriptions))
    sub = grid.subscriptions[key]
    grid.subscriptions[key] = type(sub)(sub.name, sub.topic, {**sub.properties, "filter": {"includedEventTypes": []}})
    assert world.region_sync.run().healing == ["demoregistry1"]
    world.drain()
    assert grid.subscriptions[key].properties["filter"]["includedEventTypes"]
    assert world.store.get_registry("demoregistry1").drift == []


def test_they_are_removed_with_the_registry_before_what_they_are_about(world: World):
    created(world)
    accepted = world.api.delete("DemoRegistry1")
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert world.arm.eventgrid.topics == {} and world.arm.eventgrid.subscriptions == {}
    writes = world.arm.writes
    topic_deletes = [i for i, w in enumerate(writes) if w.startswith("delete-topic:")]
    sub_deletes = [i for i, w in enumerate(writes) if w.startswith("delete-subscription:")]
    source_deletes = [
        i for i, w in enumerate(writes) if w.startswith(("delete-storage:", "delete-acr:", "delete-group:"))
    ]
    assert len(topic_deletes) == 4 and len(sub_deletes) == 4
    assert max(sub_deletes) < min(topic_deletes) < max(topic_deletes) < min(source_deletes)


def test_a_region_removed_takes_its_topic_and_subscription_with_it(world: World):
    created(world)
    smaller = {**DEMO1, "replication_locations": DEMO1["replication_locations"][:2]}
    world.api.replace("DemoRegistry1", smaller)
    world.drain()
    regions = {a.region for a in world.arm.storage.values()}
    assert regions == {"eastus", "eastus2"}
    sources = {a.id for a in world.arm.storage.values()} | {world.arm.acr.id if world.arm.acr else ""}
    assert {t.source for t in world.arm.eventgrid.topics.values()} == sources
    assert len(world.arm.eventgrid.subscriptions) == 3


def test_without_the_setting_regctl_writes_and_reads_no_event_grid_resource():
    world = World()
    world.api.create(DEMO1)
    world.drain()
    assert world.arm.eventgrid.topics == {}
    assert not [w for w in world.arm.writes if "topic" in w or "subscription" in w]
    assert Part.EVENTS not in world.reconciler.parts_for(())
