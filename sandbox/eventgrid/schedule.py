"""When the stand-in's deliveries leave, are retried, and are dead-lettered: pure bookkeeping on a given clock.

A delivery (one event to one event subscription) without a fault rule is sent at once, in order. An Event
Grid fault rule (``"service": "eventgrid"``) changes that: ``duplicate`` adds that many copies after it
(redeliveries: same message id, ``aeg-delivery-count`` 1, 2, ...); ``delay`` holds the delivery and its
copies that many seconds while later deliveries go ahead; ``reorder`` holds them in the rule's buffer until
it has ``reorder`` messages, or its oldest waited ``REORDER_FLUSH_SECONDS``, then sends the buffer in an
order drawn from the fault engine's seeded RNG (a delayed delivery of a ``reorder`` rule enters the buffer
when its delay is over); ``fail`` makes the first sends fail (the stand-in applies it, ``standin.py``).

Each send of a delivery is a ``Send`` with its attempt number (1, 2, ...; the copies of a ``duplicate`` rule
are attempt 0, sent once). When one fails the stand-in calls ``failed``: the next attempt is held for Event
Grid's retry wait (``retry.py``, scaled by the time scale), with the same message id and an
``aeg-delivery-count`` of the attempts made so far. When the subscription's ``maxDeliveryAttempts`` are
used, or a held retry finds the event older than its time-to-live, a ``DeadLetter`` is released after the
dead-letter delay (at once when the subscription has no dead-letter destination: the stand-in drops it). A
failure Event Grid does not retry (400, 403, 413) ends the delivery the same way after that one attempt.

What is still held when the store is reset (its ``epoch`` moved on), retries and dead-letters included, is
dropped, so a test's faults never leak into the next one. The stand-in's thread owns the scheduler and gives
it the clock (``time.monotonic()``); nothing here sleeps.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sandbox.arm.faults import REORDER_FLUSH_SECONDS, FaultRule
from sandbox.eventgrid.events import redelivered
from sandbox.eventgrid.retry import (
    MAX_ATTEMPTS_EXCEEDED,
    TTL_EXCEEDED,
    Policy,
    dead_letter_wait,
    expired,
    next_attempt_in,
)
from shared.ports import OutboundMessage


@dataclass(frozen=True)
class Delivery:
    message: OutboundMessage
    #: The Event Grid fault rule that applies to it, if any.
    rule: FaultRule | None = None
    #: ``Store.epoch`` when it was made.
    epoch: int = 0
    #: Its event subscription's retry policy and dead-letter destination.
    policy: Policy = field(default_factory=Policy)
    #: When the event was published: on the scheduler's clock (the time-to-live) and as ISO (``publishTime``).
    published: float = 0.0
    publish_time: str = ""


@dataclass(frozen=True)
class Send:
    """One send of a delivery's message: attempt 1, 2, ... (retries), or 0 for a copy of a duplicate rule."""

    message: OutboundMessage
    delivery: Delivery
    attempt: int = 1
    #: The outcome and the ISO time of the attempt before (retries only).
    last_outcome: str = ""
    last_attempt_time: str = ""


@dataclass(frozen=True)
class DeadLetter:
    """A delivery whose retries ended: dead-letter it, or drop it when its subscription has no destination."""

    delivery: Delivery
    reason: str
    attempts: int
    last_outcome: str
    last_attempt_time: str


Released = Send | DeadLetter
R = TypeVar("R", bound=Released)


@dataclass
class _Buffer:
    rule: FaultRule
    deadline: float
    held: list[Send] = field(default_factory=list)


class Scheduler:
    def __init__(self, shuffle: Callable[[list[Send]], list[Send]], epoch: Callable[[], int]) -> None:
        self._shuffle = shuffle
        self._epoch = epoch
        self._delayed: list[tuple[float, int, list[Send], FaultRule]] = []
        #: Retries and dead-letters, by when they are due.
        self._timers: list[tuple[float, int, Released]] = []
        self._order = itertools.count()
        self._buffers: dict[int, _Buffer] = {}

    def admit(self, delivery: Delivery, now: float) -> list[Send]:
        """Take a new delivery: what to send now (possibly nothing)."""
        rule = delivery.rule
        sends = [Send(delivery.message, delivery)]
        if rule is not None:
            copies = range(1, rule.duplicate + 1)
            sends += [Send(redelivered(delivery.message, n), delivery, attempt=0) for n in copies]
        if rule is not None and rule.delay > 0:
            heapq.heappush(self._delayed, (now + rule.delay, next(self._order), sends, rule))
            return []
        return self._current(self._release(sends, rule, now))

    def failed(self, send: Send, outcome: str, now: float, at: str) -> None:
        """``send`` failed at ``now`` (``at``: the same instant as ISO): hold its next attempt, or end its retries."""
        delivery = send.delivery
        if send.attempt < 1 or delivery.epoch != self._epoch():
            return  # a copy is sent once; a delivery of before a reset is forgotten
        wait = next_attempt_in(send.attempt, delivery.policy, outcome)
        if wait is None:
            self._end(DeadLetter(delivery, MAX_ATTEMPTS_EXCEEDED, send.attempt, outcome, at), now)
            return
        retry = Send(redelivered(delivery.message, send.attempt), delivery, send.attempt + 1, outcome, at)
        heapq.heappush(self._timers, (now + wait, next(self._order), retry))

    def due(self, now: float) -> list[Released]:
        """What the passing of time releases: delays over, reorder buffers that waited long enough, retries
        and dead-letters that are due (a retry of an expired event turns into a dead-letter)."""
        out: list[Released] = []
        while self._delayed and self._delayed[0][0] <= now:
            _, _, held, rule = heapq.heappop(self._delayed)
            out += self._release(held, rule, now)
        for key in [key for key, buffer in self._buffers.items() if buffer.deadline <= now]:
            out += self._flush(key)
        while self._timers and self._timers[0][0] <= now:
            _, _, item = heapq.heappop(self._timers)
            if isinstance(item, Send) and expired(item.delivery.published, now, item.delivery.policy):
                attempts, outcome, at = item.attempt - 1, item.last_outcome, item.last_attempt_time
                self._end(DeadLetter(item.delivery, TTL_EXCEEDED, attempts, outcome, at), now)
            else:
                out.append(item)
        return self._current(out)

    def next_wake(self) -> float | None:
        """When ``due`` will next release something (``None``: nothing is held)."""
        times = [buffer.deadline for buffer in self._buffers.values()]
        for heap in (self._delayed, self._timers):
            if heap:
                times.append(heap[0][0])
        return min(times, default=None)

    def _end(self, record: DeadLetter, now: float) -> None:
        heapq.heappush(self._timers, (now + dead_letter_wait(record.delivery.policy), next(self._order), record))

    def _release(self, sends: list[Send], rule: FaultRule | None, now: float) -> list[Send]:
        if rule is None or rule.reorder < 2:
            return sends
        key = id(rule)
        buffer = self._buffers.setdefault(key, _Buffer(rule, now + REORDER_FLUSH_SECONDS))
        buffer.held += sends
        return self._flush(key) if len(buffer.held) >= rule.reorder else []

    def _flush(self, key: int) -> list[Send]:
        return self._shuffle(self._buffers.pop(key).held)

    def _current(self, items: list[R]) -> list[R]:
        epoch = self._epoch()
        return [item for item in items if item.delivery.epoch == epoch]
