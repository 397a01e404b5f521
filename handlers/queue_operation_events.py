"""Queue entry point: OperationFinished events (thin: decode, one service call).

The consumer deduplicates by operation id and status and hands each event to its listeners once; a
malformed event is logged and dropped (retrying cannot fix it)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from pydantic import ValidationError

from shared.bootstrap import container
from shared.domain.messages import OperationFinished
from shared.observability import context_log, continued

log = logging.getLogger(__name__)


def operation_finished(body: bytes, properties: Mapping[str, object], message_id: str | None) -> None:
    try:
        event = OperationFinished.model_validate_json(body)
    except (ValidationError, ValueError) as exc:
        context_log(log, step="finished").error("dropping malformed event %s: %s", message_id, str(exc)[:300])
        return
    with continued(properties, "operation finished"):
        container().operation_events.handle(event)
