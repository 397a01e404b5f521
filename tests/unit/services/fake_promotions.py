"""In-memory fakes of the promotion store and the event publisher (regctl's own events out)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from shared.domain.errors import ConcurrentUpdate, Conflict
from shared.domain.promotions import Promotion, PromotionRule


class FakePromotionStore:
    def __init__(self) -> None:
        self.rules: dict[str, PromotionRule] = {}
        self.promotions: dict[str, Promotion] = {}
        self.dead: dict[str, dict[str, str]] = {}
        self._etag = 0

    def _stamp(self) -> str:
        self._etag += 1
        return str(self._etag)

    def get_rule(self, name: str) -> PromotionRule | None:
        found = self.rules.get(name.lower())
        return copy.deepcopy(found) if found else None

    def list_rules(self) -> list[PromotionRule]:
        return [copy.deepcopy(r) for _, r in sorted(self.rules.items())]

    def save_rule(self, rule: PromotionRule) -> None:
        rule.etag = self._stamp()
        self.rules[rule.name.lower()] = copy.deepcopy(rule)

    def delete_rule(self, name: str) -> None:
        self.rules.pop(name.lower(), None)

    def get_promotion(self, promotion_id: str) -> Promotion | None:
        found = self.promotions.get(promotion_id)
        return copy.deepcopy(found) if found else None

    def list_promotions(self) -> list[Promotion]:
        return [copy.deepcopy(p) for p in sorted(self.promotions.values(), key=lambda p: p.created_at)]

    def create_promotion(self, promotion: Promotion) -> None:
        if promotion.id in self.promotions:
            raise Conflict("exists", code="PromotionExists")
        promotion.etag = self._stamp()
        self.promotions[promotion.id] = copy.deepcopy(promotion)

    def save_promotion(self, promotion: Promotion) -> None:
        current = self.promotions.get(promotion.id)
        if current is None or current.etag != promotion.etag:
            raise ConcurrentUpdate("changed")
        promotion.etag = self._stamp()
        self.promotions[promotion.id] = copy.deepcopy(promotion)

    def dead_letter(self, message_id: str, reason: str, body: str) -> None:
        self.dead[message_id] = {"messageId": message_id, "reason": reason, "body": body, "at": ""}

    def dead_letters(self) -> list[dict[str, str]]:
        return list(self.dead.values())


class FakeEventPublisher:
    """Keeps every event published (re-sends included), in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def publish(self, events: Sequence[dict[str, Any]]) -> None:
        self.events.extend(copy.deepcopy(list(events)))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["eventType"] == kind]
