"""In-memory fakes of the ports, for service tests (fakes, not mocks)."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from shared.domain.errors import ConcurrentUpdate, Conflict, NameTaken, TransientError
from shared.domain.records import OperationRecord, RegistryRecord, StepRecord
from shared.domain.resources import (
    ALL_PARTS,
    TAG_INDEX,
    TAG_REGION,
    Observed,
    ObservedAcr,
    ObservedGroup,
    ObservedReplica,
    ObservedRoleAssignment,
    ObservedSource,
    ObservedStorage,
    Part,
)
from shared.domain.roles import role_definition_guid
from shared.domain.rule_sources import WatchedSource
from shared.domain.work import ResourceRef, ResourceType
from shared.ports import LroState, OutboundMessage
from tests.unit.services.fake_eventgrid import FakeEventGrid


class FakeStore:
    def __init__(self) -> None:
        self.registries: dict[str, RegistryRecord] = {}
        self.operations: dict[str, OperationRecord] = {}
        self.steps: dict[tuple[str, str, str], StepRecord] = {}
        self.idem: dict[tuple[str, str], str] = {}
        self.seen: set[tuple[str, str]] = set()
        self.lanes: dict[tuple[str, str], str] = {}
        self._etags = itertools.count(1)

    def _tag(self) -> str:
        return str(next(self._etags))

    def create_registry(self, registry: RegistryRecord, operation: OperationRecord) -> None:
        if registry.key in self.registries:
            raise Conflict("exists", code="RegistryExists")
        registry.etag = self._tag()
        self.registries[registry.key] = copy.deepcopy(registry)
        self.save_operation(operation)
        if operation.idempotency_key:
            self.idem[(registry.key, operation.idempotency_key)] = operation.id

    def replace_registry(self, registry: RegistryRecord, operation: OperationRecord | None = None) -> None:
        current = self.registries.get(registry.key)
        if current is None or current.etag != registry.etag:
            raise ConcurrentUpdate("changed")
        registry.etag = self._tag()
        self.registries[registry.key] = copy.deepcopy(registry)
        if operation is not None:
            self.save_operation(operation)

    def delete_registry(self, registry: RegistryRecord) -> None:
        self.registries.pop(registry.key, None)

    def get_registry(self, key: str) -> RegistryRecord | None:
        found = self.registries.get(key.lower())
        return copy.deepcopy(found)

    def list_registries(self) -> list[RegistryRecord]:
        return [copy.deepcopy(r) for r in self.registries.values()]

    def get_operation(self, operation_id: str) -> OperationRecord | None:
        return copy.deepcopy(self.operations.get(operation_id))

    def save_operation(self, operation: OperationRecord) -> None:
        current = self.operations.get(operation.id)
        if current is not None and operation.etag is not None and current.etag != operation.etag:
            raise ConcurrentUpdate("changed")
        operation.etag = self._tag()
        self.operations[operation.id] = copy.deepcopy(operation)

    def find_idempotent(self, registry: str, idempotency_key: str) -> OperationRecord | None:
        op = self.idem.get((registry, idempotency_key))
        return self.get_operation(op) if op else None

    def list_pending_events(self) -> list[OperationRecord]:
        return [copy.deepcopy(o) for o in self.operations.values() if o.event_pending]

    def ping(self) -> None:
        return None

    def get_step(self, registry: str, lane: str, key: str) -> StepRecord | None:
        return copy.deepcopy(self.steps.get((registry, lane, key)))

    def save_step(self, step: StepRecord) -> None:
        current = self.steps.get((step.registry, step.lane, step.key))
        if current is not None and current.etag != step.etag:
            raise ConcurrentUpdate("changed")
        if current is None and step.etag is not None:
            raise ConcurrentUpdate("gone")
        step.etag = self._tag()
        self.steps[(step.registry, step.lane, step.key)] = copy.deepcopy(step)

    def list_steps(self, registry: str, lane: str, operation_id: str | None = None) -> list[StepRecord]:
        return [
            copy.deepcopy(s)
            for (r, in_lane, _), s in self.steps.items()
            if r == registry and in_lane == lane and (operation_id is None or s.operation_id == operation_id)
        ]

    def get_lane_operation(self, registry: str, lane: str) -> str | None:
        return self.lanes.get((registry, lane))

    def set_lane_operation(self, registry: str, lane: str, operation_id: str) -> None:
        self.lanes[(registry, lane)] = operation_id

    def is_seen(self, scope: str, key: str) -> bool:
        return (scope, key) in self.seen

    def mark_seen(self, scope: str, key: str) -> None:
        self.seen.add((scope, key))


class FakePublisher:
    """Keeps what was published: work messages in ``sent``, operation events (their own queue) in
    ``events``, so a test that delivers work never meets an event."""

    def __init__(self, events_queue: str = "operation-events") -> None:
        self.sent: list[OutboundMessage] = []
        self.events: list[OutboundMessage] = []
        self._events_queue = events_queue

    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        for message in messages:
            (self.events if message.queue == self._events_queue else self.sent).append(message)

    def close(self) -> None:
        return None


@dataclass
class _Lro:
    apply: dict[str, object]
    polls_left: int


@dataclass
class FakeArm:
    """ARM in memory: writes count, long-running operations take ``lro_polls`` polls to finish."""

    lro_polls: int = 1
    taken_names: set[str] = field(default_factory=set)
    group: ObservedGroup | None = None
    storage: dict[str, ObservedStorage] = field(default_factory=dict)
    acr: ObservedAcr | None = None
    replicas: dict[str, ObservedReplica] = field(default_factory=dict)
    probes: dict[str, str] = field(default_factory=dict)  # the tests' own kind of resource: name -> state
    images: set[str] = field(default_factory=set)  # tags imported into the ACR (importImage)
    writes: list[str] = field(default_factory=list)
    reads: int = 0
    registry: str = "demoregistry1"  # the one registry this fake ARM holds
    subscription: str = "00000000-0000-0000-0000-000000000000"
    role_assignments: dict[str, ObservedRoleAssignment] = field(default_factory=dict)  # by lowercase name
    eventgrid: FakeEventGrid = field(default_factory=FakeEventGrid)  # system topics and event subscriptions
    external: dict[str, str] = field(default_factory=dict)  # resources outside regctl: lowercase ARM id -> location
    _lros: dict[str, _Lro] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def observe(self, registry: str, resource_group: str, parts: frozenset[Part] = ALL_PARTS) -> Observed:
        """As the gateway does: one read per part; without the group part, a group that exists is reported
        with its details unread."""
        self.reads += len(parts) - (1 if Part.REPLICAS in parts and self.acr is None else 0)
        if self.group is None:
            return Observed()
        group = self.group if Part.GROUP in parts else ObservedGroup(name=resource_group, location="")
        topics, subscriptions = self.eventgrid.observed() if Part.EVENTS in parts else ((), ())
        return Observed(
            group,
            tuple(self.storage.values()) if Part.STORAGE in parts else (),
            self.acr if Part.ACR in parts else None,
            tuple(self.replicas.values()) if Part.REPLICAS in parts and self.acr is not None else (),
            tuple(self.role_assignments.values()) if Part.ROLE_ASSIGNMENTS in parts else (),
            system_topics=topics,
            event_subscriptions=subscriptions,
        )

    def observe_all(self, parts: frozenset[Part] = ALL_PARTS) -> dict[str, Observed]:
        self.reads += (2 if Part.ROLE_ASSIGNMENTS in parts else 1) + (1 if Part.EVENTS in parts else 0)
        topics, subscriptions = self.eventgrid.observed() if Part.EVENTS in parts else ((), ())
        observed = Observed(
            self.group,
            tuple(self.storage.values()),
            self.acr,
            tuple(self.replicas.values()),
            tuple(self.role_assignments.values()) if Part.ROLE_ASSIGNMENTS in parts else (),
            system_topics=topics,
            event_subscriptions=subscriptions,
        )
        return {} if observed.empty else {self.registry: observed}

    def observe_sources(self, sources: Sequence[WatchedSource], subscription: str) -> tuple[ObservedSource, ...]:
        """As the gateway does: a GET of each source, a LIST of its group's topics, a LIST of its topic's."""
        found = self.eventgrid.observe_sources(list(sources), subscription, self.external)
        self.reads += sum(3 if s.topic is not None else 2 for s in found)
        return found

    def resource_id(self, group: str, parent: str) -> str:
        """The ARM id of a resource in ``group`` (``parent``: ``providers/{type}/{name}``)."""
        return f"/subscriptions/{self.subscription}/resourceGroups/{group}/{parent}"

    def _drop_assignments_on(self, scope: str) -> None:
        """ARM removes a resource's role assignments with it."""
        for name in [n for n, a in self.role_assignments.items() if a.scope.lower() == scope.lower()]:
            del self.role_assignments[name]

    def _lro(self, what: str, apply: dict[str, object]) -> LroState:
        if self.lro_polls == 0:
            self._finish(apply)
            return LroState(done=True)
        token = json.dumps({"id": next(self._ids), "what": what})
        self._lros[token] = _Lro(apply, self.lro_polls)
        return LroState(done=False, continuation=token, retry_after=1.0)

    def _finish(self, apply: dict[str, object]) -> None:
        for key, value in apply.items():
            kind, _, name = key.partition(":")
            if kind == "storage":
                if value is None:
                    gone = self.storage.pop(name, None)
                    if gone is not None:
                        self._drop_assignments_on(gone.id)
                else:
                    assert isinstance(value, ObservedStorage)
                    self.storage[name] = value
            elif kind == "acr":
                if value is None and self.acr is not None:
                    self._drop_assignments_on(self.acr.id)
                self.acr = value  # type: ignore[assignment]
            elif kind == "replica":
                if value is None:
                    self.replicas.pop(name, None)
                else:
                    assert isinstance(value, ObservedReplica)
                    self.replicas[name] = value
            elif kind in ("topic", "subscription"):
                self.eventgrid.finish(kind, name, value)
            elif kind == "probe":
                self.probes[name] = str(value)
            elif kind == "image":
                self.images.add(name)
            elif kind == "group" and value is None:
                self.group, self.storage, self.acr, self.replicas = None, {}, None, {}
                self.role_assignments = {}
                self.eventgrid.clear(name)

    def poll(self, continuation: str) -> LroState:
        lro = self._lros[continuation]
        lro.polls_left -= 1
        if lro.polls_left > 0:
            return LroState(done=False, continuation=continuation, retry_after=1.0)
        self._lros.pop(continuation)
        self._finish(lro.apply)
        return LroState(done=True)

    # -- writes, as the ARM adapter takes them: a ResourceRef and an ARM body, routed to one method per
    # resource type and verb (tests override those to inject faults) -------------------------------

    def put(self, ref: ResourceRef, body: dict[str, Any]) -> LroState:
        tags = dict(body.get("tags") or {})
        props = dict(body.get("properties") or {})
        if ref.type is ResourceType.GROUP:
            self.ensure_group(ref.name, body["location"], tags)
            return LroState(done=True)
        if ref.type is ResourceType.STORAGE:
            return self.create_storage(
                ref.group,
                ref.name,
                location=body["location"],
                sku=body["sku"]["name"],
                hns=bool(props.get("isHnsEnabled")),
                tags=tags,
                properties=props,
            )
        if ref.type is ResourceType.ACR:
            return self.create_acr(ref.group, ref.name, body["location"], tags)
        if ref.type is ResourceType.REPLICA:
            return self.create_replica(ref.group, ref.parent, ref.name, tags)
        if ref.type is ResourceType.ROLE_ASSIGNMENT:
            self.assign_role(ref.group, ref.parent, ref.name, props)
            return LroState(done=True)
        if ref.type is ResourceType.IMAGE_IMPORT:
            self.writes.append(
                f"import:{ref.parent}:{ref.name}:"
                f"{body['source'].get('registryUri') or body['source']['resourceId']}/{body['source']['sourceImage']}"
            )
            return self._lro("image", {"image:" + ref.name: body})
        if ref.type in (ResourceType.SYSTEM_TOPIC, ResourceType.EVENT_SUBSCRIPTION):
            sources = {a.id.lower() for a in self.storage.values()} | ({self.acr.id.lower()} if self.acr else set())
            sources |= set(self.external)
            write, apply = self.eventgrid.put(ref, body, sources)
            self.writes.append(write)
            return self._lro("eventgrid", apply)
        if ref.type is ResourceType.TEST:
            self.writes.append(f"probe:{ref.name}")
            self.probes[ref.name] = "Creating"
            return self._lro("probe", {"probe:" + ref.name: "Succeeded"})
        raise AssertionError(f"FakeArm cannot put {ref}")

    def patch(self, ref: ResourceRef, body: dict[str, Any]) -> LroState:
        props = dict(body.get("properties") or {})
        if ref.type is ResourceType.STORAGE:
            account = self.storage[ref.name]
            sku = body.get("sku", {}).get("name", account.sku)
            self.update_storage(ref.group, ref.name, sku, dict(body.get("tags", account.tags)), props)
            return LroState(done=True)
        if ref.type is ResourceType.ACR:
            assert self.acr is not None
            return self.update_acr(ref.group, ref.name, dict(body.get("tags", self.acr.tags)), props)
        raise AssertionError(f"FakeArm cannot patch {ref}")

    def delete(self, ref: ResourceRef) -> LroState:
        if ref.type is ResourceType.ROLE_ASSIGNMENT:
            self.unassign_role(ref.group, ref.parent, ref.name)
            return LroState(done=True)
        if ref.type is ResourceType.GROUP:
            return self.delete_group(ref.name)
        if ref.type is ResourceType.STORAGE:
            self.delete_storage(ref.group, ref.name)
            return LroState(done=True)
        if ref.type is ResourceType.ACR:
            return self.delete_acr(ref.group, ref.name)
        if ref.type is ResourceType.REPLICA:
            return self.delete_replica(ref.group, ref.parent, ref.name)
        if ref.type in (ResourceType.SYSTEM_TOPIC, ResourceType.EVENT_SUBSCRIPTION):
            write, apply = self.eventgrid.delete(ref)
            self.writes.append(write)
            return self._lro("eventgrid", apply)
        raise AssertionError(f"FakeArm cannot delete {ref}")

    def ensure_group(self, name: str, location: str, tags: dict[str, str]) -> None:
        self.writes.append(f"group:{name}")
        self.group = ObservedGroup(name, location, dict(tags))

    def delete_group(self, name: str) -> LroState:
        self.writes.append(f"delete-group:{name}")
        return self._lro("group", {"group:" + name: None})

    def create_storage(
        self,
        group: str,
        name: str,
        *,
        location: str,
        sku: str,
        hns: bool,
        tags: dict[str, str],
        properties: dict[str, Any] | None = None,
    ) -> LroState:
        self.writes.append(f"storage:{name}")
        if name in self.taken_names:
            raise NameTaken("taken", code="StorageAccountAlreadyTaken")
        account = ObservedStorage(
            name,
            tags[TAG_REGION],
            int(tags[TAG_INDEX]),
            sku,
            hns,
            dict(tags),
            properties={**(properties or {}), "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"}},
            id=self.resource_id(group, f"providers/Microsoft.Storage/storageAccounts/{name}"),
        )
        return self._lro("storage", {"storage:" + name: account})

    def update_storage(
        self, group: str, name: str, sku: str, tags: dict[str, str], properties: dict[str, Any] | None = None
    ) -> None:
        self.writes.append(f"update-storage:{name}")
        account = self.storage[name]
        self.storage[name] = replace(
            account, sku=sku, tags=dict(tags), properties={**account.properties, **(properties or {})}
        )

    def delete_storage(self, group: str, name: str) -> None:
        self.writes.append(f"delete-storage:{name}")
        gone = self.storage.pop(name, None)
        if gone is not None:
            self._drop_assignments_on(gone.id)

    def create_acr(self, group: str, name: str, location: str, tags: dict[str, str]) -> LroState:
        self.writes.append(f"acr:{name}")
        acr_id = self.resource_id(group, f"providers/Microsoft.ContainerRegistry/registries/{name}")
        return self._lro("acr", {"acr:" + name: ObservedAcr(name, location, "Premium", dict(tags), id=acr_id)})

    def update_acr(
        self, group: str, name: str, tags: dict[str, str], properties: dict[str, Any] | None = None
    ) -> LroState:
        self.writes.append(f"update-acr:{name}")
        assert self.acr is not None
        changed = replace(
            self.acr, sku="Premium", tags=dict(tags), properties={**self.acr.properties, **(properties or {})}
        )
        return self._lro("acr", {"acr:" + name: changed})

    def delete_acr(self, group: str, name: str) -> LroState:
        self.writes.append(f"delete-acr:{name}")
        return self._lro("acr", {"acr:" + name: None})

    def create_replica(self, group: str, acr: str, location: str, tags: dict[str, str]) -> LroState:
        self.writes.append(f"replica:{location}")
        return self._lro("replica", {"replica:" + location: ObservedReplica(location, location)})

    def delete_replica(self, group: str, acr: str, location: str) -> LroState:
        self.writes.append(f"delete-replica:{location}")
        return self._lro("replica", {"replica:" + location: None})

    def assign_role(self, group: str, parent: str, name: str, properties: dict[str, Any]) -> None:
        """PUT of a role assignment, as the gateway makes it: the same access under another name
        (``RoleAssignmentExists``) is done, and nothing is written."""
        self.writes.append(f"role:{name}")
        scope = self.resource_id(group, parent)
        resources = [a.id for a in self.storage.values()] + ([self.acr.id] if self.acr else [])
        if scope.lower() not in {r.lower() for r in resources}:
            raise TransientError(f"{parent} not found", code="ResourceNotFound")
        role = role_definition_guid(str(properties["roleDefinitionId"]))
        principal = str(properties["principalId"]).lower()
        for existing in self.role_assignments.values():
            same = (existing.scope.lower(), existing.principal_id, existing.role_definition_id)
            if same == (scope.lower(), principal, role):
                return
        self.role_assignments[name.lower()] = ObservedRoleAssignment(name.lower(), scope, principal, role)

    def unassign_role(self, group: str, parent: str, name: str) -> None:
        self.writes.append(f"delete-role:{name}")
        self.role_assignments.pop(name.lower(), None)
