"""Queue entry point: writes to tickets (thin: decode, one service call).

``TicketWriteBack.handle`` never raises for a ticket system that is down: it enqueues the write again with
backoff. A malformed message is logged and dropped (retrying cannot fix it)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from pydantic import ValidationError

from shared.bootstrap import container
from shared.domain.ticket_writes import TicketWrite
from shared.observability import context_log, continued

log = logging.getLogger(__name__)


def ticket_write(body: bytes, properties: Mapping[str, object], message_id: str | None) -> None:
    try:
        write = TicketWrite.model_validate_json(body)
    except (ValidationError, ValueError) as exc:
        context_log(log, step="ticket write").error("dropping malformed write %s: %s", message_id, str(exc)[:300])
        return
    with continued(properties, "ticket write"):
        container().ticket_writeback.handle(write)
