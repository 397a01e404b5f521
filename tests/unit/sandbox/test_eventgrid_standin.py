"""The Event Grid stand-in in-process: announcements in, messages out on a fake publisher, with Azure's event
shapes, the subscriptions' filters and schemas, and the ``"service": "eventgrid"`` fault rules."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.arm.eventgrid import EventSubscription
from sandbox.arm.eventgrid_properties import subscription_properties
from sandbox.arm.faults import REORDER_FLUSH_SECONDS, FaultConfigError, FaultEngine, FaultRule, parse_rules
from sandbox.arm.state import Registry
from sandbox.blob.hooks import BlobDeleted
from sandbox.eventgrid.schedule import Delivery, Scheduler
from shared.domain.kinds import eventgrid as regctl_eventgrid
from shared.ports import OutboundMessage
from tests.unit.sandbox.eventgrid_world import DIGEST, MEDIA, QUEUES, SUB, World, committed, destination


@pytest.fixture
def world() -> Iterator[World]:
    made = World()
    made.standin.start()
    yield made
    made.standin.stop()


def test_image_pushed_has_azures_shape_and_goes_to_the_queue_the_destination_names(world: World) -> None:
    world.topic(world.registry.id, acr={})

    world.standin.image_changed(world.pushed("team/app"))

    [sent] = world.publisher.wait(1)
    event = json.loads(sent.body)
    assert sent.queue == "acr" and sent.message_id == event["id"]
    assert sent.application_properties == {
        "aeg-subscription-name": "ACR",
        "aeg-delivery-count": 0,
        "aeg-event-type": "Notification",
        "aeg-metadata-version": "1",
        "aeg-data-version": "1.0",
    }
    assert set(event) == {"topic", "subject", "eventType", "eventTime", "id", "data", "dataVersion", "metadataVersion"}
    assert event["topic"] == world.registry.id and event["subject"] == "team/app:1.0"
    assert event["eventType"] == "Microsoft.ContainerRegistry.ImagePushed"
    assert (event["dataVersion"], event["metadataVersion"]) == ("1.0", "1")
    data = event["data"]
    assert set(data) == {"id", "timestamp", "action", "target", "request"}
    assert data["id"] == event["id"] and data["action"] == "push" and data["timestamp"].endswith("Z")
    assert data["target"] == {
        "mediaType": MEDIA,
        "size": 524,
        "digest": DIGEST,
        "length": 524,
        "repository": "team/app",
        "tag": "1.0",
    }
    request = data["request"]
    assert request["host"] == "regctlacr.azurecr.io" and request["method"] == "PUT"
    assert request["useragent"] == "docker/27.0" and request["id"]


def test_image_deleted_and_the_cloud_events_schema(world: World) -> None:
    world.topic(world.registry.id, cloud={"eventDeliverySchema": "CloudEventSchemaV1_0"})

    world.standin.image_changed(world.pushed("team/app", "2", action="delete"))

    [sent] = world.publisher.wait(1)
    cloud = json.loads(sent.body)
    assert set(cloud) == {"source", "subject", "type", "time", "id", "data", "specversion"}
    assert cloud["type"] == "Microsoft.ContainerRegistry.ImageDeleted" and cloud["specversion"] == "1.0"
    assert cloud["source"] == world.registry.id and cloud["subject"] == "team/app:2"
    assert cloud["data"]["action"] == "delete" and cloud["data"]["request"]["method"] == "DELETE"
    assert sent.application_properties["aeg-metadata-version"] == "1.0"


def test_regctls_own_subscription_keeps_its_environment_imports_out(world: World) -> None:
    props = regctl_eventgrid.subscription_properties("acr", QUEUES + "regctl-events")
    world.topic(world.registry.id, **{"regctl-events": props})

    world.standin.image_changed(world.pushed("environments/sklearn-env", "3"))
    world.standin.image_changed(world.pushed("team/app", "1.0"))

    [sent] = world.publisher.wait(1)
    time.sleep(0.05)
    assert len(world.publisher.sent) == 1 and json.loads(sent.body)["subject"] == "team/app:1.0"


def test_only_topics_of_the_source_and_succeeded_servicebus_subscriptions_get_events(world: World) -> None:
    other = Registry(SUB, "rg", "otheracr", "eastus", "Premium", {}, {}, state="Succeeded")
    world.topic(other.id, other={})
    topic = world.topic(world.registry.id, mine={}, hooked={})
    topic.subscriptions["hooked"].properties["destination"] = {"endpointType": "WebHook", "properties": {}}
    topic.subscriptions["creating"] = EventSubscription(
        "creating", subscription_properties({"destination": destination("creating")})
    )

    world.standin.image_changed(world.pushed("team/app"))

    world.publisher.wait(1)
    time.sleep(0.05)
    assert [m.queue for m in world.publisher.sent] == ["mine"]


def test_blob_created_and_blob_deleted_carry_the_storage_fields_in_order(world: World) -> None:
    world.topic(world.account.id, blobs={})

    world.standin.blob_committed(committed("fraud/asset.yml"))
    world.standin.blob_deleted(
        BlobDeleted("regstore1", "models", "fraud/asset.yml", "https://st/models/fraud/asset.yml", "text/yaml")
    )
    world.standin.blob_committed(committed("gone.bin", account="nosuchaccount"))

    world.publisher.wait(2)
    created, deleted = world.publisher.bodies()
    assert created["eventType"] == "Microsoft.Storage.BlobCreated" and created["topic"] == world.account.id
    assert created["subject"] == "/blobServices/default/containers/models/blobs/fraud/asset.yml"
    assert created["data"]["api"] == "PutBlob" and created["data"]["contentLength"] == 3
    assert deleted["eventType"] == "Microsoft.Storage.BlobDeleted" and deleted["subject"] == created["subject"]
    assert set(deleted["data"]) == {
        "api",
        "requestId",
        "contentType",
        "blobType",
        "url",
        "sequencer",
        "storageDiagnostics",
    }
    assert deleted["data"]["api"] == "DeleteBlob" and deleted["data"]["contentType"] == "text/yaml"
    assert deleted["data"]["blobType"] == "BlockBlob" and deleted["dataVersion"] == ""
    assert created["data"]["sequencer"] < deleted["data"]["sequencer"]
    assert len(created["data"]["sequencer"]) == 32


def test_an_announcement_under_the_store_lock_does_not_wait_for_the_delivery(world: World) -> None:
    world.topic(world.registry.id, acr={})

    with world.store.lock:  # a re-entrant lock: a delivery made on this thread would go through at once
        world.standin.image_changed(world.pushed("team/app"))
        time.sleep(0.1)
        assert not world.publisher.sent  # the delivery thread waits for the lock to read the topics

    world.publisher.wait(1)


def test_a_duplicate_rule_sends_copies_with_the_same_ids_and_counts_its_hits(world: World) -> None:
    world.topic(world.registry.id, acr={})
    world.rules({"service": "eventgrid", "duplicate": 2, "count": 1})

    world.standin.image_changed(world.pushed("team/app", "1"))
    world.standin.image_changed(world.pushed("team/app", "2"))

    sent = world.publisher.wait(4)
    assert len({m.message_id for m in sent[:3]}) == 1 and sent[3].message_id != sent[0].message_id
    assert [m.application_properties["aeg-delivery-count"] for m in sent] == [0, 1, 2, 0]
    assert len({m.body for m in sent[:3]}) == 1
    assert world.faults.rules[0].as_json()["hits"] == 1


def test_a_delay_rule_holds_matching_events_and_lets_the_others_overtake(world: World) -> None:
    world.topic(world.account.id, blobs={})
    world.topic(world.registry.id, acr={})
    world.rules({"service": "eventgrid", "event_type": "microsoft.storage.blobcreated", "delay": 0.5})

    started = time.monotonic()
    world.standin.blob_committed(committed("late.bin"))
    world.standin.image_changed(world.pushed("team/app"))

    first = world.publisher.wait(1)[0]
    assert first.queue == "acr"
    sent = world.publisher.wait(2)
    assert sent[1].queue == "blobs" and time.monotonic() - started >= 0.5


def test_a_reorder_rule_shuffles_a_window_of_matching_events_with_the_seeded_rng(world: World) -> None:
    world.topic(world.registry.id, acr={})
    world.rules({"service": "eventgrid", "reorder": 4}, seed=3)

    for tag in "abcdefgh":
        world.standin.image_changed(world.pushed("team/app", tag))

    world.publisher.wait(8)
    tags = [body["data"]["target"]["tag"] for body in world.publisher.bodies()]
    assert sorted(tags[:4]) == list("abcd") and sorted(tags[4:]) == list("efgh")
    assert tags != list("abcdefgh")


def test_a_reorder_buffer_that_does_not_fill_is_sent_after_a_short_wait(world: World) -> None:
    world.topic(world.registry.id, acr={})
    world.rules({"service": "eventgrid", "reorder": 10})

    world.standin.image_changed(world.pushed("team/app", "1"))
    world.standin.image_changed(world.pushed("team/app", "2"))

    assert len(world.publisher.wait(2, timeout=3.0)) == 2


def test_a_reset_drops_what_a_rule_still_holds(world: World) -> None:
    world.topic(world.registry.id, acr={})
    world.rules({"service": "eventgrid", "delay": 0.2})

    world.standin.image_changed(world.pushed("team/app", "held"))
    deadline = time.monotonic() + 5
    while world.faults.rules[0].hits == 0:  # the delivery is made and held
        assert time.monotonic() < deadline
        time.sleep(0.01)
    world.store.clear()
    world.store.registries["regctlacr"] = world.registry
    world.topic(world.registry.id, acr={})
    world.faults.clear()
    world.standin.image_changed(world.pushed("team/app", "after"))

    world.publisher.wait(1)
    time.sleep(0.3)
    assert [b["data"]["target"]["tag"] for b in world.publisher.bodies()] == ["after"]


def test_eventgrid_rules_match_by_event_type_rate_and_count() -> None:
    engine = FaultEngine()
    engine.configure(
        *parse_rules(
            {
                "rules": [
                    {"service": "eventgrid", "event_type": "Microsoft.Storage.BlobDeleted", "delay": 1},
                    {"service": "eventgrid", "duplicate": 1, "count": 2},
                    {"service": "blob", "status": 500},
                ]
            }
        )
    )

    assert engine.eventgrid_fault("microsoft.storage.blobdeleted") is engine.rules[0]
    assert engine.eventgrid_fault("Microsoft.Storage.BlobCreated") is engine.rules[1]
    assert engine.eventgrid_fault("Microsoft.Storage.BlobCreated") is engine.rules[1]
    assert engine.eventgrid_fault("Microsoft.Storage.BlobCreated") is None
    assert engine.blob_fault("GET", "read", "st") is engine.rules[2]
    assert engine.status_fault("GET", None) is None
    assert engine.rules[0].as_json() == {
        "service": "eventgrid",
        "event_type": "microsoft.storage.blobdeleted",
        "duplicate": 0,
        "delay": 1.0,
        "reorder": 0,
        "fail": 0,
        "status": None,
        "rate": 1.0,
        "count": None,
        "hits": 1,
    }


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"service": "eventgrid"}, "needs 'duplicate', 'delay', 'reorder' or 'fail'"),
        ({"service": "eventgrid", "delay": 0}, "needs 'duplicate', 'delay', 'reorder' or 'fail'"),
        ({"service": "eventgrid", "duplicate": 0}, r"rules\[0\]\.duplicate must be"),
        ({"service": "eventgrid", "duplicate": 11}, r"\.duplicate must be"),
        ({"service": "eventgrid", "reorder": 1}, r"\.reorder must be"),
        ({"service": "eventgrid", "delay": 601}, r"\.delay must be"),
        ({"service": "eventgrid", "delay": 1, "event_type": ""}, r"\.event_type must be"),
        ({"service": "eventgrid", "delay": 1, "status": 500}, "'status' on an eventgrid rule is what its 'fail' sends"),
        ({"service": "eventgrid", "delay": 1, "account": "st"}, "apply to 'service': 'blob' rules only"),
        ({"service": "eventgrid", "delay": 1, "resource_type": "a/b"}, "apply to ARM rules only"),
        ({"status": 500, "duplicate": 1}, "apply to 'service': 'eventgrid' rules only"),
        ({"service": "blob", "status": 500, "reorder": 2}, "apply to 'service': 'eventgrid' rules only"),
        ({"status": 500, "delay": 1}, r"\['delay'\] do not apply to 'service': 'arm'"),
    ],
)
def test_bad_eventgrid_rules_are_refused_naming_the_field(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultConfigError, match=message):
        parse_rules({"rules": [rule]})


def test_the_scheduler_on_a_fake_clock() -> None:
    epoch = [0]
    scheduler = Scheduler(lambda held: list(reversed(held)), lambda: epoch[0])
    delay, reorder = parse_rules(
        {"rules": [{"service": "eventgrid", "delay": 2, "duplicate": 1}, {"service": "eventgrid", "reorder": 3}]}
    )[0]

    def sent(message_id: str, rule: FaultRule | None = None) -> list[str]:
        made = OutboundMessage(queue="q", message_id=message_id, body="{}")
        return [s.message.message_id for s in scheduler.admit(Delivery(made, rule, epoch[0]), now=10.0)]

    def released(now: float) -> list[str]:
        return [item.delivery.message.message_id for item in scheduler.due(now)]

    assert sent("plain") == ["plain"]
    assert sent("late", delay) == [] and scheduler.next_wake() == 12.0
    assert sent("r1", reorder) == [] and sent("r2", reorder) == []
    assert scheduler.next_wake() == 10.0 + REORDER_FLUSH_SECONDS
    assert sent("r3", reorder) == ["r3", "r2", "r1"]
    assert released(11.9) == []
    assert released(12.0) == ["late", "late"] and scheduler.next_wake() is None
    assert sent("r4", reorder) == []
    epoch[0] = 1  # a reset: what is held is dropped
    assert scheduler.due(99.0) == [] and scheduler.next_wake() is None
