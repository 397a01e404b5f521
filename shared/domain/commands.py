"""Commands: what the services take (DESIGN.md section 7, "commands in, formats at the edge").

Each entry point translates its own wire format into these: YAML or JSON on ``/api`` (``from_document``),
later the ARM-shaped surface and ticket payloads. Services never see a request body. ``caller`` is who
asked (None until the entry point knows; recorded on the operation as ``requestedBy``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.domain.access import Principal
from shared.domain.errors import InvalidSpec
from shared.domain.records import ReconcilePolicy
from shared.domain.spec import ParsedSpec, RegistrySpec, parse_spec
from shared.domain.updates import merge_patch


@dataclass(frozen=True)
class MergePatch:
    """An RFC 7396 merge patch of a registry spec, checked to be an object."""

    changes: Mapping[str, Any]

    @classmethod
    def parse(cls, document: object) -> MergePatch:
        if not isinstance(document, dict):
            raise InvalidSpec("a merge patch must be a JSON object", code="InvalidPatch")
        return cls(document)

    def apply(self, current: Mapping[str, Any]) -> ParsedSpec:
        """The spec ``current`` (a stored spec document) becomes with this patch, validated as a PUT."""
        merged = merge_patch(dict(current), dict(self.changes))
        if not isinstance(merged, dict):
            raise InvalidSpec("a merge patch must be a JSON object", code="InvalidPatch")
        merged.setdefault("name", current["name"])
        return parse_spec(merged)


@dataclass(frozen=True)
class CreateRegistry:
    spec: RegistrySpec
    warnings: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    caller: Principal | None = None
    resource_group: str | None = None  # the ARM resource group to list it in; None: the configured default
    operation_id: str | None = None  # chosen by the caller (a ticket answers it before submitting); else new

    @classmethod
    def from_document(
        cls,
        document: dict[str, Any],
        idempotency_key: str | None = None,
        caller: Principal | None = None,
        operation_id: str | None = None,
    ) -> CreateRegistry:
        parsed = parse_spec(document)
        return cls(parsed.spec, parsed.warnings, idempotency_key, caller, operation_id=operation_id)


@dataclass(frozen=True)
class ReplaceRegistry:
    name: str
    spec: RegistrySpec
    warnings: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    caller: Principal | None = None
    operation_id: str | None = None

    @classmethod
    def from_document(
        cls,
        name: str,
        document: dict[str, Any],
        idempotency_key: str | None = None,
        caller: Principal | None = None,
        operation_id: str | None = None,
    ) -> ReplaceRegistry:
        parsed = parse_spec(document)
        return cls(name, parsed.spec, parsed.warnings, idempotency_key, caller, operation_id)


@dataclass(frozen=True)
class PatchRegistry:
    name: str
    patch: MergePatch
    idempotency_key: str | None = None
    caller: Principal | None = None


@dataclass(frozen=True)
class DeleteRegistry:
    name: str
    idempotency_key: str | None = None
    caller: Principal | None = None
    operation_id: str | None = None


@dataclass(frozen=True)
class SyncRegistry:
    name: str
    caller: Principal | None = None
    operation_id: str | None = None


@dataclass(frozen=True)
class SetPolicy:
    name: str
    policy: ReconcilePolicy
    caller: Principal | None = None
