"""Access decisions: who may do what where (Azure RBAC on regctl's scopes), made from a snapshot of the role
definitions and assignments. ``AccessDecisions`` is the part of ``shared.services.access.AccessService`` that
every request uses; the service adds managing definitions and assignments, and the activity log.

Decisions are made from a snapshot of the definitions and assignments, shared by every request of a host
instance and refreshed when the store's access version moves: each instance looks at most every
``refresh_seconds``, so a change takes effect within seconds everywhere. The bootstrap owners
(``REGCTL_BOOTSTRAP_OWNERS``) are Owner at ``/`` without any stored assignment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from shared.domain.access import (
    ROOT_SCOPE,
    Decision,
    Principal,
    RegistryFilter,
    RoleAssignment,
    authorize,
    readable_registries,
    registry_scope,
)
from shared.domain.errors import NotFound
from shared.domain.roles import OWNER, Action, RoleDefinition, role_catalog, role_definition_guid
from shared.ports import AccessStore


@dataclass(frozen=True)
class Snapshot:
    version: int
    catalog: dict[str, RoleDefinition]
    assignments: tuple[RoleAssignment, ...]  # stored ones plus the bootstrap owners'
    stored: tuple[RoleAssignment, ...]
    decisions: dict[tuple[frozenset[str], str, str], Decision] = field(default_factory=dict)


class AccessDecisions:
    def __init__(
        self,
        store: AccessStore,
        *,
        bootstrap_owners: Iterable[str] = (),
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._owners = tuple(o.lower() for o in bootstrap_owners if o)
        self._refresh = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked = float("-inf")

    # -- the snapshot ------------------------------------------------------------------------------

    def _load(self, version: int) -> Snapshot:
        definitions = self._store.list_definitions()
        stored = tuple(self._store.list_assignments())
        owners = tuple(RoleAssignment(f"bootstrap-{oid}", ROOT_SCOPE, oid, "User", OWNER.id) for oid in self._owners)
        return Snapshot(version, role_catalog(definitions), stored + owners, stored)

    def snapshot(self, *, fresh: bool = False) -> Snapshot:
        """The definitions and assignments: re-read when the store's version moved, looked at no more often
        than every ``refresh_seconds`` unless ``fresh``."""
        now = self._clock()
        with self._lock:
            current = self._snapshot
            if current is not None and not fresh and now - self._checked < self._refresh:
                return current
        version = self._store.version()
        with self._lock:
            self._checked = now
            if self._snapshot is not None and self._snapshot.version == version:
                return self._snapshot
        loaded = self._load(version)
        with self._lock:
            self._snapshot = loaded
        return loaded

    def _changed(self) -> None:
        self._store.bump_version()
        with self._lock:
            self._checked = float("-inf")

    # -- decisions ---------------------------------------------------------------------------------

    def authorize(self, principal: Principal, action: str, scope: str) -> Decision:
        snap = self.snapshot()
        key = (principal.object_ids, action, scope.lower())
        found = snap.decisions.get(key)
        if found is None:
            found = authorize(principal, action, scope, snap.assignments, snap.catalog.values())
            snap.decisions[key] = found
        return found

    def require(self, principal: Principal, action: str, scope: str) -> None:
        self.authorize(principal, action, scope).require()

    def require_registry(self, principal: Principal, action: str, registry: str) -> None:
        """``action`` on a registry: a caller who may not even read it is told it does not exist (404, as
        for a registry that is not there), one who may read but not act gets 403 naming action and scope."""
        scope = registry_scope(registry)
        if not self.authorize(principal, Action.REGISTRIES_READ, scope).allowed:
            raise NotFound(f'registry "{registry}" not found', code="RegistryNotFound")
        self.require(principal, action, scope)

    def require_anywhere(self, principal: Principal, action: str) -> None:
        """``action`` granted at some scope (reading the role catalog, which is the same everywhere)."""
        snap = self.snapshot()
        for assignment in snap.assignments:
            if assignment.principal_id.lower() not in principal.object_ids:
                continue
            role = snap.catalog.get(role_definition_guid(assignment.role_definition_id))
            if role is not None and role.permits(action):
                return
        self.require(principal, action, ROOT_SCOPE)  # refused: 403 naming the action at /

    def permissions(self, principal: Principal, scope: str) -> list[RoleDefinition]:
        """The roles the caller holds over ``scope`` (ARM's "Permissions - List"): each one's actions and
        notActions, so a client can tell which buttons would be refused before pressing them."""
        snap = self.snapshot()
        found: dict[str, RoleDefinition] = {}
        for assignment in snap.assignments:
            if assignment.applies_to(principal, scope):
                role = snap.catalog.get(role_definition_guid(assignment.role_definition_id))
                if role is not None:
                    found.setdefault(role.id, role)
        return list(found.values())

    def readable(self, principal: Principal) -> RegistryFilter:
        snap = self.snapshot()
        return readable_registries(principal, snap.assignments, snap.catalog.values())
