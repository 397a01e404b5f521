"""A geo-replica of the container registry in every additional region (the home region's is implicit
and cannot be deleted)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.kinds.base import KindBase
from shared.domain.resources import SUCCEEDED, Observed, ObservedReplica, Part, registry_tags
from shared.domain.work import Action, Context, ResourceRef, ResourceType, Subject, Verb


class ReplicaKind(KindBase):
    name = "replica"
    noun = "replica"
    reads = frozenset({Part.ACR, Part.REPLICAS})

    @staticmethod
    def _home(ctx: Context) -> str:
        if ctx.spec is not None:
            return ctx.spec.location
        return ctx.observed.acr.location if ctx.observed.acr else ""

    def desired(self, ctx: Context) -> Mapping[Subject, dict[str, str]]:
        spec = ctx.desired_spec
        tags = registry_tags(spec.name, spec.tags)
        return {Subject(region): tags for region in spec.regions if region != spec.location}

    def actual(self, ctx: Context) -> Mapping[Subject, ObservedReplica]:
        home = self._home(ctx)
        return {Subject(r.location): r for r in ctx.observed.replicas if r.location != home}

    def blocked(self, ctx: Context) -> str | None:
        acr = ctx.observed.acr
        if acr is None or acr.state != SUCCEEDED or acr.sku != "Premium":
            return "container registry not ready"
        return None

    def create(self, subject: Subject, want: dict[str, str], have: ObservedReplica | None, ctx: Context) -> Action:
        acr = ctx.observed.acr
        assert acr is not None  # not blocked
        body = {"location": subject.region, "tags": want, "properties": {"regionEndpointEnabled": True}}
        return Action(Verb.CREATE, ResourceRef(ResourceType.REPLICA, ctx.group, subject.region, acr.name), body)

    def delete(self, have: ObservedReplica, ctx: Context) -> Action:
        acr = ctx.observed.acr
        if acr is None:
            return Action(Verb.NOOP, why="replica gone with its registry")
        return Action(Verb.DELETE, ResourceRef(ResourceType.REPLICA, ctx.group, have.name, acr.name))

    def summary(self, observed: Observed) -> Mapping[str, Any]:
        return {
            "replicas": [
                {"name": r.name, "location": r.location, "state": r.state}
                for r in sorted(observed.replicas, key=lambda r: r.location)
            ]
        }


KIND = ReplicaKind()
