"""The promotion rules as the events handler reads them: one LIST of the rules at most every
``RULES_FRESH_SECONDS`` per process, instead of one per event (docs/events.md, "Rules").

Every event looks at every rule, and at hundreds of events a second the LIST was one storage request in
six per event. A rule saved or deleted through this process is seen by its next event; through another
instance, within ``RULES_FRESH_SECONDS``; an event that no cached rule takes reads the rules again before
it is dropped, so a rule just saved elsewhere is never missed (``EventPromotions._taking``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from shared.domain.promotions import PromotionRule
from shared.ports import PromotionStore

RULES_FRESH_SECONDS = 2.0


class RuleCache:
    def __init__(
        self,
        store: PromotionStore,
        fresh_seconds: float = RULES_FRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._fresh = fresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._rules: list[PromotionRule] | None = None
        self._read_at = 0.0

    def rules(self, *, fresh: bool = False) -> list[PromotionRule]:
        """The rules, read again once the last read is older than the freshness bound (or when ``fresh``)."""
        with self._lock:
            if not fresh and self._rules is not None and self._clock() - self._read_at < self._fresh:
                return list(self._rules)
        rules = self._store.list_rules()
        with self._lock:
            self._rules, self._read_at = rules, self._clock()
        return list(rules)

    def forget(self) -> None:
        """A rule changed through this process: the next read goes to the store."""
        with self._lock:
            self._rules = None
