"""The Azure-compatible surface: ``Microsoft.MachineLearningServices/registries`` as ARM serves it, under
``/api/arm`` (what a client such as azure-ai-ml takes as its ``resource_manager``).

Thin: ARM bodies are translated into the commands ``/api`` uses (shared/domain/arm_registry.py), records
into ARM resources (shared/domain/arm_resource.py), errors into ARM's envelope (shared/domain/arm_errors.py).
Writes answer as ARM's long-running operations do: absolute ``Azure-AsyncOperation`` and ``Location``
links and a ``Retry-After``; the status resources read regctl's operation. docs/azure-ml-compatibility.md
lists every route, what is served, what is refused and why.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from handlers import problems
from handlers.auth import Gate, authorize_route, caller, require_at
from shared.domain.access import Principal, registry_scope
from shared.domain.arm_errors import arm_error, envelope
from shared.domain.arm_registry import check_api_version, regions_to_remove, spec_document, without_regions
from shared.domain.arm_resource import (
    RESULT_SEGMENT,
    STATUS_SEGMENT,
    ArmScope,
    ArmSite,
    group_of,
    operation_error,
    operation_path,
    operation_status,
    registry_resource,
)
from shared.domain.commands import CreateRegistry, DeleteRegistry, ReplaceRegistry
from shared.domain.documents import MAX_DOCUMENT_BYTES, load_json
from shared.domain.errors import Conflict, InvalidSpec, NotFound, RequestError, TransientError
from shared.domain.records import OperationKind, OperationRecord, OperationStatus, RegistryRecord
from shared.domain.roles import Action
from shared.services.registries import RegistryService

ARM_PREFIX = "/api/arm"
SUBSCRIPTION = "/subscriptions/{subscription_id}"
PROVIDER = "/providers/Microsoft.MachineLearningServices"
REGISTRIES_IN_GROUP = SUBSCRIPTION + "/resourceGroups/{resource_group}" + PROVIDER + "/registries"
REGISTRY = REGISTRIES_IN_GROUP + "/{name}"
REGISTRIES = SUBSCRIPTION + PROVIDER + "/registries"
OPERATION_STATUS = SUBSCRIPTION + PROVIDER + "/locations/{location}/" + STATUS_SEGMENT + "/{operation_id}"
OPERATION_RESULT = SUBSCRIPTION + PROVIDER + "/locations/{location}/" + RESULT_SEGMENT + "/{operation_id}"
RETRY_AFTER_SECONDS = 1
"""What clients are asked to wait between polls: azure-ai-ml waits 5 s (create) or 30 s (delete) without it."""
PAGE_SIZE = 100
_GROUP_NAME = re.compile(r"^[-\w._()]{0,89}[-\w_()]\Z")


def _is_arm(request: Request) -> bool:
    return request.url.path.startswith(ARM_PREFIX + "/")


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def arm_aware(
    handler: Callable[[Request, Exception], Awaitable[Response]],
) -> Callable[[Request, Exception], Awaitable[Response]]:
    """An exception handler of the app that answers ARM's envelope on ``/api/arm`` and ``handler``'s
    problem+json everywhere else."""

    async def answer(request: Request, exc: Exception) -> Response:
        if not _is_arm(request):
            return await handler(request, exc)
        headers: dict[str, str] = {}
        if isinstance(exc, RequestError):
            status, body = arm_error(exc)
            if status == 401:
                headers["WWW-Authenticate"] = 'Bearer realm="regctl", error="invalid_token"'
        elif isinstance(exc, RequestValidationError):
            status, body = envelope(400, "InvalidRequestContent", "The request is invalid: " + str(exc.errors())[:300])
        elif isinstance(exc, StarletteHTTPException):
            codes = {
                404: "NotFound",
                405: "MethodNotAllowed",
                413: "RequestEntityTooLarge",
                415: "UnsupportedMediaType",
            }
            status, body = envelope(exc.status_code, codes.get(exc.status_code, "HttpError"), str(exc.detail))
        elif isinstance(exc, TransientError):
            status, body = envelope(503, "ServiceUnavailable", "a dependency is unavailable; retry the request shortly")
            headers["Retry-After"] = str(problems.UNAVAILABLE_RETRY_AFTER)
        else:
            status, body = envelope(500, "InternalServerError", "an unexpected error occurred; it has been logged")
        return _json(status, body, headers)

    return answer


def _check(request: Request, site: ArmSite) -> str:
    """ARM's first checks: a served api-version, the subscription regctl serves, a valid group name."""
    version = check_api_version(request.query_params.get("api-version"))
    subscription = request.path_params["subscription_id"]
    if subscription.lower() != site.subscription_id.lower():
        raise NotFound(f"The subscription '{subscription}' could not be found.", code="SubscriptionNotFound")
    group = request.path_params.get("resource_group")
    if group is not None and not _GROUP_NAME.match(group):
        raise InvalidSpec(
            f"Resource group name '{group[:90]}' is invalid: 1-90 letters, digits, _ - . ( ), not ending in '.'",
            code="InvalidResourceGroupName",
        )
    return version


