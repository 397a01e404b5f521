"""Azure ML's registry data plane, as the unmodified azure-ai-ml SDK calls it for models and data in a
registry (``MLClient(registry_name=...)``), served over regctl's assets.

Discovery (``/api/arm/registrymanagement/v1.0/registries/{name}/discovery``) names regctl's own ARM root as
the registry's ``primaryRegionResourceProviderUri``, so the SDK's data-plane calls come back under
``/api/arm/mferp/managementfrontend``. Thin: bodies are translated by shared/domain/arm_assets.py into the
commands ``/api`` uses (``AssetService.start_upload``, ``register``, ``get``, ``versions``, ``download``);
errors are ARM's envelope (``arm_aware``); each route's action is declared in ``handlers/auth.py``.
docs/azure-ml-compatibility.md lists what is served and refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from handlers.arm_api import ARM_PREFIX, RETRY_AFTER_SECONDS, read_arm_json
from handlers.auth import Gate, authorize_route, caller
from shared.domain import arm_assets as wire
from shared.domain.arm_resource import ArmSite, group_of, operation_status
from shared.domain.asset_records import AssetVersionRecord
from shared.domain.asset_spec import AssetType, parse_asset_id
from shared.domain.errors import InvalidSpec, NotFound
from shared.domain.manifest import ASSET_CONTAINER
from shared.domain.records import RegistryRecord
from shared.services.assets import AssetService, RegisterAsset, VersionView
from shared.services.registries import RegistryService

MFE_PREFIX = ARM_PREFIX + wire.MFE_SEGMENT
DISCOVERY = ARM_PREFIX + "/registrymanagement/v1.0/registries/{name}/discovery"
_PROVIDER = "/providers/Microsoft.MachineLearningServices"
_SUBSCRIPTION = MFE_PREFIX + "/subscriptions/{subscription_id}"
REGISTRY = _SUBSCRIPTION + "/resourceGroups/{resource_group}" + _PROVIDER + "/registries/{name}"
STATUS_SEGMENT = "mfeOperationsStatus"
OPERATION_STATUS = _SUBSCRIPTION + _PROVIDER + "/locations/{location}/" + STATUS_SEGMENT + "/{operation_id}"


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _root(request: Request) -> str:
    """regctl's ARM root as this request reached it: every link given is absolute (azure-ai-ml 1.35)."""
    return str(request.base_url).rstrip("/") + ARM_PREFIX


