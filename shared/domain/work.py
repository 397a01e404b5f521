"""Kinds of work (pure): the shape every kind of per-region work shares (DESIGN.md section 7).

A *kind* is one module under ``shared/domain/kinds/`` that knows everything about one sort of resource:
- ``desired(spec, ctx)``: the instances the spec asks for, each under a stable ``Subject``;
- ``actual(observed)``: the instances ARM shows, under the same subjects (``reads`` says which LISTs);
- ``needs(want, have)``: the one comparison of an instance with what it should be, used by planning, by the
  step's decision and by drift alike;
- ``create`` / ``update`` / ``delete``: the pure decision, as an ``Action`` (an ARM write on a
  ``ResourceRef``) that the step runner performs through the ARM port;
- ``blocked`` and ``teardown_after``: what it waits on; ``unblocks``: whether others wait on it.

A step is (kind, goal, subject): ``ensure`` brings the subject to what the spec asks, ``delete`` removes it.
Its key, ``{goal}_{kind}:{subject}``, names its record across attempts, polls and operations of one lane.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from shared.domain.resources import CANCELED, FAILED, TERMINAL_STATES, Observed, Part
from shared.domain.rule_sources import WatchedSource
from shared.domain.spec import RegistrySpec

if TYPE_CHECKING:
    from shared.domain.asset_records import AssetVersionRecord

REGISTRY_LANE = "registry"
"""The lane of registry-shape work (create, update, delete, sync): each new operation of a registry takes
over the steps of the one before. Work on an item (an asset version, a principal) has a lane of its own,
so operations on different items run side by side."""


PRINCIPAL_LANE = "principal/"
"""The lanes of data-plane access work start with this and name the principal (``principal/{object id}``)."""


class Goal(StrEnum):
    ENSURE = "ensure"
    DELETE = "delete"


class Verb(StrEnum):
    NOOP = "noop"  # nothing to do: the step has succeeded
    WAIT = "wait"  # provisioning, or what it depends on is not ready: look again later
    CREATE = "create"  # ARM PUT
    UPDATE = "update"  # ARM PATCH
    DELETE = "delete"  # ARM DELETE
    FAIL = "fail"  # cannot be done as asked (``why`` says what to fix): the step fails, and so its operation


class ResourceType(StrEnum):
    """The ARM resource types the kinds write (the ARM adapter maps each to its SDK operations)."""

    GROUP = "group"
    STORAGE = "storage"
    ACR = "acr"
    REPLICA = "replica"
    ROLE_ASSIGNMENT = "role_assignment"  # ``parent``: the scope below the group (``providers/{type}/{name}``)
    IMAGE_IMPORT = "image_import"  # ACR importImage; ``name``: the target tag, ``parent``: the registry's ACR
    SYSTEM_TOPIC = "system_topic"  # Microsoft.EventGrid/systemTopics in the registry's group
    EVENT_SUBSCRIPTION = "event_subscription"  # ``parent``: its system topic's name
    # (both: ``subscription`` names the Azure subscription of a topic on an external source, if not regctl's)
    BLOBS = "blobs"  # an asset version's files in one storage account (the data plane, not ARM)
    TEST = "test"  # unit tests' own kinds only; no adapter writes it


@dataclass(frozen=True, order=True)
class Subject:
    """What one step works on: a region and storage index, for item work the item (``model/n/1``), and
    where one kind reaches several resource types in a region, which one (``target``: ``storage``, ``acr``)."""

    region: str
    index: int = 0
    item: str = ""
    target: str = ""

    @property
    def key(self) -> str:
        parts = (self.item, self.target, self.region, str(self.index))
        return ":".join(p for p in parts if p)

    @property
    def lane(self) -> str:
        return self.item or REGISTRY_LANE


@dataclass(frozen=True)
class ResourceRef:
    """One ARM resource: its type, resource group and name (``parent``: a replica's registry); ``subscription``
    when it is not in regctl's subscription (an Event Grid resource on an external source)."""

    type: ResourceType
    group: str
    name: str
    parent: str = ""
    subscription: str = ""


@dataclass(frozen=True)
class Action:
    """What a step does now. ``body`` is the ARM request body (wire names) of a create or update; ``code``
    the error code a ``fail`` ends the step with."""

    verb: Verb
    ref: ResourceRef | None = None
    body: dict[str, Any] = field(default_factory=dict)
    why: str = ""
    code: str = ""

    @property
    def name(self) -> str:
        return self.ref.name if self.ref else ""


@dataclass(frozen=True)
class Difference:
    """One field where an instance differs from the spec (drift, and the reason for an update)."""

    field: str
    desired: str
    actual: str


@dataclass(frozen=True)
class Grant:
    """A principal's data-plane access to one registry, from its role assignments at ``/`` and at the
    registry: the storage and ACR roles (role definition GUIDs) it needs on every region's resources."""

    principal_id: str
    principal_type: str
    storage_role: str
    acr_role: str


@dataclass(frozen=True)
class Watch:
    """An Azure resource outside regctl that promotion rules into the registry name as their source (the
    names of those rules alongside): regctl subscribes the registry to its events."""

    source: WatchedSource
    rules: tuple[str, ...] = ()


@dataclass(frozen=True)
class Context:
    """What a kind looks at: the spec (None while tearing down), what ARM shows, the registry's resource
    group, the step's naming fallback attempt, the data-plane grants of the registry, its asset versions
    (all of them for a registry-wide plan, one for a version's lane), and the external sources its
    promotion rules watch (a registry-wide plan's)."""

    spec: RegistrySpec | None
    observed: Observed
    group: str
    name_attempt: int = 0
    grants: tuple[Grant, ...] = ()
    assets: tuple[AssetVersionRecord, ...] = ()
    watches: tuple[Watch, ...] = ()

    @property
    def desired_spec(self) -> RegistrySpec:
        if self.spec is None:
            raise ValueError("this decision needs the registry spec")
        return self.spec


class Instance(Protocol):
    """What every observed instance has."""

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> str: ...


def busy(state: str) -> bool:
    """Provisioning, updating or deleting: neither ready nor ended."""
    return state not in TERMINAL_STATES


def ended_badly(state: str) -> bool:
    """The last operation on it failed or was canceled: ensure it again."""
    return state in (FAILED, CANCELED)


def tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def tag_difference(desired: Mapping[str, str], actual: Mapping[str, str]) -> list[Difference]:
    return [] if dict(desired) == dict(actual) else [Difference("tags", tags_text(desired), tags_text(actual))]


class Kind(Protocol):
    """One kind of work. Implementations are stateless module-level objects registered in
    ``shared/domain/kinds/__init__.py``."""

    name: str
    noun: str
    """How a busy instance is named: ``storage account {name}``."""
    reads: frozenset[Part]
    """What its decisions look at: the step observes only these parts of the registry."""
    lifecycle: bool
    """Whether it creates and deletes its instances (False: it only sets properties on instances another
    kind owns, such as network access on the storage accounts)."""
    unblocks: bool
    """Whether other kinds wait on it: a finished step of it reconciles at once."""
    teardown_after: tuple[str, ...]
    """Kinds whose instances must be gone before its own are deleted."""

    def desired(self, ctx: Context) -> Mapping[Subject, Any]: ...

    def actual(self, ctx: Context) -> Mapping[Subject, Instance]: ...

    def needs(self, want: Any, have: Any) -> list[Difference]: ...

    def blocked(self, ctx: Context) -> str | None:
        """Why its instances cannot be created now (what it depends on is not ready), or None."""
        ...

    def check(self, ctx: Context) -> list[tuple[str, str, str]]:
        """Changes Azure cannot make in place, as (error code, spec field, message); the plan fails on any."""
        ...

    def create(self, subject: Subject, want: Any, have: Any | None, ctx: Context) -> Action: ...

    def update(self, want: Any, have: Any, ctx: Context) -> Action: ...

    def delete(self, have: Any, ctx: Context) -> Action: ...

    def label(self, subject: Subject) -> str:
        """How drift names an instance (``storage westus[0]``)."""
        ...

    def summary(self, observed: Observed) -> Mapping[str, Any]:
        """Its part of the registry document's ``resources`` (empty for kinds that own no resource)."""
        ...
