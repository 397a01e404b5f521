"""Event Grid's retry schedule, retry policy and dead-letter records, as pure functions.

From Learn, "Event Grid message delivery and retry" (https://learn.microsoft.com/azure/event-grid/delivery-and-retry)
and "Set dead-letter location and retry policy" (https://learn.microsoft.com/azure/event-grid/manage-event-delivery):

- A failed delivery is retried on a fixed schedule: 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h,
  then every 12 h (up to the 24 h time-to-live). Here each wait runs from the failed attempt to the next, so
  the doc's example holds: with a 30-minute time-to-live at most 6 attempts happen (at 0 s, 10 s, 40 s,
  1 min 40 s, 6 min 40 s, 16 min 40 s). Azure adds "a small randomization"; the stand-in does not, and it
  multiplies every wait by the simulator's time scale, as the operations' durations are.
- The subscription's ``retryPolicy`` ends it: after ``maxDeliveryAttempts`` attempts (default 30), or when
  the event is older than ``eventTimeToLiveInMinutes`` (default 1440), which is "checked ONLY at the next
  scheduled delivery attempt". Then the event is dead-lettered, "five-minute delay between the last attempt
  to deliver an event and when it's delivered to the dead-letter location", or dropped without a
  ``deadLetterDestination``.
- The dead-letter blob is ``{container}/{SUBSCRIPTION NAME UPPER CASE}/{Y}/{M}/{D}/{H}/{id}.json`` (UTC, not
  zero-padded) and holds an array of events, each the delivered event plus ``deadLetterReason``,
  ``deliveryAttempts``, ``lastDeliveryOutcome``, ``publishTime`` and ``lastDeliveryAttemptTime`` (CloudEvents:
  ``deadletterreason``, ``deliveryattempts``, ``lastdeliveryoutcome``, ``publishtime``, as the doc's example).

- Some failures are not retried: for an Azure resource endpoint (a Service Bus queue is one) 400, 403 and
  413 ("configuration-related errors that can't be fixed with retries", the doc's table). The event is
  dead-lettered, or dropped, after that one attempt. The doc's dead-letter example of such an attempt
  (``deliveryAttempts`` 1, ``lastDeliveryOutcome`` ``NotFound``) gives ``MaxDeliveryAttemptsExceeded`` as its
  reason, so that is the reason here too.

``MaxDeliveryAttemptsExceeded`` is the doc's reason; ``TimeToLiveExceeded`` for an expired event is
UNVERIFIED (the doc names no value). ``lastDeliveryOutcome`` takes the doc's values: a fault rule's failure
is ``Busy``; a real send failure is read from the error (``outcome_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

#: Seconds (at time scale 1) from the n-th failed attempt to the next, n = 1, 2, ...; then ``RETRY_EVERY``.
RETRY_SCHEDULE = (10.0, 30.0, 60.0, 300.0, 600.0, 1800.0, 3600.0, 3 * 3600.0, 6 * 3600.0)
RETRY_EVERY = 12 * 3600.0
#: Seconds (at time scale 1) between the end of the retries and the dead-letter blob.
DEAD_LETTER_DELAY = 300.0
DEFAULT_MAX_ATTEMPTS = 30
DEFAULT_TTL_MINUTES = 1440

MAX_ATTEMPTS_EXCEEDED = "MaxDeliveryAttemptsExceeded"
TTL_EXCEEDED = "TimeToLiveExceeded"
#: ``lastDeliveryOutcome`` of a send a ``fail`` fault rule failed: "Destination server is busy".
INJECTED_OUTCOME = "Busy"
_OUTCOMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    408: "TimedOut",
    413: "PayloadTooLarge",
}
#: The outcomes Event Grid does not retry for an Azure resource endpoint (400, 403, 413).
NOT_RETRIED = frozenset({"BadRequest", "Forbidden", "PayloadTooLarge"})


@dataclass(frozen=True)
class DeadLetterTarget:
    """A ``StorageBlob`` dead-letter destination: the storage account's ARM id and the container."""

    account_id: str
    container: str


