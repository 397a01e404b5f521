"""Events in: both schemas parse to one shape; anything else is refused with a reason (dead-lettered)."""

from __future__ import annotations

import json

import pytest

from shared.domain.asset_spec import AssetType
from shared.domain.events import (
    IMAGE_PUSHED,
    MalformedEvent,
    asset_subject,
    event_id,
    parse_asset_subject,
    parse_event,
)

BLOB = {
    "topic": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Storage/storageAccounts/acct",
    "subject": "/blobServices/default/containers/drop/blobs/fraud/asset.yml",
    "eventType": "Microsoft.Storage.BlobCreated",
    "eventTime": "2017-06-26T18:41:00.9584103Z",
    "id": "831e1650-001e-001b-66ab-eeb76e069631",
    "data": {"api": "PutBlockList", "contentLength": 524288, "blobType": "BlockBlob"},
    "dataVersion": "",
    "metadataVersion": "1",
}


def test_an_event_grid_event_parses_with_its_source_and_data():
    event = parse_event(json.dumps(BLOB))
    assert (event.id, event.type, event.source) == (BLOB["id"], BLOB["eventType"], BLOB["topic"])
    assert event.data["api"] == "PutBlockList" and event.schema == "EventGridSchema"


def test_a_cloud_event_parses_to_the_same_shape():
    cloud = {
        "specversion": "1.0",
        "id": "e1",
        "type": IMAGE_PUSHED,
        "source": "/acr",
        "subject": "ubuntu:18.04",
        "time": "2020-07-09T00:29:38Z",
        "data": {"target": {"repository": "ubuntu", "tag": "18.04"}},
    }
    event = parse_event(json.dumps(cloud).encode())
    assert (event.id, event.type, event.subject, event.schema) == (
        "e1",
        IMAGE_PUSHED,
        "ubuntu:18.04",
        "CloudEventSchemaV1_0",
    )
    assert event.data["target"]["tag"] == "18.04"


def test_data_delivered_as_a_json_string_is_read_as_the_object_acr_meant():
    event = parse_event(json.dumps({**BLOB, "data": json.dumps({"action": "push"})}))
    assert event.data == {"action": "push"}


def test_a_list_of_one_event_is_that_event_and_of_two_is_refused():
    assert parse_event(json.dumps([BLOB])).id == BLOB["id"]
    with pytest.raises(MalformedEvent, match="one event"):
        parse_event(json.dumps([BLOB, BLOB]))


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"42", "not a JSON object"),
        (json.dumps({"hello": "world"}).encode(), "neither Event Grid"),
        (json.dumps({**BLOB, "id": ""}).encode(), "'id'"),
        (json.dumps({"specversion": "0.3", "id": "x", "type": "t", "source": "s"}).encode(), "not 1.0"),
        (json.dumps({"specversion": "1.0", "id": "x", "type": "t"}).encode(), "'source'"),
    ],
)
def test_what_is_no_event_is_refused_with_its_reason(body: bytes, reason: str):
    with pytest.raises(MalformedEvent) as raised:
        parse_event(body)
    assert reason in raised.value.reason


def test_asset_subjects_round_trip_and_event_ids_are_stable_per_fact():
    subject = asset_subject("dev", AssetType.MODELS, "fraud", "1")
    assert subject == "/registries/dev/models/fraud/versions/1"
    assert parse_asset_subject(subject) == ("dev", AssetType.MODELS, "fraud", "1")
    assert parse_asset_subject("/blobServices/default/containers/x/blobs/y") is None
    assert event_id("available", "dev", "models:fraud:1") == event_id("available", "dev", "models:fraud:1")
    assert event_id("available", "dev", "models:fraud:1") != event_id("deleted", "dev", "models:fraud:1")
