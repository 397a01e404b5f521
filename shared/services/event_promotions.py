"""The promotions events make (docs/events.md, "Rules"): which rules take an event, and the promotion each
of them starts, at most once per rule and source version.

- ``AssetVersionAvailable`` of a version in a rule's source registry that passes the rule's filter;
- ``ImagePushed`` of a watched build ACR: an environment version per rule that takes the repository;
- ``BlobCreated`` of an ``asset.yml`` under a watched prefix: the folder it describes.

``PromotionService`` makes one and hands its ``on_*`` entry points to it. Running a promotion and showing
a rule's last error stay with the service, which passes them in (``run``, ``rule_failed``).
"""

from __future__ import annotations

from collections.abc import Callable

from shared.domain.asset_spec import AssetType, asset_id
from shared.domain.errors import Conflict, InvalidSpec, NotFound
from shared.domain.events import Event, parse_asset_subject
from shared.domain.promotions import Approval, Promotion, PromotionRule, PromotionStatus, promotion_id
from shared.domain.rule_sources import SourceKind
from shared.domain.source_events import (
    MAX_MANIFEST_BYTES,
    check_environment_name,
    dropped_manifest,
    manifest_definition,
    pushed_image,
)
from shared.ports import DataPlane, PromotionStore
from shared.services.rule_cache import RuleCache


class EventPromotions:
    def __init__(
        self,
        promotions: PromotionStore,
        rules: RuleCache,
        data: DataPlane,
        *,
        run: Callable[[Promotion], Promotion],
        rule_failed: Callable[[str, str, str, str], None],
    ) -> None:
        self._promotions = promotions
        self._rules = rules
        self._data = data
        self._run = run
        self._rule_failed = rule_failed

    def on_available(self, event: Event) -> list[Promotion]:
        """An ``AssetVersionAvailable``: one promotion per matching rule, at most once each."""
        named = parse_asset_subject(event.subject)
        if named is None:
            return []
        registry, asset_type, name, version = named
        tags = event.data.get("tags") if isinstance(event.data.get("tags"), dict) else {}
        source = asset_id(registry, asset_type, name, version)
        made: list[Promotion] = []
        for rule in self._taking(
            lambda r: r.source_registry == registry.lower() and r.filter.matches(asset_type, name, tags or {})
        ):
            started = self._start(rule, event, source, (asset_type, name, version))
            made += [started] if started else []
        return made

    def on_image_pushed(self, event: Event) -> list[Promotion]:
        """An ``ImagePushed`` of a watched ACR: an environment version per matching rule, at most once each."""
        if not self._taking(lambda r: r.source.kind is SourceKind.ACR and r.source.is_resource(event.source)):
            return []
        image = pushed_image(event)  # NotUsable: the intake records why
        taking = self._taking(
            lambda r: (
                r.source.takes_image(image.resource_id, image.repository)
                and r.filter.matches(AssetType.ENVIRONMENTS, image.name, {})
            )
        )
        if taking:
            check_environment_name(image.name)
        made: list[Promotion] = []
        for rule in taking:
            named = (AssetType.ENVIRONMENTS, image.name, image.tag)
            started = self._start(rule, event, image.pinned, named, image.origin())
            made += [started] if started else []
        return made

    def on_blob_created(self, event: Event) -> list[Promotion]:
        """A ``BlobCreated`` of an ``asset.yml`` under a watched prefix: the folder it describes, registered
        per matching rule, at most once per rule and written ``asset.yml`` (its URL and ETag)."""
        dropped = dropped_manifest(event)
        rules = self._taking(lambda r: r.source.takes_blob(dropped.resource_id, dropped.container, dropped.blob))
        if not rules:
            return []
        try:
            text = self._data.read_blob(dropped.endpoint, dropped.container, dropped.blob, MAX_MANIFEST_BYTES)
        except NotFound:
            return []  # deleted since: nothing to register
        made: list[Promotion] = []
        origin = {**dropped.origin(), "eTag": str(event.data.get("eTag") or "")}
        for rule in rules:
            try:
                definition, _ = manifest_definition(text, dropped.folder, rule.filter.types)
            except InvalidSpec as exc:
                self._rule_failed(rule.name, "InvalidAssetManifest", f"{dropped.url}: {exc}", event.id)
                continue
            if rule.filter.matches(definition.type, definition.name, definition.tags):
                named = (definition.type, definition.name, definition.version)
                started = self._start(rule, event, f"{dropped.url}#{origin['eTag']}", named, origin)
                made += [started] if started else []
        return made

    def _taking(self, takes: Callable[[PromotionRule], bool]) -> list[PromotionRule]:
        """The rules that take an event: from the rule cache, or read again when none there does (a rule
        saved through another instance within the cache's freshness is not missed)."""
        found = [r for r in self._rules.rules() if takes(r)]
        return found or [r for r in self._rules.rules(fresh=True) if takes(r)]

    def _start(
        self,
        rule: PromotionRule,
        event: Event,
        source: str,
        named: tuple[AssetType, str, str],
        origin: dict[str, str] | None = None,
    ) -> Promotion | None:
        """The promotion ``event`` makes by ``rule``, once: None when it was made before."""
        asset_type, name, version = named
        promotion = Promotion(
            id=promotion_id(rule.name, source, asset_id(rule.target_registry, asset_type, name, version)),
            rule=rule.name,
            source=source.split("#", 1)[0],
            target_registry=rule.target_registry,
            type=asset_type,
            name=name,
            version=version,
            status=PromotionStatus.PENDING_APPROVAL if rule.approval is Approval.REQUIRED else PromotionStatus.RUNNING,
            origin=dict(origin or {}),
            event_id=event.id,
            requested_by=rule.created_by,
        )
        try:
            self._promotions.create_promotion(promotion)
        except Conflict:
            existing = self._promotions.get_promotion(promotion.id)
            if existing is None or existing.status is not PromotionStatus.RUNNING or existing.operation_id:
                return None  # made before: at most one promotion per rule and source version
            promotion = existing  # written, never started (a crash in between): start it now
        return promotion if promotion.status is PromotionStatus.PENDING_APPROVAL else self._run(promotion)
