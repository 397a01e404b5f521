"""The "decide" of each step (pure): given the step, the spec and what ARM shows, what to do now.

Steps are level-triggered: a step that finds its work already done is a no-op, one that finds its
resource still provisioning waits, so a redelivered or duplicated step never writes twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from shared.domain.naming import container_registry_name, storage_account_name
from shared.domain.plan import StepKind
from shared.domain.resources import (
    CANCELED,
    FAILED,
    SUCCEEDED,
    TERMINAL_STATES,
    Observed,
    Part,
    registry_tags,
    storage_tags,
)
from shared.domain.spec import RegistrySpec


class Verb(StrEnum):
    NOOP = "noop"  # nothing to do: the step has succeeded
    WAIT = "wait"  # the resource is provisioning (or its parent is not ready): look again later
    ENSURE_GROUP = "ensure_group"
    CREATE_STORAGE = "create_storage"
    UPDATE_STORAGE = "update_storage"
    DELETE_STORAGE = "delete_storage"
    CREATE_ACR = "create_acr"
    UPDATE_ACR = "update_acr"
    DELETE_ACR = "delete_acr"
    CREATE_REPLICA = "create_replica"
    DELETE_REPLICA = "delete_replica"
    DELETE_GROUP = "delete_group"


@dataclass(frozen=True)
class Action:
    verb: Verb
    name: str = ""  # the resource to act on (storage account, ACR, replica location)
    parent: str = ""  # the ACR of a replica
    location: str = ""
    sku: str = ""
    hns: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    why: str = ""


_ENDED_BADLY = frozenset({FAILED, CANCELED})  # provisioning ended without the resource: ensure it again


def _busy(state: str) -> bool:
    return state not in TERMINAL_STATES


@dataclass(frozen=True)
class StepContext:
    """What a step's decision looks at."""

    kind: StepKind
    region: str
    index: int
    spec: RegistrySpec | None  # None during teardown
    observed: Observed
    name_attempt: int = 0

    @property
    def desired(self) -> RegistrySpec:
        if self.spec is None:
            raise ValueError(f"step {self.kind} needs the registry spec")
        return self.spec


def _group(ctx: StepContext) -> Action:
    spec = ctx.desired
    tags = registry_tags(spec.name, spec.tags)
    group = ctx.observed.group
    if group is not None and group.tags == tags and group.state not in _ENDED_BADLY:
        return Action(Verb.NOOP, why="group exists")
    return Action(Verb.ENSURE_GROUP, location=spec.location, tags=tags)


def _storage(ctx: StepContext) -> Action:
    spec = ctx.desired
    config = spec.region(ctx.region).storage
    account = ctx.observed.storage_at(ctx.region, ctx.index)
    tags = storage_tags(spec.name, spec.tags, ctx.region, ctx.index)
    if ctx.observed.group is None:
        return Action(Verb.WAIT, why="resource group missing")
    if account is None or account.state in _ENDED_BADLY:
        name = account.name if account else storage_account_name(spec.key, ctx.region, ctx.index, ctx.name_attempt)
        return Action(
            Verb.CREATE_STORAGE,
            name=name,
            location=ctx.region,
            sku=config.storage_account_type.value,
            hns=config.storage_account_hns,
            tags=tags,
        )
    if _busy(account.state):
        return Action(Verb.WAIT, name=account.name, why=f"storage account {account.state}")
    if account.sku != config.storage_account_type or account.tags != tags:
        return Action(Verb.UPDATE_STORAGE, name=account.name, sku=config.storage_account_type.value, tags=tags)
    return Action(Verb.NOOP, name=account.name, why="storage account as specified")


def _delete_storage(ctx: StepContext) -> Action:
    account = ctx.observed.storage_at(ctx.region, ctx.index)
    if account is None:
        return Action(Verb.NOOP, why="storage account gone")
    if _busy(account.state):
        return Action(Verb.WAIT, name=account.name, why=f"storage account {account.state}")
    return Action(Verb.DELETE_STORAGE, name=account.name)


