"""Access: managing Azure RBAC on regctl's scopes (role definitions and assignments), the data-plane roles
an assignment brings in every region, and the activity log.

The decisions (who may do what where, from a snapshot of the definitions and assignments shared by every
request of a host instance) are the part ``AccessService`` inherits: ``shared.services.access_decisions``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.domain.access import (
    ROOT_SCOPE,
    WRITE_DATA_PLANE,
    Principal,
    RoleAssignment,
    check_assignable,
    data_plane_roles,
    parse_custom_role,
    parse_scope,
    registry_scope,
    scope_covers,
    scope_registry,
)
from shared.domain.activity import ActivityEntry
from shared.domain.errors import Conflict, FieldError, InvalidSpec, NotFound
from shared.domain.records import OperationKind, OperationStatus
from shared.domain.roles import Action, RoleDefinition, find_role, role_definition_guid
from shared.domain.work import PRINCIPAL_LANE, Grant
from shared.observability import context_log
from shared.ports import AccessStore, StateStore
from shared.services.access_decisions import AccessDecisions, Snapshot
from shared.services.lifecycle import OperationLifecycle

log = logging.getLogger(__name__)

PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal")
_GUID_ERROR = "must be a GUID, such as 00000000-0000-0000-0000-000000000000"


def principal_lane(principal_id: str) -> str:
    """The lane of a principal's data-plane work on a registry."""
    return f"{PRINCIPAL_LANE}{principal_id.lower()}"


def _guid(value: str, field_name: str) -> str:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        raise InvalidSpec(f"{field_name} {_GUID_ERROR}", [FieldError(field_name, _GUID_ERROR)]) from None
    if len(value) != 36:
        raise InvalidSpec(f"{field_name} {_GUID_ERROR}", [FieldError(field_name, _GUID_ERROR)])
    return str(parsed)


@dataclass(frozen=True)
class AssignmentView:
    """A role assignment with its role and where its data-plane roles stand."""

    assignment: RoleAssignment
    role: RoleDefinition | None
    data_plane_state: str  # Pending, Applied, Failed, NotApplicable
    data_plane_operation: str | None


