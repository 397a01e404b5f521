"""Container registries (Microsoft.ContainerRegistry/registries, api 2025-11-01) and importImage.

Create answers **201 + Azure-AsyncOperation** (the SDK accepts only 200/201; 202 breaks it); the status
monitor always answers 200 ``{"status": "Creating"|"Succeeded"|"Failed"}`` and the SDK then GETs the
registry. A PUT that changes nothing answers 200. PATCH is synchronous (200). DELETE and importImage
answer **202 + Location**, the monitor 202 until done, then 200 with an empty body (result ``None``).

importImage lives in ``acr_import.py``; the registry body in ``acr_body.py``.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.arm.acr_body import registry_body, retention_policy
from sandbox.arm.bodies import deep_merge, merge_patch
from sandbox.arm.config import OpKind
from sandbox.arm.context import Ctx
from sandbox.arm.envelope import (
    ArmError,
    Response,
    invalid_request_content,
    invalid_resource_location,
    location_not_available,
    method_not_allowed,
    operation_not_found,
    resource_not_found,
)
from sandbox.arm.lro import Outcome, Protocol, monitor_response, utc_now
from sandbox.arm.resources import validate_tags
from sandbox.arm.routes import REGISTRY_TYPE
from sandbox.arm.state import Registry, Store
from shared.domain.regions import is_known_region

NAME_RE = re.compile(r"^[a-zA-Z0-9]{5,50}$")
SKUS = ("Basic", "Standard", "Premium")
#: Properties only ACR sets; a PUT that sends them back (a GET body reused) does not change them.
_READ_ONLY = ("provisioningState", "loginServer", "creationDate", "status")


def name_message(name: str) -> str:
    return (
        f"The registry name '{name}' is invalid. Registry names may contain only alpha numeric characters "
        "and must be between 5 and 50 characters."
    )


def operation_in_progress(name: str) -> ArmError:
    # UNVERIFIED code: ACR's conflict codes are not documented (docs/sandbox.md).
    return ArmError(
        409,
        "OperationInProgress",
        f"An operation is in progress on registry '{name}'. Retry when it completes.",
    )


def canonical_sku(raw: object) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("name"), str):
        for sku in SKUS:
            if sku.lower() == raw["name"].lower():
                return sku
        raise ArmError(400, "InvalidSku", f"The SKU '{raw['name']}' is not valid. Valid SKUs: {', '.join(SKUS)}.")
    raise invalid_request_content("'sku.name' is required")


def has_geo_replicas(reg: Registry) -> bool:
    return any(not r.is_home for r in reg.replications.values())


def _check_sku_change(reg: Registry, sku: str) -> None:
    if reg.sku == "Premium" and sku != "Premium" and has_geo_replicas(reg):
        # UNVERIFIED code (docs/sandbox.md): geo-replication needs Premium, so Azure refuses it.
        raise ArmError(
            400,
            "SkuDowngradeNotAllowed",
            f"Registry '{reg.name}' has geo-replications; delete them before changing the SKU to '{sku}'.",
        )


def _apply_sku(reg: Registry, sku: str) -> None:
    if reg.sku == "Premium" and sku != "Premium":
        reg.replications.clear()  # only the implicit home replica can be left at this point
    reg.sku = sku


# Routes ----------------------------------------------------------------------------------------


def handle_check_name(ctx: Ctx) -> Response:
    if ctx.method != "POST":
        raise method_not_allowed(ctx.method)
    body = ctx.request.json_body()
    name = body.get("name")
    if not isinstance(name, str):
        raise invalid_request_content("'name' is required")
    rtype = body.get("type")
    if rtype is not None and (not isinstance(rtype, str) or rtype.lower() != REGISTRY_TYPE.lower()):
        raise ArmError(400, "InvalidResourceType", f"The resource type '{rtype}' is not valid for this operation.")
    if not NAME_RE.match(name):
        return Response.json(200, {"nameAvailable": False, "reason": "Invalid", "message": name_message(name)})
    if name.lower() in ctx.store.registries or name.lower() in ctx.settings.taken_registry_names:
        message = f"The registry {name} is already in use."
        return Response.json(200, {"nameAvailable": False, "reason": "AlreadyExists", "message": message})
    return Response.json(200, {"nameAvailable": True})


def handle_list_sub(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    sub = ctx.subscription.lower()
    return ctx.paged([registry_body(r) for r in ctx.store.registries.values() if r.subscription.lower() == sub])


def handle_list_rg(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    group = ctx.group()
    key = (group.subscription.lower(), group.name.lower())
    items = [
        registry_body(r)
        for r in ctx.store.registries.values()
        if (r.subscription.lower(), r.resource_group.lower()) == key
    ]
    return ctx.paged(items)


def find_registry(ctx: Ctx) -> Registry:
    group = ctx.group()
    reg = ctx.store.registry(ctx.subscription, group.name, ctx.param("reg"))
    if reg is None:
        raise resource_not_found(REGISTRY_TYPE, ctx.param("reg"), group.name)
    return reg


def handle_item(ctx: Ctx) -> Response:
    method = ctx.method
    if method == "GET":
        return Response.json(200, registry_body(find_registry(ctx)))
    if method == "PUT":
        return _put(ctx)
    if method == "PATCH":
        return _patch(ctx)
    if method == "DELETE":
        return _delete(ctx)
    raise method_not_allowed(method)


def _put(ctx: Ctx) -> Response:
    group = ctx.group_for_write()
    name = ctx.param("reg")
    if not NAME_RE.match(name):
        raise ArmError(400, "InvalidResourceName", name_message(name), target=name)  # code UNVERIFIED
    body = ctx.request.json_body()
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise invalid_request_content("'location' is required")
    if not is_known_region(location):
        raise location_not_available(location, REGISTRY_TYPE)
    location = location.lower()
    sku = canonical_sku(body.get("sku"))
    tags = validate_tags(body.get("tags"))
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise invalid_request_content("'properties' must be an object")
    props = {k: v for k, v in props.items() if v is not None and k not in _READ_ONLY}
    store = ctx.store
    reg = store.registry(ctx.subscription, group.name, name)
    if reg is not None:
        answer = _put_existing(ctx, reg, location=location, sku=sku, tags=tags, props=props)
        if answer is not None:
            return answer
        _set_properties(reg, props)  # Failed: a new PUT re-creates it
        reg.sku, reg.tags = sku, tags
    else:
        if name.lower() in ctx.settings.taken_registry_names or name.lower() in store.registries:
            raise name_in_use(name)
        reg = Registry(
            subscription=ctx.subscription,
            resource_group=group.name,
            name=name,
            location=location,
            sku=sku,
            tags=tags,
            properties=props,
        )
        store.registries[name.lower()] = reg
    _start_create(ctx, store, reg)
    return _created(ctx, reg)


def name_in_use(name: str) -> ArmError:
    # UNVERIFIED status and code; the message is the one Azure shows.
    return ArmError(
        409,
        "AlreadyInUse",
        f"The registry DNS name {name.lower()}.azurecr.io is already in use. You can check if the name is "
        "already claimed using following API: "
        "https://docs.microsoft.com/en-us/rest/api/containerregistry/registries/checknameavailability",
    )


def _put_existing(
    ctx: Ctx, reg: Registry, *, location: str, sku: str, tags: dict[str, str], props: dict[str, Any]
) -> Response | None:
    """The answer to a PUT on an existing registry; ``None`` when it must be created again (Failed)."""
    if reg.location != location:
        raise invalid_resource_location(reg.name, reg.location, reg.resource_group, location)
    same = sku == reg.sku and tags == reg.tags and all(reg.properties.get(k) == v for k, v in props.items())
    if reg.state == "Creating" and reg.op is not None and not reg.op.done:
        if same:
            return _created(ctx, reg)  # a retried PUT joins the running operation
        raise operation_in_progress(reg.name)
    if reg.state == "Deleting":
        raise operation_in_progress(reg.name)
    if reg.state != "Succeeded":
        return None
    if not same:
        _check_sku_change(reg, sku)
        _apply_sku(reg, sku)
        reg.tags = tags
        _set_properties(reg, deep_merge(reg.properties, props))
    return Response.json(200, registry_body(reg))


def _set_properties(reg: Registry, props: dict[str, Any]) -> None:
    """Replace the sent properties; a changed retention policy gets a new ``lastUpdatedTime``."""
    before = retention_policy(reg)
    reg.properties = props
    if retention_policy(reg) != before:
        reg.retention_updated_wall = utc_now()


def _start_create(ctx: Ctx, store: Store, reg: Registry) -> None:
    op_id = f"registries-{uuid.uuid4()}"
    op = store.start_operation(
        OpKind.REGISTRY_CREATE,
        Protocol.ASYNC,
        REGISTRY_TYPE,
        ctx.subscription,
        f"{reg.id}/operationStatuses/{op_id}?api-version={ctx.request.api_version}",
        now=ctx.now,
        failure=ctx.lro_failure(),
        op_id=op_id,
    )
    op.running_status = "Creating"
    op.send_retry_after = ctx.settings.acr_monitor_retry_after

    def effect(outcome: Outcome) -> None:
        if store.registries.get(reg.name.lower()) is reg and reg.op is op:
            reg.state = "Succeeded" if outcome is Outcome.SUCCEEDED else "Failed"

    op.effect = effect
    reg.op = op
    reg.state = "Creating"


def _created(ctx: Ctx, reg: Registry) -> Response:
    op = reg.op
    assert op is not None
    headers = {"azure-asyncoperation": op.monitor_url(ctx.request.base_url), **op.retry_headers(ctx.now)}
    return Response.json(201, registry_body(reg), headers)


def _patch(ctx: Ctx) -> Response:
    reg = find_registry(ctx)
    if reg.state != "Succeeded":
        raise operation_in_progress(reg.name)
    body = ctx.request.json_body()
    sku = canonical_sku(body["sku"]) if body.get("sku") is not None else reg.sku
    tags = validate_tags(body["tags"]) if body.get("tags") is not None else reg.tags
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise invalid_request_content("'properties' must be an object")
    _check_sku_change(reg, sku)
    _apply_sku(reg, sku)
    reg.tags = tags
    patched = deep_merge(reg.properties, {})
    merge_patch(patched, {k: v for k, v in props.items() if k not in _READ_ONLY})
    _set_properties(reg, patched)
    return Response.json(200, registry_body(reg))


def _delete(ctx: Ctx) -> Response:
    group = ctx.group()
    store = ctx.store
    reg = store.registry(ctx.subscription, group.name, ctx.param("reg"))
    if reg is None:
        return Response.empty(204)
    if reg.state != "Deleting" or reg.op is None:
        if reg.op is not None:
            reg.op.cancel("The registry is being deleted.")
        op_id = f"registries-{uuid.uuid4()}"
        op = store.start_operation(
            OpKind.REGISTRY_DELETE,
            Protocol.LOCATION,
            REGISTRY_TYPE,
            ctx.subscription,
            f"/subscriptions/{ctx.subscription}/providers/Microsoft.ContainerRegistry/locations/{reg.location}"
            f"/operationResults/{op_id}?api-version={ctx.request.api_version}",
            now=ctx.now,
            failure=ctx.lro_failure(),
            op_id=op_id,
        )

        def effect(outcome: Outcome, reg: Registry = reg) -> None:
            if outcome is Outcome.SUCCEEDED:
                store.remove_registry(reg)
            elif reg.op is op:
                reg.state = "Failed"

        op.effect = effect
        reg.op = op
        reg.state = "Deleting"
    return Response.empty(202, {"location": reg.op.monitor_url(ctx.request.base_url), **reg.op.retry_headers(ctx.now)})


def handle_status(ctx: Ctx) -> Response:
    """Azure-AsyncOperation monitor of a registry create."""
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    op = ctx.store.operations.get(ctx.param("op"))
    if op is None or op.kind is not OpKind.REGISTRY_CREATE or op.subscription.lower() != ctx.subscription.lower():
        raise operation_not_found(ctx.param("op"))
    return monitor_response(op, ctx.request.base_url, ctx.now)


def handle_location_monitor(ctx: Ctx) -> Response:
    """Location monitor of registry/replication deletes and imports."""
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    op = ctx.store.operations.get(ctx.param("op"))
    kinds = (OpKind.REGISTRY_DELETE, OpKind.REPLICATION_DELETE, OpKind.IMPORT_IMAGE)
    if op is None or op.kind not in kinds or op.subscription.lower() != ctx.subscription.lower():
        raise operation_not_found(ctx.param("op"))
    return monitor_response(op, ctx.request.base_url, ctx.now)
