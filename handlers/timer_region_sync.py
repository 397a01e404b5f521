"""Timer: region sync observes every registry and heals drift (shared/services/region_sync.py)."""

from __future__ import annotations

import logging

import azure.functions as func

from shared.bootstrap import container

log = logging.getLogger(__name__)
bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves __init__ untyped


@bp.timer_trigger(schedule="%REGION_SYNC_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def region_sync(timer: func.TimerRequest) -> None:
    if timer.past_due:
        log.warning("registry=- operation=- step=region_sync region=- the timer is past due")
    report = container().region_sync.run()
    log.info(
        "registry=- operation=- step=region_sync region=- checked=%d in_sync=%d healing=%d observed=%d "
        "skipped=%d in_progress=%d failed=%d",
        report.checked,
        len(report.in_sync),
        len(report.healing),
        len(report.observed_only),
        len(report.skipped),
        len(report.in_progress),
        len(report.failed),
    )
