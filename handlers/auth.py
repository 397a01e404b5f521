"""Who calls, and whether they may: every route declares its action here, in one table.

``ROUTE_ACTIONS`` maps each route (method and path template) to Azure's action string and to where the
action is checked:
- ``ROOT``: at ``/`` (the whole control plane);
- ``REGISTRY``: at ``/registries/{name}`` of the path; a caller who may not read that registry is told it
  does not exist (404), one who may read but not act gets 403 ``AuthorizationFailed``;
- ``OPERATION``: at the registry the operation id names, as ``REGISTRY``;
- ``ANYWHERE``: at any scope the caller holds it (the role catalog is the same at every scope);
- ``IN_HANDLER``: the scope comes from the body or the query (a new registry's name, an assignment's
  scope), so the handler checks it once it has parsed them; the route still declares its action here.

``authorize_route`` runs before every handler of the API router: it authenticates (401 with
``WWW-Authenticate: Bearer`` when there is no valid identity), applies the route's rule, and leaves the
caller on ``request.state.principal``. A route missing from the table is refused (fail closed), and a
test enumerates the app's routes against this table. ``PUBLIC`` routes need no identity; among them,
``SIGNED_ROUTES`` authenticate each delivery by its signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match

from shared.domain.access import Principal, registry_scope
from shared.domain.asset_spec import AssetType
from shared.domain.errors import Forbidden, NotFound
from shared.domain.records import operation_registry
from shared.domain.roles import Action
from shared.ports import Authenticator
from shared.services.access import AccessService


class Rule(Enum):
    ROOT = "root"
    REGISTRY = "registry"
    OPERATION = "operation"
    IN_HANDLER = "in handler"
    ANYWHERE = "anywhere"


#: Routes authenticated by a webhook signature instead of a bearer token (handlers/hooks.py): no identity,
#: no action; a delivery that is not validly signed gets 401 there.
SIGNED_ROUTES = frozenset({"/api/hooks/jira", "/api/hooks/servicenow", "/api/hooks/std"})

PUBLIC = SIGNED_ROUTES | frozenset(
    {
        "/api/health",
        "/api/docs",
        "/api/docs/oauth2-redirect",
        "/api/openapi.json",
        # the web console: static files and its sign-in settings (no secret); it calls the API with a token
        "/console",
        "/console/config.json",
        "/console/{path:path}",
    }
)

_ARM_SUBSCRIPTION = "/api/arm/subscriptions/{subscription_id}"
_ARM_PROVIDER = "/providers/Microsoft.MachineLearningServices"
_ARM_GROUP = _ARM_SUBSCRIPTION + "/resourceGroups/{resource_group}"
_ARM_REGISTRY = _ARM_GROUP + _ARM_PROVIDER + "/registries/{name}"
_ARM_OPERATIONS = _ARM_SUBSCRIPTION + _ARM_PROVIDER + "/locations/{location}"

ROUTE_ACTIONS: dict[tuple[str, str], tuple[str, Rule]] = {
    ("POST", "/api/registries"): (Action.REGISTRIES_WRITE, Rule.IN_HANDLER),
    ("GET", "/api/registries"): (Action.REGISTRIES_READ, Rule.IN_HANDLER),  # lists what the caller may read
    ("GET", "/api/registries/{name}"): (Action.REGISTRIES_READ, Rule.REGISTRY),
    ("PUT", "/api/registries/{name}"): (Action.REGISTRIES_WRITE, Rule.REGISTRY),
    ("PATCH", "/api/registries/{name}"): (Action.REGISTRIES_WRITE, Rule.REGISTRY),
    ("DELETE", "/api/registries/{name}"): (Action.REGISTRIES_DELETE, Rule.REGISTRY),
    ("POST", "/api/registries/{name}/sync"): (Action.REGISTRIES_WRITE, Rule.REGISTRY),
    ("PUT", "/api/registries/{name}/policy"): (Action.REGISTRIES_WRITE, Rule.REGISTRY),
    ("GET", "/api/operations/{operation_id}"): (Action.REGISTRIES_READ, Rule.OPERATION),
    ("GET", "/api/roleDefinitions"): (Action.ROLE_DEFINITIONS_READ, Rule.ANYWHERE),
    ("GET", "/api/roleDefinitions/{role_id}"): (Action.ROLE_DEFINITIONS_READ, Rule.ANYWHERE),
    ("PUT", "/api/roleDefinitions/{role_id}"): (Action.ROLE_DEFINITIONS_WRITE, Rule.ROOT),
    ("DELETE", "/api/roleDefinitions/{role_id}"): (Action.ROLE_DEFINITIONS_DELETE, Rule.ROOT),
    ("GET", "/api/roleAssignments"): (Action.ROLE_ASSIGNMENTS_READ, Rule.IN_HANDLER),  # at the query's scope
    ("GET", "/api/roleAssignments/{assignment_id}"): (Action.ROLE_ASSIGNMENTS_READ, Rule.IN_HANDLER),
    ("PUT", "/api/roleAssignments/{assignment_id}"): (Action.ROLE_ASSIGNMENTS_WRITE, Rule.IN_HANDLER),
    ("DELETE", "/api/roleAssignments/{assignment_id}"): (Action.ROLE_ASSIGNMENTS_DELETE, Rule.IN_HANDLER),
    ("GET", "/api/activity"): (Action.REGISTRIES_READ, Rule.IN_HANDLER),  # at the registry asked for, or /
    ("POST", "/api/registries/validate"): (Action.REGISTRIES_READ, Rule.ANYWHERE),  # stores nothing
    ("GET", "/api/regions"): (Action.REGISTRIES_READ, Rule.ANYWHERE),  # the region catalog
    ("GET", "/api/permissions"): (Action.REGISTRIES_READ, Rule.IN_HANDLER),  # the caller's, at the query's scope
    # the Azure-compatible surface (handlers/arm_api.py); a PUT may create, so it checks write at the new name
    ("PUT", _ARM_REGISTRY): (Action.REGISTRIES_WRITE, Rule.IN_HANDLER),
    ("GET", _ARM_REGISTRY): (Action.REGISTRIES_READ, Rule.REGISTRY),
    ("DELETE", _ARM_REGISTRY): (Action.REGISTRIES_DELETE, Rule.REGISTRY),
    ("POST", _ARM_REGISTRY + "/removeRegions"): (Action.REGISTRIES_WRITE, Rule.REGISTRY),
    ("GET", _ARM_GROUP + _ARM_PROVIDER + "/registries"): (Action.REGISTRIES_READ, Rule.IN_HANDLER),  # readable ones
    ("GET", _ARM_SUBSCRIPTION + _ARM_PROVIDER + "/registries"): (Action.REGISTRIES_READ, Rule.IN_HANDLER),
    ("GET", _ARM_OPERATIONS + "/registryOperationsStatus/{operation_id}"): (Action.REGISTRIES_READ, Rule.OPERATION),
    ("GET", _ARM_OPERATIONS + "/registryOperationResults/{operation_id}"): (Action.REGISTRIES_READ, Rule.OPERATION),
    ("GET", "/api/tickets/{source}/{key}"): (Action.REGISTRIES_READ, Rule.ROOT),
}


def asset_route_actions() -> dict[tuple[str, str], tuple[str, Rule]]:
    """The asset routes of every type (``models``, ``data``, ``components``, ``environments``), each checked
    at the registry of its path: reading needs ``assets/read``, registering and changing ``assets/write``,
    deleting ``assets/delete`` (a download credential is a read)."""
    routes: dict[tuple[str, str], tuple[str, Rule]] = {}
    for asset_type in AssetType:
        base = f"/api/registries/{{name}}/{asset_type.value}"
        version = base + "/{asset}/versions/{version}"
        routes |= {
            ("GET", base): (Action.ASSETS_READ, Rule.REGISTRY),
            ("GET", base + "/{asset}"): (Action.ASSETS_READ, Rule.REGISTRY),
            ("GET", base + "/{asset}/versions"): (Action.ASSETS_READ, Rule.REGISTRY),
            ("GET", version): (Action.ASSETS_READ, Rule.REGISTRY),
            ("PUT", version): (Action.ASSETS_WRITE, Rule.REGISTRY),
            ("PATCH", version): (Action.ASSETS_WRITE, Rule.REGISTRY),
            ("DELETE", version): (Action.ASSETS_DELETE, Rule.REGISTRY),
            ("POST", version + "/startPendingUpload"): (Action.ASSETS_WRITE, Rule.REGISTRY),
            ("POST", version + "/download"): (Action.ASSETS_READ, Rule.REGISTRY),
        }
    return routes


ROUTE_ACTIONS |= asset_route_actions()

#: Promotions (handlers/promotions_api.py): the target's write is checked on the path; the source's read, a
#: rule's registries and an approval's target by the service, once it knows them.
ROUTE_ACTIONS |= {
    ("POST", "/api/registries/{name}/{asset_type}/{asset}/versions/{version}/promote"): (
        Action.ASSETS_WRITE,
        Rule.REGISTRY,
    ),
    ("PUT", "/api/promotionRules/{rule}"): (Action.ASSETS_WRITE, Rule.IN_HANDLER),
    ("GET", "/api/promotionRules"): (Action.ASSETS_READ, Rule.ANYWHERE),
    ("GET", "/api/promotionRules/{rule}"): (Action.ASSETS_READ, Rule.ANYWHERE),
    ("DELETE", "/api/promotionRules/{rule}"): (Action.ASSETS_WRITE, Rule.IN_HANDLER),
    ("GET", "/api/promotions"): (Action.ASSETS_READ, Rule.ANYWHERE),
    ("GET", "/api/promotions/{promotion_id}"): (Action.ASSETS_READ, Rule.ANYWHERE),
    ("POST", "/api/promotions/{promotion_id}/approve"): (Action.ASSETS_WRITE, Rule.IN_HANDLER),
    ("POST", "/api/promotions/{promotion_id}/reject"): (Action.ASSETS_WRITE, Rule.IN_HANDLER),
    ("GET", "/api/events/deadLetters"): (Action.REGISTRIES_READ, Rule.ROOT),
}


def registry_dataplane_route_actions() -> dict[tuple[str, str], tuple[str, Rule]]:
    """Azure ML's registry data plane (handlers/registry_dataplane.py): discovery is a registry read, uploads
    and registrations ``assets/write``, everything else (a download credential too) ``assets/read``."""
    mfe = "/api/arm/mferp/managementfrontend"
    registry = mfe + _ARM_REGISTRY.removeprefix("/api/arm")
    discovery = "/api/arm/registrymanagement/v1.0/registries/{name}/discovery"
    routes: dict[tuple[str, str], tuple[str, Rule]] = {
        ("GET", discovery): (Action.REGISTRIES_READ, Rule.REGISTRY),
        ("PUT", registry + "/tempdatarefs/{asset}/versions/{version}"): (Action.ASSETS_WRITE, Rule.REGISTRY),
        ("POST", registry + "/datarefs/{asset}/versions/{version}"): (Action.ASSETS_READ, Rule.REGISTRY),
        ("GET", mfe + _ARM_OPERATIONS.removeprefix("/api/arm") + "/mfeOperationsStatus/{operation_id}"): (
            Action.ASSETS_READ,
            Rule.OPERATION,
        ),
    }
    for plural in ("models", "data"):
        base = f"{registry}/{plural}"
        routes |= {
            ("GET", base): (Action.ASSETS_READ, Rule.REGISTRY),
            ("GET", base + "/{asset}"): (Action.ASSETS_READ, Rule.REGISTRY),
            ("GET", base + "/{asset}/versions"): (Action.ASSETS_READ, Rule.REGISTRY),
            ("GET", base + "/{asset}/versions/{version}"): (Action.ASSETS_READ, Rule.REGISTRY),
            ("PUT", base + "/{asset}/versions/{version}"): (Action.ASSETS_WRITE, Rule.REGISTRY),
        }
    return routes


ROUTE_ACTIONS |= registry_dataplane_route_actions()


@dataclass(frozen=True)
class Gate:
    """What the API's dependencies need: who is calling, and the access decisions."""

    authenticator: Callable[[], Authenticator]
    access: Callable[[], AccessService]


