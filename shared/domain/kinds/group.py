"""The registry's resource group (the managed resource group), in the primary region."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.kinds.base import KindBase, location_refusal
from shared.domain.resources import Observed, ObservedGroup, Part, registry_tags
from shared.domain.work import Action, Context, Difference, ResourceRef, ResourceType, Subject, Verb, tag_difference


class GroupKind(KindBase):
    name = "group"
    noun = "resource group"
    reads = frozenset({Part.GROUP})
    unblocks = True  # storage accounts and the ACR are created in it
    teardown_after: tuple[str, ...] = ("storage", "acr", "replica", "system_topic", "event_subscription")

    def _subject(self, ctx: Context, group: ObservedGroup | None = None) -> Subject:
        if ctx.spec is not None:
            return Subject(ctx.spec.location)
        return Subject(group.location if group else "")

    def desired(self, ctx: Context) -> Mapping[Subject, Any]:
        spec = ctx.desired_spec
        return {self._subject(ctx): registry_tags(spec.name, spec.tags)}

    def actual(self, ctx: Context) -> Mapping[Subject, ObservedGroup]:
        group = ctx.observed.group
        return {} if group is None else {self._subject(ctx, group): group}

    def needs(self, want: dict[str, str], have: ObservedGroup) -> list[Difference]:
        return tag_difference(want, have.tags)

    def check(self, ctx: Context) -> list[tuple[str, str, str]]:
        group = ctx.observed.group
        return location_refusal("resource group", group.location if group else None, ctx.desired_spec.location)

    def create(self, subject: Subject, want: dict[str, str], have: ObservedGroup | None, ctx: Context) -> Action:
        ref = ResourceRef(ResourceType.GROUP, ctx.group, ctx.group)
        return Action(Verb.CREATE, ref, {"location": subject.region, "tags": want})

    def update(self, want: dict[str, str], have: ObservedGroup, ctx: Context) -> Action:
        return self.create(self._subject(ctx, have), want, have, ctx)

    def delete(self, have: ObservedGroup, ctx: Context) -> Action:
        return Action(Verb.DELETE, ResourceRef(ResourceType.GROUP, have.name, have.name))

    def label(self, subject: Subject) -> str:
        return "resource group"

    def summary(self, observed: Observed) -> Mapping[str, Any]:
        group = observed.group
        return {
            "resource_group": (
                {"name": group.name, "location": group.location, "state": group.state} if group else None
            )
        }


KIND = GroupKind()
