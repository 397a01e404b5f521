"""PromotionStore over Azure Table storage: one table, ``{prefix}Promotions``.

| partition | row | what |
|---|---|---|
| ``rule`` | the rule's name, lowercase | a promotion rule: source, filter, target, approval, creator, last error |
| ``promotion`` | the promotion id (``pr-`` + a hash of rule, source version and target) | one promotion |
| ``dead`` | the message id | an event that could not be used, with the reason |

A promotion is inserted once (``create_promotion``: the insert is what makes "at most one promotion per
cause" hold across concurrent deliveries) and then replaced ETag-checked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from shared.adapters.table_rows import dt, principal
from shared.adapters.tables import classified_methods
from shared.domain.access import Principal
from shared.domain.asset_spec import AssetType
from shared.domain.errors import ConcurrentUpdate, Conflict
from shared.domain.promotions import Approval, Promotion, PromotionRule, PromotionStatus, RuleFilter
from shared.domain.records import utcnow
from shared.domain.rule_sources import RuleSource

RULES, PROMOTIONS, DEAD = "rule", "promotion", "dead"


def _who(who: Principal | None) -> str:
    return json.dumps({"id": who.id, "name": who.name, "type": who.type}) if who else ""


def _rule_entity(r: PromotionRule) -> dict[str, Any]:
    return {
        "PartitionKey": RULES,
        "RowKey": r.name.lower(),
        "name": r.name,
        "source_registry": r.source_registry,  # kept for rows read by an older version
        "source": json.dumps(r.source.to_dict()),
        "target_registry": r.target_registry,
        "filter": json.dumps(r.filter.to_dict()),
        "approval": r.approval.value,
        "created_by": _who(r.created_by),
        "created_at": r.created_at,
        "last_error": json.dumps(r.last_error) if r.last_error else "",
    }


def _rule(e: Any) -> PromotionRule:
    raw = json.loads(e["filter"])
    return PromotionRule(
        name=e["name"],
        source=RuleSource.from_dict(json.loads(e["source"]) if e.get("source") else {"registry": e["source_registry"]}),
        target_registry=e["target_registry"],
        filter=RuleFilter(tuple(AssetType(t) for t in raw["types"]), raw["name"], raw["tags"]),
        approval=Approval(e["approval"]),
        created_by=principal(e.get("created_by")),
        created_at=dt(e["created_at"]),
        last_error=json.loads(e["last_error"]) if e.get("last_error") else None,
        etag=e.metadata.get("etag") if hasattr(e, "metadata") else None,
    )


def _promotion_entity(p: Promotion) -> dict[str, Any]:
    return {
        "PartitionKey": PROMOTIONS,
        "RowKey": p.id,
        "rule": p.rule,
        "source": p.source,
        "origin": json.dumps(p.origin) if p.origin else "",
        "target_registry": p.target_registry,
        "type": p.type.value,
        "name": p.name,
        "version": p.version,
        "status": p.status.value,
        "event_id": p.event_id,
        "requested_by": _who(p.requested_by),
        "decided_by": _who(p.decided_by),
        "operation_id": p.operation_id,
        "error_code": p.error_code,
        "error_message": p.error_message,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def _promotion(e: Any) -> Promotion:
    return Promotion(
        id=e["RowKey"],
        rule=e["rule"],
        source=e["source"],
        origin=json.loads(e.get("origin") or "{}"),
        target_registry=e["target_registry"],
        type=AssetType(e["type"]),
        name=e["name"],
        version=e["version"],
        status=PromotionStatus(e["status"]),
        event_id=e.get("event_id") or "",
        requested_by=principal(e.get("requested_by")),
        decided_by=principal(e.get("decided_by")),
        operation_id=e.get("operation_id") or "",
        error_code=e.get("error_code") or "",
        error_message=e.get("error_message") or "",
        created_at=dt(e["created_at"]),
        updated_at=dt(e["updated_at"]),
        etag=e.metadata.get("etag") if hasattr(e, "metadata") else None,
    )


class TablePromotionStore:
    def __init__(self, service: TableServiceClient, prefix: str) -> None:
        self._table: TableClient = service.get_table_client(f"{prefix}Promotions")

    def table_names(self) -> list[str]:
        return [self._table.table_name]

    def _partition(self, partition: str) -> list[Any]:
        return list(self._table.query_entities("PartitionKey eq @p", parameters={"p": partition}))

    def get_rule(self, name: str) -> PromotionRule | None:
        try:
            return _rule(self._table.get_entity(RULES, name.lower()))
        except ResourceNotFoundError:
            return None

    def list_rules(self) -> list[PromotionRule]:
        return sorted((_rule(e) for e in self._partition(RULES)), key=lambda r: r.name.lower())

    def save_rule(self, rule: PromotionRule) -> None:
        meta = self._table.upsert_entity(_rule_entity(rule), mode=UpdateMode.REPLACE)
        rule.etag = meta.get("etag")

    def delete_rule(self, name: str) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._table.delete_entity(RULES, name.lower())

    def get_promotion(self, promotion_id: str) -> Promotion | None:
        try:
            return _promotion(self._table.get_entity(PROMOTIONS, promotion_id))
        except ResourceNotFoundError:
            return None

    def list_promotions(self) -> list[Promotion]:
        return sorted((_promotion(e) for e in self._partition(PROMOTIONS)), key=lambda p: p.created_at)

    def create_promotion(self, promotion: Promotion) -> None:
        try:
            meta = self._table.create_entity(_promotion_entity(promotion))
        except ResourceExistsError:
            raise Conflict(f"promotion {promotion.id} exists", code="PromotionExists") from None
        promotion.etag = meta.get("etag")

    def save_promotion(self, promotion: Promotion) -> None:
        try:
            meta = self._table.update_entity(
                _promotion_entity(promotion),
                mode=UpdateMode.REPLACE,
                etag=promotion.etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            raise ConcurrentUpdate(f"promotion {promotion.id} changed meanwhile") from None
        promotion.etag = meta.get("etag")

    def dead_letter(self, message_id: str, reason: str, body: str) -> None:
        row = message_id if message_id.isalnum() else hashlib.sha256(message_id.encode()).hexdigest()
        entity = {
            "PartitionKey": DEAD,
            "RowKey": row[:200],
            "message_id": message_id[:1024],
            "reason": reason[:1024],
            "body": body[:30_000],
            "at": utcnow(),
        }
        self._table.upsert_entity(entity, mode=UpdateMode.REPLACE)

    def dead_letters(self) -> list[dict[str, str]]:
        return [
            {"messageId": e["message_id"], "reason": e["reason"], "body": e["body"], "at": dt(e["at"]).isoformat()}
            for e in self._partition(DEAD)
        ]


classified_methods(TablePromotionStore)
