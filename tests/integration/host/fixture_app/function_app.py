"""A tiny function app for the sandbox host's integration tests: every function records what it got.

Records are JSON lines in ``$FIXTURE_RECORD_DIR/records.jsonl``. A queue message's JSON body steers the
function: ``{"fail_until": n}`` raises while the delivery count is at most n, ``{"sleep": s}`` holds the
message for s seconds. Queue names and the timer schedule come from ``%SETTING%`` expressions, as in the
real app.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import azure.functions as func
from fastapi import FastAPI

api = FastAPI()
app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)

_lock = threading.Lock()
_running: dict[str, int] = {}


@api.get("/api/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@api.get("/api/whoami")
def whoami() -> dict[str, int]:
    """Which host instance (process) answered."""
    return {"pid": os.getpid()}


def _record(entry: dict[str, Any]) -> None:
    path = Path(os.environ["FIXTURE_RECORD_DIR"]) / "records.jsonl"
    line = json.dumps({**entry, "pid": os.getpid(), "at": time.time()}, default=str)
    with _lock, path.open("a", encoding="utf-8") as out:
        out.write(line + "\n")


def _message_entry(function: str, msg: func.ServiceBusMessage, concurrent: int) -> dict[str, Any]:
    return {
        "function": function,
        "type": f"{type(msg).__module__}.{type(msg).__qualname__}",
        "is_service_bus_message": isinstance(msg, func.ServiceBusMessage),
        "message_id": msg.message_id,
        "delivery_count": msg.delivery_count,
        "subject": msg.subject,
        "label": msg.label,
        "content_type": msg.content_type,
        "application_properties": msg.application_properties,
        "body": msg.get_body().decode("utf-8"),
        "enqueued_time_utc": msg.enqueued_time_utc,
        "scheduled_enqueue_time_utc": msg.scheduled_enqueue_time_utc,
        "locked_until": msg.locked_until,
        "lock_token": msg.lock_token,
        "concurrent": concurrent,
    }


def _enter(function: str) -> int:
    with _lock:
        _running[function] = _running.get(function, 0) + 1
        return _running[function]


def _leave(function: str) -> None:
    with _lock:
        _running[function] -= 1


def _steer(msg: func.ServiceBusMessage) -> tuple[float, int]:
    try:
        order = json.loads(msg.get_body())
    except ValueError:
        return 0.0, 0
    if not isinstance(order, dict):
        return 0.0, 0
    return float(order.get("sleep", 0)), int(order.get("fail_until", 0))


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%FIXTURE_QUEUE%", connection="ServiceBusConnection")
def record_message(msg: func.ServiceBusMessage) -> None:
    concurrent = _enter("record_message")
    try:
        _record(_message_entry("record_message", msg, concurrent))
        sleep, fail_until = _steer(msg)
        time.sleep(sleep)
        if (msg.delivery_count or 0) <= fail_until:
            raise RuntimeError(f"failing on purpose at delivery {msg.delivery_count}")
    finally:
        _leave("record_message")


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%FIXTURE_ASYNC_QUEUE%", connection="ServiceBusConnection")
async def record_message_async(msg: func.ServiceBusMessage) -> None:
    concurrent = _enter("record_message_async")
    try:
        _record(_message_entry("record_message_async", msg, concurrent))
        sleep, fail_until = _steer(msg)
        await asyncio.sleep(sleep)
        if (msg.delivery_count or 0) <= fail_until:
            raise RuntimeError(f"failing on purpose at delivery {msg.delivery_count}")
    finally:
        _leave("record_message_async")


@app.service_bus_queue_trigger(
    arg_name="msgs",
    queue_name="%FIXTURE_BATCH_QUEUE%",
    connection="ServiceBusConnection",
    cardinality=func.Cardinality.MANY,
)
def record_batch(msgs: list[func.ServiceBusMessage]) -> None:
    concurrent = _enter("record_batch")
    call = uuid.uuid4().hex
    try:
        for msg in msgs:
            _record({**_message_entry("record_batch", msg, concurrent), "call": call, "call_size": len(msgs)})
        steering = [_steer(msg) for msg in msgs]
        time.sleep(max((sleep for sleep, _ in steering), default=0.0))
        failing = [
            msg.message_id
            for msg, (_, fail_until) in zip(msgs, steering, strict=True)
            if (msg.delivery_count or 0) <= fail_until
        ]
        if failing:
            raise RuntimeError(f"failing on purpose for {failing}")
    finally:
        _leave("record_batch")


@app.timer_trigger(schedule="%FIXTURE_TIMER_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=False)
def tick(timer: func.TimerRequest) -> None:
    _record({"function": "tick", "past_due": timer.past_due, "schedule_status": getattr(timer, "schedule_status", {})})


@app.timer_trigger(schedule="0 0 0 1 1 *", arg_name="timer", run_on_startup=True, use_monitor=False)
def yearly(timer: func.TimerRequest) -> None:
    _record(
        {"function": "yearly", "past_due": timer.past_due, "schedule_status": getattr(timer, "schedule_status", {})}
    )
