"""Role assignments at any scope (Microsoft.Authorization/roleAssignments, api 2022-04-01).

PUT answers 201 for a new assignment and 200 for the same one again. Names are GUIDs and unique across
the tenant: the same GUID with another principal, role or scope is 409 ``RoleAssignmentUpdateNotPermitted``;
the same principal, role and scope under another GUID is 409 ``RoleAssignmentExists``. LIST takes
``$filter=atScope()`` (at or above the scope), ``principalId eq '{id}'`` or ``assignedTo('{id}')`` (at,
above or below, for that principal; group membership is not simulated), alone or joined with ``and``;
without a filter it lists assignments at, above and below the scope. Role definitions are not checked:
any GUID-named definition id is accepted.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.arm.config import SANDBOX_CALLER
from sandbox.arm.context import Ctx
from sandbox.arm.envelope import (
    ArmError,
    Response,
    invalid_request_content,
    method_not_allowed,
    resource_group_not_found,
    resource_not_found,
)
from sandbox.arm.lro import iso, utc_now
from sandbox.arm.routes import REGISTRY_TYPE, ROLE_ASSIGNMENT_TYPE, STORAGE_TYPE
from sandbox.arm.state import RoleAssignment, is_within

_ROLE_DEF_RE = re.compile(
    r"^(?:/subscriptions/[^/]+)?/providers/Microsoft\.Authorization/roleDefinitions/([^/]+)$", re.I
)
_PRINCIPAL_TYPES = ("User", "Group", "ServicePrincipal", "ForeignGroup", "Device")
_FILTER_PRINCIPAL = re.compile(r"^principalId\s+eq\s+'([^']*)'$", re.I)
_FILTER_ASSIGNED = re.compile(r"^assignedTo\('([^']*)'\)$", re.I)
_FILTER_AND = re.compile(r"\s+and\s+", re.I)


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def assignment_body(ra: RoleAssignment) -> dict[str, Any]:
    return {
        "properties": {
            "roleDefinitionId": ra.role_definition_id,
            "principalId": ra.principal_id,
            "principalType": ra.principal_type,
            "scope": ra.scope,
            "condition": ra.condition,
            "conditionVersion": ra.condition_version,
            "createdOn": iso(ra.created_wall),
            "updatedOn": iso(ra.updated_wall),
            "createdBy": SANDBOX_CALLER,
            "updatedBy": SANDBOX_CALLER,
            "delegatedManagedIdentityResourceId": None,
            "description": ra.description,
        },
        "id": ra.id,
        "type": ROLE_ASSIGNMENT_TYPE,
        "name": ra.name,
    }


def _role_guid(role_definition_id: str) -> str:
    match = _ROLE_DEF_RE.match(role_definition_id)
    return match.group(1).lower() if match else ""


def _check_scope(ctx: Ctx) -> None:
    """The resource group (and a simulated resource) a scope names must exist, as ARM checks."""
    params = ctx.route.params
    if "rg" not in params:
        return
    group = ctx.store.group(params["sub"], params["rg"])
    if group is None:
        raise resource_group_not_found(params["rg"])
    parts = [p for p in params["scope"].split("/") if p]
    if len(parts) < 8 or parts[4].lower() != "providers":
        return
    rtype, name = f"{parts[5]}/{parts[6]}", parts[7]
    if rtype.lower() == STORAGE_TYPE.lower() and ctx.store.account(params["sub"], params["rg"], name) is None:
        raise resource_not_found(STORAGE_TYPE, name, group.name)
    if rtype.lower() == REGISTRY_TYPE.lower() and ctx.store.registry(params["sub"], params["rg"], name) is None:
        raise resource_not_found(REGISTRY_TYPE, name, group.name)


def handle_list(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    _check_scope(ctx)
    scope = ctx.param("scope")
    raw_filter = ctx.request.query.get("$filter", "").strip()
    at_scope, principal = _parse_filter(raw_filter) if raw_filter else (False, None)
    items = []
    for ra in ctx.store.role_assignments.values():
        above = is_within(scope, ra.scope)
        below = is_within(ra.scope, scope)
        if at_scope and not above:
            continue
        if not (above or below):
            continue
        if principal is not None and ra.principal_id.lower() != principal.lower():
            continue
        items.append(assignment_body(ra))
    return ctx.paged(items)


def _parse_filter(raw: str) -> tuple[bool, str | None]:
    at_scope, principal = False, None
    for piece in _FILTER_AND.split(raw):
        part = piece.strip()
        matched = _FILTER_PRINCIPAL.match(part) or _FILTER_ASSIGNED.match(part)
        if part.lower() == "atscope()":
            at_scope = True
        elif matched:
            principal = matched.group(1)
        else:
            # Message as Azure words it; the code is UNVERIFIED.
            raise ArmError(
                400,
                "UnsupportedQuery",
                f"The filter '{raw}' is not supported. Supported filters are either 'atScope()' or "
                "'principalId eq '{value}'' or 'assignedTo('{value}')'.",
            )
    return at_scope, principal


def handle_item(ctx: Ctx) -> Response:
    method = ctx.method
    _check_scope(ctx)
    name = ctx.param("name")
    existing = ctx.store.role_assignments.get(name.lower())
    here = existing is not None and existing.scope.lower().rstrip("/") == ctx.param("scope").lower().rstrip("/")
    if method == "GET":
        if existing is None or not here:
            raise ArmError(404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found.")
        return Response.json(200, assignment_body(existing))
    if method == "DELETE":
        if existing is None or not here:
            return Response.empty(204)
        del ctx.store.role_assignments[name.lower()]
        return Response.json(200, assignment_body(existing))
    if method == "PUT":
        return _put(ctx, name, existing)
    raise method_not_allowed(method)


def _put(ctx: Ctx, name: str, existing: RoleAssignment | None) -> Response:
    if not _is_guid(name):
        raise ArmError(
            400,
            "InvalidRoleAssignmentId",
            f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
        )
    body = ctx.request.json_body()
    props = body.get("properties")
    if not isinstance(props, dict):
        raise invalid_request_content("'properties' is required")
    role = props.get("roleDefinitionId")
    if not isinstance(role, str) or not _is_guid(_role_guid(role)):
        raise ArmError(400, "InvalidRoleDefinitionId", f"The role definition ID '{role}' is not valid.")
    principal = props.get("principalId")
    if not isinstance(principal, str) or not _is_guid(principal):
        raise ArmError(400, "InvalidPrincipalId", "A valid principal ID must be provided for role assignment.")
    principal_type = props.get("principalType") or "User"
    if principal_type not in _PRINCIPAL_TYPES:
        raise invalid_request_content(f"principalType must be one of {', '.join(_PRINCIPAL_TYPES)}")
    scope = ctx.param("scope").rstrip("/") or "/"
    if existing is not None:
        same = (
            existing.scope.lower() == scope.lower()
            and existing.principal_id.lower() == principal.lower()
            and _role_guid(existing.role_definition_id) == _role_guid(role)
        )
        if not same:
            raise ArmError(
                409,
                "RoleAssignmentUpdateNotPermitted",
                "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
            )
        existing.description = props.get("description", existing.description)
        existing.condition = props.get("condition", existing.condition)
        existing.condition_version = props.get("conditionVersion", existing.condition_version)
        existing.updated_wall = utc_now()
        return Response.json(200, assignment_body(existing))
    for other in ctx.store.role_assignments.values():
        if (
            other.scope.lower() == scope.lower()
            and other.principal_id.lower() == principal.lower()
            and _role_guid(other.role_definition_id) == _role_guid(role)
        ):
            raise ArmError(
                409,
                "RoleAssignmentExists",
                f"The role assignment already exists. The ID of the existing role assignment is "
                f"{other.name.replace('-', '').lower()}.",
            )
    ra = RoleAssignment(
        name=name.lower(),
        scope=scope,
        role_definition_id=role,
        principal_id=principal,
        principal_type=principal_type,
        description=props.get("description"),
        condition=props.get("condition"),
        condition_version=props.get("conditionVersion"),
    )
    ctx.store.role_assignments[name.lower()] = ra
    return Response.json(201, assignment_body(ra))
