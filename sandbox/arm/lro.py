"""Long-running operations: computed lazily from timestamps, answered in ARM's two polling protocols.

An operation records when it started and when it is ready (``start + duration * time_scale``); no
background task drives it. Every ARM request first settles the operations that are due (``Store.settle``),
which applies their effect (a created resource becomes Succeeded, a deleted one disappears), so what a
client reads is always consistent with the clock.

Protocols (arm-behavior.md section 4):
* **Location** (storage create, every delete, importImage): the monitor answers 202 with an empty body
  while running, then the final status (200 + body for storage create, 200/204 empty otherwise). A failed
  operation answers its error status with the envelope; azure-core then raises ``HttpResponseError``.
* **Azure-AsyncOperation** (ACR creates): the monitor always answers 200 ``{"status": ...}``; the SDK
  then GETs the resource itself.

Retry-After is whole seconds >= 1 (``0`` means "absent" to the SDK, which then waits 30 s). When the
time scale is below 1, ``retry-after-ms`` is sent *instead*: azure-core 1.41 reads ``Retry-After``
first and only falls back to ``retry-after-ms`` when it is absent, so sending both would pace
scaled-down runs by whole seconds. A deliberate deviation (docs/sandbox.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sandbox.arm.config import OpKind
from sandbox.arm.envelope import Response, error_response


class Protocol(StrEnum):
    LOCATION = "location"
    ASYNC = "async"


class Outcome(StrEnum):
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"


#: HTTP status a Location monitor answers for a failed operation, by error code (the ARM RPC says the
#: monitor answers the status the operation would have failed with). Unknown codes answer 400.
FAILED_STATUS_BY_CODE: dict[str, int] = {
    "InternalServerError": 500,
    "InternalError": 500,
    "OperationTimedOut": 500,
    "ServerBusy": 503,
    "ServiceUnavailable": 503,
    "Conflict": 409,
    "OperationCanceled": 409,
}


@dataclass
class OpError:
    code: str
    message: str
    #: The operation ends ``Canceled`` rather than ``Failed``.
    canceled: bool = False

    def as_json(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime) -> str:
    """ARM timestamps: ISO 8601 with 7 fractional digits and ``Z``."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


@dataclass(eq=False)
class Operation:
    """One long-running operation; identity matters (``eq=False``), ids are GUIDs."""

    id: str
    kind: OpKind
    protocol: Protocol
    resource_type: str
    subscription: str
    #: Monitor path and query, relative to the host (made absolute per request).
    monitor_path: str
    started: float
    ready_at: float
    time_scale: float
    poll_hint: float
    started_wall: datetime = field(default_factory=utc_now)
    #: Decided when the operation starts (injected fault or a rule such as an existing import tag).
    failure: OpError | None = None
    #: Applied once by ``Store.settle`` when the operation is due, with the final outcome.
    effect: Callable[[Outcome], None] | None = None
    #: Body of the final Location response on success (storage create: the account). ``None``: empty.
    result: Callable[[], dict[str, Any] | None] | None = None
    #: HTTP status of the final Location response on success.
    final_status: int = 200
    #: Status text of an in-progress Azure-AsyncOperation monitor (ACR says ``Creating``).
    running_status: str = "InProgress"
    #: Whether the monitor sends Retry-After while running.
    send_retry_after: bool = True
    outcome: Outcome | None = None
    ended_wall: datetime | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def finish(self, outcome: Outcome) -> None:
        """Record the outcome and apply the effect (called by the store, under its lock)."""
        if self.done:
            return
        self.outcome = outcome
        self.ended_wall = utc_now()
        if self.effect is not None:
            self.effect(outcome)

    def cancel(self, message: str) -> None:
        """The resource went away underneath (e.g. its resource group was deleted)."""
        if self.done:
            return
        self.failure = OpError("OperationCanceled", message, canceled=True)
        self.outcome = Outcome.CANCELED
        self.ended_wall = utc_now()

    def planned_outcome(self) -> Outcome:
        if self.failure is None:
            return Outcome.SUCCEEDED
        return Outcome.CANCELED if self.failure.canceled else Outcome.FAILED

    def retry_headers(self, now: float) -> dict[str, str]:
        """Retry-After (whole seconds >= 1) or, for scaled-down runs, ``retry-after-ms`` (>= 1)."""
        if not self.send_retry_after:
            return {}
        remaining = max(0.0, self.ready_at - now)
        wait = min(self.poll_hint, remaining + 0.005) if remaining > 0 else self.poll_hint
        if self.time_scale < 1.0:
            return {"retry-after-ms": str(max(1, math.ceil(wait * 1000)))}
        return {"retry-after": str(max(1, math.ceil(wait)))}

    def monitor_url(self, base_url: str) -> str:
        return base_url + self.monitor_path


def location_monitor_response(op: Operation, base_url: str, now: float) -> Response:
    """The answer of a Location monitor (202 while running)."""
    if not op.done:
        headers = {"location": op.monitor_url(base_url), **op.retry_headers(now)}
        return Response.empty(202, headers)
    if op.outcome is Outcome.SUCCEEDED:
        body = op.result() if op.result is not None else None
        if body is None:
            return Response.empty(op.final_status)
        return Response.json(op.final_status, body)
    error = op.failure or OpError("InternalServerError", "The operation failed.")
    status = FAILED_STATUS_BY_CODE.get(error.code, 400)
    return error_response(status, error.code, error.message)


def async_monitor_response(op: Operation, base_url: str, now: float) -> Response:
    """The answer of an Azure-AsyncOperation monitor: always 200 with a status body."""
    status = op.outcome.value if op.outcome is not None else op.running_status
    body: dict[str, Any] = {
        "id": op.monitor_path.split("?", 1)[0],
        "name": op.id,
        "status": status,
        "startTime": iso(op.started_wall),
    }
    headers = {"azure-asyncoperation": op.monitor_url(base_url)}
    if op.done:
        if op.ended_wall is not None:
            body["endTime"] = iso(op.ended_wall)
        if op.outcome is not Outcome.SUCCEEDED:
            error = op.failure or OpError("InternalServerError", "The operation failed.")
            body["error"] = error.as_json()
    else:
        headers.update(op.retry_headers(now))
    return Response.json(200, body, headers)


def monitor_response(op: Operation, base_url: str, now: float) -> Response:
    if op.protocol is Protocol.LOCATION:
        return location_monitor_response(op, base_url, now)
    return async_monitor_response(op, base_url, now)
