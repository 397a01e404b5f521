"""When the stand-in's deliveries leave: at once, or as an Event Grid fault rule says (``"service": "eventgrid"``).

A delivery (one event to one event subscription) without a rule is sent at once, in order. A rule's
``duplicate`` adds that many copies after it (redeliveries: same message id, ``aeg-delivery-count`` 1, 2,
...); ``delay`` holds the delivery and its copies that many seconds while later deliveries go ahead;
``reorder`` holds them in the rule's buffer until it has ``reorder`` messages, or its oldest waited
``REORDER_FLUSH_SECONDS``, then sends the buffer in an order drawn from the fault engine's seeded RNG. A
delayed delivery of a ``reorder`` rule enters the buffer when its delay is over. What is still held when the
store is reset (its ``epoch`` moved on) is dropped, so a test's faults never leak into the next one.

Pure bookkeeping: the stand-in's thread owns it and gives it the clock (``time.monotonic()``).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.arm.faults import REORDER_FLUSH_SECONDS, FaultRule
from sandbox.eventgrid.events import redelivered
from shared.ports import OutboundMessage

#: A message and the store epoch it was made in.
Held = tuple[int, OutboundMessage]


@dataclass(frozen=True)
class Delivery:
    message: OutboundMessage
    #: The Event Grid fault rule that applies to it, if any.
    rule: FaultRule | None = None
    #: ``Store.epoch`` when it was made.
    epoch: int = 0


@dataclass
class _Buffer:
    rule: FaultRule
    deadline: float
    held: list[Held] = field(default_factory=list)


class Scheduler:
    def __init__(self, shuffle: Callable[[list[Held]], list[Held]], epoch: Callable[[], int]) -> None:
        self._shuffle = shuffle
        self._epoch = epoch
        self._delayed: list[tuple[float, int, list[Held], FaultRule]] = []
        self._order = itertools.count()
        self._buffers: dict[int, _Buffer] = {}

    def admit(self, delivery: Delivery, now: float) -> list[OutboundMessage]:
        """Take a new delivery: what to send now (possibly nothing)."""
        rule = delivery.rule
        copies = [delivery.message]
        if rule is not None:
            copies += [redelivered(delivery.message, attempt) for attempt in range(1, rule.duplicate + 1)]
        held = [(delivery.epoch, message) for message in copies]
        if rule is not None and rule.delay > 0:
            heapq.heappush(self._delayed, (now + rule.delay, next(self._order), held, rule))
            return []
        return self._current(self._release(held, rule, now))

    def due(self, now: float) -> list[OutboundMessage]:
        """What the passing of time releases: delays over, reorder buffers that waited long enough."""
        out: list[Held] = []
        while self._delayed and self._delayed[0][0] <= now:
            _, _, held, rule = heapq.heappop(self._delayed)
            out += self._release(held, rule, now)
        for key in [key for key, buffer in self._buffers.items() if buffer.deadline <= now]:
            out += self._flush(key)
        return self._current(out)

    def next_wake(self) -> float | None:
        """When ``due`` will next release something (``None``: nothing is held)."""
        times = [buffer.deadline for buffer in self._buffers.values()]
        if self._delayed:
            times.append(self._delayed[0][0])
        return min(times, default=None)

    def _release(self, held: list[Held], rule: FaultRule | None, now: float) -> list[Held]:
        if rule is None or rule.reorder < 2:
            return held
        key = id(rule)
        buffer = self._buffers.setdefault(key, _Buffer(rule, now + REORDER_FLUSH_SECONDS))
        buffer.held += held
        return self._flush(key) if len(buffer.held) >= rule.reorder else []

    def _flush(self, key: int) -> list[Held]:
        return self._shuffle(self._buffers.pop(key).held)

    def _current(self, held: list[Held]) -> list[OutboundMessage]:
        epoch = self._epoch()
        return [message for made, message in held if made == epoch]
