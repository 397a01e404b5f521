"""Identity and access, decided as Azure RBAC decides (pure; DESIGN.md section 7).

- A ``Principal`` is who calls: an Entra object id (``oid``), a display name, a type, the tenant, and the
  object ids of the groups the token lists (assignments to a group apply to its members).
- A scope is ``/`` (the whole control plane) or ``/registries/{name}``. Registry names compare
  case-insensitively, so scopes are normalised to lowercase. An assignment at ``/`` covers every scope.
- A ``RoleAssignment`` gives a role (``shared/domain/roles.py``) to a principal at a scope. ``authorize``
  allows an action on a scope when some assignment of the principal (or of one of its groups) covers the
  scope and its role permits the action (``actions`` minus ``notActions`` of that same role). A denial
  carries ARM's ``AuthorizationFailed`` message.
- Custom roles are validated by ``parse_custom_role``; ``data_plane_roles`` says which storage and ACR
  data-plane roles an assignment of a role brings with it, and ``data_plane_assignment_name`` names those
  data-plane assignments deterministically, so their PUTs are idempotent.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared.domain.errors import FieldError, Forbidden, InvalidSpec
from shared.domain.roles import (
    ACTION_GRAMMAR,
    BUILT_IN_ROLES,
    MAX_DESCRIPTION,
    MAX_PATTERN,
    MAX_ROLE_NAME,
    Action,
    RoleDefinition,
    role_catalog,
    role_definition_guid,
)
from shared.domain.spec_fields import NAME_PATTERN

PrincipalType = Literal["User", "Group", "ServicePrincipal"]
PRINCIPAL_TYPES: tuple[PrincipalType, ...] = ("User", "Group", "ServicePrincipal")


@dataclass(frozen=True)
class Principal:
    """A caller. ``id`` is the Entra object id (``oid``); ``groups`` the group object ids of the token."""

    id: str
    name: str
    type: PrincipalType = "User"
    tenant_id: str | None = None
    groups: frozenset[str] = frozenset()

    @property
    def object_ids(self) -> frozenset[str]:
        """The ids whose assignments apply to this principal (its own and its groups'), lowercase."""
        return frozenset({self.id.lower(), *(g.lower() for g in self.groups)})


# --- Scopes -------------------------------------------------------------------------------------------

ROOT_SCOPE = "/"
_REGISTRY_SCOPE = re.compile(r"/registries/([^/]+)\Z", re.IGNORECASE)


def parse_scope(scope: str, *, field: str = "scope") -> str:
    """Validate a scope and return it normalised: ``/`` or ``/registries/{lowercase name}``.

    Raises ``InvalidSpec`` naming ``field`` for anything else."""
    if scope == ROOT_SCOPE:
        return ROOT_SCOPE
    match = _REGISTRY_SCOPE.match(scope) if isinstance(scope, str) else None
    if match is None or not NAME_PATTERN.match(match.group(1)):
        shown = scope[:100] if isinstance(scope, str) else type(scope).__name__
        raise InvalidSpec(
            f'"{shown}" is not a valid scope',
            [
                FieldError(
                    field,
                    f'"{shown}" is not a valid scope: use "/" (every registry) or "/registries/{{name}}" '
                    "with a registry name of 2-32 letters, digits, '-' and '_'",
                )
            ],
        )
    return f"/registries/{match.group(1).lower()}"


def registry_scope(registry: str) -> str:
    """The scope of one registry, ``/registries/{lowercase name}`` (raises ``InvalidSpec`` for a bad name)."""
    return parse_scope(f"/registries/{registry}")


def scope_registry(scope: str) -> str | None:
    """The (lowercase) registry a scope names, or ``None`` for ``/``."""
    match = _REGISTRY_SCOPE.match(_normalised(scope))
    return match.group(1) if match else None


def _normalised(scope: str) -> str:
    """Lenient normalisation (no validation): lowercase, one leading slash, no trailing slash."""
    trimmed = scope.strip().strip("/").lower()
    return "/" + trimmed if trimmed else ROOT_SCOPE


def scope_covers(assignment_scope: str, resource_scope: str) -> bool:
    """Whether an assignment at ``assignment_scope`` applies to ``resource_scope``: ``/`` covers everything,
    a registry scope covers itself and anything beneath it. Case-insensitive."""
    outer, inner = _normalised(assignment_scope), _normalised(resource_scope)
    return outer in (ROOT_SCOPE, inner) or inner.startswith(outer + "/")


# --- Assignments and decisions ------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleAssignment:
    """A role given to a principal at a scope. ``role_definition_id`` is the role's GUID or ARM id."""

    id: str
    scope: str
    principal_id: str
    principal_type: PrincipalType
    role_definition_id: str
    created_by: Principal | None = None
    created_at: datetime | None = None

    def applies_to(self, principal: Principal, resource_scope: str) -> bool:
        return self.principal_id.lower() in principal.object_ids and scope_covers(self.scope, resource_scope)


@dataclass(frozen=True)
class Decision:
    """The outcome of ``authorize``: ``granted_by`` is the assignment that allowed it, ``message`` why not."""

    allowed: bool
    action: str
    scope: str
    message: str = ""
    granted_by: RoleAssignment | None = None
    code: str = "AuthorizationFailed"

    def require(self) -> None:
        """Raise ``Forbidden`` (code ``AuthorizationFailed``, ARM's message) unless allowed."""
        if not self.allowed:
            raise Forbidden(self.message, code=self.code)


def authorization_failed_message(principal: Principal, action: str, scope: str) -> str:
    """ARM's ``AuthorizationFailed`` wording, with regctl's scope."""
    return (
        f"The client '{principal.name}' with object id '{principal.id}' does not have authorization to perform "
        f"action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, "
        "please refresh your credentials."
    )


def authorize(
    principal: Principal,
    action: str,
    resource_scope: str,
    assignments: Iterable[RoleAssignment],
    definitions: Iterable[RoleDefinition] = (),
) -> Decision:
    """Whether ``principal`` may perform ``action`` on ``resource_scope``.

    ``assignments`` may hold anyone's assignments (those of other principals are skipped); ``definitions``
    are the custom roles (built-in roles are always known). Assignments of unknown roles grant nothing.
    Takes the ``Principal`` rather than its id so that group assignments apply and a denial can name the
    client as ARM does."""
    scope = _normalised(resource_scope)
    catalog = role_catalog(definitions)
    for assignment in assignments:
        if not assignment.applies_to(principal, scope):
            continue
        role = catalog.get(role_definition_guid(assignment.role_definition_id))
        if role is not None and role.permits(action):
            return Decision(True, action, scope, granted_by=assignment)
    return Decision(False, action, scope, authorization_failed_message(principal, action, scope))


def can_read_registry(
    principal: Principal,
    registry: str,
    assignments: Iterable[RoleAssignment],
    definitions: Iterable[RoleDefinition] = (),
) -> bool:
    return authorize(principal, Action.REGISTRIES_READ, f"/registries/{registry}", assignments, definitions).allowed


@dataclass(frozen=True)
class RegistryFilter:
    """Which registries an action is permitted on: all of them, or the (lowercase) ``names``."""

    all: bool
    names: frozenset[str] = frozenset()

    def allows(self, registry: str) -> bool:
        return self.all or registry.lower() in self.names


def registries_permitting(
    principal: Principal,
    action: str,
    assignments: Iterable[RoleAssignment],
    definitions: Iterable[RoleDefinition] = (),
) -> RegistryFilter:
    """The registries on which ``principal`` may perform ``action`` (to filter a list)."""
    catalog = role_catalog(definitions)
    names: set[str] = set()
    for assignment in assignments:
        if assignment.principal_id.lower() not in principal.object_ids:
            continue
        role = catalog.get(role_definition_guid(assignment.role_definition_id))
        if role is None or not role.permits(action):
            continue
        registry = scope_registry(assignment.scope)
        if registry is None:
            return RegistryFilter(all=True)
        names.add(registry)
    return RegistryFilter(all=False, names=frozenset(names))


def readable_registries(
    principal: Principal,
    assignments: Iterable[RoleAssignment],
    definitions: Iterable[RoleDefinition] = (),
) -> RegistryFilter:
    """The registries ``principal`` may read (``registries/read``)."""
    return registries_permitting(principal, Action.REGISTRIES_READ, assignments, definitions)


def check_assignable(definition: RoleDefinition, scope: str) -> str:
    """Validate an assignment's scope for ``definition``: a valid scope inside one of the role's assignable
    scopes. Returns the normalised scope; raises ``InvalidSpec`` (field ``scope``) otherwise."""
    normalised = parse_scope(scope)
    if not any(scope_covers(allowed, normalised) for allowed in definition.assignable_scopes):
        raise InvalidSpec(
            f"the role '{definition.role_name}' cannot be assigned at scope '{normalised}'",
            [FieldError("scope", f"must be within the role's assignableScopes {list(definition.assignable_scopes)}")],
        )
    return normalised


# --- Custom roles -------------------------------------------------------------------------------------

_CUSTOM_ROLE_KEYS = ("roleName", "description", "actions", "notActions", "assignableScopes")


def parse_custom_role(body: Mapping[str, object], *, role_id: str) -> RoleDefinition:
    """Validate a custom role in Azure's JSON shape (``roleName``, ``description``, ``actions``,
    ``notActions``, ``assignableScopes``) into a ``RoleDefinition`` whose GUID is ``role_id``.

    Raises ``InvalidSpec`` listing every offending field, with paths such as ``actions[1]``."""
    errors = [
        FieldError(str(key), f"unknown field; the accepted fields are {', '.join(_CUSTOM_ROLE_KEYS)}")
        for key in body
        if key not in _CUSTOM_ROLE_KEYS
    ]
    guid = role_definition_guid(role_id)
    try:
        uuid.UUID(guid)
    except ValueError:
        errors.append(FieldError("id", f'"{guid[:40]}" is not a GUID'))
    if any(guid == role.id for role in BUILT_IN_ROLES):
        errors.append(FieldError("id", "is the id of a built-in role; built-in roles cannot be changed"))
    role_name = body.get("roleName")
    name = role_name.strip() if isinstance(role_name, str) else ""
    if not name:
        errors.append(FieldError("roleName", "required: a non-empty string"))
    elif len(name) > MAX_ROLE_NAME:
        errors.append(FieldError("roleName", f"at most {MAX_ROLE_NAME} characters"))
    elif any(role.role_name.lower() == name.lower() for role in BUILT_IN_ROLES):
        errors.append(FieldError("roleName", f'"{name}" is the name of a built-in role; choose another name'))
    description = body.get("description") or ""
    if not isinstance(description, str):
        errors.append(FieldError("description", "must be a string"))
        description = ""
    elif len(description) > MAX_DESCRIPTION:
        errors.append(FieldError("description", f"at most {MAX_DESCRIPTION} characters"))
    actions = _patterns(body.get("actions"), "actions", errors, required=True)
    not_actions = _patterns(body.get("notActions"), "notActions", errors, required=False)
    scopes = _assignable_scopes(body.get("assignableScopes"), errors)
    if errors:
        count = len(errors)
        raise InvalidSpec(f"the role definition is invalid ({count} error{'s' if count != 1 else ''})", errors)
    return RoleDefinition(guid, name, description, actions, not_actions, scopes, built_in=False)


def _patterns(raw: object, field: str, errors: list[FieldError], *, required: bool) -> tuple[str, ...]:
    if raw is None and not required:
        return ()
    if not isinstance(raw, list) or (required and not raw):
        need = "a non-empty list" if required else "a list"
        errors.append(FieldError(field, f"required: {need} of action strings such as {Action.ASSETS_READ.value}"))
        return ()
    out: list[str] = []
    for i, item in enumerate(raw):
        if not isinstance(item, str):
            errors.append(FieldError(f"{field}[{i}]", "must be a string"))
        elif len(item) > MAX_PATTERN or not ACTION_GRAMMAR.match(item):
            errors.append(
                FieldError(
                    f"{field}[{i}]",
                    f'"{item[:80]}" is not an action: segments of letters, digits, dots and "*" separated by '
                    f'single "/", at most {MAX_PATTERN} characters, e.g. {Action.ASSETS_WRITE.value}',
                )
            )
        else:
            out.append(item)
    return tuple(dict.fromkeys(out))


def _assignable_scopes(raw: object, errors: list[FieldError]) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        errors.append(
            FieldError("assignableScopes", 'required: a non-empty list of scopes, "/" or "/registries/{name}"')
        )
        return ()
    out: list[str] = []
    for i, item in enumerate(raw):
        field = f"assignableScopes[{i}]"
        if not isinstance(item, str):
            errors.append(FieldError(field, "must be a string"))
            continue
        try:
            out.append(parse_scope(item, field=field))
        except InvalidSpec as exc:
            errors.extend(exc.errors)
    return tuple(dict.fromkeys(out))


# --- Data-plane roles ---------------------------------------------------------------------------------

STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
ACR_PUSH = "8311e382-0749-4cb8-b61a-304f252e45ec"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"


@dataclass(frozen=True)
class DataPlaneRoles:
    """Built-in role GUIDs to assign on each regional storage account and on the registry's ACR."""

    storage_role_id: str
    acr_role_id: str


WRITE_DATA_PLANE = DataPlaneRoles(STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PUSH)
READ_DATA_PLANE = DataPlaneRoles(STORAGE_BLOB_DATA_READER, ACR_PULL)


def data_plane_roles(definition: RoleDefinition) -> DataPlaneRoles | None:
    """What an assignment of ``definition`` (at a registry scope or ``/``, the only scopes there are) brings
    on the data plane: Storage Blob Data Contributor + AcrPush when the role permits
    ``registries/assets/write``, else Storage Blob Data Reader + AcrPull when it permits
    ``registries/assets/read``, else nothing."""
    if definition.permits(Action.ASSETS_WRITE):
        return WRITE_DATA_PLANE
    if definition.permits(Action.ASSETS_READ):
        return READ_DATA_PLANE
    return None


ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("a70e22d7-94f3-56cf-8b37-81ac8475bade")
"""regctl's namespace for data-plane role assignment names: ``uuid5(NAMESPACE_URL, "urn:regctl:role-assignments")``
(a unit test re-derives it). Never change it: existing assignments would get new names and conflict."""


def data_plane_assignment_name(arm_scope: str, principal_id: str, role_definition_id: str) -> str:
    """The GUID name of the data-plane role assignment of ``role_definition_id`` (GUID or ARM id) to
    ``principal_id`` at ``arm_scope`` (a storage account's or ACR's ARM id): ``uuid5`` of the lowercased
    ``{scope}|{principal}|{role GUID}`` in ``ROLE_ASSIGNMENT_NAMESPACE``, so a retried PUT hits the same
    assignment."""
    scope = arm_scope.strip().rstrip("/").lower()
    key = f"{scope}|{principal_id.strip().lower()}|{role_definition_guid(role_definition_id)}"
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, key))
