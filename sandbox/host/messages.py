"""Queue envelope -> ``azure.functions.ServiceBusMessage``, and the dead-letter record: pure functions.

The Python worker builds ``azure.functions.ServiceBusMessage`` from the trigger metadata the host sends;
this module builds the same object from the envelope (what the sender set) and the delivery (what the
broker sets: delivery count, lock, enqueue time). Properties that Storage queues cannot carry (sessions,
correlation, sequence numbers) stay ``None``, as for a Service Bus message that does not set them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from azure.functions import meta
from azure.functions.servicebus import ServiceBusMessage

from shared.adapters.queue_envelope import ENVELOPE_VERSION, Envelope

#: ``ServiceBusReceivedMessage.state``: 0 = Active (received messages are active).
_STATE_ACTIVE = 0
#: Service Bus truncates ``DeadLetterErrorDescription`` at 4096 characters.
_MAX_DESCRIPTION = 4096

MAX_DELIVERY_COUNT_EXCEEDED = "MaxDeliveryCountExceeded"
MALFORMED_ENVELOPE = "MalformedEnvelope"


@dataclass(frozen=True)
class Delivery:
    """What the broker knows about one delivery of a message."""

    delivery_count: int
    lock_token: str
    locked_until: datetime
    enqueued_time_utc: datetime | None = None
    expires_at_utc: datetime | None = None


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time from the envelope, as an aware UTC datetime; ``None`` when absent."""
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_function_message(envelope: Envelope, delivery: Delivery) -> ServiceBusMessage:
    """The message a ``service_bus_queue_trigger`` function receives for this delivery.

    A scheduled message is enqueued (becomes visible) at its scheduled time, so that is its enqueued
    time, as Service Bus reports it; otherwise the sender's enqueue time, else the queue's insertion time.
    """
    scheduled = parse_time(envelope.scheduled_enqueue_time_utc)
    enqueued = scheduled or parse_time(envelope.enqueued_time_utc) or delivery.enqueued_time_utc
    properties = dict(envelope.application_properties)
    return ServiceBusMessage(
        body=envelope.body.encode("utf-8"),
        trigger_metadata=_trigger_metadata(envelope, delivery, enqueued),
        application_properties=properties,
        user_properties=dict(properties),
        content_type=envelope.content_type or None,
        delivery_count=delivery.delivery_count,
        enqueued_time_utc=enqueued,
        expires_at_utc=delivery.expires_at_utc,
        label=envelope.subject or None,
        subject=envelope.subject or None,
        locked_until=delivery.locked_until,
        lock_token=delivery.lock_token,
        message_id=envelope.message_id,
        scheduled_enqueue_time_utc=scheduled,
        state=_STATE_ACTIVE,
    )


def _trigger_metadata(envelope: Envelope, delivery: Delivery, enqueued: datetime | None) -> dict[str, meta.Datum]:
    """The subset of trigger metadata the host sends that maps onto a Storage queue delivery."""
    metadata = {
        "MessageId": meta.Datum(envelope.message_id, "string"),
        "DeliveryCount": meta.Datum(delivery.delivery_count, "int"),
        "LockToken": meta.Datum(delivery.lock_token, "string"),
        "ApplicationProperties": meta.Datum(json.dumps(envelope.application_properties), "json"),
        "UserProperties": meta.Datum(json.dumps(envelope.application_properties), "json"),
    }
    if envelope.content_type:
        metadata["ContentType"] = meta.Datum(envelope.content_type, "string")
    if envelope.subject:
        metadata["Label"] = meta.Datum(envelope.subject, "string")
        metadata["Subject"] = meta.Datum(envelope.subject, "string")
    if enqueued is not None:
        metadata["EnqueuedTimeUtc"] = meta.Datum(enqueued.isoformat(), "string")
    return metadata


def dead_letter_text(
    original: str,
    *,
    queue_message_id: str,
    source_queue: str,
    reason: str,
    description: str,
    delivery_count: int,
    last_error: str | None = None,
    now: datetime | None = None,
) -> str:
    """The dead-letter queue's copy of ``original``: still an envelope, with the reason added.

    As on Service Bus, the message keeps its id, body and properties and gains ``DeadLetterReason`` and
    ``DeadLetterErrorDescription`` application properties, so ``queue_envelope.decode`` reads it and a
    resubmission tool can re-send it unchanged. Text that was no envelope is wrapped in a new one whose
    body is that text and whose id is the queue message's.
    """
    try:
        document: dict[str, Any] = json.loads(original)
        if not isinstance(document, dict) or document.get("envelope") != ENVELOPE_VERSION:
            raise ValueError("not an envelope")
        str(document["message_id"])
        str(document["body"])
    except (ValueError, KeyError, TypeError):
        document = {
            "envelope": ENVELOPE_VERSION,
            "message_id": queue_message_id,
            "subject": "",
            "content_type": "text/plain",
            "application_properties": {},
            "enqueued_time_utc": "",
            "scheduled_enqueue_time_utc": None,
            "body": original,
        }
    description = description[:_MAX_DESCRIPTION]
    properties = dict(document.get("application_properties") or {})
    properties.update({"DeadLetterReason": reason, "DeadLetterErrorDescription": description})
    document["application_properties"] = properties
    document.update(
        {
            "dead_letter_reason": reason,
            "dead_letter_error_description": description,
            "dead_letter_source": source_queue,
            "delivery_count": delivery_count,
            "last_error": last_error,
            "dead_lettered_time_utc": (now or datetime.now(UTC)).isoformat(),
        }
    )
    return json.dumps(document, separators=(",", ":"))
