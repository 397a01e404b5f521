"""The one backoff policy: steps, reconciles and (later) write-backs retry with it."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    max_seconds: float
    poll_seconds: float  # a running ARM operation is polled after this when ARM gives no Retry-After
    max_attempts: int  # transient failures in a row before a step is recorded Failed

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Exponential backoff with full jitter, capped; never shorter than the cause's Retry-After."""
        ceiling = min(self.max_seconds, self.base_seconds * (2 ** min(max(0, attempts - 1), 30)))
        delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
        return max(delay, retry_after or 0.0)