async def _read_json(request: Request) -> dict[str, Any]:
    """The JSON body, size-capped while reading (ARM bodies are JSON only)."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media != "application/json":
        raise StarletteHTTPException(415, f"send application/json, not {media[:60]}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise StarletteHTTPException(413, f"the body is over {MAX_DOCUMENT_BYTES} bytes")
        chunks.append(chunk)
    return load_json(b"".join(chunks))


read_arm_json = _read_json
"""For the registry data plane (handlers/registry_dataplane.py): its bodies are ARM's JSON too."""


def _scope(request: Request, site: ArmSite) -> ArmScope:
    return site.at(str(request.base_url).rstrip("/") + ARM_PREFIX)


def _not_found(name: str, group: str) -> NotFound:
    return NotFound(
        f"The Resource 'Microsoft.MachineLearningServices/registries/{name}' under resource group '{group}' "
        "was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        code="ResourceNotFound",
    )


def _same_group(record: RegistryRecord, group: str, scope: ArmScope) -> bool:
    return group_of(record, scope).lower() == group.lower()


def _links(scope: ArmScope, operation: OperationRecord, location: str, version: str) -> dict[str, str]:
    """The LRO headers of an accepted operation: absolute status and result links, and Retry-After."""
    sub, query = scope.subscription_id, f"?api-version={version}"
    return {
        "Azure-AsyncOperation": scope.url(operation_path(sub, location, STATUS_SEGMENT, operation.id)) + query,
        "Location": scope.url(operation_path(sub, location, RESULT_SEGMENT, operation.id)) + query,
        "Retry-After": str(RETRY_AFTER_SECONDS),
    }


def _existing(service: RegistryService, name: str) -> RegistryRecord | None:
    try:
        return service.get(name)
    except NotFound:
        return None