def route_of(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if path is None:  # not matched yet (a dependency of the router runs after matching, so rarely here)
        for candidate in request.app.router.routes:
            if candidate.matches(request.scope)[0] is Match.FULL:
                return str(getattr(candidate, "path", request.url.path))
        return request.url.path
    return str(path)


def api_routes(routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    """Every (method, path template) an app serves, through included routers too."""
    found: set[tuple[str, str]] = set()
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found |= api_routes(included.routes)
        elif isinstance(route, APIRoute):
            found |= {(method, route.path) for method in route.methods or ()}
    return found


def caller(request: Request) -> Principal:
    """The principal ``authorize_route`` found for this request."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise Forbidden("this route has no identity", code="AuthorizationFailed")
    return principal


def authorize_route(gate: Gate) -> Callable[[Request], None]:
    def dependency(request: Request) -> None:
        path = route_of(request)
        if path in PUBLIC:
            return
        declared = ROUTE_ACTIONS.get((request.method, path))
        if declared is None:
            raise Forbidden(f"{request.method} {path} declares no action", code="AuthorizationFailed")
        principal = gate.authenticator().authenticate(request.headers)
        request.state.principal = principal
        action, rule = declared
        access = gate.access()
        if rule is Rule.ROOT:
            access.require(principal, action, "/")
        elif rule is Rule.ANYWHERE:
            access.require_anywhere(principal, action)
        elif rule is Rule.REGISTRY:
            access.require_registry(principal, action, request.path_params["name"])
        elif rule is Rule.OPERATION:
            registry = operation_registry(request.path_params["operation_id"])
            if registry is None:
                raise NotFound(f"operation {request.path_params['operation_id']} not found", code="OperationNotFound")
            try:
                access.require_registry(principal, action, registry)
            except NotFound:
                raise NotFound(
                    f"operation {request.path_params['operation_id']} not found", code="OperationNotFound"
                ) from None

    return dependency


def require_at(gate: Gate, principal: Principal, action: str, scope: str) -> None:
    """An ``IN_HANDLER`` check, once the handler knows the scope."""
    gate.access().require(principal, action, scope)


def require_on_registry(gate: Gate, principal: Principal, action: str, registry: str) -> None:
    gate.access().require_registry(principal, action, registry)


__all__ = [
    "PUBLIC",
    "ROUTE_ACTIONS",
    "SIGNED_ROUTES",
    "Gate",
    "Rule",
    "api_routes",
    "authorize_route",
    "caller",
    "registry_scope",
]
