"""What the host takes from ``host.json`` and what stands in for the Service Bus queue's own properties.

Two sources, kept apart because they are owned by different people in Azure:

- ``host.json`` (the app's, deployed with it): ``extensions.serviceBus.maxConcurrentCalls``,
  ``maxMessageBatchSize``, ``maxAutoLockRenewalDuration``, ``autoCompleteMessages`` and
  ``functionTimeout``. Missing values take the Functions defaults (Service Bus extension 5.x: 16
  concurrent calls, batches of up to 1,000 messages, 5 minutes of lock renewal). ``minMessageBatchSize``
  above 1 (waiting to fill a batch) is refused: the sandbox does not emulate it.
- the queue's properties (``infra/`` in Azure): lock duration, max delivery count, duplicate detection
  window. The sandbox reads them from ``SANDBOX_*`` environment variables with the Service Bus defaults
  (60 s, 10, 10 minutes) so tests can shorten them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MAX_CONCURRENT_CALLS = 16
DEFAULT_MAX_MESSAGE_BATCH_SIZE = 1000
DEFAULT_MAX_AUTO_LOCK_RENEWAL_SECONDS = 300.0

_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<hours>\d+):(?P<minutes>\d{2}):(?P<seconds>\d{2}(?:\.\d+)?)$")


class HostConfigError(Exception):
    """host.json or a SANDBOX_* setting cannot be used."""


def parse_timespan(value: str) -> float:
    """Seconds in a .NET TimeSpan string such as ``00:05:00`` or ``1.02:00:00``."""
    match = _TIMESPAN.match(value.strip())
    if not match:
        raise HostConfigError(f"not a TimeSpan ([d.]hh:mm:ss): {value!r}")
    days = int(match["days"] or 0)
    return days * 86400 + int(match["hours"]) * 3600 + int(match["minutes"]) * 60 + float(match["seconds"])


@dataclass(frozen=True)
class HostJson:
    """The host.json settings the sandbox honours."""

    max_concurrent_calls: int = DEFAULT_MAX_CONCURRENT_CALLS
    #: Messages handed to one call of a ``cardinality: many`` function (one batch at a time per function).
    max_message_batch_size: int = DEFAULT_MAX_MESSAGE_BATCH_SIZE
    max_auto_lock_renewal_seconds: float = DEFAULT_MAX_AUTO_LOCK_RENEWAL_SECONDS
    function_timeout_seconds: float | None = None

    @classmethod
    def load(cls, path: Path) -> HostJson:
        """Read ``path``; a missing file means every default, as for an app without host.json."""
        if not path.is_file():
            return cls()
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise HostConfigError(f"{path.name} is not valid JSON: {exc}") from exc
        return cls.from_document(document)

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> HostJson:
        service_bus: Mapping[str, Any] = (document.get("extensions") or {}).get("serviceBus") or {}
        if service_bus.get("autoCompleteMessages", True) is not True:
            raise HostConfigError(
                "autoCompleteMessages=false needs SDK-type bindings to settle messages; "
                "the sandbox host (and this app) settle on return or exception only"
            )
        calls = int(service_bus.get("maxConcurrentCalls", DEFAULT_MAX_CONCURRENT_CALLS))
        if calls < 1:
            raise HostConfigError(f"maxConcurrentCalls must be at least 1, not {calls}")
        batch = int(service_bus.get("maxMessageBatchSize", DEFAULT_MAX_MESSAGE_BATCH_SIZE))
        if batch < 1:
            raise HostConfigError(f"maxMessageBatchSize must be at least 1, not {batch}")
        if int(service_bus.get("minMessageBatchSize", 1)) > 1:
            raise HostConfigError("minMessageBatchSize above 1 (waiting to fill a batch) is not emulated")
        renewal = service_bus.get("maxAutoLockRenewalDuration")
        timeout = document.get("functionTimeout")
        return cls(
            max_concurrent_calls=calls,
            max_message_batch_size=batch,
            max_auto_lock_renewal_seconds=(
                parse_timespan(str(renewal)) if renewal else DEFAULT_MAX_AUTO_LOCK_RENEWAL_SECONDS
            ),
            function_timeout_seconds=parse_timespan(str(timeout)) if timeout and timeout != "-1" else None,
        )


@dataclass(frozen=True)
class QueueOptions:
    """Service Bus queue properties and sandbox knobs, from ``SANDBOX_*`` environment variables."""

    #: ``lockDuration`` of the queues (whole seconds: it becomes a Storage visibility timeout).
    lock_duration_seconds: int = 60
    #: ``maxDeliveryCount``: deliveries before a message is dead-lettered.
    max_delivery_count: int = 10
    #: ``duplicateDetectionHistoryTimeWindow``; 0 turns duplicate detection off.
    duplicate_detection_window_seconds: float = 600.0
    #: Table (in the queue storage account) that remembers accepted message ids across restarts.
    duplicate_detection_table: str = "sandboxdedup"
    #: Chaos knob: hand every successfully processed message to its function a second time.
    deliver_twice: bool = False
    #: Polling of empty queues: first and longest pause.
    poll_min_seconds: float = 0.02
    poll_max_seconds: float = 0.25
    #: How long shutdown waits for running invocations.
    shutdown_grace_seconds: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> QueueOptions:
        default = cls()
        options = cls(
            lock_duration_seconds=_int(env, "SANDBOX_LOCK_DURATION_SECONDS", default.lock_duration_seconds),
            max_delivery_count=_int(env, "SANDBOX_MAX_DELIVERY_COUNT", default.max_delivery_count),
            duplicate_detection_window_seconds=_float(
                env, "SANDBOX_DUPLICATE_DETECTION_WINDOW_SECONDS", default.duplicate_detection_window_seconds
            ),
            duplicate_detection_table=env.get("SANDBOX_DEDUP_TABLE", default.duplicate_detection_table),
            deliver_twice=env.get("SANDBOX_DELIVER_TWICE", "").strip().lower() in {"1", "true", "yes"},
            poll_min_seconds=_float(env, "SANDBOX_POLL_MIN_SECONDS", default.poll_min_seconds),
            poll_max_seconds=_float(env, "SANDBOX_POLL_MAX_SECONDS", default.poll_max_seconds),
            shutdown_grace_seconds=_float(env, "SANDBOX_SHUTDOWN_GRACE_SECONDS", default.shutdown_grace_seconds),
        )
        if options.lock_duration_seconds < 1:
            raise HostConfigError("SANDBOX_LOCK_DURATION_SECONDS must be at least 1")
        if options.max_delivery_count < 1:
            raise HostConfigError("SANDBOX_MAX_DELIVERY_COUNT must be at least 1")
        if not 0 < options.poll_min_seconds <= options.poll_max_seconds:
            raise HostConfigError("need 0 < SANDBOX_POLL_MIN_SECONDS <= SANDBOX_POLL_MAX_SECONDS")
        return options


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    try:
        return default if raw is None or raw == "" else int(raw)
    except ValueError as exc:
        raise HostConfigError(f"{name} must be an integer, not {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    try:
        return default if raw is None or raw == "" else float(raw)
    except ValueError as exc:
        raise HostConfigError(f"{name} must be a number, not {raw!r}") from exc
