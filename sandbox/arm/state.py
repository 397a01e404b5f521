"""The in-memory state of the simulated Azure: one store, one lock.

Names that Azure makes globally unique (storage accounts, registries) are indexed by their lowercased
name alone, across every subscription; everything else is keyed by lowercased ids. The app holds
``Store.lock`` for the whole (short, CPU-only) handling of a request, so handlers never race; the lock
is re-entrant so helpers may take it again.
"""

from __future__ import annotations

import base64
import heapq
import itertools
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sandbox.arm.azurite import BlobPool
from sandbox.arm.config import OpKind, Settings
from sandbox.arm.lro import Operation, OpError, Protocol, utc_now

if TYPE_CHECKING:
    from sandbox.arm.eventgrid import SystemTopic


@dataclass(eq=False)
class ResourceGroup:
    subscription: str
    name: str
    location: str
    tags: dict[str, str]
    managed_by: str | None = None
    deleting: Operation | None = None

    @property
    def id(self) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{self.name}"


def new_account_key() -> str:
    """A fresh storage account key: 64 random bytes, base64 (88 characters), as Azure's look."""
    return base64.b64encode(secrets.token_bytes(64)).decode("ascii")


@dataclass(eq=False)
class StorageAccount:
    subscription: str
    resource_group: str
    name: str
    location: str
    kind: str
    sku: str
    tags: dict[str, str]
    #: Properties as requested (merged with later PATCHes); the body adds the computed ones.
    properties: dict[str, Any]
    #: ``extendedLocation`` as the create request sent it (``{"type": "EdgeZone", "name": ...}``).
    extended_location: dict[str, Any] | None = None
    create_op: Operation | None = None
    created_wall: datetime = field(default_factory=utc_now)
    #: Encryption service (blob, file, queue, table) -> when it was enabled (``lastEnabledTime``).
    encryption_enabled: dict[str, datetime] = field(default_factory=dict)
    #: ``key1`` and ``key2`` (``listKeys``): the blob proxy accepts Shared Key and SAS signed with either.
    keys: tuple[str, str] = field(default_factory=lambda: (new_account_key(), new_account_key()))
    #: The Azurite pool account holding its blobs (``BlobPool.assign`` when created).
    pool_index: int = 0

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.Storage/storageAccounts/{self.name}"
        )


@dataclass(eq=False)
class Replication:
    name: str
    location: str
    tags: dict[str, str]
    properties: dict[str, Any]
    is_home: bool
    created_by_type: str
    state: str = "Creating"
    op: Operation | None = None
    created_wall: datetime = field(default_factory=utc_now)


#: The media type of a manifest that names none: Docker's image manifest, schema 2.
DOCKER_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass(frozen=True)
class Manifest:
    """What a tag of a simulated registry points at (``target`` of ACR's ImagePushed event)."""

    #: ``sha256:`` and 64 lowercase hex digits.
    digest: str
    #: The manifest's size in bytes.
    size: int
    media_type: str = DOCKER_MANIFEST_V2


@dataclass(eq=False)
class Registry:
    subscription: str
    resource_group: str
    name: str
    location: str
    sku: str
    tags: dict[str, str]
    properties: dict[str, Any]
    state: str = "Creating"
    op: Operation | None = None
    created_wall: datetime = field(default_factory=utc_now)
    #: When ``policies.retentionPolicy`` last changed (``lastUpdatedTime``): creation, then PUT/PATCH.
    retention_updated_wall: datetime = field(default_factory=utc_now)
    #: Lowercased replication name -> replication (the home one included once it exists).
    replications: dict[str, Replication] = field(default_factory=dict)
    #: Repository -> tag -> manifest, filled by importImage and the push stand-in (``acr_push.py``).
    images: dict[str, dict[str, Manifest]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}"
            f"/providers/Microsoft.ContainerRegistry/registries/{self.name}"
        )


@dataclass(eq=False)
class RoleAssignment:
    name: str
    scope: str
    role_definition_id: str
    principal_id: str
    principal_type: str
    description: str | None
    condition: str | None
    condition_version: str | None
    created_wall: datetime = field(default_factory=utc_now)
    updated_wall: datetime = field(default_factory=utc_now)

    @property
    def id(self) -> str:
        prefix = "" if self.scope == "/" else self.scope
        return f"{prefix}/providers/Microsoft.Authorization/roleAssignments/{self.name}"


def is_within(scope: str, container: str) -> bool:
    """True when ``scope`` equals ``container`` or lies below it (segment-wise, case-insensitive)."""
    s = scope.rstrip("/").lower()
    c = container.rstrip("/").lower()
    return c in ("", s) or s.startswith(c + "/")


