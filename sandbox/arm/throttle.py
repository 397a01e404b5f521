"""ARM's subscription token buckets (the 2024+ throttling model, arm-behavior.md section 5).

Per subscription and operation type: reads 250 tokens + 25/s, writes (PUT/PATCH/POST) 200 + 10/s,
deletes 200 + 10/s; sizes and refill rates are multiplied by ``scale``. Each request takes one token;
an empty bucket answers 429 ``SubscriptionRequestsThrottled`` with ``Retry-After`` = whole seconds until
the next token. LRO status GETs are reads. The remaining-count headers report the bucket.

Deliberate simplifications: one bucket per subscription (Azure keys them per principal and region too,
and adds a global bucket 15 times larger, which only shows in the ``global-`` headers here).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from sandbox.arm.envelope import ArmError


class OpType(StrEnum):
    READ = "reads"
    WRITE = "writes"
    DELETE = "deletes"

    @classmethod
    def of(cls, method: str) -> OpType:
        if method in ("GET", "HEAD"):
            return cls.READ
        if method == "DELETE":
            return cls.DELETE
        return cls.WRITE

    @property
    def singular(self) -> str:
        return {"reads": "read", "writes": "write", "deletes": "delete"}[self.value]


#: (bucket size, refill per second) at scale 1.
LIMITS: dict[OpType, tuple[float, float]] = {
    OpType.READ: (250.0, 25.0),
    OpType.WRITE: (200.0, 10.0),
    OpType.DELETE: (200.0, 10.0),
}

#: Azure's global limit per operation type is this many times the per-principal one.
GLOBAL_FACTOR = 15


@dataclass
class Bucket:
    capacity: float
    refill: float
    tokens: float
    last: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.refill)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def seconds_to_next_token(self) -> int:
        return max(1, math.ceil((1.0 - self.tokens) / self.refill))


class Throttle:
    """Token buckets, enforced only while enabled (guarded by the store lock)."""

    def __init__(self) -> None:
        self.enabled = False
        self.scale = 1.0
        self._buckets: dict[tuple[str, OpType], Bucket] = {}

    def configure(self, enabled: bool, scale: float) -> None:
        self.enabled = enabled
        self.scale = scale
        self._buckets = {}

    def _bucket(self, subscription: str, op: OpType, now: float) -> Bucket:
        key = (subscription.lower(), op)
        bucket = self._buckets.get(key)
        if bucket is None:
            size, refill = LIMITS[op]
            capacity = max(1.0, size * self.scale)
            bucket = Bucket(capacity, max(1e-6, refill * self.scale), capacity, now)
            self._buckets[key] = bucket
        return bucket

    def admit(self, subscription: str | None, op: OpType, now: float) -> dict[str, str]:
        """Take a token; return the rate-limit headers, or raise the 429 ``ArmError``."""
        size, _ = LIMITS[op]
        if subscription is None:
            return {f"x-ms-ratelimit-remaining-tenant-{op.value}": str(int(size) - 1)}
        if not self.enabled:
            return _headers(op, int(size) - 1, int(size) * GLOBAL_FACTOR - 1)
        bucket = self._bucket(subscription, op, now)
        if not bucket.take(now):
            wait = bucket.seconds_to_next_token()
            raise ArmError(
                429,
                "SubscriptionRequestsThrottled",
                f"Number of '{op.singular}' requests for subscription '{subscription}' actor "
                f"'sandbox' exceeded. Please try again after '{wait}' seconds after the additional "
                "tokens are available. Refer to https://aka.ms/arm-throttling for additional information.",
                retry_after=wait,
                headers=_headers(op, 0, int(bucket.capacity) * (GLOBAL_FACTOR - 1)),
            )
        remaining = int(bucket.tokens)
        return _headers(op, remaining, remaining + int(bucket.capacity) * (GLOBAL_FACTOR - 1))

    def peek(self, subscription: str | None, op: OpType) -> dict[str, str]:
        """The headers for a request refused before throttling (401/400): no token is taken."""
        size, _ = LIMITS[op]
        if subscription is None:
            return {f"x-ms-ratelimit-remaining-tenant-{op.value}": str(int(size) - 1)}
        bucket = self._buckets.get((subscription.lower(), op)) if self.enabled else None
        if bucket is None:
            return _headers(op, int(size * (self.scale if self.enabled else 1.0)) - 1, int(size) * GLOBAL_FACTOR - 1)
        remaining = int(bucket.tokens)
        return _headers(op, remaining, remaining + int(bucket.capacity) * (GLOBAL_FACTOR - 1))

    def as_json(self) -> dict[str, object]:
        return {"enabled": self.enabled, "scale": self.scale}


def _headers(op: OpType, remaining: int, global_remaining: int) -> dict[str, str]:
    return {
        f"x-ms-ratelimit-remaining-subscription-{op.value}": str(remaining),
        f"x-ms-ratelimit-remaining-subscription-global-{op.value}": str(global_remaining),
    }
