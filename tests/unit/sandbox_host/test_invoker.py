"""Calling functions: sync and async alike, and functionTimeout enforcement."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from sandbox.host.invoker import Invoker, Watchdog


def test_sync_and_async_functions_get_their_trigger_argument_by_name() -> None:
    seen: list[tuple[str, object]] = []

    def sync_function(msg: object) -> None:
        seen.append(("sync", msg))

    async def async_function(timer: object) -> None:
        await asyncio.sleep(0)
        seen.append(("async", timer))

    invoker = Invoker()
    try:
        invoker.call(sync_function, "msg", 1)
        invoker.call(async_function, "timer", 2)
    finally:
        invoker.close()

    assert seen == [("sync", 1), ("async", 2)]


def test_an_exception_in_an_async_function_reaches_the_caller() -> None:
    async def failing(msg: object) -> None:
        raise ValueError("boom")

    invoker = Invoker()
    try:
        with pytest.raises(ValueError, match="boom"):
            invoker.call(failing, "msg", None)
    finally:
        invoker.close()


def test_an_invocation_past_function_timeout_triggers_the_restart() -> None:
    fired = threading.Event()
    watchdog = Watchdog(0.05, on_timeout=fired.set)
    watchdog.start()
    try:
        with watchdog.invocation("slow"):
            assert fired.wait(5)
    finally:
        watchdog.stop()


def test_invocations_within_function_timeout_do_not() -> None:
    fired = threading.Event()
    watchdog = Watchdog(30, on_timeout=fired.set)
    watchdog.start()
    try:
        with watchdog.invocation("quick"):
            time.sleep(0.01)
    finally:
        watchdog.stop()

    assert not fired.is_set()
