"""Event Grid on the sources promotion rules watch, through the loop (fakes): a rule into a registry naming
an external ACR or storage account makes that registry's lane put a system topic on the source (or use the
one there) and the registry's subscription on it; deleting or retargeting the rule takes them away again
(the topic only when regctl made it and nothing else is on it), as does deleting the registry; drift is
healed by the region sync; a source that is not there fails the sync naming it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shared.domain.kinds import eventgrid
from shared.domain.naming import source_subscription_name
from shared.domain.promotions import PromotionRule
from shared.domain.records import OperationKind, OperationRecord, OperationStatus, ReconcilePolicy, RegistryRecord
from shared.domain.resources import ObservedEventSubscription, ObservedSystemTopic
from shared.domain.rule_sources import RuleSource, SourceKind
from tests.unit.services.promotion_world import OWNER
from tests.unit.services.test_eventgrid_loop import WITH_EVENTS
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World

TEAM = "11111111-1111-1111-1111-111111111111"
ACR_ID = f"/subscriptions/{TEAM}/resourceGroups/team-build/providers/Microsoft.ContainerRegistry/registries/teamacr"
DROPS_ID = f"/subscriptions/{TEAM}/resourceGroups/team-data/providers/Microsoft.Storage/storageAccounts/drops"
MINE = source_subscription_name("demoregistry1")


@pytest.fixture
def world() -> Iterator[World]:
    made = World(settings=WITH_EVENTS)
    made.arm.external = {ACR_ID.lower(): "westus", DROPS_ID.lower(): "eastus2"}
    made.api.create(DEMO1)
    made.drain()
    try:
        yield made
    finally:
        eventgrid.configure("")


def acr_rule(name: str = "team-images", source: str = ACR_ID) -> PromotionRule:
    return PromotionRule(name, RuleSource(SourceKind.ACR, resource_id=source, repository="team/*"), "demoregistry1")


def drops_rule() -> PromotionRule:
    source = RuleSource(SourceKind.STORAGE, resource_id=DROPS_ID, container="drops", prefix="models/")
    return PromotionRule("team-drops", source, "demoregistry1")


def watch(world: World, *rules: PromotionRule) -> OperationRecord | None:
    """Rules saved (as put_rule saves them), then the registry told, as put_rule tells it."""
    for rule in rules:
        world.promotion_store.save_rule(rule)
    operation = world.lifecycle.resync("DemoRegistry1", "rules saved")
    world.drain()
    return operation


def topic_on(world: World, source: str) -> ObservedSystemTopic | None:
    return next((t for t in world.arm.eventgrid.topics.values() if t.source.lower() == source.lower()), None)


def subs_on(world: World, topic: str) -> dict[str, ObservedEventSubscription]:
    return {name: s for (t, name), s in world.arm.eventgrid.subscriptions.items() if t == topic.lower()}


def test_a_rule_naming_an_external_acr_or_storage_account_gets_a_topic_on_it_and_the_registrys_subscription(
    world: World,
):
    operation = watch(world, acr_rule(), drops_rule())
    assert operation is not None and operation.kind is OperationKind.SYNC
    assert world.store.get_operation(operation.id).status is OperationStatus.SUCCEEDED
    grid = world.arm.eventgrid
    for source, name, group, location, events in (
        (ACR_ID, "regctl-teamacr", "team-build", "westus", ["Microsoft.ContainerRegistry.ImagePushed"]),
        (DROPS_ID, "regctl-drops", "team-data", "eastus2", ["Microsoft.Storage.BlobCreated"]),
    ):
        topic = topic_on(world, source)
        assert topic is not None and topic.name == name and topic.location == location
        assert topic.tags == {"regctl-source": "external"} and grid.groups[name] == group
        [sub] = subs_on(world, name).values()
        assert sub.name == MINE
        assert sub.properties["destination"] == {
            "endpointType": "ServiceBusQueue",
            "properties": {"resourceId": WITH_EVENTS.events_queue_resource_id},
        }
        assert sub.properties["filter"]["includedEventTypes"] == events
    assert subs_on(world, "regctl-drops")[MINE].properties["filter"]["subjectEndsWith"] == "/asset.yml"
    record = world.store.get_registry("demoregistry1")
    assert record.drift == []
    assert [s["id"] for s in record.resources["watched_sources"]] == [ACR_ID, DROPS_ID]


def test_deleting_the_rule_removes_the_registrys_subscription_and_the_topic_regctl_made(world: World):
    watch(world, acr_rule())
    world.container.promotions.delete_rule("team-images", OWNER)
    world.drain()
    assert topic_on(world, ACR_ID) is None and subs_on(world, "regctl-teamacr") == {}
    assert [w for w in world.arm.writes if "teamacr" in w][-2:] == [
        f"delete-subscription:regctl-teamacr/{MINE}",
        "delete-topic:regctl-teamacr",
    ]
    record = world.store.get_registry("demoregistry1")
    assert "watched_sources" not in record.resources and record.drift == []
    assert world.store.get_operation(record.operation_id).kind is OperationKind.SYNC


def test_a_topic_someone_else_made_on_the_source_is_used_and_left_in_place(world: World):
    theirs = ObservedSystemTopic("team-acr-events", "westus", ACR_ID, eventgrid.ACR_TOPIC_TYPE, {"owner": "team"})
    world.arm.eventgrid.add_topic("team-build", theirs)
    webhook = ObservedEventSubscription("team-webhook", "team-acr-events", {"destination": {"endpointType": "WebHook"}})
    world.arm.eventgrid.subscriptions[("team-acr-events", "team-webhook")] = webhook
    watch(world, acr_rule())
    assert set(subs_on(world, "team-acr-events")) == {"team-webhook", MINE}
    assert len(world.arm.eventgrid.topics) == 5, "the registry's own four and theirs: no second one on the ACR"
    world.container.promotions.delete_rule("team-images", OWNER)
    world.drain()
    assert topic_on(world, ACR_ID) == theirs and set(subs_on(world, "team-acr-events")) == {"team-webhook"}


def test_a_topic_regctl_made_stays_while_another_registrys_subscription_is_on_it(world: World):
    watch(world, acr_rule())
    other = ObservedEventSubscription("regctl-staging-abcd1234", "regctl-teamacr", {})
    world.arm.eventgrid.subscriptions[("regctl-teamacr", other.name)] = other
    world.container.promotions.delete_rule("team-images", OWNER)
    world.drain()
    assert topic_on(world, ACR_ID) is not None and set(subs_on(world, "regctl-teamacr")) == {other.name}


def test_a_rule_retargeted_to_a_registry_source_takes_the_subscription_away(world: World):
    watch(world, acr_rule())
    dev = RegistryRecord(key="dev", name="dev", spec=dict(DEMO1, name="dev"), operation_id="op-dev")
    world.store.create_registry(dev, OperationRecord("op-dev", "dev", OperationKind.CREATE, 1))
    world.container.promotions.put_rule("team-images", {"source": "dev", "target": "demoregistry1"}, OWNER)
    world.drain()
    assert topic_on(world, ACR_ID) is None and subs_on(world, "regctl-teamacr") == {}


def test_a_subscription_changed_by_hand_on_the_source_is_put_back_by_the_region_sync(world: World):
    watch(world, acr_rule())
    key = ("regctl-teamacr", MINE)
    sub = world.arm.eventgrid.subscriptions[key]
    changed = {**sub.properties, "filter": {"includedEventTypes": ["Microsoft.ContainerRegistry.ImageDeleted"]}}
    world.arm.eventgrid.subscriptions[key] = ObservedEventSubscription(sub.name, sub.topic, changed)
    report = world.region_sync.run()
    assert report.healing == ["demoregistry1"]
    drift = world.store.get_registry("demoregistry1").drift
    assert [(d["resource"], d["field"]) for d in drift] == [
        ("event subscription of the external acr teamacr", "includedEventTypes")
    ]
    world.drain()
    assert world.arm.eventgrid.subscriptions[key].properties["filter"]["includedEventTypes"] == [
        "Microsoft.ContainerRegistry.ImagePushed"
    ]
    assert world.store.get_registry("demoregistry1").drift == []
    assert world.region_sync.run().in_sync == ["demoregistry1"]


def test_a_source_that_does_not_exist_fails_the_sync_naming_it_and_its_rule(world: World):
    missing = ACR_ID.replace("teamacr", "gone")
    operation = watch(world, acr_rule("ghost", missing), drops_rule())
    assert operation is not None
    done = world.store.get_operation(operation.id)
    assert done.status is OperationStatus.FAILED and done.error_code == "SourceNotFound"
    assert missing in (done.error_message or "") and "ghost" in (done.error_message or "")
    assert subs_on(world, "regctl-drops"), "the other source's work ran"
    world.container.promotions.delete_rule("ghost", OWNER)
    world.drain()
    record = world.store.get_registry("demoregistry1")
    assert world.store.get_operation(record.operation_id).status is OperationStatus.SUCCEEDED


def test_deleting_the_registry_removes_its_subscriptions_on_external_sources(world: World):
    watch(world, acr_rule(), drops_rule())
    accepted = world.api.delete("DemoRegistry1")
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert world.arm.eventgrid.topics == {} and world.arm.eventgrid.subscriptions == {}
    assert "delete-topic:regctl-teamacr" in world.arm.writes


def test_resync_reconciles_a_running_operation_and_leaves_a_deleted_or_skipped_registry_alone(world: World):
    world.promotion_store.save_rule(acr_rule())
    accepted = world.api.sync("DemoRegistry1")
    assert world.lifecycle.resync("demoregistry1", "rule saved") == accepted.operation
    world.drain()
    assert topic_on(world, ACR_ID) is not None
    world.api.set_policy("DemoRegistry1", ReconcilePolicy.SKIP)
    assert world.lifecycle.resync("demoregistry1", "rule saved") is None
    world.api.set_policy("DemoRegistry1", ReconcilePolicy.MANAGE)
    world.api.delete("DemoRegistry1")
    assert world.lifecycle.resync("demoregistry1", "rule deleted") is None
    assert world.lifecycle.resync("nosuch", "rule deleted") is None


def test_without_the_events_queue_no_rule_is_listed_and_no_source_read_or_written():
    def unexpected(*args: object) -> object:
        raise AssertionError("read without Event Grid configured")

    world = World()
    world.promotion_store.save_rule(acr_rule())
    world.arm.observe_sources = unexpected  # type: ignore[method-assign,assignment]
    world.promotion_store.list_rules = unexpected  # type: ignore[method-assign,assignment]
    world.api.create(DEMO1)
    world.drain()
    assert world.lifecycle.resync("demoregistry1", "rule saved") is not None
    world.drain()
    assert world.region_sync.run().in_sync == ["demoregistry1"]
    assert world.arm.eventgrid.topics == {}
