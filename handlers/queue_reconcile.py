"""Queue entry points: Reconcile and Step messages (thin: decode, one service call).

``function_app.py`` binds them to their Service Bus triggers and hands over the message's body, its
application properties and its delivery count, so nothing here meets the Azure SDK. At this boundary
(DESIGN.md section 5): transient errors are re-enqueued with backoff by the services; permanent ones are
recorded on the step and its operation; a malformed message is logged and dropped (retrying cannot fix
it); anything unexpected is raised, so Service Bus redelivers it and dead-letters it after
maxDeliveryCount. Each runs in the trace its message carries (``traceparent``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from pydantic import ValidationError

from shared.bootstrap import container
from shared.domain.messages import Reconcile, Step, decode_message
from shared.observability import context_log, continued

log = logging.getLogger(__name__)


def _decode(body: bytes, message_id: str | None) -> Reconcile | Step | None:
    try:
        return decode_message(body)
    except (ValidationError, ValueError) as exc:
        context_log(log, step="decode").error("dropping malformed message %s: %s", message_id, str(exc)[:300])
        return None


def reconcile(body: bytes, properties: Mapping[str, object], message_id: str | None) -> None:
    message = _decode(body, message_id)
    if not isinstance(message, Reconcile):
        return
    with continued(properties, "reconcile"):
        container().reconciler.handle(message)


def step(body: bytes, properties: Mapping[str, object], message_id: str | None, delivery_count: int) -> None:
    message = _decode(body, message_id)
    if not isinstance(message, Step):
        return
    with continued(properties, f"step {message.step_key}"):
        container().steps.handle(message, redelivered=delivery_count > 1)
