"""What ARM reports about a registry's resources, in domain terms (filled by the ARM adapter).

Resources are recognised by the management tags regctl puts on them (``TAG_*``), never by name alone:
storage names walk a fallback sequence when a name is taken elsewhere in Azure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.domain.manifest import BlobListing
from shared.domain.rule_sources import WatchedSource

TAG_REGISTRY = "regctl-registry"
TAG_REGION = "regctl-region"
TAG_INDEX = "regctl-index"
MANAGEMENT_TAGS = frozenset({TAG_REGISTRY, TAG_REGION, TAG_INDEX})

SUCCEEDED = "Succeeded"
FAILED = "Failed"
CANCELED = "Canceled"
TERMINAL_STATES = frozenset({SUCCEEDED, FAILED, CANCELED})


class Part(StrEnum):
    """What an observation reads. A step reads only the parts its decision looks at (one or two ARM reads);
    a reconcile reads all of them."""

    GROUP = "group"
    STORAGE = "storage"
    ACR = "acr"
    REPLICAS = "replicas"
    ROLE_ASSIGNMENTS = "role_assignments"  # the data-plane role assignments in the registry's group
    BLOBS = "blobs"  # the asset copies in each region's storage (a data-plane LIST, not ARM)
    EVENTS = "events"  # the Event Grid system topics in the registry's group and their event subscriptions
    SOURCES = "sources"  # the external sources promotion rules name: each one, its system topic, its subscriptions


ALL_PARTS = frozenset({Part.GROUP, Part.STORAGE, Part.ACR, Part.REPLICAS})
"""What a reconcile reads. Role assignments are read besides only for a registry with data-plane grants
(``Part.ROLE_ASSIGNMENTS``), so a registry nobody was granted costs no read more."""


@dataclass(frozen=True)
class ObservedGroup:
    name: str
    location: str
    tags: dict[str, str] = field(default_factory=dict)
    state: str = SUCCEEDED


@dataclass(frozen=True)
class ObservedStorage:
    name: str
    region: str
    index: int
    sku: str
    hns: bool
    tags: dict[str, str] = field(default_factory=dict)
    state: str = SUCCEEDED
    properties: dict[str, Any] = field(default_factory=dict)  # ARM's ``properties``, wire names
    id: str = ""  # its ARM id: the scope of the data-plane role assignments on it

    @property
    def blob_endpoint(self) -> str:
        """Its blob service URL (ARM's ``primaryEndpoints.blob``), or "" before ARM reports one."""
        endpoints = self.properties.get("primaryEndpoints")
        value = endpoints.get("blob") if isinstance(endpoints, Mapping) else None  # the SDK's models are Mappings
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class ObservedAcr:
    name: str
    location: str
    sku: str
    tags: dict[str, str] = field(default_factory=dict)
    state: str = SUCCEEDED
    properties: dict[str, Any] = field(default_factory=dict)  # ARM's ``properties``, wire names
    id: str = ""  # its ARM id: the scope of the data-plane role assignments on it


@dataclass(frozen=True)
class ObservedReplica:
    name: str
    location: str
    state: str = SUCCEEDED


@dataclass(frozen=True)
class ObservedRoleAssignment:
    """An Azure role assignment on one of the registry's resources (``scope`` is its ARM id)."""

    name: str
    scope: str
    principal_id: str
    role_definition_id: str  # the role's GUID
    state: str = SUCCEEDED


@dataclass(frozen=True)
class ObservedSystemTopic:
    """An Event Grid system topic regctl made (recognised by its management tags), ``source`` an ARM id."""

    name: str
    location: str
    source: str
    topic_type: str
    tags: dict[str, str] = field(default_factory=dict)
    state: str = SUCCEEDED
    resource_group: str = ""  # where it is, when read from its id ("": the group it was looked for in)


@dataclass(frozen=True)
class ObservedEventSubscription:
    """An event subscription of one of those topics; ``properties`` as ARM shows them (wire names)."""

    name: str
    topic: str  # the system topic's name
    properties: dict[str, Any] = field(default_factory=dict)
    state: str = SUCCEEDED


@dataclass(frozen=True)
class ObservedSource:
    """An Azure resource outside regctl that a promotion rule into the registry names, or named (``Part.SOURCES``):
    whether ARM has it (a GET by id) and where, the one system topic on it whoever made it (Azure allows one
    per source), this registry's event subscription on that topic, and the names of the topic's others."""

    source: WatchedSource
    exists: bool
    location: str = ""
    problem: str = ""  # why it is not there: "not found", or ARM's refusal to show it
    topic: ObservedSystemTopic | None = None
    subscription: ObservedEventSubscription | None = None  # this registry's (named for it)
    others: tuple[str, ...] = ()  # the other event subscriptions of the topic, by name

    @property
    def key(self) -> str:
        return self.source.key


@dataclass(frozen=True)
class Observed:
    """Everything regctl manages for one registry, as last listed from ARM."""

    group: ObservedGroup | None = None
    storage: tuple[ObservedStorage, ...] = ()
    acr: ObservedAcr | None = None
    replicas: tuple[ObservedReplica, ...] = ()
    role_assignments: tuple[ObservedRoleAssignment, ...] = ()
    blobs: dict[str, dict[str, BlobListing]] = field(default_factory=dict)
    """Per storage account name, the blobs of its ``assets`` container that were listed, by full name
    (``Part.BLOBS``; an account absent here was not listed)."""
    system_topics: tuple[ObservedSystemTopic, ...] = ()  # Part.EVENTS
    event_subscriptions: tuple[ObservedEventSubscription, ...] = ()  # Part.EVENTS
    sources: tuple[ObservedSource, ...] = ()  # Part.SOURCES

    @property
    def empty(self) -> bool:
        return self.group is None and not self.storage and self.acr is None and not self.replicas

    def storage_at(self, region: str, index: int) -> ObservedStorage | None:
        for account in self.storage:
            if account.region == region and account.index == index:
                return account
        return None

    def replica_in(self, region: str) -> ObservedReplica | None:
        for replica in self.replicas:
            if replica.location == region:
                return replica
        return None


def registry_tags(registry: str, user_tags: dict[str, str]) -> dict[str, str]:
    """Tags of the resource group and the ACR: the user's tags plus the registry marker."""
    return {**user_tags, TAG_REGISTRY: registry.lower()}


def storage_tags(registry: str, user_tags: dict[str, str], region: str, index: int) -> dict[str, str]:
    """Tags of a storage account: the user's tags plus the registry, region and index markers."""
    return {**registry_tags(registry, user_tags), TAG_REGION: region, TAG_INDEX: str(index)}
