"""Promotions: rules, explicit promotions, approvals, and the copy into the target (docs/events.md).

A promotion registers the target version with the source's manifest, content digest and fields, and a
source place (``origin``) instead of a pending upload: the target's copy kind copies server-side from the
source registry's verified copy in its primary region into every region of the target, verifies, and the
ledger makes it Available (and announces it, which is what chains promotions). Lineage goes in the target
version's properties: ``promotedFrom``, ``promotionRule``, ``promotionEvent``, ``promotionId``.

- The same version already in the target with the same content is a success with no copy; with other
  content the promotion ends ``Failed`` with ``AssetVersionImmutable``, naming both.
- A promotion runs with the rights of who asked for it (a rule's creator): ``assets/read`` on the source,
  ``assets/write`` on the target, checked at each run; refused, it ends ``Failed`` with
  ``AuthorizationFailed``, and the rule shows the error.
- Every step is level-triggered: a promotion found ``Running`` without its operation (a crash between
  writing it and starting the copy) is run again, and running it again is harmless.

The promotions that events make (which rules take an event, at most once each) are in
``shared/services/event_promotions.py``; the service hands its ``on_*`` entry points to it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from shared.domain.access import Principal, registry_scope
from shared.domain.asset_records import AssetStatus, AssetVersionRecord
from shared.domain.asset_spec import AssetType, asset_id, check_name, check_version, parse_asset_id
from shared.domain.errors import ConcurrentUpdate, Conflict, Forbidden, InvalidSpec, NotFound, RequestError
from shared.domain.events import Event
from shared.domain.promotions import (
    EXPLICIT,
    Promotion,
    PromotionRule,
    PromotionStatus,
    parse_rule,
    promotion_id,
)
from shared.domain.records import OperationKind, OperationStatus, RegistryRecord, utcnow
from shared.domain.roles import Action
from shared.observability import context_log
from shared.ports import AssetStore, DataPlane, PromotionStore, StateStore
from shared.services.access import AccessService
from shared.services.event_promotions import EventPromotions
from shared.services.lifecycle import OperationLifecycle
from shared.services.rule_cache import RuleCache
from shared.services.source_versions import SourceVersions

log = logging.getLogger(__name__)


class PromotionService:
    def __init__(
        self,
        store: StateStore,
        assets: AssetStore,
        promotions: PromotionStore,
        access: AccessService,
        lifecycle: OperationLifecycle,
        *,
        data: DataPlane,
    ) -> None:
        self._store = store
        self._assets = assets
        self._promotions = promotions
        self._access = access
        self._lifecycle = lifecycle
        self._sources = SourceVersions(assets, data)
        self._rules = RuleCache(promotions)
        self._events = EventPromotions(promotions, self._rules, data, run=self._run, rule_failed=self._rule_failed)

    # -- registries and rights ---------------------------------------------------------------------

    def _registry(self, name: str) -> RegistryRecord:
        record = self._store.get_registry(name.lower())
        if record is None or record.deleting:
            raise NotFound(f'registry "{name}" not found', code="RegistryNotFound")
        return record

    def _refusal(self, who: Principal | None, source: str, target: str) -> str | None:
        """Why ``who`` may not promote from ``source`` (a registry; "" for an external source) into
        ``target``; None when it may. An external source is read with regctl's own identity, so it takes
        ``registries/write`` on the target besides ``assets/write``."""
        if who is None:
            return "the promotion has no principal to run as"
        needs = [(Action.ASSETS_READ, source)] if source else [(Action.REGISTRIES_WRITE, target)]
        for action, registry in (*needs, (Action.ASSETS_WRITE, target)):
            if not self._access.authorize(who, action, registry_scope(registry)).allowed:
                return f"{who.name or who.id} lacks {action} on /registries/{registry.lower()}"
        return None

    # -- rules -------------------------------------------------------------------------------------

    def put_rule(self, name: str, document: Mapping[str, Any], caller: Principal) -> PromotionRule:
        rule = parse_rule(name, document, caller)
        if rule.source_registry:
            self._registry(rule.source_registry)
        self._registry(rule.target_registry)
        refused = self._refusal(caller, rule.source_registry, rule.target_registry)
        if refused is not None:
            raise Forbidden(f"a rule runs with its creator's rights: {refused}", code="AuthorizationFailed")
        previous = self._promotions.get_rule(rule.name)
        self._promotions.save_rule(rule)
        self._rules.forget()
        before = (previous.source.watched, previous.target_registry) if previous else (None, "")
        if before != (rule.source.watched, rule.target_registry):  # Event Grid subscriptions come or go
            for target in {t for watched, t in (before, (rule.source.watched, rule.target_registry)) if watched}:
                self._lifecycle.resync(target, f"rule {rule.name} saved", caller)
        context_log(log, registry=rule.target_registry, operation="", step="rule").info(
            "rule %s: %s -> %s (%s)", rule.name, rule.source.label(), rule.target_registry, rule.approval.value
        )
        return rule

    def get_rule(self, name: str) -> PromotionRule:
        rule = self._promotions.get_rule(name)
        if rule is None:
            raise NotFound(f"promotion rule {name} not found", code="RuleNotFound")
        return rule

    def list_rules(self) -> list[PromotionRule]:
        return self._promotions.list_rules()

    def delete_rule(self, name: str, caller: Principal) -> None:
        rule = self.get_rule(name)
        self._access.require_registry(caller, Action.ASSETS_WRITE, rule.target_registry)
        self._promotions.delete_rule(name)
        self._rules.forget()
        if rule.source.watched is not None:
            self._lifecycle.resync(rule.target_registry, f"rule {rule.name} deleted", caller)

    # -- promotions --------------------------------------------------------------------------------

    def promote(
        self, target: str, asset_type: AssetType, name: str, version: str, *, source: str, caller: Principal
    ) -> Promotion:
        """An explicit promotion of ``source`` (an asset id) into ``target`` as ``name`` ``version``."""
        errors = check_name(name) + check_version(version)
        if errors:
            raise InvalidSpec("the asset name or version is invalid", errors)
        src_registry, src_type, src_name, src_version = parse_asset_id(source)
        if src_type is not asset_type:
            raise InvalidSpec(
                f"the source is a {src_type.singular}, the target a {asset_type.singular}", [], code="AssetTypeMismatch"
            )
        self._access.require_registry(caller, Action.ASSETS_READ, src_registry)
        target_record = self._registry(target)
        promotion = Promotion(
            id=promotion_id(EXPLICIT, source, asset_id(target_record.key, asset_type, name, version)),
            rule=EXPLICIT,
            source=asset_id(self._registry(src_registry).name, src_type, src_name, src_version),
            target_registry=target_record.key,
            type=asset_type,
            name=name,
            version=version,
            requested_by=caller,
        )
        existing = self._promotions.get_promotion(promotion.id)
        if existing is not None:
            existing = self.refresh(existing)
            if existing.status not in (PromotionStatus.FAILED, PromotionStatus.REJECTED):
                return existing
            existing.status, existing.requested_by, existing.error_code, existing.error_message = (
                PromotionStatus.RUNNING,
                caller,
                "",
                "",
            )
            self._promotions.save_promotion(existing)  # a failed one asked again: tried again
            return self._run(existing)
        try:
            self._promotions.create_promotion(promotion)
        except Conflict:
            raced = self._promotions.get_promotion(promotion.id)
            if raced is not None:
                return raced
            raise
        return self._run(promotion)

    # -- promotions events make (EventPromotions) --------------------------------------------------

    def on_available(self, event: Event) -> list[Promotion]:
        return self._events.on_available(event)

    def on_image_pushed(self, event: Event) -> list[Promotion]:
        return self._events.on_image_pushed(event)

    def on_blob_created(self, event: Event) -> list[Promotion]:
        return self._events.on_blob_created(event)

    # -- approval and reads ------------------------------------------------------------------------

    def decide(self, promotion_id_: str, approve: bool, caller: Principal) -> Promotion:
        promotion = self.get(promotion_id_)
        self._access.require_registry(caller, Action.ASSETS_WRITE, promotion.target_registry)
        if promotion.status is not PromotionStatus.PENDING_APPROVAL:
            raise Conflict(
                f"promotion {promotion.id} is {promotion.status.value}, not PendingApproval", code="NotPending"
            )
        promotion.status = PromotionStatus.RUNNING if approve else PromotionStatus.REJECTED
        promotion.decided_by, promotion.updated_at = caller, utcnow()
        self._promotions.save_promotion(promotion)  # ConcurrentUpdate: decided by someone else meanwhile
        return self._run(promotion) if approve else promotion

    def get(self, promotion_id_: str) -> Promotion:
        found = self._promotions.get_promotion(promotion_id_)
        if found is None:
            raise NotFound(f"promotion {promotion_id_} not found", code="PromotionNotFound")
        return self.refresh(found)

    def list_promotions(self, rule: str | None = None, status: str | None = None) -> list[Promotion]:
        found = [self.refresh(p) for p in self._promotions.list_promotions() if rule is None or p.rule == rule]
        return [p for p in found if status is None or p.status.value.lower() == status.lower()]

    def dead_letters(self) -> list[dict[str, str]]:
        return self._promotions.dead_letters()

    def refresh(self, promotion: Promotion) -> Promotion:
        """A running promotion ends with its target version: Succeeded once Available, Failed with the
        version's operation when that failed (written back, best effort)."""
        if promotion.status is not PromotionStatus.RUNNING or not promotion.operation_id:
            return promotion
        target = self._assets.get(
            promotion.target_registry, f"{promotion.type.value}:{promotion.name}:{promotion.version}"
        )
        operation = self._store.get_operation(promotion.operation_id)
        if target is not None and target.status is AssetStatus.AVAILABLE:
            promotion.status, promotion.updated_at = PromotionStatus.SUCCEEDED, utcnow()
        elif operation is not None and operation.status is OperationStatus.FAILED:
            promotion.fail(operation.error_code or "OperationFailed", operation.error_message or "the copy failed")
        else:
            return promotion
        with contextlib.suppress(ConcurrentUpdate):  # written meanwhile: the next read refreshes again
            self._promotions.save_promotion(promotion)
        return promotion

    # -- running one -------------------------------------------------------------------------------

    def _run(self, promotion: Promotion) -> Promotion:
        logger = context_log(log, registry=promotion.target_registry, operation=promotion.id, step="promote")
        source_registry = "" if promotion.origin else parse_asset_id(promotion.source)[0]
        refused = self._refusal(promotion.requested_by, source_registry, promotion.target_registry)
        try:
            if refused is not None:
                raise Forbidden(refused, code="AuthorizationFailed")
            operation_id = self._copy(promotion)
        except RequestError as exc:
            promotion.fail(exc.code, str(exc))
            self._promotions.save_promotion(promotion)
            self._rule_error(promotion)
            logger.warning("promotion of %s failed: %s %s", promotion.source, exc.code, exc)
            return promotion
        promotion.operation_id = operation_id or ""
        if operation_id is None:
            promotion.status = PromotionStatus.SUCCEEDED
        promotion.updated_at = utcnow()
        self._promotions.save_promotion(promotion)
        logger.info("promoting %s into %s: %s", promotion.source, promotion.target_registry, operation_id or "no copy")
        return promotion

    def _rule_error(self, promotion: Promotion) -> None:
        if promotion.rule != EXPLICIT:
            self._rule_failed(promotion.rule, promotion.error_code, promotion.error_message, promotion.id)

    def _rule_failed(self, name: str, code: str, message: str, cause: str) -> None:
        """What the rule could not do last, shown on the rule (``lastError``, on the rule as stored now, not
        as the rule cache last read it); best effort."""
        rule = self._promotions.get_rule(name)
        if rule is None:
            return
        rule.last_error = {"code": code, "message": message[:1000], "promotion": cause, "at": utcnow().isoformat()}
        with contextlib.suppress(ConcurrentUpdate, NotFound):
            self._promotions.save_rule(rule)
        context_log(log, registry=rule.target_registry, operation=cause, step="promote").warning(
            "rule %s: %s %s", rule.name, code, message[:300]
        )

    def _version(self, promotion: Promotion) -> tuple[AssetVersionRecord, str]:
        """The target version ``promotion`` registers, and the content digest of its source."""
        if "digest" in promotion.origin:
            version = self._sources.from_image(promotion)
        elif "blob" in promotion.origin:
            rule = self._promotions.get_rule(promotion.rule)
            if rule is None:
                raise NotFound(f"promotion rule {promotion.rule} not found", code="RuleNotFound")
            version = self._sources.from_folder(promotion, rule.filter.types)
        else:
            version = self._sources.from_registry(promotion, self._registry(parse_asset_id(promotion.source)[0]))
        return version, version.content_digest

    def _copy(self, promotion: Promotion) -> str | None:
        """Register the target version from the source; the operation copying it, None when no copy is needed."""
        version, digest = self._version(promotion)
        target = self._registry(promotion.target_registry)
        version.registry = target.key
        try:
            self._assets.create(version)
        except Conflict:
            existing = self._assets.get(target.key, version.row)
            if existing is None:
                raise
            return self._same_again(target, existing, digest, promotion)
        return self._lifecycle.start(target, OperationKind.REGISTER, version.lane, promotion.requested_by).id

    def _same_again(
        self, target: RegistryRecord, existing: AssetVersionRecord, digest: str, promotion: Promotion
    ) -> str | None:
        if existing.content_digest != digest or existing.status is AssetStatus.DELETING:
            raise Conflict(
                f"{promotion.target} exists with other content than {promotion.source}; versions are immutable",
                code="AssetVersionImmutable",
            )
        if existing.status is AssetStatus.AVAILABLE:
            return None
        running = self._lifecycle.current(target.key, existing.lane)
        operation = running or self._lifecycle.start(
            target, OperationKind.REGISTER, existing.lane, promotion.requested_by
        )
        return operation.id
