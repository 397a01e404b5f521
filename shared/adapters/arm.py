"""ArmGateway over the azure-mgmt SDK clients (resource groups, storage, container registry, authorization).

Reads are LIST calls per resource group (DESIGN.md section 6); the data-plane role assignments of a registry
are one LIST for its group (ARM answers with those at, above and below it). Writes are bounded in flight by a
semaphore. Long-running operations are started with ``StepPolling(poll_now=False)`` and their
continuation saved by the step; ``poll`` makes one status request. Every Azure error leaves here
classified by ``arm_errors.classify``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import IO, Any, TypeVar

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.core.polling import LROPoller
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

from shared.adapters.arm_assignments import (
    assignment_scope,
    by_owner,
    group_scope,
    in_group,
    role_definition_arm_id,
    scope_key,
)
from shared.adapters.arm_errors import classify, classify_poll
from shared.adapters.arm_eventgrid import EVENTGRID_API, eventgrid_id, observe_eventgrid, observe_sources
from shared.adapters.arm_models import (
    group_name,
    observed_acr,
    observed_group,
    observed_storage,
    state_of,
)
from shared.adapters.arm_polling import StepPolling
from shared.adapters.transport import transport_options
from shared.domain.errors import PermanentError, TransientError
from shared.domain.resources import (
    ALL_PARTS,
    TAG_REGISTRY,
    Observed,
    ObservedAcr,
    ObservedGroup,
    ObservedReplica,
    ObservedRoleAssignment,
    ObservedSource,
    ObservedStorage,
    Part,
)
from shared.domain.rule_sources import WatchedSource
from shared.domain.work import ResourceRef, ResourceType
from shared.ports import LroState

log = logging.getLogger(__name__)
T = TypeVar("T")


#: Retries inside one SDK call, kept few and short. A transient ARM failure that outlasts them leaves as a
#: TransientError and the step retries it with a scheduled message (Retry-After honoured, jitter, cap), as
#: DESIGN.md section 5 says: delays are scheduled, never slept. azure-core's defaults (10 retries, backoff
#: doubling to 120 s) let one call sleep for minutes, up to past host.json's 5-minute functionTimeout (found
#: by tests/chaos: a failed storage create whose monitor answered 503 and dropped connections held one LRO
#: poll ~50 s). Retry-After on a 429/503 is still honoured by the SDK for the retries it makes.
SDK_RETRY_OPTIONS: dict[str, Any] = {"retry_total": 3, "retry_backoff_max": 4}


@dataclass(frozen=True)
class ArmClients:
    resources: ResourceManagementClient
    storage: StorageManagementClient
    acr: ContainerRegistryManagementClient
    authz: AuthorizationManagementClient
    subscription_id: str


def build_clients(
    credential: TokenCredential, subscription_id: str, endpoint: str, ca_bundle: str | None
) -> ArmClients:
    """The SDK clients for one subscription; ``ca_bundle`` pins the CA when ARM's is not public."""

    def options() -> dict[str, Any]:  # a transport of its own for each client: closing one leaves the others
        return {"base_url": endpoint, **SDK_RETRY_OPTIONS, **transport_options(ca_bundle=ca_bundle)}

    return ArmClients(
        resources=ResourceManagementClient(credential, subscription_id, **options()),
        storage=StorageManagementClient(credential, subscription_id, **options()),
        acr=ContainerRegistryManagementClient(credential, subscription_id, **options()),
        authz=AuthorizationManagementClient(credential, subscription_id, **options()),
        subscription_id=subscription_id,
    )


def _wire(document: dict[str, Any]) -> IO[bytes]:
    """A request body exactly as the kind wrote it (ARM wire names): the SDK operations send a byte stream
    as it is (and rewind it for a retry), so a kind needs no SDK model."""
    return io.BytesIO(json.dumps(document, separators=(",", ":")).encode("utf-8"))