class DataPlane:
    """The work of each route: a check of the path, one or two service calls, the translation back."""

    def __init__(
        self,
        registries: Callable[[], RegistryService],
        assets: Callable[[], AssetService],
        site: Callable[[], ArmSite],
    ) -> None:
        self.registries = registries
        self.assets = assets
        self.site = site

    def registry(self, request: Request) -> RegistryRecord:
        """The registry of the path: api-version, subscription and group checked as ARM would."""
        wire.check_api_version(request.query_params.get("api-version"))
        params = request.path_params
        site = self.site()
        if params["subscription_id"].lower() != site.subscription_id.lower():
            message = f"The subscription '{params['subscription_id']}' could not be found."
            raise NotFound(message, code="SubscriptionNotFound")
        record = self.registries().get(params["name"])
        if group_of(record, site.at(_root(request))).lower() != params["resource_group"].lower():
            raise NotFound(
                f"The Resource 'Microsoft.MachineLearningServices/registries/{params['name']}' under resource group "
                f"'{params['resource_group']}' was not found.",
                code="ResourceNotFound",
            )
        return record

    def discovery(self, request: Request, name: str) -> dict[str, Any]:
        wire.check_api_version(request.query_params.get("api-version"), wire.DISCOVERY_API_VERSION)
        record = self.registries().get(name)
        site = self.site()
        spec = record.spec
        regions = [str(r["location"]) for r in spec["replication_locations"]]
        group = group_of(record, site.at(_root(request)))
        return wire.discovery(
            record.name,
            str(spec["location"]),
            regions,
            provider_uri=_root(request),
            subscription_id=site.subscription_id,
            resource_group=group,
            tenant_id=site.tenant_id,
        )

    def resource(self, view: VersionView) -> dict[str, Any]:
        account, endpoint = self.assets().primary_storage(view.registry_name)
        uri = wire.content_uri(endpoint, account, ASSET_CONTAINER, wire.content_path(view.version))
        return wire.version_resource(view.version, view.registry_name, view.status, uri)

    def versions(self, record: RegistryRecord, asset_type: AssetType, name: str) -> list[AssetVersionRecord]:
        try:
            return [v.version for v in self.assets().versions(record.name, asset_type, name, archived=True)]
        except NotFound:
            return []

    def list_versions(self, request: Request, asset_type: AssetType, name: str) -> dict[str, Any]:
        record = self.registry(request)
        query = request.query_params
        active, archived = wire.list_view(query.get("listViewType"))
        found = [v for v in self.versions(record, asset_type, name) if (archived if v.archived else active)]
        found = wire.ordered(found, query.get("$orderBy"), query.get("$top"))
        views = [self.assets().get(record.name, asset_type, name, v.version) for v in found]
        return {"value": [self.resource(v) for v in views]}  # a name without versions: [] (the SDK's first create)

    def container(self, request: Request, asset_type: AssetType, name: str) -> dict[str, Any]:
        record = self.registry(request)
        versions = self.versions(record, asset_type, name)
        if not versions:
            raise NotFound(f"{asset_type.singular} {name} not found", code="AssetNotFound")
        return wire.container_resource(record.name, asset_type, name, versions)

    def containers(self, request: Request, asset_type: AssetType) -> dict[str, Any]:
        record = self.registry(request)
        active, archived = wire.list_view(request.query_params.get("listViewType"))
        out = []
        for entry in self.assets().containers(record.name, asset_type, archived=True):
            versions = self.versions(record, asset_type, entry["name"])
            resource = wire.container_resource(record.name, asset_type, entry["name"], versions)
            if archived if resource["properties"]["isArchived"] else active:
                out.append(resource)
        return {"value": out}

    def get(self, request: Request, asset_type: AssetType, name: str, version: str) -> dict[str, Any]:
        record = self.registry(request)
        return self.resource(self.assets().get(record.name, asset_type, name, version))

    def register(self, request: Request, asset_type: AssetType, name: str, version: str, body: Any) -> Response:
        """201 with the LRO headers when a registration starts (its operation copies it to every region);
        200 when the same content was registered before. Other content is 409 ``AssetVersionImmutable``."""
        record = self.registry(request)
        definition = wire.parse_registration(asset_type, name, version, body)
        try:
            result = self.assets().register(RegisterAsset(record.name, definition, None, caller(request)))
        except InvalidSpec as exc:
            raise wire.arm_fields(exc, asset_type) from None
        resource = self.resource(self.assets().get(record.name, asset_type, name, version))
        if result.operation is None:
            return _json(200, resource)
        site, location = self.site(), str(record.spec["location"])
        status = (
            f"{_root(request)}{wire.MFE_SEGMENT}/subscriptions/{site.subscription_id}{_PROVIDER}/locations/{location}/"
            f"{STATUS_SEGMENT}/{result.operation.id}?api-version={wire.DATAPLANE_API_VERSION}"
        )
        return _json(201, resource, {"Azure-AsyncOperation": status, "Retry-After": str(RETRY_AFTER_SECONDS)})

    def temp_reference(self, request: Request, name: str, version: str, body: Any) -> dict[str, Any]:
        """A fresh upload SAS, even for a version that exists: the SDK cannot take a 409 here, and the
        version PUT decides (the same content: 200; other content: 409)."""
        record = self.registry(request)
        asset_type = wire.temp_reference_type(record.name, name, version, body if isinstance(body, dict) else {})
        return wire.temp_reference(self.assets().start_upload(record.name, asset_type, name, version))

    def data_reference(self, request: Request, name: str, version: str, body: Any) -> dict[str, Any]:
        record = self.registry(request)
        raw = body.get("assetId") if isinstance(body, dict) else None
        asset_type = parse_asset_id(raw)[1] if isinstance(raw, str) else AssetType.MODELS
        return wire.data_reference(self.assets().download(record.name, asset_type, name, version, None))

    def status(self, request: Request, location: str, operation_id: str) -> Response:
        wire.check_api_version(request.query_params.get("api-version"))
        operation = self.registries().operation(operation_id).operation
        path = (
            f"{wire.MFE_SEGMENT}/subscriptions/{self.site().subscription_id}{_PROVIDER}/locations/{location}/"
            f"{STATUS_SEGMENT}/{operation.id}"
        )
        headers = {} if operation.status.terminal else {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return _json(200, operation_status(operation, path), headers)


def _add_type(router: APIRouter, plane: DataPlane, asset_type: AssetType) -> None:
    base = REGISTRY + "/" + asset_type.value

    @router.get(base)
    def list_containers(request: Request) -> dict[str, Any]:
        return plane.containers(request, asset_type)

    @router.get(base + "/{asset}")
    def get_container(asset: str, request: Request) -> dict[str, Any]:
        return plane.container(request, asset_type, asset)

    @router.get(base + "/{asset}/versions")
    def list_versions(asset: str, request: Request) -> dict[str, Any]:
        return plane.list_versions(request, asset_type, asset)

    @router.get(base + "/{asset}/versions/{version}")
    def get_version(asset: str, version: str, request: Request) -> dict[str, Any]:
        return plane.get(request, asset_type, asset, version)

    @router.put(base + "/{asset}/versions/{version}")
    async def put_version(asset: str, version: str, request: Request) -> Response:
        body = await read_arm_json(request)
        return await run_in_threadpool(plane.register, request, asset_type, asset, version, body)


def registry_dataplane_router(
    registries: Callable[[], RegistryService],
    assets: Callable[[], AssetService],
    gate: Gate,
    site: Callable[[], ArmSite],
) -> APIRouter:
    router = APIRouter(dependencies=[Depends(authorize_route(gate))], include_in_schema=False)
    plane = DataPlane(registries, assets, site)

    @router.get(DISCOVERY)
    def discover(name: str, request: Request) -> dict[str, Any]:
        return plane.discovery(request, name)

    @router.put(REGISTRY + "/tempdatarefs/{asset}/versions/{version}")
    async def temp_reference(asset: str, version: str, request: Request) -> dict[str, Any]:
        body = await read_arm_json(request)
        return await run_in_threadpool(plane.temp_reference, request, asset, version, body)

    @router.post(REGISTRY + "/datarefs/{asset}/versions/{version}")
    async def data_reference(asset: str, version: str, request: Request) -> dict[str, Any]:
        body = await read_arm_json(request) if int(request.headers.get("content-length") or 0) else {}
        return await run_in_threadpool(plane.data_reference, request, asset, version, body)

    @router.get(OPERATION_STATUS)
    def get_status(location: str, operation_id: str, request: Request) -> Response:
        return plane.status(request, location, operation_id)

    for asset_type in wire.SERVED_TYPES:
        _add_type(router, plane, asset_type)
    return router


__all__ = ["DISCOVERY", "MFE_PREFIX", "registry_dataplane_router"]
