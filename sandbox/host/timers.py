"""Timer triggers: each timer function fires on its NCRONTAB schedule, one invocation at a time.

As in the Functions host, a timer never overlaps itself: the next occurrence is computed after an
invocation ends, so occurrences missed while it ran are skipped, not queued. ``run_on_startup`` fires once
when the host starts. ``past_due`` is set when an invocation starts more than a second after its
scheduled time (the host was busy or suspended). The host's schedule monitor (``use_monitor``), which
catches up on occurrences missed while the app was down, is not emulated.

With several host instances (``python -m sandbox up --host-instances N``) a timer fires on its schedule
in the first instance only, as the Functions host holds a singleton lock per timer function across a scaled
out app's instances; every instance answers ``run_now``.

``run_now`` is the sandbox side of the host's admin endpoint (``POST /admin/functions/{name}``): it fires
the function once, in the timer's own thread, without moving the schedule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from azure.functions.timer import TimerRequest

from sandbox.host.bindings import TimerFunction
from sandbox.host.invoker import Invoker, Watchdog

logger = logging.getLogger(__name__)

PAST_DUE_TOLERANCE = timedelta(seconds=1)
_MAX_SLEEP_SECONDS = 30.0  # re-read the clock at least this often (suspend, clock changes)


def utc_now() -> datetime:
    return datetime.now(UTC)


def timer_request(*, past_due: bool, last: datetime | None, next_occurrence: datetime, now: datetime) -> TimerRequest:
    """The trigger argument, shaped like the host's TimerInfo (``ScheduleStatus``, ``Schedule``)."""
    status = {"Next": next_occurrence.isoformat(), "LastUpdated": now.isoformat()}
    if last is not None:
        status["Last"] = last.isoformat()
    return TimerRequest(past_due=past_due, schedule_status=status, schedule={"AdjustForDST": True})


class TimerRunner:
    """The thread that fires one timer function."""

    def __init__(
        self,
        function: TimerFunction,
        *,
        invoker: Invoker,
        watchdog: Watchdog,
        clock: Callable[[], datetime] = utc_now,
        scheduled: bool = True,
    ) -> None:
        self.function = function
        self._scheduled = scheduled  # False: only run_now fires it (another instance holds the schedule)
        self._invoker = invoker
        self._watchdog = watchdog
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pending_runs = 0
        self._lock = threading.Lock()
        self._last: datetime | None = None
        self._thread = threading.Thread(target=self._loop, name=f"timer-{function.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Stop firing; wait up to ``timeout`` for a running invocation. False if it still runs."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def run_now(self) -> None:
        with self._lock:
            self._pending_runs += 1
        self._wake.set()

    def _take_pending(self) -> bool:
        with self._lock:
            if self._pending_runs == 0:
                return False
            self._pending_runs -= 1
            return True

    def _loop(self) -> None:
        schedule = self.function.schedule
        next_at: datetime | None = None  # None: not scheduled here, only run_now fires it
        if self._scheduled:
            if self.function.run_on_startup:
                self._fire(past_due=False, scheduled=None)
            next_at = schedule.next_after(self._clock())
            logger.info("timer function=%s schedule=%s next=%s", self.function.name, schedule, next_at.isoformat())
        while not self._stop.is_set():
            if self._take_pending():
                self._fire(past_due=False, scheduled=None)
                continue
            delay = _MAX_SLEEP_SECONDS if next_at is None else (next_at - self._clock()).total_seconds()
            if delay > 0:
                self._wake.wait(min(delay, _MAX_SLEEP_SECONDS))
                self._wake.clear()
                continue
            assert next_at is not None
            late = self._clock() - next_at
            self._fire(past_due=late > PAST_DUE_TOLERANCE, scheduled=next_at)
            next_at = schedule.next_after(max(self._clock(), next_at))

    def _fire(self, *, past_due: bool, scheduled: datetime | None) -> None:
        name = self.function.name
        now = self._clock()
        request = timer_request(
            past_due=past_due,
            last=self._last,
            next_occurrence=self.function.schedule.next_after(max(now, scheduled or now)),
            now=now,
        )
        logger.info("Executing function=%s trigger=timer past_due=%s", name, past_due)
        started = time.monotonic()
        try:
            with self._watchdog.invocation(name):
                self._invoker.call(self.function.target, self.function.arg_name, request)
        except Exception:
            logger.exception("Failed function=%s trigger=timer", name)
        else:
            logger.info(
                "Succeeded function=%s trigger=timer duration_ms=%d",
                name,
                (time.monotonic() - started) * 1000,
            )
        self._last = scheduled or now
