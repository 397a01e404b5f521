"""The HTTP API (DESIGN.md section 5): FastAPI routers under ``/api``, problem+json errors.

Handlers are thin: parse the request, make one service call, map the result. Service calls block (Azure
SDK I/O), so they run in the thread pool (plain ``def`` routes, or ``run_in_threadpool`` from the
``async`` ones that stream the body): the event loop never waits on storage. Request bodies are capped
(``MAX_BODY_BYTES``) before parsing, and a rejected request stores and enqueues nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from handlers import openapi_docs as docs
from handlers import problems
from handlers.access_api import access_router
from handlers.arm_api import arm_aware, arm_router
from handlers.assets_api import assets_router
from handlers.auth import Gate, authorize_route, caller, require_at
from handlers.bodies import read_document
from handlers.console_site import CONSOLE_DIR, ConsoleConfig, console_router
from handlers.hooks import hooks_router, operation_ticket, tickets_router
from handlers.promotions_api import promotions_router
from handlers.registry_dataplane import registry_dataplane_router
from shared.domain.access import registry_scope
from shared.domain.arm_resource import ArmSite
from shared.domain.commands import (
    CreateRegistry,
    DeleteRegistry,
    MergePatch,
    PatchRegistry,
    ReplaceRegistry,
    SetPolicy,
    SyncRegistry,
)
from shared.domain.errors import InvalidSpec, RequestError, Unauthenticated
from shared.domain.records import OperationRecord, ReconcilePolicy, RegistryRecord
from shared.domain.regions import REGIONS
from shared.domain.roles import Action
from shared.observability import continued
from shared.services.assets import AssetService
from shared.services.promotions import PromotionService
from shared.services.registries import OperationView, RegistryService
from shared.services.tickets import TicketService

log = logging.getLogger(__name__)

MAX_IDEMPOTENCY_KEY = 200


def operation_document(view: OperationView) -> dict[str, Any]:
    op = view.operation
    doc: dict[str, Any] = {
        "id": op.id,
        "registry": view.registry_name,
        "kind": op.kind.value,
        "generation": op.generation,
        "status": op.status.value,
        "createdAt": op.created_at.isoformat(),
        "updatedAt": op.updated_at.isoformat(),
        "requestedBy": (
            {"id": op.requested_by.id, "name": op.requested_by.name, "type": op.requested_by.type}
            if op.requested_by
            else None
        ),
        "steps": [
            {
                "step": s.key,
                "kind": s.kind,
                "goal": s.goal,
                "region": s.region,
                "index": s.index,
                "state": s.state.value,
                "attempts": s.attempts,
                "resource": s.resource_name,
                "lastError": s.last_error,
                "updatedAt": s.updated_at.isoformat(),
            }
            for s in view.steps
        ],
    }
    if op.error_code:
        doc["error"] = {"code": op.error_code, "message": op.error_message}
    return doc


def registry_document(record: RegistryRecord) -> dict[str, Any]:
    return {
        "name": record.name,
        "spec": record.spec,
        "status": record.status.value,
        "reconcilePolicy": record.policy.value,
        "generation": record.generation,
        "observedGeneration": record.observed_generation,
        "operation": f"/api/operations/{record.operation_id}",
        "resources": record.resources,
        "drift": record.drift,
        "observedAt": record.observed_at.isoformat() if record.observed_at else None,
        "createdAt": record.created_at.isoformat(),
        "updatedAt": record.updated_at.isoformat(),
    }


class PolicyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reconcile_policy: ReconcilePolicy


def _check_key(idempotency_key: str | None) -> None:
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise InvalidSpec(f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters", code="InvalidHeader")


def accepted(operation: OperationRecord, warnings: list[str]) -> JSONResponse:
    location = f"/api/operations/{operation.id}"
    body = {"operation": location, "id": operation.id, "status": operation.status.value, "warnings": warnings}
    return JSONResponse(body, status_code=202, headers={"Location": location})


class TraceRequests:
    """ASGI middleware: each request runs in the trace its ``traceparent`` header names (or a new one), so
    the operation it starts and every message that operation sends carry it. Plain ASGI, not
    ``BaseHTTPMiddleware``: it adds no task or body buffering per request."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        carrier = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope.get("headers", ())
            if key in (b"traceparent", b"tracestate")
        }
        with continued(carrier, f"{scope.get('method', '')} {scope.get('path', '')}"):
            await self._app(scope, receive, send)


