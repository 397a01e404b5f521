"""A ticket's ``{action: promote, source, target[, name, version, promotion]}`` (docs/tickets.md).

Run as the ticket's principal, once the ticket is approved:

- when the ticket names a promotion waiting for approval (``promotion: pr-…``), or one such promotion has the
  same source, target, name and version, the ticket's approval **approves it** (``assets/write`` on the
  target, as ``POST /api/promotions/{id}/approve``): the promotion's ``decidedBy`` is the ticket;
- otherwise it is an **explicit promotion** of ``source`` into ``target`` (as ``POST .../promote``), under
  the source's name and version unless the ticket gives others.

The answer is the operation copying the version (the ticket follows it), or None when nothing needs a copy.
A promotion that ends at once ``Failed`` or ``Rejected`` is a refusal, with its code and reason. Asking
again is harmless: explicit promotions are keyed by their cause, and an approved one is not approved twice.
"""

from __future__ import annotations

from shared.domain.access import Principal
from shared.domain.asset_spec import parse_asset_id
from shared.domain.errors import Conflict
from shared.domain.promotions import Promotion, PromotionStatus
from shared.domain.tickets import TicketRequest
from shared.services.promotions import PromotionService


def _same(promotion: Promotion, source: str, target: str, name: str, version: str) -> bool:
    return (
        promotion.source.lower() == source.lower()
        and promotion.target_registry == target.lower()
        and (promotion.name, promotion.version) == (name, version)
    )


def _approve(promotions: PromotionService, promotion: Promotion, caller: Principal) -> Promotion:
    if promotion.status is not PromotionStatus.PENDING_APPROVAL:
        return promotion  # decided before (this ticket's earlier start, or someone else)
    try:
        return promotions.decide(promotion.id, True, caller)
    except Conflict as exc:
        if exc.code != "NotPending":
            raise
        return promotions.get(promotion.id)  # decided meanwhile


def ticket_promotion(promotions: PromotionService, request: TicketRequest, caller: Principal) -> str | None:
    """Approve the pending promotion the ticket names (or matches), else promote explicitly; the operation."""
    doc, target = request.document, request.registry
    source = str(doc["source"]).strip()
    _, asset_type, src_name, src_version = parse_asset_id(source)
    name, version = str(doc.get("name", src_name)), str(doc.get("version", src_version))
    named = str(doc.get("promotion", "")).strip()
    if named:
        promotion = promotions.get(named)
        if not _same(promotion, source, target, name, version):
            raise Conflict(
                f"promotion {named} promotes {promotion.source} into {promotion.target}, not what the ticket asks",
                code="PromotionMismatch",
            )
        promotion = _approve(promotions, promotion, caller)
    else:
        waiting = [
            p
            for p in promotions.list_promotions(status=PromotionStatus.PENDING_APPROVAL.value)
            if _same(p, source, target, name, version)
        ]
        if waiting:
            promotion = _approve(promotions, waiting[0], caller)
        else:
            promotion = promotions.promote(target, asset_type, name, version, source=source, caller=caller)
    if promotion.status in (PromotionStatus.FAILED, PromotionStatus.REJECTED):
        reason = f": {promotion.error_message}" if promotion.error_message else ""
        raise Conflict(
            f"promotion {promotion.id} is {promotion.status.value}{reason}",
            code=promotion.error_code or "PromotionRejected",
        )
    return promotion.operation_id or None
