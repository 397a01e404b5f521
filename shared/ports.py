"""Ports: the interfaces the services need, as ``typing.Protocol``. Adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutboundMessage:
    """A message to enqueue. ``message_id`` is the idempotency key (duplicate detection)."""

    queue: str
    message_id: str
    body: str
    subject: str = ""
    application_properties: dict[str, str | int] = field(default_factory=dict)
    delay_seconds: float = 0.0
    content_type: str = "application/json"


class MessagePublisher(Protocol):
    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        """Enqueue every message (scheduled ones with their delay); raise on failure, send nothing twice."""
        ...

    def close(self) -> None: ...
