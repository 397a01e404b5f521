"""Queue entry point: events (Event Grid or CloudEvents, one per message) on the events queue (thin: one
service call). The service dead-letters what it cannot use, with the reason, and completes the message:
retrying cannot fix a malformed event (docs/events.md)."""

from __future__ import annotations

from collections.abc import Mapping

from shared.bootstrap import container
from shared.observability import continued


def event(body: bytes, properties: Mapping[str, object], message_id: str | None) -> None:
    with continued(properties, "event"):
        container().event_intake.handle(body, message_id)