@dataclass(frozen=True)
class Policy:
    """What a delivery's event subscription says about retries, read when the delivery is made."""

    subscription: str = ""
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ttl_minutes: int = DEFAULT_TTL_MINUTES
    dead_letter: DeadLetterTarget | None = None
    cloud_events: bool = False
    #: The simulator's time scale: every wait and the time-to-live are multiplied by it.
    time_scale: float = 1.0

    @classmethod
    def of(cls, subscription: str, properties: dict[str, Any], time_scale: float) -> Policy:
        """The policy of an event subscription's stored properties (``sandbox/arm/eventgrid_properties.py``)."""
        retry = properties.get("retryPolicy") or {}
        target = None
        dead_letter = properties.get("deadLetterDestination") or {}
        if dead_letter.get("endpointType") == "StorageBlob":
            where = dead_letter.get("properties") or {}
            target = DeadLetterTarget(str(where.get("resourceId", "")), str(where.get("blobContainerName", "")))
        return cls(
            subscription=subscription,
            max_attempts=int(retry.get("maxDeliveryAttempts", DEFAULT_MAX_ATTEMPTS)),
            ttl_minutes=int(retry.get("eventTimeToLiveInMinutes", DEFAULT_TTL_MINUTES)),
            dead_letter=target,
            cloud_events=properties.get("eventDeliverySchema") == "CloudEventSchemaV1_0",
            time_scale=time_scale,
        )


def retry_delay(failed_attempts: int) -> float:
    """Seconds at time scale 1 from the ``failed_attempts``-th failed attempt (1, 2, ...) to the next."""
    if failed_attempts < 1:
        raise ValueError(f"no attempt failed yet: {failed_attempts}")
    if failed_attempts <= len(RETRY_SCHEDULE):
        return RETRY_SCHEDULE[failed_attempts - 1]
    return RETRY_EVERY


def next_attempt_in(failed_attempts: int, policy: Policy, outcome: str) -> float | None:
    """Scaled seconds until the next attempt after attempt ``failed_attempts`` failed with ``outcome``;
    ``None``: none is left (the policy's attempts are used, or Event Grid does not retry that outcome)."""
    if failed_attempts >= policy.max_attempts or outcome in NOT_RETRIED:
        return None
    return retry_delay(failed_attempts) * policy.time_scale


def expired(published: float, now: float, policy: Policy) -> bool:
    """Whether an event published at ``published`` outlived its time-to-live at ``now`` (same clock)."""
    return now - published >= policy.ttl_minutes * 60.0 * policy.time_scale


def dead_letter_wait(policy: Policy) -> float:
    """Scaled seconds from the end of the retries to the dead-letter blob (none when the event is dropped)."""
    return DEAD_LETTER_DELAY * policy.time_scale if policy.dead_letter is not None else 0.0


def outcome_of(error: BaseException) -> str:
    """The ``lastDeliveryOutcome`` of a send that raised ``error``: the HTTP status the destination answered
    anywhere in its causes (404 ``NotFound``, 401, 403, 400, 408, 413, else ``Busy``), ``SocketError`` when
    the destination never answered."""
    seen: BaseException | None = error
    while seen is not None:
        status = getattr(seen, "status_code", None)
        if isinstance(status, int):
            return outcome_of_status(status)
        seen = seen.__cause__ or seen.__context__
    return "SocketError"


def outcome_of_status(status: int) -> str:
    """The ``lastDeliveryOutcome`` of a send the destination answered with HTTP ``status``."""
    return _OUTCOMES.get(status, INJECTED_OUTCOME)


def dead_letter_blob(subscription: str, when: datetime, blob_id: str) -> str:
    """The dead-letter blob's name in its container: ``SUBSCRIPTION/Y/M/D/H/{blob_id}.json`` (UTC)."""
    return f"{subscription.upper()}/{when.year}/{when.month}/{when.day}/{when.hour}/{blob_id}.json"


def dead_lettered(
    event: dict[str, Any],
    *,
    cloud_events: bool,
    reason: str,
    attempts: int,
    outcome: str,
    publish_time: str,
    last_attempt_time: str,
) -> dict[str, Any]:
    """The event as it lands in the dead-letter blob: as delivered, plus why and how it was attempted."""
    if cloud_events:
        extra: dict[str, Any] = {
            "deadletterreason": reason,
            "deliveryattempts": attempts,
            "lastdeliveryoutcome": outcome,
            "publishtime": publish_time,
        }
    else:
        extra = {
            "deadLetterReason": reason,
            "deliveryAttempts": attempts,
            "lastDeliveryOutcome": outcome,
            "publishTime": publish_time,
            "lastDeliveryAttemptTime": last_attempt_time,
        }
    return {**event, **extra}
