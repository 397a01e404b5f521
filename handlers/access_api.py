"""Access routes: role definitions, role assignments (ARM's shapes) and the activity log.

Thin: parse, one service call, map. Which action each needs is declared in ``handlers/auth.py``; the
routes whose scope is in the body or the query check it here, once they know it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from handlers import openapi_docs as docs
from handlers.auth import Gate, authorize_route, caller, require_at, require_on_registry
from shared.domain.access import ROOT_SCOPE, Principal, parse_scope, scope_registry
from shared.domain.activity import ActivityEntry
from shared.domain.documents import load_json
from shared.domain.errors import InvalidSpec, NotFound
from shared.domain.roles import Action, RoleDefinition
from shared.services.access import AssignmentView

ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
MAX_ACCESS_BODY = 16 * 1024


def _who(principal: Principal | None) -> dict[str, str] | None:
    return {"id": principal.id, "name": principal.name, "type": principal.type} if principal else None


def definition_document(role: RoleDefinition) -> dict[str, Any]:
    return {
        "id": role.arm_id,
        "name": role.id,
        "type": ROLE_DEFINITION_TYPE,
        "properties": {
            "roleName": role.role_name,
            "description": role.description,
            "type": role.role_type,
            "permissions": [{"actions": list(role.actions), "notActions": list(role.not_actions)}],
            "assignableScopes": list(role.assignable_scopes),
        },
    }


def assignment_document(view: AssignmentView) -> dict[str, Any]:
    a = view.assignment
    return {
        "id": f"/providers/Microsoft.Authorization/roleAssignments/{a.id}",
        "name": a.id,
        "type": ROLE_ASSIGNMENT_TYPE,
        "properties": {
            "scope": a.scope,
            "principalId": a.principal_id,
            "principalType": a.principal_type,
            "roleDefinitionId": view.role.arm_id if view.role else a.role_definition_id,
            "roleName": view.role.role_name if view.role else None,
            "createdBy": _who(a.created_by),
            "createdOn": a.created_at.isoformat() if a.created_at else None,
            "dataPlane": {"state": view.data_plane_state, "operation": view.data_plane_operation},
        },
    }


def activity_document(entry: ActivityEntry) -> dict[str, Any]:
    return {
        "time": entry.time.isoformat(),
        "principal": _who(entry.principal),
        "action": entry.action,
        "scope": entry.scope,
        "result": entry.result,
        "operation": f"/api/operations/{entry.operation}" if entry.operation else None,
        "detail": entry.detail,
    }


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_ACCESS_BODY:
        raise InvalidSpec(f"the body is over {MAX_ACCESS_BODY} bytes", code="RequestTooLarge")
    return load_json(raw)


def access_router(gate: Gate) -> APIRouter:
    router = APIRouter(prefix="/api", dependencies=[Depends(authorize_route(gate))], tags=["access"])

    # -- role definitions --------------------------------------------------------------------------

    @router.get(
        "/roleDefinitions", summary="Built-in and custom role definitions", responses=docs.problems(401, 403, 422)
    )
    def list_definitions() -> dict[str, Any]:
        return {"value": [definition_document(d) for d in gate.access().list_definitions()]}

    @router.get("/roleDefinitions/{role_id}", summary="A role definition", responses=docs.problems(401, 403, 404, 422))
    def get_definition(role_id: str) -> dict[str, Any]:
        return definition_document(gate.access().get_definition(role_id))

    @router.put(
        "/roleDefinitions/{role_id}",
        summary="Create or replace a custom role: roleName, description, actions, notActions, assignableScopes",
        responses=docs.problems(400, 401, 403, 409, 422),
    )
    async def put_definition(role_id: str, request: Request) -> JSONResponse:
        body = await _body(request)
        created, role = await run_in_threadpool(gate.access().put_definition, role_id, body, caller(request))
        return JSONResponse(definition_document(role), status_code=201 if created else 200)

    @router.delete(
        "/roleDefinitions/{role_id}",
        summary="Delete a custom role (409 while assignments use it)",
        responses=docs.problems(401, 403, 409, 422),
    )
    def delete_definition(role_id: str, request: Request) -> Response:
        removed = gate.access().delete_definition(role_id, caller(request))
        return Response(status_code=204) if removed is None else JSONResponse(definition_document(removed))

    # -- role assignments --------------------------------------------------------------------------

    @router.get(
        "/roleAssignments",
        summary="Role assignments, by scope and principal",
        responses=docs.problems(401, 403, 404, 422),
    )
    def list_assignments(
        request: Request,
        scope: Annotated[str | None, Query()] = None,
        principal_id: Annotated[str | None, Query(alias="principalId")] = None,
    ) -> dict[str, Any]:
        where = parse_scope(scope) if scope else ROOT_SCOPE
        _check_scope(gate, caller(request), Action.ROLE_ASSIGNMENTS_READ, where)
        found = gate.access().list_assignments(scope, principal_id)
        return {"value": [assignment_document(v) for v in found]}

    @router.get(
        "/roleAssignments/{assignment_id}", summary="A role assignment", responses=docs.problems(401, 403, 404, 422)
    )
    def get_assignment(assignment_id: str, request: Request) -> dict[str, Any]:
        view = gate.access().get_assignment(assignment_id)
        _check_scope(gate, caller(request), Action.ROLE_ASSIGNMENTS_READ, view.assignment.scope)
        return assignment_document(view)

    @router.put(
        "/roleAssignments/{assignment_id}",
        summary="Assign a role at / or /registries/{name}: scope, principalId, principalType, roleDefinitionId",
        responses=docs.problems(400, 401, 403, 404, 409, 422),
    )
    async def put_assignment(assignment_id: str, request: Request) -> JSONResponse:
        body = await _body(request)
        properties = body.get("properties", body)
        scope = properties.get("scope") if isinstance(properties, dict) else None
        principal = caller(request)
        if isinstance(scope, str):
            await run_in_threadpool(_check_scope, gate, principal, Action.ROLE_ASSIGNMENTS_WRITE, parse_scope(scope))
        created, view = await run_in_threadpool(gate.access().put_assignment, assignment_id, body, principal)
        return JSONResponse(assignment_document(view), status_code=201 if created else 200)

    @router.delete(
        "/roleAssignments/{assignment_id}",
        summary="Remove a role assignment (and its data-plane roles in every region)",
        responses=docs.problems(401, 403, 422),
    )
    def delete_assignment(assignment_id: str, request: Request) -> Response:
        principal = caller(request)
        access = gate.access()
        try:
            existing = access.get_assignment(assignment_id)
        except NotFound:  # absent: nothing to check, 204 below
            existing = None
        if existing is not None:
            _check_scope(gate, principal, Action.ROLE_ASSIGNMENTS_DELETE, existing.assignment.scope)
        removed = access.delete_assignment(assignment_id, principal)
        return Response(status_code=204) if removed is None else JSONResponse(assignment_document(removed))

    # -- the caller's own permissions -------------------------------------------------------------

    @router.get(
        "/permissions",
        summary="The caller's permissions over a scope (ARM's Permissions - List): actions and notActions",
        responses=docs.problems(401, 403, 404, 422),
    )
    def list_permissions(request: Request, scope: Annotated[str, Query()] = ROOT_SCOPE) -> dict[str, Any]:
        where = parse_scope(scope)
        principal = caller(request)
        _check_scope(gate, principal, Action.REGISTRIES_READ, where)
        roles = gate.access().permissions(principal, where)
        return {"value": [{"actions": list(r.actions), "notActions": list(r.not_actions)} for r in roles]}

    # -- the activity log --------------------------------------------------------------------------

    @router.get(
        "/activity",
        summary="Accepted writes: who, what, scope, when, result",
        responses=docs.problems(401, 403, 404, 422),
    )
    def list_activity(
        request: Request,
        registry: Annotated[str | None, Query()] = None,
        since: Annotated[datetime | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> dict[str, Any]:
        principal = caller(request)
        if registry:
            require_on_registry(gate, principal, Action.REGISTRIES_READ, registry)
        else:
            require_at(gate, principal, Action.REGISTRIES_READ, ROOT_SCOPE)
        return {"value": [activity_document(e) for e in gate.access().activity(registry, since, limit)]}

    return router


def _check_scope(gate: Gate, principal: Principal, action: str, scope: str) -> None:
    """An action at ``scope``: on a registry the caller may not read, that registry does not exist (404)."""
    registry = scope_registry(scope)
    if registry is None:
        require_at(gate, principal, action, scope)
    else:
        require_on_registry(gate, principal, action, registry)
