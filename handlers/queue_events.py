"""Queue entry point: events (Event Grid or CloudEvents, one per message) on the events queue, taken in
batches (thin: one service call). The service dead-letters what it cannot use, with the reason, and
completes the message: retrying cannot fix a malformed event; and what failed on its last delivery, so
that the batch it came with is not dead-lettered along with it (docs/events.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from shared.bootstrap import container
from shared.services.event_intake import Delivered


def events(messages: Iterable[tuple[bytes, Mapping[str, object], str | None, int | None]]) -> None:
    container().event_intake.handle_all(
        [
            Delivered(body, properties, message_id, delivery_count or 1)
            for body, properties, message_id, delivery_count in messages
        ]
    )
