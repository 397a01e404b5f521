"""Events in and out (pure): the Event Grid and CloudEvents 1.0 envelopes, regctl's own event types and
their subjects (docs/events.md).

Events arrive one per message (Event Grid delivers a single event per Service Bus message), in either
schema; ``parse_event`` takes both and raises ``MalformedEvent`` with the reason for anything else, which
the events handler dead-letters. regctl publishes its own events in Event Grid schema; their ids are
derived from what they say (``event_id``), so a re-send of the same fact carries the same id and every
consumer's deduplication drops it.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.domain.asset_spec import AssetType

ASSET_VERSION_AVAILABLE = "Regctl.Registries.AssetVersionAvailable"
ASSET_VERSION_DELETED = "Regctl.Registries.AssetVersionDeleted"
OPERATION_FINISHED = "Regctl.Registries.OperationFinished"
REGCTL_TYPES = frozenset({ASSET_VERSION_AVAILABLE, ASSET_VERSION_DELETED, OPERATION_FINISHED})
BLOB_CREATED = "Microsoft.Storage.BlobCreated"
BLOB_DELETED = "Microsoft.Storage.BlobDeleted"
IMAGE_PUSHED = "Microsoft.ContainerRegistry.ImagePushed"
IMAGE_DELETED = "Microsoft.ContainerRegistry.ImageDeleted"
DATA_VERSION = "1.0"
MAX_EVENT_BYTES = 1024 * 1024  # Event Grid's limit of one event

_NAMESPACE = uuid.UUID("8d3f1c2e-7a4b-4e55-9b0e-5f1b6c2d9a10")
_SUBJECT = re.compile(r"^/registries/([^/]+)/(models|data|components|environments)/([^/]+)/versions/([^/]+)$")


class MalformedEvent(Exception):
    """A message that is no event of either schema: dead-lettered with this reason, never retried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Event:
    """One event, whatever schema it came in."""

    id: str
    type: str
    subject: str
    source: str  # Event Grid's ``topic``, CloudEvents' ``source``
    time: str
    data: dict[str, Any] = field(default_factory=dict)
    schema: str = "EventGridSchema"  # or CloudEventSchemaV1_0


def event_id(*parts: str) -> str:
    """A stable event id for a fact: the same parts always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def asset_subject(registry: str, asset_type: AssetType, name: str, version: str) -> str:
    return f"/registries/{registry}/{asset_type.value}/{name}/versions/{version}"


def parse_asset_subject(subject: str) -> tuple[str, AssetType, str, str] | None:
    """``(registry, type, name, version)`` of an asset subject, None for another subject."""
    matched = _SUBJECT.fullmatch(subject)
    if matched is None:
        return None
    return matched.group(1), AssetType(matched.group(2)), matched.group(3), matched.group(4)


def grid_event(kind: str, subject: str, data: dict[str, Any], identity: str, time: datetime) -> dict[str, Any]:
    """One of regctl's events in Event Grid schema (the custom topic fills ``topic`` in)."""
    return {
        "id": identity,
        "eventType": kind,
        "subject": subject,
        "eventTime": time.isoformat().replace("+00:00", "Z"),
        "data": data,
        "dataVersion": DATA_VERSION,
    }


def _text(raw: dict[str, Any], key: str, schema: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"{schema}: '{key}' is missing or not a string")
    return value


def _data(value: object) -> dict[str, Any]:
    """``data`` as a mapping: ACR has delivered it as a JSON string; other shapes are kept under ``value``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {"value": value}
    if isinstance(value, dict):
        return value
    return {} if value is None else {"value": value}


def parse_event(body: bytes | str) -> Event:
    """The event of one message body: an Event Grid or CloudEvents 1.0 object (or a list of exactly one)."""
    if len(body) > MAX_EVENT_BYTES:
        raise MalformedEvent(f"the message holds {len(body)} bytes; an event is at most {MAX_EVENT_BYTES}")
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEvent(f"not JSON: {str(exc)[:120]}") from None
    if isinstance(raw, list):
        if len(raw) != 1:
            raise MalformedEvent(f"a message carries one event, this one {len(raw)}")
        raw = raw[0]
    if not isinstance(raw, dict):
        raise MalformedEvent("the event is not a JSON object")
    if "specversion" in raw:
        if raw.get("specversion") != "1.0":
            raise MalformedEvent(f"CloudEvents specversion {str(raw.get('specversion'))[:20]!r} is not 1.0")
        schema = "CloudEvents"
        return Event(
            id=_text(raw, "id", schema),
            type=_text(raw, "type", schema),
            subject=str(raw.get("subject") or ""),
            source=_text(raw, "source", schema),
            time=str(raw.get("time") or ""),
            data=_data(raw.get("data")),
            schema="CloudEventSchemaV1_0",
        )
    if "eventType" in raw:
        schema = "EventGridSchema"
        return Event(
            id=_text(raw, "id", schema),
            type=_text(raw, "eventType", schema),
            subject=_text(raw, "subject", schema),
            source=str(raw.get("topic") or ""),
            time=_text(raw, "eventTime", schema),
            data=_data(raw.get("data")),
        )
    raise MalformedEvent("neither Event Grid schema (eventType) nor CloudEvents 1.0 (specversion)")
