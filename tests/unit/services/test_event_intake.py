"""The events handler: malformed and foreign events are dead-lettered with a reason (and never retried),
duplicates are dropped by event id, regctl's own writes are ignored."""

from __future__ import annotations

import json

from tests.unit.services.promotion_world import PromotionWorld


def world() -> PromotionWorld:
    return PromotionWorld({"dev": ("eastus",), "prod": ("westus",)})


def test_malformed_events_are_dead_lettered_with_the_reason_and_complete():
    w = world()
    outcome = w.container.event_intake.handle(b"{not json", "m-1")
    assert outcome.what == "dead-lettered"
    [dead] = w.container.promotions.dead_letters()
    assert dead["messageId"] == "m-1" and dead["reason"].startswith("not JSON") and dead["body"] == "{not json"


def test_foreign_event_types_are_dead_lettered_too():
    w = world()
    event = {
        "id": "f-1",
        "eventType": "Contoso.Orders.Created",
        "subject": "/orders/1",
        "eventTime": "2026-01-01T00:00:00Z",
        "data": {},
        "dataVersion": "1",
    }
    assert w.deliver_event(event).what == "dead-lettered"
    assert "foreign event type Contoso.Orders.Created" in w.container.promotions.dead_letters()[0]["reason"]


def test_an_available_event_with_another_subject_is_dead_lettered():
    w = world()
    event = {
        "id": "a-1",
        "eventType": "Regctl.Registries.AssetVersionAvailable",
        "subject": "/nope",
        "eventTime": "2026-01-01T00:00:00Z",
        "data": {},
        "dataVersion": "1.0",
    }
    assert w.deliver_event(event).what == "dead-lettered"


def test_the_same_event_twice_is_handled_once():
    w = world()
    blob = {
        "id": "b-1",
        "eventType": "Microsoft.Storage.BlobCreated",
        "topic": "/subscriptions/s/x",
        "subject": "/blobServices/default/containers/drop/blobs/a.bin",
        "eventTime": "2026-01-01T00:00:00Z",
        "data": {"api": "PutBlob"},
        "dataVersion": "",
    }
    assert [w.deliver_event(blob).what, w.deliver_event(blob).what] == ["ignored", "duplicate"]


def test_blobs_regctl_wrote_itself_are_ignored_as_its_own():
    w = world()
    for i, container in enumerate(("assets", "upload-0123")):
        blob = {
            "id": f"own-{i}",
            "eventType": "Microsoft.Storage.BlobCreated",
            "topic": "/subscriptions/s/x",
            "subject": f"/blobServices/default/containers/{container}/blobs/models/m/1/a.bin",
            "eventTime": "2026-01-01T00:00:00Z",
            "data": json.dumps({"api": "CopyBlob"}),
            "dataVersion": "",
        }
        outcome = w.deliver_event(blob)
        assert (outcome.what, outcome.detail) == ("ignored", "regctl's own write")
