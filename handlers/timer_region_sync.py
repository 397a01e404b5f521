"""Timer entry points: region sync observes every registry and heals drift (shared/services/region_sync.py);
the outbox relay sends OperationFinished events a crash left unsent (shared/services/lifecycle.py)."""

from __future__ import annotations

import logging

from shared.bootstrap import container
from shared.observability import context_log, continued

log = logging.getLogger(__name__)


def region_sync(past_due: bool) -> None:
    logger = context_log(log, step="region_sync")
    if past_due:
        logger.warning("the timer is past due")
    with continued(None, "region sync"):
        report = container().region_sync.run()
    logger.info(
        "checked=%d in_sync=%d healing=%d observed=%d skipped=%d in_progress=%d failed=%d",
        report.checked,
        len(report.in_sync),
        len(report.healing),
        len(report.observed_only),
        len(report.skipped),
        len(report.in_progress),
        len(report.failed),
    )


def outbox_relay() -> None:
    with continued(None, "outbox relay"):
        sent = container().lifecycle.relay()
    if sent:
        context_log(log, step="outbox_relay").info("sent %d OperationFinished events a crash had left", sent)