class ArmRegistries:
    """The work of each route, in the thread pool: one or two service calls and the translation back."""

    def __init__(
        self, services: Callable[[], RegistryService], gate: Gate, site: Callable[[], ArmSite], page_size: int
    ) -> None:
        self.services = services
        self.gate = gate
        self.site = site
        self.page_size = page_size

    def scope(self, request: Request) -> ArmScope:
        return _scope(request, self.site())

    def found(self, name: str, group: str, scope: ArmScope) -> RegistryRecord:
        record = _existing(self.services(), name)
        if record is None or not _same_group(record, group, scope):
            raise _not_found(name, group)
        return record

    def put(
        self, principal: Principal, group: str, name: str, body: dict[str, Any], scope: ArmScope
    ) -> tuple[int, OperationRecord, RegistryRecord]:
        """Create (201) or update (200); a repeated PUT is the same operation again (the SDK retries PUTs)."""
        service = self.services()
        record = _existing(service, name)
        if record is None:
            command = CreateRegistry.from_document(spec_document(name, body), caller=principal)
            accepted = service.create(replace(command, resource_group=group))
            status = 201
        else:
            if not _same_group(record, group, scope):
                raise Conflict(
                    f"registry '{record.name}' already exists in resource group '{group_of(record, scope)}'; "
                    "registry names are unique",
                    code="RegistryExists",
                )
            document = spec_document(name, body, record.spec)
            accepted = service.replace(ReplaceRegistry.from_document(name, document, caller=principal))
            status = 200
        return status, accepted.operation, service.get(name)

    def delete(
        self, principal: Principal, group: str, name: str, scope: ArmScope
    ) -> tuple[OperationRecord, str] | None:
        """The delete operation and the registry's location; None when there is nothing to delete (204)."""
        service = self.services()
        record = _existing(service, name)
        if record is None or not _same_group(record, group, scope):
            return None
        accepted = service.delete(DeleteRegistry(name, caller=principal))
        return accepted.operation, str(record.spec["location"])

    def remove_regions(
        self, principal: Principal, group: str, name: str, removed: list[str], scope: ArmScope
    ) -> tuple[OperationRecord, str]:
        record = self.found(name, group, scope)
        document = without_regions(record.spec, removed)
        accepted = self.services().replace(ReplaceRegistry.from_document(name, document, caller=principal))
        return accepted.operation, str(record.spec["location"])

    def listing(self, request: Request, group: str | None) -> dict[str, Any]:
        """One page of the registries the caller may read (in ``group``, or all), ``nextLink`` to the next."""
        version, scope = _check(request, self.site()), self.scope(request)
        readable = self.gate.access().readable(caller(request))
        after = request.query_params.get("$skipToken") or ""
        records = [
            r
            for r in self.services().list()
            if readable.allows(r.key) and r.key > after and (group is None or _same_group(r, group, scope))
        ]
        page = records[: self.page_size]
        body: dict[str, Any] = {"value": [registry_resource(r, scope) for r in page]}
        if len(records) > self.page_size:
            path = request.url.path.removeprefix(ARM_PREFIX)
            body["nextLink"] = scope.url(path) + f"?api-version={version}&$skipToken={quote(page[-1].key)}"
        return body

    def status(self, request: Request, location: str, operation_id: str) -> Response:
        _check(request, self.site())
        operation = self.services().operation(operation_id).operation
        path = operation_path(self.site().subscription_id, location, STATUS_SEGMENT, operation.id)
        headers = {} if operation.status.terminal else {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return _json(200, operation_status(operation, path), headers)

    def result(self, request: Request, location: str, operation_id: str) -> Response:
        """The ``Location`` link: 202 while running; then the registry (200), 204 after a delete, or the error."""
        version, scope = _check(request, self.site()), self.scope(request)
        service = self.services()
        operation = service.operation(operation_id).operation
        if not operation.status.terminal:
            return Response(status_code=202, headers=_links(scope, operation, location, version))
        if operation.status is not OperationStatus.SUCCEEDED:
            return _json(400, {"error": {**operation_error(operation), "details": []}})
        record = _existing(service, operation.registry)
        if operation.kind is OperationKind.DELETE or record is None:
            return Response(status_code=204)
        return _json(200, registry_resource(record, scope))


def arm_router(
    services: Callable[[], RegistryService], gate: Gate, site: Callable[[], ArmSite], page_size: int = PAGE_SIZE
) -> APIRouter:
    router = APIRouter(prefix=ARM_PREFIX, dependencies=[Depends(authorize_route(gate))], include_in_schema=False)
    arm = ArmRegistries(services, gate, site, page_size)

    @router.put(REGISTRY)
    async def put_registry(subscription_id: str, resource_group: str, name: str, request: Request) -> Response:
        version, scope = _check(request, site()), arm.scope(request)
        principal = caller(request)
        await run_in_threadpool(require_at, gate, principal, Action.REGISTRIES_WRITE, registry_scope(name))
        body = await _read_json(request)
        status, operation, record = await run_in_threadpool(arm.put, principal, resource_group, name, body, scope)
        headers = _links(scope, operation, str(record.spec["location"]), version)
        return _json(status, registry_resource(record, scope), headers)

    @router.get(REGISTRY)
    def get_registry(subscription_id: str, resource_group: str, name: str, request: Request) -> Response:
        _check(request, site())
        scope = arm.scope(request)
        return _json(200, registry_resource(arm.found(name, resource_group, scope), scope))

    @router.delete(REGISTRY)
    def delete_registry(subscription_id: str, resource_group: str, name: str, request: Request) -> Response:
        version, scope = _check(request, site()), arm.scope(request)
        started = arm.delete(caller(request), resource_group, name, scope)
        if started is None:
            return Response(status_code=204)
        return Response(status_code=202, headers=_links(scope, *started, version))

    @router.post(REGISTRY + "/removeRegions")
    async def remove_regions(subscription_id: str, resource_group: str, name: str, request: Request) -> Response:
        version, scope = _check(request, site()), arm.scope(request)
        removed = regions_to_remove(await _read_json(request))
        started = await run_in_threadpool(arm.remove_regions, caller(request), resource_group, name, removed, scope)
        return Response(status_code=202, headers=_links(scope, *started, version))

    @router.get(REGISTRIES_IN_GROUP)
    def list_in_group(subscription_id: str, resource_group: str, request: Request) -> dict[str, Any]:
        return arm.listing(request, resource_group)

    @router.get(REGISTRIES)
    def list_in_subscription(subscription_id: str, request: Request) -> dict[str, Any]:
        return arm.listing(request, None)

    @router.get(OPERATION_STATUS)
    def get_operation_status(subscription_id: str, location: str, operation_id: str, request: Request) -> Response:
        return arm.status(request, location, operation_id)

    @router.get(OPERATION_RESULT)
    def get_operation_result(subscription_id: str, location: str, operation_id: str, request: Request) -> Response:
        return arm.result(request, location, operation_id)

    return router


__all__ = ["ARM_PREFIX", "arm_aware", "arm_router", "read_arm_json"]
