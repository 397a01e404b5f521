"""The envelope that carries a Service Bus-shaped message through an Azure Storage queue.

Storage queues carry only a text body, so ``message_id``, subject, content type and application
properties travel in a JSON envelope. The storage-queue publisher writes it and the sandbox host reads it
to hand the functions an ``azure.functions.ServiceBusMessage`` just as the Service Bus trigger would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from shared.ports import OutboundMessage

ENVELOPE_VERSION = 1


@dataclass(frozen=True)
class Envelope:
    message_id: str
    body: str
    subject: str = ""
    content_type: str = "application/json"
    application_properties: dict[str, Any] = field(default_factory=dict)
    enqueued_time_utc: str = ""
    scheduled_enqueue_time_utc: str | None = None


def encode(message: OutboundMessage, now: datetime | None = None) -> str:
    """The queue text of ``message``."""
    moment = now or datetime.now(UTC)
    scheduled = None
    if message.delay_seconds > 0:
        scheduled = datetime.fromtimestamp(moment.timestamp() + message.delay_seconds, UTC).isoformat()
    return json.dumps(
        {
            "envelope": ENVELOPE_VERSION,
            "message_id": message.message_id,
            "subject": message.subject,
            "content_type": message.content_type,
            "application_properties": message.application_properties,
            "enqueued_time_utc": moment.isoformat(),
            "scheduled_enqueue_time_utc": scheduled,
            "body": message.body,
        },
        separators=(",", ":"),
    )


def decode(text: str) -> Envelope:
    """Parse queue text written by ``encode``; raises ``ValueError`` if it is not an envelope."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("envelope") != ENVELOPE_VERSION:
        raise ValueError("not a regctl queue envelope")
    return Envelope(
        message_id=str(data["message_id"]),
        body=str(data["body"]),
        subject=str(data.get("subject", "")),
        content_type=str(data.get("content_type", "application/json")),
        application_properties=dict(data.get("application_properties") or {}),
        enqueued_time_utc=str(data.get("enqueued_time_utc", "")),
        scheduled_enqueue_time_utc=data.get("scheduled_enqueue_time_utc"),
    )
