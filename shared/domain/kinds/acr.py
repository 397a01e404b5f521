"""One Premium container registry in the primary region (geo-replication needs Premium)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.kinds.base import KindBase, location_refusal
from shared.domain.naming import container_registry_name
from shared.domain.resources import SUCCEEDED, Observed, ObservedAcr, Part, registry_tags
from shared.domain.work import Action, Context, Difference, ResourceRef, ResourceType, Subject, Verb, tag_difference

SKU = "Premium"


class AcrKind(KindBase):
    name = "acr"
    noun = "container registry"
    reads = frozenset({Part.ACR})
    unblocks = True  # the geo-replicas wait on it
    teardown_after: tuple[str, ...] = ("replica", "system_topic")

    def _subject(self, ctx: Context, acr: ObservedAcr | None = None) -> Subject:
        if ctx.spec is not None:
            return Subject(ctx.spec.location)
        return Subject(acr.location if acr else "")

    def desired(self, ctx: Context) -> Mapping[Subject, dict[str, str]]:
        spec = ctx.desired_spec
        return {self._subject(ctx): registry_tags(spec.name, spec.tags)}

    def actual(self, ctx: Context) -> Mapping[Subject, ObservedAcr]:
        acr = ctx.observed.acr
        return {} if acr is None else {self._subject(ctx, acr): acr}

    def needs(self, want: dict[str, str], have: ObservedAcr) -> list[Difference]:
        found = [] if have.sku == SKU else [Difference("sku", SKU, have.sku)]
        return found + tag_difference(want, have.tags)

    def blocked(self, ctx: Context) -> str | None:
        group = ctx.observed.group
        if group is None:
            return "resource group missing"
        return None if group.state == SUCCEEDED else f"resource group {group.state}"

    def check(self, ctx: Context) -> list[tuple[str, str, str]]:
        acr = ctx.observed.acr
        return location_refusal("container registry", acr.location if acr else None, ctx.desired_spec.location)

    def create(self, subject: Subject, want: dict[str, str], have: ObservedAcr | None, ctx: Context) -> Action:
        name = have.name if have else container_registry_name(ctx.desired_spec.key, ctx.name_attempt)
        body = {
            "location": subject.region,
            "sku": {"name": SKU},
            "tags": want,
            "properties": {"adminUserEnabled": False},
        }
        return Action(Verb.CREATE, ResourceRef(ResourceType.ACR, ctx.group, name), body)

    def update(self, want: dict[str, str], have: ObservedAcr, ctx: Context) -> Action:
        body = {"sku": {"name": SKU}, "tags": want}
        return Action(Verb.UPDATE, ResourceRef(ResourceType.ACR, ctx.group, have.name), body)

    def delete(self, have: ObservedAcr, ctx: Context) -> Action:
        return Action(Verb.DELETE, ResourceRef(ResourceType.ACR, ctx.group, have.name))

    def label(self, subject: Subject) -> str:
        return "container registry"

    def summary(self, observed: Observed) -> Mapping[str, Any]:
        acr = observed.acr
        return {
            "container_registry": (
                {"name": acr.name, "id": acr.id, "location": acr.location, "sku": acr.sku, "state": acr.state}
                if acr
                else None
            )
        }


KIND = AcrKind()