def _no_assets() -> AssetService:
    raise RuntimeError("this app was built without the asset service")


def _no_promotions() -> PromotionService:
    raise RuntimeError("this app was built without the promotion service")


def _install_errors(api: FastAPI) -> None:
    """problem+json for every error (ARM's envelope under ``/api/arm``), and the trace of each request."""
    api.add_exception_handler(Unauthenticated, arm_aware(problems.unauthenticated))
    api.add_exception_handler(RequestError, arm_aware(problems.request_error))
    api.add_exception_handler(RequestValidationError, arm_aware(problems.validation_error))
    api.add_exception_handler(StarletteHTTPException, arm_aware(problems.http_error))
    for unavailable in problems.UNAVAILABLE_ERRORS:
        api.add_exception_handler(unavailable, arm_aware(problems.unavailable))
    api.add_exception_handler(Exception, arm_aware(problems.unexpected_error))
    api.add_middleware(TraceRequests)


def create_api(
    services: Callable[[], RegistryService],
    health: Callable[[], dict[str, bool]],
    gate: Gate,
    *,
    assets: Callable[[], AssetService] = _no_assets,
    arm: Callable[[], ArmSite] | None = None,
    console: Callable[[], ConsoleConfig] | None = None,
    console_dir: Path = CONSOLE_DIR,
    tickets: Callable[[], TicketService] | None = None,
    webhook_secrets: Callable[[str], list[str]] | None = None,
    promotions: Callable[[], PromotionService] = _no_promotions,
) -> FastAPI:
    """The API; with ``arm``, the Azure-compatible surface under ``/api/arm`` too (handlers/arm_api.py); with
    ``console``, the web console's files and sign-in settings at ``/console``. ``tickets`` and
    ``webhook_secrets`` default to the composition root's (tests hand in theirs)."""
    api = FastAPI(
        title="regctl",
        version="0.1.0",
        description="Control plane for multi-region ML asset registries on Azure.",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    _install_errors(api)

    router = APIRouter(prefix="/api", dependencies=[Depends(authorize_route(gate))])

    @router.post(
        "/registries",
        status_code=202,
        summary="Create a registry from a spec (YAML or JSON)",
        openapi_extra=docs.spec_body(),
        responses={**docs.accepted_response(), **docs.problems(400, 409, 413, 415, 422, 503)},
    )
    async def create_registry(
        request: Request, idempotency_key: str | None = Header(default=None, alias="Idempotency-Key")
    ) -> Response:
        _check_key(idempotency_key)
        principal = caller(request)
        command = CreateRegistry.from_document(await read_document(request), idempotency_key, principal)
        await run_in_threadpool(require_at, gate, principal, Action.REGISTRIES_WRITE, registry_scope(command.spec.key))
        result = await run_in_threadpool(services().create, command)
        return accepted(result.operation, result.warnings)

    @router.post(
        "/registries/validate",
        summary="Check a spec with the rules of create, and store nothing: the normalised spec and warnings",
        openapi_extra=docs.spec_body(),
        responses=docs.problems(400, 413, 415, 422),
    )
    async def validate_registry(request: Request) -> dict[str, Any]:
        command = CreateRegistry.from_document(await read_document(request))
        return {"spec": command.spec.to_document(), "warnings": command.warnings}

    @router.get("/regions", summary="The regions a registry may use: ARM name and display name")
    def list_regions() -> dict[str, Any]:
        return {"value": [{"name": name, "displayName": display} for name, display in REGIONS.items()]}

    @router.put(
        "/registries/{name}",
        status_code=202,
        summary="Replace a registry's spec (YAML or JSON)",
        openapi_extra=docs.spec_body(),
        responses={**docs.accepted_response(), **docs.problems(400, 404, 409, 413, 415, 422, 503)},
    )
    async def replace_registry(
        name: str, request: Request, idempotency_key: str | None = Header(default=None, alias="Idempotency-Key")
    ) -> Response:
        _check_key(idempotency_key)
        command = ReplaceRegistry.from_document(name, await read_document(request), idempotency_key, caller(request))
        result = await run_in_threadpool(services().replace, command)
        return accepted(result.operation, result.warnings)

    @router.patch(
        "/registries/{name}",
        status_code=202,
        summary="Change a registry with a JSON merge patch",
        openapi_extra=docs.patch_body(),
        responses={**docs.accepted_response(), **docs.problems(400, 404, 409, 413, 415, 422, 503)},
    )
    async def patch_registry(
        name: str, request: Request, idempotency_key: str | None = Header(default=None, alias="Idempotency-Key")
    ) -> Response:
        _check_key(idempotency_key)
        patch = MergePatch.parse(await read_document(request, json_only=True))
        command = PatchRegistry(name, patch, idempotency_key, caller(request))
        result = await run_in_threadpool(services().patch, command)
        return accepted(result.operation, result.warnings)

    @router.delete(
        "/registries/{name}",
        status_code=202,
        summary="Tear down every resource of a registry",
        responses={**docs.accepted_response(), **docs.problems(404, 409, 422, 503)},
    )
    def delete_registry(
        name: str, request: Request, idempotency_key: str | None = Header(default=None, alias="Idempotency-Key")
    ) -> Response:
        _check_key(idempotency_key)
        result = services().delete(DeleteRegistry(name, idempotency_key, caller(request)))
        return accepted(result.operation, result.warnings)

    @router.post(
        "/registries/{name}/sync",
        status_code=202,
        summary="Reconcile one registry now",
        responses={**docs.accepted_response(), **docs.problems(404, 409, 422, 503)},
    )
    def sync_registry(name: str, request: Request) -> Response:
        result = services().sync(SyncRegistry(name, caller(request)))
        return accepted(result.operation, result.warnings)

    @router.put(
        "/registries/{name}/policy",
        summary="Set the reconcile policy: manage, observe or skip",
        responses=docs.problems(404, 409, 422, 503),
    )
    def set_policy(name: str, body: PolicyBody, request: Request) -> dict[str, Any]:
        return registry_document(services().set_policy(SetPolicy(name, body.reconcile_policy, caller(request))))

    @router.get("/registries", summary="List registries", responses=docs.problems(503))
    def list_registries(request: Request) -> dict[str, Any]:
        readable = gate.access().readable(caller(request))
        return {"value": [registry_document(r) for r in services().list() if readable.allows(r.key)]}

    @router.get(
        "/registries/{name}", summary="A registry: spec, status and resources", responses=docs.problems(404, 422, 503)
    )
    def get_registry(name: str) -> dict[str, Any]:
        return registry_document(services().get(name))

    @router.get(
        "/operations/{operation_id}", summary="An operation and its steps", responses=docs.problems(404, 422, 503)
    )
    def get_operation(operation_id: str) -> dict[str, Any]:
        view = services().operation(operation_id)
        document = operation_document(view)
        ticket = operation_ticket(view.operation.requested_by, operation_id, tickets)
        if ticket is not None:
            document["ticket"] = ticket
        return document

    @router.get("/health", summary="Liveness of the store, the queue and the ARM credential")
    def get_health() -> JSONResponse:
        checks = health()
        ok = all(checks.values())
        return JSONResponse({"status": "ok" if ok else "degraded", "checks": checks}, status_code=200 if ok else 503)

    routers = [router, access_router(gate), assets_router(gate, assets)]
    routers += [hooks_router(tickets, webhook_secrets), tickets_router(gate, tickets)]
    routers += [arm_router(services, gate, arm)] if arm is not None else []
    routers += [registry_dataplane_router(services, assets, gate, arm)] if arm is not None else []
    routers += [console_router(console, console_dir)] if console is not None else []
    routers += [promotions_router(gate, promotions)]
    for included in routers:
        api.include_router(included)
    docs.install(api)
    return api
