"""The Service Bus message built for an OutboundMessage, inspected on a real azure.servicebus object."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.servicebus import ServiceBusMessage

from shared.adapters.servicebus import to_service_bus_message
from shared.ports import OutboundMessage

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


BASE = OutboundMessage(
    queue="regctl-steps",
    message_id="demoregistry1:3:storage:eastus:0:0",
    body='{"type":"step","registry":"demoregistry1"}',
    subject="step",
    application_properties={"registry": "demoregistry1", "generation": 3},
)


def _outbound(**overrides: Any) -> OutboundMessage:
    return replace(BASE, **overrides)


def test_message_id_is_the_idempotency_key_so_duplicate_detection_applies() -> None:
    message = to_service_bus_message(_outbound(), NOW)

    assert isinstance(message, ServiceBusMessage)
    assert message.message_id == "demoregistry1:3:storage:eastus:0:0"


def test_body_subject_and_content_type_travel_as_sent() -> None:
    message = to_service_bus_message(_outbound(content_type="application/json"), NOW)

    assert b"".join(message.body) == b'{"type":"step","registry":"demoregistry1"}'
    assert str(message) == '{"type":"step","registry":"demoregistry1"}'
    assert message.subject == "step"
    assert message.content_type == "application/json"


def test_metadata_goes_into_application_properties_with_their_types() -> None:
    message = to_service_bus_message(_outbound(), NOW)

    assert message.application_properties == {"registry": "demoregistry1", "generation": 3}


def test_a_message_without_delay_is_not_scheduled() -> None:
    message = to_service_bus_message(_outbound(delay_seconds=0), NOW)

    assert message.scheduled_enqueue_time_utc is None


def test_a_delay_becomes_a_scheduled_enqueue_time_from_now() -> None:
    message = to_service_bus_message(_outbound(delay_seconds=42.5), NOW)

    assert message.scheduled_enqueue_time_utc == NOW + timedelta(seconds=42.5)


def test_empty_subject_and_properties_are_left_unset_rather_than_empty() -> None:
    message = to_service_bus_message(_outbound(subject="", application_properties={}), NOW)

    assert message.subject is None
    assert not message.application_properties


def test_a_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        to_service_bus_message(_outbound(delay_seconds=-1), NOW)
