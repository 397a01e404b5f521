"""Asset routes: models, data, components and environments of a registry, their versions, pending uploads
and download credentials (docs/assets.md).

Thin: parse, one service call, map. Each route's action (``registries/assets/read|write|delete`` on the
registry of the path) is declared in ``handlers/auth.py`` (``asset_route_actions``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from handlers import openapi_docs as docs
from handlers.auth import Gate, authorize_route, caller
from handlers.bodies import read_document
from shared.domain.asset_spec import AssetType, parse_asset
from shared.domain.errors import FieldError, InvalidSpec
from shared.domain.manifest import FileEntry
from shared.services.assets import AssetService, RegisterAsset, VersionView


def _who(view: VersionView) -> dict[str, str] | None:
    who = view.version.created_by
    return {"id": who.id, "name": who.name, "type": who.type} if who else None


def version_document(view: VersionView) -> dict[str, Any]:
    v = view.version
    doc: dict[str, Any] = {
        "id": v.id(view.registry_name),
        "registry": view.registry_name,
        "type": v.type.value,
        "name": v.name,
        "version": v.version,
        "description": v.description,
        "tags": v.tags,
        "properties": v.properties,
        **{k: value for k, value in v.fields.items() if k != "spec"},
        "status": view.status.value,
        "isArchived": v.archived,
        "createdBy": _who(view),
        "createdAt": v.created_at.isoformat(),
        "updatedAt": v.updated_at.isoformat(),
        "fileCount": len(v.files),
        "bytes": v.total_bytes,
        "contentDigest": v.content_digest,
        "replication": {region: copy.to_dict() for region, copy in sorted(v.ledger.items())},
    }
    if "spec" in v.fields:
        doc["componentSpec"] = v.fields["spec"]
    if view.operation is not None:
        doc["operation"] = f"/api/operations/{view.operation.id}"
        if view.operation.error_code:
            doc["error"] = {"code": view.operation.error_code, "message": view.operation.error_message}
    return doc


def _claimed_files(raw: object) -> tuple[FileEntry, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise InvalidSpec("files must be a list of {path, size, md5}", [FieldError("files", "must be a list")])
    entries: list[FileEntry] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or not isinstance(item.get("size"), int):
            raise InvalidSpec("each file needs a path and a size", [FieldError(f"files[{i}]", "{path, size, md5}")])
        entries.append(FileEntry(item["path"], item["size"], str(item.get("md5") or "")))
    return tuple(entries)


def _add_routes(router: APIRouter, asset_type: AssetType, service: Callable[[], AssetService]) -> None:
    base = f"/registries/{{name}}/{asset_type.value}"
    version_path = base + "/{asset}/versions/{version}"
    what = asset_type.singular

    @router.get(base, summary=f"List the {asset_type.value} of a registry", responses=docs.problems(404, 422, 503))
    def list_assets(name: str, includeArchived: bool = False) -> dict[str, Any]:
        return {"value": service().containers(name, asset_type, archived=includeArchived)}

    @router.get(base + "/{asset}", summary=f"A {what} and its versions", responses=docs.problems(404, 422, 503))
    def get_asset(name: str, asset: str, includeArchived: bool = False) -> dict[str, Any]:
        views = service().versions(name, asset_type, asset, archived=includeArchived)
        return {"name": asset, "type": asset_type.value, "versions": [version_document(v) for v in views]}

    @router.get(base + "/{asset}/versions", summary=f"The versions of a {what}", responses=docs.problems(404, 422, 503))
    def list_versions(name: str, asset: str, includeArchived: bool = False) -> dict[str, Any]:
        views = service().versions(name, asset_type, asset, archived=includeArchived)
        return {"value": [version_document(v) for v in views]}

    @router.get(
        version_path, summary=f"A {what} version and its copies per region", responses=docs.problems(404, 422, 503)
    )
    def get_version(name: str, asset: str, version: str) -> dict[str, Any]:
        return version_document(service().get(name, asset_type, asset, version))

    @router.put(
        version_path,
        status_code=202,
        summary=f"Register a {what} version from a pending upload (202 + operation; 200 when already there)",
        responses={**docs.accepted_response(), **docs.problems(400, 404, 409, 413, 415, 422, 503)},
    )
    async def register(name: str, asset: str, version: str, request: Request) -> Response:
        document = await read_document(request)
        files = _claimed_files(document.pop("files", None))
        definition = parse_asset(asset_type, document, name=asset, version=version)
        command = RegisterAsset(name, definition, files, caller(request))
        result = await run_in_threadpool(service().register, command)
        view = await run_in_threadpool(service().get, name, asset_type, asset, version)
        body = version_document(view)
        if result.operation is None:
            return JSONResponse(body, status_code=200)
        location = f"/api/operations/{result.operation.id}"
        return JSONResponse(body, status_code=202, headers={"Location": location, "Operation-Location": location})

    @router.patch(
        version_path,
        summary=f"Change a {what} version's description, tags or isArchived",
        responses=docs.problems(400, 404, 409, 415, 422, 503),
    )
    async def update(name: str, asset: str, version: str, request: Request) -> dict[str, Any]:
        changes = await read_document(request, json_only=True)
        return version_document(await run_in_threadpool(service().update, name, asset_type, asset, version, changes))

    @router.delete(
        version_path,
        status_code=202,
        summary=f"Delete a {what} version and its copies in every region",
        responses={**docs.accepted_response(), **docs.problems(404, 409, 422, 503)},
    )
    def delete(name: str, asset: str, version: str, request: Request) -> Response:
        operation = service().delete(name, asset_type, asset, version, caller(request))
        location = f"/api/operations/{operation.id}"
        body = {"operation": location, "id": operation.id, "status": operation.status.value}
        return JSONResponse(body, status_code=202, headers={"Location": location})

    @router.post(
        version_path + "/startPendingUpload",
        summary=f"A short-lived write credential (SAS) for a {what} version's files",
        responses=docs.problems(400, 404, 409, 422, 503),
    )
    def start_upload(name: str, asset: str, version: str) -> dict[str, Any]:
        return service().start_upload(name, asset_type, asset, version)

    @router.post(
        version_path + "/download",
        summary=f"A read credential (SAS) for a {what} version's copy in a region",
        responses=docs.problems(404, 409, 422, 503),
    )
    async def download(name: str, asset: str, version: str, request: Request, region: str | None = Query(None)) -> Any:
        body = await read_document(request) if int(request.headers.get("content-length") or 0) else {}
        where = region or body.get("region")
        if where is not None and not isinstance(where, str):
            raise InvalidSpec("region must be a region name", [FieldError("region", "a string")])
        return await run_in_threadpool(service().download, name, asset_type, asset, version, where)


def assets_router(gate: Gate, service: Callable[[], AssetService]) -> APIRouter:
    router = APIRouter(prefix="/api", dependencies=[Depends(authorize_route(gate))], tags=["assets"])
    for asset_type in AssetType:
        _add_routes(router, asset_type, service)
    return router
