"""Service Bus triggers: Reconcile and Step messages (thin: decode, one service call).

At this boundary (DESIGN.md section 5): transient errors are re-enqueued with backoff by the services;
permanent ones are recorded on the step and its operation; a malformed message is logged and dropped
(retrying cannot fix it); anything unexpected is raised, so Service Bus redelivers it and dead-letters
it after maxDeliveryCount.
"""

from __future__ import annotations

import logging

import azure.functions as func
from pydantic import ValidationError

from shared.bootstrap import container
from shared.domain.errors import Conflict, TransientError
from shared.domain.messages import Reconcile, Step, decode_message

log = logging.getLogger(__name__)
bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ untyped


def _decode(msg: func.ServiceBusMessage) -> Reconcile | Step | None:
    try:
        return decode_message(msg.get_body())
    except (ValidationError, ValueError) as exc:
        log.error(
            "registry=- operation=- step=decode region=- dropping malformed message %s: %s",
            msg.message_id,
            str(exc)[:300],
        )
        return None


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="%RECONCILE_QUEUE_NAME%", connection="ServiceBusConnection")
def reconcile(msg: func.ServiceBusMessage) -> None:
    message = _decode(msg)
    if not isinstance(message, Reconcile):
        return
    deps = container()
    try:
        deps.reconciler.reconcile(message)
    except Conflict as exc:
        # Another reconcile or a request changed the registry meanwhile: look again shortly, on fresh state.
        log.info(
            "registry=%s operation=%s step=reconcile region=- %s; again shortly",
            message.registry,
            message.operation_id,
            exc.code,
        )
        deps.reconciler.retry_later(message, deps.settings.retry_base_seconds)
    except TransientError as exc:
        delay = exc.retry_after or deps.settings.retry_base_seconds * (2 ** min(message.attempt, 8))
        delay = min(delay, deps.settings.retry_max_seconds)
        log.warning(
            "registry=%s operation=%s step=reconcile region=- transient %s; again in %.1fs",
            message.registry,
            message.operation_id,
            exc.code,
            delay,
        )
        deps.reconciler.retry_later(message, delay)


@bp.service_bus_queue_trigger(arg_name="msg", queue_name="%STEPS_QUEUE_NAME%", connection="ServiceBusConnection")
def step(msg: func.ServiceBusMessage) -> None:
    message = _decode(msg)
    if not isinstance(message, Step):
        return
    deps = container()
    try:
        deps.steps.run(message, redelivered=(msg.delivery_count or 1) > 1)
    except Conflict as exc:
        # Another delivery of this step, or a reconcile, changed its record meanwhile: run it again shortly
        # on fresh state (level-triggered; a duplicate chain is dropped by its message id).
        log.info(
            "registry=%s operation=%s step=%s region=%s %s; again shortly",
            message.registry,
            message.operation_id,
            message.step_key,
            message.region,
            exc.code,
        )
        deps.steps.retry_later(message, deps.settings.retry_base_seconds)