class Store:
    """All simulated resources, operations and the request log."""

    def __init__(self, settings: Settings) -> None:
        self.lock = threading.RLock()
        self.settings = settings
        self._startup_settings = settings.snapshot()
        self._seq = itertools.count()
        #: The Azurite pool account of each storage account (``sandbox/arm/azurite.py``).
        self.blob_pool = BlobPool(settings.blob_pool_size)
        #: How many times the store was cleared: what was queued before a reset can tell it is stale.
        self.epoch = -1
        self.clear()

    def clear(self) -> None:
        """Forget every resource, operation and logged request (``POST /_sandbox/reset``)."""
        with self.lock:
            self.epoch += 1
            self.groups: dict[tuple[str, str], ResourceGroup] = {}
            self.accounts: dict[str, StorageAccount] = {}
            self.registries: dict[str, Registry] = {}
            self.role_assignments: dict[str, RoleAssignment] = {}
            #: Event Grid system topics by their resource id, lowercased (``sandbox/arm/eventgrid.py``).
            self.system_topics: dict[str, SystemTopic] = {}
            self.operations: dict[str, Operation] = {}
            self._due: list[tuple[float, int, Operation]] = []
            self.request_log: list[dict[str, Any]] = []
            #: How many of the oldest log entries were dropped (``since`` indexes stay absolute).
            self.request_log_dropped = 0
            #: Blob data-plane requests by (operation name, account), counted by the blob proxy.
            self.blob_requests: Counter[tuple[str, str]] = Counter()
            self.started_at = time.monotonic()
            self.blob_pool.reset()

    def restore_startup_settings(self) -> None:
        with self.lock:
            fresh = self._startup_settings.snapshot()
            self.settings.__dict__.update(fresh.__dict__)

    # Operations -----------------------------------------------------------------------------------

    def start_operation(
        self,
        kind: OpKind,
        protocol: Protocol,
        resource_type: str,
        subscription: str,
        monitor_path: str,
        *,
        now: float,
        failure: OpError | None = None,
        op_id: str | None = None,
    ) -> Operation:
        """Create an operation due ``duration * time_scale`` from ``now`` and index it."""
        settings = self.settings
        op = Operation(
            id=op_id or str(uuid.uuid4()),
            kind=kind,
            protocol=protocol,
            resource_type=resource_type,
            subscription=subscription,
            monitor_path=monitor_path,
            started=now,
            ready_at=now + settings.duration(kind),
            time_scale=settings.time_scale,
            poll_hint=settings.poll_hint(kind),
            failure=failure,
        )
        self.operations[op.id] = op
        heapq.heappush(self._due, (op.ready_at, next(self._seq), op))
        return op

    def settle(self, now: float) -> None:
        """Finish every operation whose time has come, oldest first. Cheap when nothing is due."""
        due = self._due
        while due and due[0][0] <= now:
            _, _, op = heapq.heappop(due)
            if not op.done:
                op.finish(op.planned_outcome())

    # Lookups --------------------------------------------------------------------------------------

    def group(self, subscription: str, name: str) -> ResourceGroup | None:
        return self.groups.get((subscription.lower(), name.lower()))

    def account(self, subscription: str, rg: str, name: str) -> StorageAccount | None:
        acct = self.accounts.get(name.lower())
        if acct is None or acct.subscription.lower() != subscription.lower():
            return None
        if acct.resource_group.lower() != rg.lower():
            return None
        return acct

    def registry(self, subscription: str, rg: str, name: str) -> Registry | None:
        reg = self.registries.get(name.lower())
        if reg is None or reg.subscription.lower() != subscription.lower():
            return None
        if reg.resource_group.lower() != rg.lower():
            return None
        return reg

    # Cascades -------------------------------------------------------------------------------------

    def remove_role_assignments_within(self, scope: str) -> None:
        """Role assignments are extension resources: they go with the resource they are scoped to."""
        for key in [k for k, ra in self.role_assignments.items() if is_within(ra.scope, scope)]:
            del self.role_assignments[key]

    def remove_registry(self, reg: Registry) -> None:
        if self.registries.get(reg.name.lower()) is reg:
            del self.registries[reg.name.lower()]
        for repl in reg.replications.values():
            if repl.op is not None:
                repl.op.cancel("The registry was deleted.")
        if reg.op is not None:
            reg.op.cancel("The registry was deleted.")
        self.remove_role_assignments_within(reg.id)

    def remove_account(self, acct: StorageAccount) -> None:
        if self.accounts.get(acct.name.lower()) is acct:
            del self.accounts[acct.name.lower()]
            self.blob_pool.release(acct.name)
        if acct.create_op is not None:
            acct.create_op.cancel("The storage account was deleted.")
        self.remove_role_assignments_within(acct.id)

    def remove_group(self, group: ResourceGroup) -> None:
        """Delete a resource group and everything it holds."""
        sub, rg = group.subscription.lower(), group.name.lower()
        for acct in [
            a for a in self.accounts.values() if (a.subscription.lower(), a.resource_group.lower()) == (sub, rg)
        ]:
            self.remove_account(acct)
        for reg in [
            r for r in self.registries.values() if (r.subscription.lower(), r.resource_group.lower()) == (sub, rg)
        ]:
            self.remove_registry(reg)
        for key in [k for k in self.system_topics if is_within(k, group.id.lower())]:
            del self.system_topics[key]
        self.remove_role_assignments_within(group.id)
        if self.groups.get((sub, rg)) is group:
            del self.groups[(sub, rg)]

    # Request log ----------------------------------------------------------------------------------

    def log_request(self, method: str, path: str, status: int, op: str, now: float) -> None:
        log = self.request_log
        log.append({"method": method, "path": path, "status": status, "op": op, "t": round(now - self.started_at, 6)})
        limit = self.settings.request_log_limit
        if len(log) > limit:
            # Drop the oldest tenth at once so long benchmarks stay bounded without O(n) work per request.
            drop = len(log) - limit + limit // 10
            del log[:drop]
            self.request_log_dropped += drop

    def count_blob_request(self, operation: str, account: str) -> None:
        self.blob_requests[(operation, account)] += 1

    def blob_request_counts(self) -> list[dict[str, Any]]:
        return [{"operation": op, "account": acct, "count": n} for (op, acct), n in sorted(self.blob_requests.items())]

    def requests_since(self, index: int) -> list[dict[str, Any]]:
        """Log entries from absolute index ``index`` on (entries already dropped are skipped)."""
        return self.request_log[max(0, index - self.request_log_dropped) :]

    def clear_request_log(self) -> int:
        cleared = len(self.request_log)
        self.request_log = []
        self.request_log_dropped = 0
        return cleared
