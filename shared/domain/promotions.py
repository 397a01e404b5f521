"""Promotion rules and promotions (pure data and decisions; docs/events.md).

A **rule** says: versions that become available in a source registry and pass a filter (asset types, a
name glob, required tags) are promoted into a target registry, right away or after an approval. It runs
with its creator's rights, checked when it is created and again at each promotion.

A **promotion** copies one source version into one target registry. Its id is derived from what causes it
(the rule, or ``explicit``, the source version and the target), so the same event delivered any number of
times, in any order, finds the same promotion and makes at most one.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.domain.access import Principal
from shared.domain.asset_spec import AssetType
from shared.domain.documents import shorten
from shared.domain.errors import FieldError, InvalidSpec
from shared.domain.records import utcnow
from shared.domain.rule_sources import REGISTRY_NAME_RE, RuleSource, SourceKind, parse_source

RULE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
EXPLICIT = "explicit"


class Approval(StrEnum):
    NONE = "none"
    REQUIRED = "required"


class PromotionStatus(StrEnum):
    PENDING_APPROVAL = "PendingApproval"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    REJECTED = "Rejected"

    @property
    def terminal(self) -> bool:
        return self in (PromotionStatus.SUCCEEDED, PromotionStatus.FAILED, PromotionStatus.REJECTED)


@dataclass(frozen=True)
class RuleFilter:
    types: tuple[AssetType, ...] = ()  # none: every type
    name: str = "*"  # a glob (fnmatch), case-sensitive as asset names are
    tags: Mapping[str, str] = field(default_factory=dict)  # each must be on the version with this value

    def matches(self, asset_type: AssetType, name: str, tags: Mapping[str, str]) -> bool:
        if self.types and asset_type not in self.types:
            return False
        if not fnmatch.fnmatchcase(name, self.name):
            return False
        return all(tags.get(key) == value for key, value in self.tags.items())

    def to_dict(self) -> dict[str, Any]:
        return {"types": [t.value for t in self.types], "name": self.name, "tags": dict(self.tags)}


@dataclass
class PromotionRule:
    name: str
    source: RuleSource
    target_registry: str  # lowercase
    filter: RuleFilter = field(default_factory=RuleFilter)
    approval: Approval = Approval.NONE
    created_by: Principal | None = None
    created_at: datetime = field(default_factory=utcnow)
    last_error: dict[str, str] | None = None  # the last promotion the rule could not run: code, message, at
    etag: str | None = None

    @property
    def source_registry(self) -> str:
        """The source registry of a registry source; "" for an external one."""
        return self.source.registry

    def to_dict(self) -> dict[str, Any]:
        who = self.created_by
        return {
            "name": self.name,
            "source": self.source.to_dict(),
            "filter": self.filter.to_dict(),
            "target": {"registry": self.target_registry},
            "approval": self.approval.value,
            "createdBy": {"id": who.id, "name": who.name, "type": who.type} if who else None,
            "createdAt": self.created_at.isoformat(),
            "lastError": self.last_error,
        }


@dataclass
class Promotion:
    id: str
    rule: str  # a rule's name, or ``explicit``
    source: str  # the source version's asset id (azureml://registries/...)
    target_registry: str
    type: AssetType
    name: str
    version: str
    status: PromotionStatus = PromotionStatus.RUNNING
    origin: dict[str, str] = field(default_factory=dict)  # an external source's content: its image or asset.yml
    event_id: str = ""
    requested_by: Principal | None = None  # the rule's creator, or the caller of an explicit promotion
    decided_by: Principal | None = None  # who approved or rejected it
    operation_id: str = ""
    error_code: str = ""
    error_message: str = ""
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    etag: str | None = None

    @property
    def target(self) -> str:
        return f"azureml://registries/{self.target_registry}/{self.type.value}/{self.name}/versions/{self.version}"

    def fail(self, code: str, message: str) -> None:
        self.status = PromotionStatus.FAILED
        self.error_code, self.error_message = code, message
        self.updated_at = utcnow()


def promotion_id(rule: str, source: str, target_registry: str) -> str:
    """The idempotency key of a promotion: one per (rule or ``explicit``, source version, target)."""
    digest = hashlib.sha256("\x1f".join((rule.lower(), source.lower(), target_registry.lower())).encode())
    return "pr-" + digest.hexdigest()[:32]


def _registry(raw: object, path: str, errors: list[FieldError]) -> str:
    value = raw.get("registry") if isinstance(raw, Mapping) else raw
    if not isinstance(value, str) or not REGISTRY_NAME_RE.fullmatch(value):
        errors.append(FieldError(path, "a registry name"))
        return ""
    return value.lower()


def _filter(raw: object, errors: list[FieldError]) -> RuleFilter:
    if raw is None:
        return RuleFilter()
    if not isinstance(raw, Mapping):
        errors.append(FieldError("filter", "must be a mapping of types, name and tags"))
        return RuleFilter()
    types: list[AssetType] = []
    for i, value in enumerate(raw.get("types") or []):
        try:
            types.append(AssetType.parse(str(value)))
        except InvalidSpec:
            errors.append(FieldError(f"filter.types[{i}]", "one of models, data, components, environments"))
    name = raw.get("name", "*")
    if not isinstance(name, str) or not name or len(name) > 255:
        errors.append(FieldError("filter.name", "a glob of at most 255 characters, such as fraud-*"))
        name = "*"
    tags = raw.get("tags") or {}
    if not isinstance(tags, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        errors.append(FieldError("filter.tags", "a mapping of strings such as {stage: production}"))
        tags = {}
    unknown = set(raw) - {"types", "name", "tags"}
    errors += [FieldError(f"filter.{shorten(k)}", "unknown field") for k in sorted(map(str, unknown))]
    return RuleFilter(tuple(types), name, dict(tags))


def parse_rule(name: str, document: Mapping[str, Any], creator: Principal) -> PromotionRule:
    """A rule from its document; ``InvalidSpec`` listing every offending field."""
    errors: list[FieldError] = []
    if not RULE_NAME_RE.fullmatch(name):
        errors.append(FieldError("name", "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"))
    if not isinstance(document, Mapping):
        raise InvalidSpec("the rule must be a JSON object", [FieldError("", "a mapping")])
    unknown = set(document) - {"name", "source", "filter", "target", "approval"}
    errors += [FieldError(shorten(k), "unknown field") for k in sorted(map(str, unknown))]
    if document.get("name", name) != name:
        errors.append(FieldError("name", "differs from the name in the URL"))
    source = parse_source(document.get("source"), errors)
    target = _registry(document.get("target"), "target.registry", errors)
    if source.registry and source.registry == target:
        errors.append(FieldError("target.registry", "must differ from the source registry"))
    approval = str(document.get("approval", "none")).lower()
    if approval not in (Approval.NONE, Approval.REQUIRED):
        errors.append(FieldError("approval", "none or required"))
        approval = Approval.NONE
    rule_filter = _filter(document.get("filter"), errors)
    if source.kind is SourceKind.ACR and any(t is not AssetType.ENVIRONMENTS for t in rule_filter.types):
        errors.append(FieldError("filter.types", "an acr source makes environments only"))
    if source.kind is SourceKind.ACR:
        rule_filter = RuleFilter((AssetType.ENVIRONMENTS,), rule_filter.name, rule_filter.tags)
    if errors:
        raise InvalidSpec(f"the promotion rule is invalid ({len(errors)} errors)", errors)
    return PromotionRule(name, source, target, rule_filter, Approval(approval), creator)