class AzureArmGateway:
    def __init__(self, clients: ArmClients, max_writes_in_flight: int = 16) -> None:
        self._c = clients
        self._writes = threading.BoundedSemaphore(max_writes_in_flight)

    # -- plumbing ---------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[None]:
        with self._writes:
            try:
                yield
            except AzureError as exc:
                raise classify(exc) from exc

    @staticmethod
    def _read(call: Callable[[], T]) -> T:
        try:
            return call()
        except AzureError as exc:
            raise classify(exc) from exc

    def _start(self, ref: ResourceRef, method: str, begin: Callable[[StepPolling], LROPoller[Any]]) -> LroState:
        polling = StepPolling(poll_now=False)
        with self._write():
            poller = begin(polling)
        if polling.finished():
            with self._write():
                poller.result()
            return LroState(done=True)
        saved = {"method": method, "ref": dataclasses.asdict(ref), "token": poller.continuation_token()}
        return LroState(done=False, continuation=json.dumps(saved), retry_after=polling.retry_after)

    # -- observe ----------------------------------------------------------------------------------

    def observe(self, registry: str, resource_group: str, parts: frozenset[Part] = ALL_PARTS) -> Observed:
        """One registry, one read per part asked for: GET of its group, then LIST calls in the group (storage
        accounts, registries, the replications of its ACR, and the role assignments at, above and below the
        group, of which the data-plane ones on the registry's storage accounts and ACR are kept). Without
        ``Part.GROUP`` a LIST that ARM answers with ``ResourceGroupNotFound`` means the group is missing; one
        that answers means it exists."""
        key = registry.lower()
        try:
            group: ObservedGroup | None = None
            if Part.GROUP in parts:
                group = observed_group(self._c.resources.resource_groups.get(resource_group))
            storage: tuple[ObservedStorage, ...] = ()
            if Part.STORAGE in parts:
                accounts = self._c.storage.storage_accounts.list_by_resource_group(resource_group)
                storage = tuple(s[1] for s in map(observed_storage, accounts) if s is not None and s[0] == key)
            acr: ObservedAcr | None = None
            if parts & {Part.ACR, Part.REPLICAS}:
                listed = self._c.acr.registries.list_by_resource_group(resource_group)
                acrs = [a[1] for a in map(observed_acr, listed) if a is not None and a[0] == key]
                acr = acrs[0] if acrs else None
            replicas = self._replicas(resource_group, acr.name) if acr and Part.REPLICAS in parts else ()
            assignments: tuple[ObservedRoleAssignment, ...] = ()
            if Part.ROLE_ASSIGNMENTS in parts:
                listed = self._c.authz.role_assignments.list_for_resource_group(resource_group)
                own = None  # without the storage and ACR LISTs, any storage account or ACR in the group
                if Part.STORAGE in parts and parts & {Part.ACR, Part.REPLICAS}:
                    own = {scope_key(s.id) for s in storage} | ({scope_key(acr.id)} if acr else set())
                assignments = in_group(listed, group_scope(self._c.subscription_id, resource_group), own)
            events = self._events(resource_group, key) if Part.EVENTS in parts else ((), ())
        except ResourceNotFoundError:
            return Observed()  # the group (or, racing a delete, the ACR) is gone
        except AzureError as exc:
            raise classify(exc) from exc
        if group is None:
            group = ObservedGroup(name=resource_group, location="")  # exists; its details were not read
        acr = acr if Part.ACR in parts else None
        return Observed(
            group, storage, acr, replicas, assignments, system_topics=events[0], event_subscriptions=events[1]
        )

    def observe_all(self, parts: frozenset[Part] = ALL_PARTS) -> dict[str, Observed]:
        """Every registry regctl manages in the subscription, keyed by registry: 3 subscription-wide LIST
        calls (groups, storage accounts, ACRs), one replication LIST per ACR, and with
        ``Part.ROLE_ASSIGNMENTS`` one subscription-wide LIST of role assignments, each data-plane one given
        to the registry whose storage account or ACR it is on."""
        groups: dict[str, ObservedGroup] = {}
        for group in self._read(lambda: list(self._c.resources.resource_groups.list())):
            key = (group.tags or {}).get(TAG_REGISTRY)
            if key:
                groups[key] = observed_group(group)
        storage: dict[str, list[ObservedStorage]] = {}
        for account in self._read(lambda: list(self._c.storage.storage_accounts.list())):
            found = observed_storage(account)
            if found is not None:
                storage.setdefault(found[0], []).append(found[1])
        acrs: dict[str, tuple[str, ObservedAcr]] = {}
        for registry_resource in self._read(lambda: list(self._c.acr.registries.list())):
            found_acr = observed_acr(registry_resource)
            if found_acr is not None and found_acr[0] not in acrs:
                acrs[found_acr[0]] = (group_name(registry_resource.id), found_acr[1])
        assignments = self._assignments_by_registry(storage, acrs) if Part.ROLE_ASSIGNMENTS in parts else {}
        result: dict[str, Observed] = {}
        for key in set(groups) | set(storage) | set(acrs):
            acr_entry = acrs.get(key)
            replicas = self._replicas(acr_entry[0], acr_entry[1].name) if acr_entry else ()
            found_group = groups.get(key)
            events = ((), ())
            if found_group is not None and Part.EVENTS in parts:
                events = self._read(partial(self._events, found_group.name, key))
            result[key] = Observed(
                found_group,
                tuple(storage.get(key, ())),
                acr_entry[1] if acr_entry else None,
                replicas,
                tuple(assignments.get(key, ())),
                system_topics=events[0],
                event_subscriptions=events[1],
            )
        return result

    def _assignments_by_registry(
        self, storage: dict[str, list[ObservedStorage]], acrs: dict[str, tuple[str, ObservedAcr]]
    ) -> dict[str, list[ObservedRoleAssignment]]:
        """The data-plane role assignments of the subscription (one LIST), by the registry they belong to."""
        owner = {scope_key(s.id): key for key, accounts in storage.items() for s in accounts if s.id}
        owner.update({scope_key(acr.id): key for key, (_, acr) in acrs.items() if acr.id})
        return by_owner(self._read(lambda: list(self._c.authz.role_assignments.list_for_subscription())), owner)

    def _events(self, resource_group: str, key: str) -> Any:
        """The registry's Event Grid system topics and their subscriptions (``Part.EVENTS``)."""
        return observe_eventgrid(self._c.resources, self._c.subscription_id, resource_group, key)

    def observe_sources(self, sources: Sequence[WatchedSource], subscription: str) -> tuple[ObservedSource, ...]:
        """The external sources promotion rules watch, each by its id (``arm_eventgrid.observe_source``)."""
        return self._read(partial(observe_sources, self._c.resources, sources, subscription))

    def _replicas(self, resource_group: str, acr: str) -> tuple[ObservedReplica, ...]:
        listed = self._read(lambda: list(self._c.acr.replications.list(resource_group, acr)))
        return tuple(
            ObservedReplica(
                name=r.name or "", location=(r.location or "").lower(), state=state_of(r.provisioning_state)
            )
            for r in listed
        )

    # -- writes -----------------------------------------------------------------------------------

    def put(self, ref: ResourceRef, document: dict[str, Any]) -> LroState:
        if ref.type is ResourceType.ROLE_ASSIGNMENT:
            return self._assign(ref, document)
        c, g, n, body = self._c, ref.group, ref.name, _wire(document)
        if ref.type is ResourceType.GROUP:
            with self._write():
                c.resources.resource_groups.create_or_update(n, body)
            return LroState(done=True)
        starts: dict[ResourceType, Callable[[StepPolling], LROPoller[Any]]] = {
            ResourceType.STORAGE: lambda p: c.storage.storage_accounts.begin_create(g, n, body, polling=p),
            ResourceType.ACR: lambda p: c.acr.registries.begin_create(g, n, body, polling=p),
            ResourceType.REPLICA: lambda p: c.acr.replications.begin_create(g, ref.parent, n, body, polling=p),
            ResourceType.IMAGE_IMPORT: lambda p: c.acr.registries.begin_import_image(g, ref.parent, body, polling=p),
        }
        if ref.type in (ResourceType.SYSTEM_TOPIC, ResourceType.EVENT_SUBSCRIPTION):  # generic: no Event Grid SDK
            rid = eventgrid_id(c.subscription_id, ref)
            starts[ref.type] = lambda p: c.resources.resources.begin_create_or_update_by_id(
                rid, body, api_version=EVENTGRID_API, polling=p
            )
        return self._start(ref, "put", self._pick(starts, ref))

    def patch(self, ref: ResourceRef, document: dict[str, Any]) -> LroState:
        c, g, n, body = self._c, ref.group, ref.name, _wire(document)
        if ref.type is ResourceType.STORAGE:  # a synchronous PATCH in ARM
            with self._write():
                c.storage.storage_accounts.update(g, n, body)
            return LroState(done=True)
        if ref.type is ResourceType.GROUP:
            with self._write():
                c.resources.resource_groups.update(n, body)
            return LroState(done=True)
        starts: dict[ResourceType, Callable[[StepPolling], LROPoller[Any]]] = {
            ResourceType.ACR: lambda p: c.acr.registries.begin_update(g, n, body, polling=p),
            ResourceType.REPLICA: lambda p: c.acr.replications.begin_update(g, ref.parent, n, body, polling=p),
        }
        return self._start(ref, "patch", self._pick(starts, ref))

    def delete(self, ref: ResourceRef) -> LroState:
        c, g, n = self._c, ref.group, ref.name
        if ref.type is ResourceType.ROLE_ASSIGNMENT:  # synchronous in ARM: 200, or 204 when not there
            with self._writes:
                try:
                    c.authz.role_assignments.delete(assignment_scope(c.subscription_id, ref), n)
                except ResourceNotFoundError:
                    return LroState(done=True)  # the resource it was on is gone, and its assignments with it
                except AzureError as exc:
                    raise classify(exc) from exc
            return LroState(done=True)
        if ref.type is ResourceType.STORAGE:  # a synchronous DELETE in ARM
            with self._write():
                c.storage.storage_accounts.delete(g, n)
            return LroState(done=True)
        starts: dict[ResourceType, Callable[[StepPolling], LROPoller[Any]]] = {
            ResourceType.GROUP: lambda p: c.resources.resource_groups.begin_delete(n, polling=p),
            ResourceType.ACR: lambda p: c.acr.registries.begin_delete(g, n, polling=p),
            ResourceType.REPLICA: lambda p: c.acr.replications.begin_delete(g, ref.parent, n, polling=p),
        }
        if ref.type in (ResourceType.SYSTEM_TOPIC, ResourceType.EVENT_SUBSCRIPTION):
            rid = eventgrid_id(c.subscription_id, ref)
            starts[ref.type] = lambda p: c.resources.resources.begin_delete_by_id(
                rid, api_version=EVENTGRID_API, polling=p
            )
        try:
            return self._start(ref, "delete", self._pick(starts, ref))
        except TransientError as exc:
            if ref.type is ResourceType.GROUP and exc.code == "ResourceGroupNotFound":
                return LroState(done=True)  # already gone
            raise

    def _assign(self, ref: ResourceRef, document: dict[str, Any]) -> LroState:
        """PUT a role assignment (synchronous in ARM: 201, or 200 for the same again). The kind names the role
        by its GUID; ARM wants the subscription's role definition id. ``RoleAssignmentExists`` (the same
        principal, role and scope under another name) is done: the access is there."""
        sub = self._c.subscription_id
        properties = dict(document.get("properties") or {})
        properties["roleDefinitionId"] = role_definition_arm_id(sub, str(properties.get("roleDefinitionId") or ""))
        body = _wire({**document, "properties": properties})
        with self._writes:
            try:
                self._c.authz.role_assignments.create(assignment_scope(sub, ref), ref.name, body)
            except AzureError as exc:
                error = classify(exc)
                if error.code != "RoleAssignmentExists":
                    raise error from exc
                log.info("role assignment %s: the same access exists under another name", ref.name)
        return LroState(done=True)

    @staticmethod
    def _pick(
        starts: dict[ResourceType, Callable[[StepPolling], LROPoller[Any]]], ref: ResourceRef
    ) -> Callable[[StepPolling], LROPoller[Any]]:
        if ref.type not in starts:
            raise PermanentError(f"regctl does not write {ref.type} resources this way", code="UnsupportedWrite")
        return starts[ref.type]

    # -- polling ----------------------------------------------------------------------------------

    def poll(self, continuation: str) -> LroState:
        saved = json.loads(continuation)
        ref = ResourceRef(**{**saved["ref"], "type": ResourceType(saved["ref"]["type"])})
        polling = StepPolling(poll_now=True)
        begin = self._resume(ref, saved["method"], saved["token"], polling)
        try:
            poller = begin()
            poller.wait()
            if not polling.finished():
                return LroState(done=False, continuation=continuation, retry_after=polling.retry_after)
            poller.result()
        except AzureError as exc:
            error = classify_poll(exc)
            if ref.type is ResourceType.IMAGE_IMPORT and error.code == "TagAlreadyExists":
                return LroState(done=True)  # the tag is the version's own: imported before (a redelivery)
            raise error from exc
        return LroState(done=True)

    def _resume(self, ref: ResourceRef, method: str, token: str, polling: StepPolling) -> Callable[[], LROPoller[Any]]:
        c, g, n, parent = self._c, ref.group, ref.name, ref.parent
        common: dict[str, Any] = {"continuation_token": token, "polling": polling}
        empty = io.BytesIO(b"")  # the body is not sent when resuming
        table: dict[tuple[ResourceType, str], Callable[[], LROPoller[Any]]] = {
            (ResourceType.GROUP, "delete"): lambda: c.resources.resource_groups.begin_delete(n, **common),
            (ResourceType.STORAGE, "put"): lambda: c.storage.storage_accounts.begin_create(g, n, empty, **common),
            (ResourceType.ACR, "put"): lambda: c.acr.registries.begin_create(g, n, empty, **common),
            (ResourceType.ACR, "patch"): lambda: c.acr.registries.begin_update(g, n, empty, **common),
            (ResourceType.ACR, "delete"): lambda: c.acr.registries.begin_delete(g, n, **common),
            (ResourceType.REPLICA, "put"): lambda: c.acr.replications.begin_create(g, parent, n, empty, **common),
            (ResourceType.REPLICA, "patch"): lambda: c.acr.replications.begin_update(g, parent, n, empty, **common),
            (ResourceType.REPLICA, "delete"): lambda: c.acr.replications.begin_delete(g, parent, n, **common),
            (ResourceType.IMAGE_IMPORT, "put"): lambda: c.acr.registries.begin_import_image(g, parent, empty, **common),
        }
        if ref.type in (ResourceType.SYSTEM_TOPIC, ResourceType.EVENT_SUBSCRIPTION):
            rid, api = eventgrid_id(c.subscription_id, ref), {"api_version": EVENTGRID_API, **common}
            table[(ref.type, "put")] = lambda: c.resources.resources.begin_create_or_update_by_id(rid, empty, **api)
            table[(ref.type, "delete")] = lambda: c.resources.resources.begin_delete_by_id(rid, **api)
        if (ref.type, method) not in table:
            raise ValueError(f"unknown long-running operation {method} of {ref.type}")
        return table[(ref.type, method)]
