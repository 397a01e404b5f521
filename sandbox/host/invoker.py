"""Calling the user's functions: sync ones on the calling thread, async ones on one shared event loop.

The Python worker runs ``async def`` functions on its event loop and plain ones on a thread pool; the
sandbox keeps that split so an async function that blocks the loop misbehaves here as it would in Azure.
The watchdog enforces ``functionTimeout`` the way the host does: a function that overruns it makes the
host restart the worker process, abandoning every in-flight invocation (their locks expire and Service
Bus redelivers them). Here the process exits and ``python -m sandbox up`` starts it again.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

#: Exit code of a host that stopped because a function exceeded ``functionTimeout``.
EXIT_FUNCTION_TIMEOUT = 75


class Invoker:
    """Runs a function with its trigger argument and returns (or raises) what it does."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, target: Callable[..., Any], arg_name: str, value: object) -> None:
        if inspect.iscoroutinefunction(target):
            future = asyncio.run_coroutine_threadsafe(target(**{arg_name: value}), self._event_loop())
            future.result()
        else:
            target(**{arg_name: value})

    def close(self) -> None:
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)

    def _event_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="functions-event-loop", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop


class Watchdog:
    """Tracks running invocations and ends the process when one exceeds ``functionTimeout``."""

    def __init__(self, timeout_seconds: float | None, on_timeout: Callable[[], None] | None = None) -> None:
        self._timeout = timeout_seconds
        self._on_timeout = on_timeout or _exit_for_restart
        self._running: dict[int, tuple[str, float]] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._timeout is not None:
            self._thread = threading.Thread(target=self._run, name="function-timeout-watchdog", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @contextmanager
    def invocation(self, function_name: str) -> Iterator[None]:
        key = next(self._ids)
        with self._lock:
            self._running[key] = (function_name, time.monotonic())
        try:
            yield
        finally:
            with self._lock:
                del self._running[key]

    def _run(self) -> None:
        assert self._timeout is not None
        while not self._stop.wait(1.0):
            now = time.monotonic()
            with self._lock:
                late = [name for name, started in self._running.values() if now - started > self._timeout]
            if late:
                logger.error(
                    "Timeout value of %ss was exceeded by function=%s; the host restarts as the "
                    "Functions host does (in-flight messages are redelivered when their locks expire)",
                    self._timeout,
                    late[0],
                )
                self._on_timeout()
                return


def _exit_for_restart() -> None:
    logging.shutdown()
    os._exit(EXIT_FUNCTION_TIMEOUT)
