"""Queue envelope -> azure.functions.ServiceBusMessage, and the dead-letter copy of a message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import azure.functions as func

from sandbox.host.messages import Delivery, dead_letter_text, to_function_message
from shared.adapters.queue_envelope import decode, encode
from shared.ports import OutboundMessage

SENT = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
LOCKED_UNTIL = datetime(2025, 3, 1, 12, 1, 0, tzinfo=UTC)


def _envelope(delay: float = 0.0):
    outbound = OutboundMessage(
        queue="regctl-steps",
        message_id="demo:1:storage:eastus:0:0",
        body='{"type":"step"}',
        subject="step",
        application_properties={"registry": "demo", "generation": 1},
        delay_seconds=delay,
    )
    return decode(encode(outbound, now=SENT))


def _delivery(count: int = 1) -> Delivery:
    return Delivery(
        delivery_count=count,
        lock_token="9a4c2d61-6a53-4cf0-9b0a-3f2b8e1a7c10",
        locked_until=LOCKED_UNTIL,
        enqueued_time_utc=SENT + timedelta(milliseconds=5),
        expires_at_utc=None,
    )


def test_the_function_gets_a_real_service_bus_message_with_the_senders_fields() -> None:
    message = to_function_message(_envelope(), _delivery())

    assert isinstance(message, func.ServiceBusMessage)
    assert message.message_id == "demo:1:storage:eastus:0:0"
    assert message.get_body() == b'{"type":"step"}'
    assert message.content_type == "application/json"
    assert message.subject == "step"
    assert message.label == "step"
    assert message.application_properties == {"registry": "demo", "generation": 1}
    assert message.user_properties == {"registry": "demo", "generation": 1}


def test_the_broker_fields_come_from_the_delivery() -> None:
    message = to_function_message(_envelope(), _delivery(count=4))

    assert message.delivery_count == 4
    assert message.lock_token == "9a4c2d61-6a53-4cf0-9b0a-3f2b8e1a7c10"
    assert message.locked_until == LOCKED_UNTIL
    assert message.enqueued_time_utc == SENT
    assert message.scheduled_enqueue_time_utc is None
    assert message.state == 0


def test_a_scheduled_message_reports_its_scheduled_time_as_enqueue_time() -> None:
    message = to_function_message(_envelope(delay=30), _delivery())

    assert message.scheduled_enqueue_time_utc == SENT + timedelta(seconds=30)
    assert message.enqueued_time_utc == SENT + timedelta(seconds=30)


def test_trigger_metadata_is_readable_like_the_workers() -> None:
    metadata = to_function_message(_envelope(), _delivery(count=2)).metadata

    assert metadata is not None
    assert metadata["MessageId"] == "demo:1:storage:eastus:0:0"
    assert metadata["DeliveryCount"] == 2
    assert metadata["ApplicationProperties"] == {"registry": "demo", "generation": 1}


def test_a_dead_lettered_message_keeps_its_envelope_and_gains_the_reason() -> None:
    original = encode(
        OutboundMessage(queue="q", message_id="m-1", body="payload", application_properties={"a": 1}), now=SENT
    )

    text = dead_letter_text(
        original,
        queue_message_id="qm-1",
        source_queue="regctl-steps",
        reason="MaxDeliveryCountExceeded",
        description="Message could not be consumed after 10 delivery attempts.",
        delivery_count=10,
        last_error="RuntimeError: boom",
        now=SENT,
    )

    envelope = decode(text)
    assert (envelope.message_id, envelope.body) == ("m-1", "payload")
    assert envelope.application_properties["a"] == 1
    assert envelope.application_properties["DeadLetterReason"] == "MaxDeliveryCountExceeded"
    document = json.loads(text)
    assert document["dead_letter_source"] == "regctl-steps"
    assert document["last_error"] == "RuntimeError: boom"
    assert document["delivery_count"] == 10


def test_text_that_was_no_envelope_is_wrapped_so_the_dead_letter_queue_stays_readable() -> None:
    text = dead_letter_text(
        "not json at all",
        queue_message_id="qm-7",
        source_queue="regctl-steps",
        reason="MalformedEnvelope",
        description="not a queue envelope",
        delivery_count=1,
    )

    envelope = decode(text)
    assert envelope.message_id == "qm-7"
    assert envelope.body == "not json at all"
    assert envelope.application_properties["DeadLetterReason"] == "MalformedEnvelope"


def test_an_overlong_error_description_is_cut_at_the_service_bus_limit() -> None:
    text = dead_letter_text(
        "x",
        queue_message_id="qm",
        source_queue="q",
        reason="MaxDeliveryCountExceeded",
        description="e" * 10_000,
        delivery_count=10,
    )

    assert len(json.loads(text)["dead_letter_error_description"]) == 4096
