"""The external sources that promotion rules watch, per target registry: the ``WatchSource`` the reconciler
plans ``source_topic`` and ``source_subscription`` from (``shared/domain/kinds/sources.py``)."""

from __future__ import annotations

from shared.domain.kinds.sources import watches_of
from shared.domain.work import Watch
from shared.ports import PromotionStore


class RuleWatches:
    """Over the promotion store: the rules into the registry whose source is an ACR or a storage account."""

    def __init__(self, rules: PromotionStore) -> None:
        self._rules = rules

    def watched_by(self, registry: str) -> tuple[Watch, ...]:
        return watches_of(self._rules.list_rules(), registry)