def _acr(ctx: StepContext) -> Action:
    spec = ctx.desired
    acr = ctx.observed.acr
    tags = registry_tags(spec.name, spec.tags)
    if ctx.observed.group is None:
        return Action(Verb.WAIT, why="resource group missing")
    if acr is None or acr.state in _ENDED_BADLY:
        name = acr.name if acr else container_registry_name(spec.key, ctx.name_attempt)
        return Action(Verb.CREATE_ACR, name=name, location=spec.location, tags=tags)
    if _busy(acr.state):
        return Action(Verb.WAIT, name=acr.name, why=f"container registry {acr.state}")
    if acr.sku != "Premium" or acr.tags != tags:
        return Action(Verb.UPDATE_ACR, name=acr.name, tags=tags)
    return Action(Verb.NOOP, name=acr.name, why="container registry as specified")


def _delete_acr(ctx: StepContext) -> Action:
    acr = ctx.observed.acr
    if acr is None:
        return Action(Verb.NOOP, why="container registry gone")
    if _busy(acr.state):
        return Action(Verb.WAIT, name=acr.name, why=f"container registry {acr.state}")
    return Action(Verb.DELETE_ACR, name=acr.name)


def _replica(ctx: StepContext) -> Action:
    spec = ctx.desired
    acr = ctx.observed.acr
    if acr is None or acr.state != SUCCEEDED:
        return Action(Verb.WAIT, why="container registry not ready")
    replica = ctx.observed.replica_in(ctx.region)
    if replica is None or replica.state in _ENDED_BADLY:
        tags = registry_tags(spec.name, spec.tags)
        return Action(Verb.CREATE_REPLICA, name=ctx.region, parent=acr.name, location=ctx.region, tags=tags)
    if _busy(replica.state):
        return Action(Verb.WAIT, name=replica.name, why=f"replica {replica.state}")
    return Action(Verb.NOOP, name=replica.name, why="replica exists")


def _delete_replica(ctx: StepContext) -> Action:
    acr = ctx.observed.acr
    replica = ctx.observed.replica_in(ctx.region)
    if acr is None or replica is None:
        return Action(Verb.NOOP, why="replica gone")
    if _busy(replica.state):
        return Action(Verb.WAIT, name=replica.name, why=f"replica {replica.state}")
    return Action(Verb.DELETE_REPLICA, name=replica.name, parent=acr.name, location=ctx.region)


def _delete_group(ctx: StepContext) -> Action:
    if ctx.observed.group is None:
        return Action(Verb.NOOP, why="group gone")
    return Action(Verb.DELETE_GROUP, name=ctx.observed.group.name)


_DECISIONS = {
    StepKind.ENSURE_GROUP: _group,
    StepKind.ENSURE_STORAGE: _storage,
    StepKind.UPDATE_STORAGE: _storage,
    StepKind.DELETE_STORAGE: _delete_storage,
    StepKind.ENSURE_ACR: _acr,
    StepKind.UPDATE_ACR: _acr,
    StepKind.DELETE_ACR: _delete_acr,
    StepKind.ENSURE_REPLICA: _replica,
    StepKind.DELETE_REPLICA: _delete_replica,
    StepKind.DELETE_GROUP: _delete_group,
}


OBSERVES: dict[StepKind, frozenset[Part]] = {
    StepKind.ENSURE_GROUP: frozenset({Part.GROUP}),
    StepKind.DELETE_GROUP: frozenset({Part.GROUP}),
    StepKind.ENSURE_STORAGE: frozenset({Part.STORAGE}),
    StepKind.UPDATE_STORAGE: frozenset({Part.STORAGE}),
    StepKind.DELETE_STORAGE: frozenset({Part.STORAGE}),
    StepKind.ENSURE_ACR: frozenset({Part.ACR}),
    StepKind.UPDATE_ACR: frozenset({Part.ACR}),
    StepKind.DELETE_ACR: frozenset({Part.ACR}),
    StepKind.ENSURE_REPLICA: frozenset({Part.ACR, Part.REPLICAS}),
    StepKind.DELETE_REPLICA: frozenset({Part.ACR, Part.REPLICAS}),
}
"""What each step's decision looks at, so the step reads only that. Without ``Part.GROUP`` the group is
known to exist (its details unread) when the first LIST inside it answers, and to be missing when ARM
answers that LIST with ``ResourceGroupNotFound``: the decisions above only ask whether it exists."""


def decide(ctx: StepContext) -> Action:
    """What the step must do now."""
    return _DECISIONS[ctx.kind](ctx)