class AccessService(AccessDecisions):
    def __init__(
        self,
        store: AccessStore,
        state: StateStore,
        lifecycle: OperationLifecycle,
        *,
        bootstrap_owners: Iterable[str] = (),
        refresh_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(store, bootstrap_owners=bootstrap_owners, refresh_seconds=refresh_seconds, clock=clock)
        self._state = state
        self._lifecycle = lifecycle

    # -- role definitions --------------------------------------------------------------------------

    def list_definitions(self) -> list[RoleDefinition]:
        return sorted(self.snapshot(fresh=True).catalog.values(), key=lambda d: (not d.built_in, d.role_name))

    def get_definition(self, role_id: str) -> RoleDefinition:
        found = self.snapshot(fresh=True).catalog.get(role_id.lower())
        if found is None:
            raise NotFound(f"role definition {role_id} not found", code="RoleDefinitionDoesNotExist")
        return found

    def put_definition(
        self, role_id: str, body: Mapping[str, object], caller: Principal
    ) -> tuple[bool, RoleDefinition]:
        guid = _guid(role_id, "roleDefinitionId")
        properties = body.get("properties", body)
        if not isinstance(properties, Mapping):
            raise InvalidSpec("properties must be an object", [FieldError("properties", "must be an object")])
        definition = parse_custom_role(properties, role_id=guid)
        snap = self.snapshot(fresh=True)
        existing = snap.catalog.get(guid)
        if existing is not None and existing.built_in:
            raise Conflict(
                f"{existing.role_name} is a built-in role and cannot be changed", code="RoleDefinitionBuiltIn"
            )
        for other in snap.catalog.values():
            if other.id != guid and other.role_name.lower() == definition.role_name.lower():
                raise Conflict(
                    f'a role named "{other.role_name}" exists already ({other.id})',
                    code="RoleDefinitionWithSameNameExists",
                )
        if existing == definition:
            return False, existing
        self._store.save_definition(definition)
        self._changed()
        self.record(caller, Action.ROLE_DEFINITIONS_WRITE, ROOT_SCOPE, "Created" if existing is None else "Updated")
        return existing is None, definition

    def delete_definition(self, role_id: str, caller: Principal) -> RoleDefinition | None:
        snap = self.snapshot(fresh=True)
        existing = snap.catalog.get(role_id.lower())
        if existing is None:
            return None
        if existing.built_in:
            raise Conflict(
                f"{existing.role_name} is a built-in role and cannot be deleted", code="RoleDefinitionBuiltIn"
            )
        users = [a.id for a in snap.stored if role_definition_guid(a.role_definition_id) == existing.id]
        if users:
            raise Conflict(
                f"role {existing.role_name} is used by {len(users)} role assignment(s), e.g. {users[0]}; "
                "delete them first",
                code="RoleDefinitionInUse",
            )
        self._store.delete_definition(existing.id)
        self._changed()
        self.record(caller, Action.ROLE_DEFINITIONS_DELETE, ROOT_SCOPE, "Deleted")
        return existing

    # -- role assignments --------------------------------------------------------------------------

    def _resolve_role(self, key: str, catalog: Mapping[str, RoleDefinition]) -> RoleDefinition:
        found = find_role(key, [d for d in catalog.values() if not d.built_in])
        if found is None:
            raise InvalidSpec(
                f"role definition {key!r} does not exist",
                [FieldError("roleDefinitionId", "a role definition GUID or id, or a built-in role's name")],
                code="RoleDefinitionDoesNotExist",
            )
        return found

    def put_assignment(
        self, assignment_id: str, body: Mapping[str, object], caller: Principal
    ) -> tuple[bool, AssignmentView]:
        guid = _guid(assignment_id, "roleAssignmentName")
        properties = body.get("properties", body)
        if not isinstance(properties, Mapping):
            raise InvalidSpec("properties must be an object", [FieldError("properties", "must be an object")])
        errors: list[FieldError] = []
        scope_raw, principal_raw = properties.get("scope"), properties.get("principalId")
        principal_type = properties.get("principalType", "User")
        role_raw = properties.get("roleDefinitionId")
        if not isinstance(scope_raw, str):
            errors.append(FieldError("scope", 'required: "/" or "/registries/{name}"'))
        if not isinstance(principal_raw, str) or not principal_raw:
            errors.append(FieldError("principalId", "required: the principal's object id"))
        if principal_type not in PRINCIPAL_TYPES:
            errors.append(FieldError("principalType", f"one of {', '.join(PRINCIPAL_TYPES)}"))
        if not isinstance(role_raw, str) or not role_raw:
            errors.append(FieldError("roleDefinitionId", "required: a role definition id or a built-in role's name"))
        if errors:
            raise InvalidSpec("the role assignment is invalid", errors)
        assert isinstance(scope_raw, str) and isinstance(principal_raw, str) and isinstance(role_raw, str)
        scope = parse_scope(scope_raw)
        principal_id = _guid(principal_raw, "principalId")
        snap = self.snapshot(fresh=True)
        role = self._resolve_role(role_raw, snap.catalog)
        check_assignable(role, scope)
        registry = scope_registry(scope)
        if registry is not None and self._state.get_registry(registry) is None:
            raise NotFound(f'registry "{registry}" not found', code="RegistryNotFound")
        wanted = RoleAssignment(
            guid, scope, principal_id, principal_type, role.id, created_by=caller, created_at=datetime.now(UTC)
        )
        existing = next((a for a in snap.stored if a.id == guid), None)
        if existing is not None:
            same = (existing.scope, existing.principal_id.lower(), role_definition_guid(existing.role_definition_id))
            if same != (scope, principal_id, role.id):
                raise Conflict(
                    "The role assignment already exists with another principal, role or scope; role assignments "
                    "cannot be updated. Delete it and create a new one.",
                    code="RoleAssignmentUpdateNotPermitted",
                )
            return False, self._view(existing, snap)
        for other in snap.stored:
            if (other.scope, other.principal_id.lower(), role_definition_guid(other.role_definition_id)) == (
                scope,
                principal_id,
                role.id,
            ):
                raise Conflict(f"The role assignment already exists as {other.id}.", code="RoleAssignmentExists")
        self._store.save_assignment(wanted, {})
        self._changed()
        operations = self._apply_data_plane(wanted, role, caller, OperationKind.GRANT)
        if operations:
            self._store.save_assignment(wanted, operations)
        first = next(iter(operations.values()), None)
        self.record(caller, Action.ROLE_ASSIGNMENTS_WRITE, scope, "Created", operation=first)
        return True, self._view(wanted, self.snapshot(fresh=True), operations)

    def delete_assignment(self, assignment_id: str, caller: Principal) -> AssignmentView | None:
        snap = self.snapshot(fresh=True)
        existing = next((a for a in snap.stored if a.id == assignment_id.lower()), None)
        if existing is None:
            return None
        self._store.delete_assignment(existing.id)
        self._changed()
        role = snap.catalog.get(role_definition_guid(existing.role_definition_id))
        operations = self._apply_data_plane(existing, role, caller, OperationKind.REVOKE)
        first = next(iter(operations.values()), None)
        self.record(caller, Action.ROLE_ASSIGNMENTS_DELETE, existing.scope, "Deleted", operation=first)
        return AssignmentView(existing, role, "Pending" if operations else "NotApplicable", _link(operations))

    def get_assignment(self, assignment_id: str) -> AssignmentView:
        snap = self.snapshot(fresh=True)
        found = next((a for a in snap.stored if a.id == assignment_id.lower()), None)
        if found is None:
            raise NotFound(f"role assignment {assignment_id} not found", code="RoleAssignmentNotFound")
        return self._view(found, snap)

    def list_assignments(self, scope: str | None = None, principal_id: str | None = None) -> list[AssignmentView]:
        snap = self.snapshot(fresh=True)
        wanted_scope = parse_scope(scope) if scope else None
        found = [
            a
            for a in snap.stored
            if (wanted_scope is None or a.scope == wanted_scope)
            and (principal_id is None or a.principal_id.lower() == principal_id.lower())
        ]
        return [self._view(a, snap) for a in sorted(found, key=lambda a: (a.scope, a.principal_id, a.id))]

    def _view(
        self, assignment: RoleAssignment, snap: Snapshot, operations: dict[str, str] | None = None
    ) -> AssignmentView:
        role = snap.catalog.get(role_definition_guid(assignment.role_definition_id))
        if role is None or data_plane_roles(role) is None:
            return AssignmentView(assignment, role, "NotApplicable", None)
        operations = operations if operations is not None else self._store.data_plane_operations(assignment.id)
        statuses = [self._state.get_operation(op) for op in operations.values()]
        known = [s.status for s in statuses if s is not None]
        if any(s is OperationStatus.FAILED for s in known):
            state = "Failed"
        elif known and all(s is OperationStatus.SUCCEEDED for s in known):
            state = "Applied"
        else:
            state = "Pending" if operations else "Applied"
        return AssignmentView(assignment, role, state, _link(operations))

    def _apply_data_plane(
        self, assignment: RoleAssignment, role: RoleDefinition | None, caller: Principal, kind: OperationKind
    ) -> dict[str, str]:
        """Start the principal's data-plane work on every registry the assignment reaches, if its role
        grants asset access: registry key -> operation id."""
        if role is None or data_plane_roles(role) is None:
            return {}
        lane = principal_lane(assignment.principal_id)
        started: dict[str, str] = {}
        for record in self._state.list_registries():
            if record.deleting or not scope_covers(assignment.scope, registry_scope(record.key)):
                continue
            operation = self._lifecycle.start(record, kind, lane, caller)
            started[record.key] = operation.id
        return started

    # -- data-plane grants (the GrantSource of the reconcile loop) ----------------------------------

    def grants_for(self, registry: str) -> tuple[Grant, ...]:
        """Each principal's data-plane roles on ``registry``: write access (Storage Blob Data Contributor,
        AcrPush) where any of its assignments reaching the registry grants assets/write, else read access."""
        snap = self.snapshot(fresh=True)
        target = registry_scope(registry)
        best: dict[str, Grant] = {}
        for assignment in snap.stored:
            if not scope_covers(assignment.scope, target):
                continue
            role = snap.catalog.get(role_definition_guid(assignment.role_definition_id))
            roles = data_plane_roles(role) if role is not None else None
            if roles is None:
                continue
            key = assignment.principal_id.lower()
            grant = Grant(key, assignment.principal_type, roles.storage_role_id, roles.acr_role_id)
            if key not in best or roles == WRITE_DATA_PLANE:  # write access covers read
                best[key] = grant
        return tuple(sorted(best.values(), key=lambda g: g.principal_id))

    # -- the activity log --------------------------------------------------------------------------

    def record(
        self,
        caller: Principal | None,
        action: str,
        scope: str,
        result: str,
        *,
        operation: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Keep an accepted write in the activity log; a failure to log never fails the write."""
        entry = ActivityEntry(
            time=datetime.now(UTC),
            principal=caller,
            action=str(action),
            scope=scope,
            result=result,
            registry=scope_registry(scope) or "",
            operation=operation,
            detail=detail,
        )
        try:
            self._store.record_activity(entry)
        except Exception as exc:  # the write it records has happened; losing its log line is the lesser harm
            context_log(log, registry=entry.registry, operation=operation, step="activity").warning(
                "activity not recorded: %s", type(exc).__name__
            )

    def activity(self, registry: str | None, since: datetime | None, limit: int = 200) -> list[ActivityEntry]:
        return self._store.list_activity(registry.lower() if registry else registry, since, limit)


def _link(operations: Mapping[str, str]) -> str | None:
    first = next(iter(operations.values()), None)
    return f"/api/operations/{first}" if first else None
