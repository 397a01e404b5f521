"""The events function hands every message of its batch to the service with what the service needs of it:
body, application properties, message id and Service Bus's delivery count."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

import function_app
from handlers import queue_events
from shared.services.event_intake import Delivered


@dataclass
class FakeMessage:
    body: bytes
    message_id: str
    delivery_count: int | None
    application_properties: dict[str, Any] = field(default_factory=dict)

    def get_body(self) -> bytes:
        return self.body


class Recording:
    def __init__(self) -> None:
        self.batches: list[list[Delivered]] = []

    def handle_all(self, deliveries: list[Delivered]) -> list[object]:
        self.batches.append(list(deliveries))
        return []


def test_the_batch_reaches_the_service_with_each_messages_delivery_count(monkeypatch: pytest.MonkeyPatch) -> None:
    intake = Recording()
    monkeypatch.setattr(queue_events, "container", lambda: SimpleNamespace(event_intake=intake))
    messages = [
        FakeMessage(b"{}", "e-1", 3, {"traceparent": "00-x"}),
        FakeMessage(b"[]", "e-2", None),  # a count the binding did not give is the first delivery
    ]

    function_app.events.build().get_user_function()(messages)

    assert intake.batches == [[Delivered(b"{}", {"traceparent": "00-x"}, "e-1", 3), Delivered(b"[]", {}, "e-2", 1)]]
