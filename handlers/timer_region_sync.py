"""Timer: region sync enqueues a reconcile for every registry; drift is just another diff."""

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
    count = container().reconciler.sync_all()
    log.info("registry=- operation=- step=region_sync region=- enqueued reconcile for %d registries", count)
