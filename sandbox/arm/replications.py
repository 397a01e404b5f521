"""Registry geo-replications (Microsoft.ContainerRegistry/registries/replications, api 2025-11-01).

Create answers **201 + Azure-AsyncOperation** (``Creating`` -> ``Succeeded``), then the SDK GETs the
replication. Replications need a Premium registry. DELETE answers 202 + Location, the monitor 202
until done, then 204.

The home replica: a Premium registry with geo-replication has an implicit replication in its home
region (named after it, ``systemData.createdByType: Application``). It appears when the first
replication is requested (the 2026 azure-cli recording lists it after the first geo-replica; whether
Azure lists it before is UNVERIFIED, ``Settings.home_replica = always`` lists it for every Premium
registry). A PUT in the home location is accepted (Azure ignores it, azure-rest-api-specs#10233): it
answers with the home replica. Deleting the home replica is refused with ``HomeReplicationCannotBeDeleted``.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.arm.acr import NAME_RE, operation_in_progress
from sandbox.arm.acr_body import resource_status, system_data
from sandbox.arm.config import HomeReplica, OpKind
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
from sandbox.arm.lro import Outcome, Protocol, iso, monitor_response
from sandbox.arm.resources import validate_tags
from sandbox.arm.routes import REPLICATION_TYPE
from sandbox.arm.state import Registry, Replication, Store
from shared.domain.regions import is_known_region

#: Who ``systemData`` says created the home replica (ACR's first-party application).
ACR_APP = "Azure Container Registry"


def replication_body(reg: Registry, repl: Replication) -> dict[str, Any]:
    created = iso(repl.created_wall)
    props = {"regionEndpointEnabled": True, "zoneRedundancy": "Disabled", **repl.properties}
    props["provisioningState"] = repl.state
    props["status"] = resource_status("replication", repl.state, repl.op, repl.created_wall)
    by = ACR_APP if repl.created_by_type == "Application" else None
    return {
        "id": f"{reg.id}/replications/{repl.name}",
        "name": repl.name,
        "type": REPLICATION_TYPE,
        "location": repl.location,
        "tags": dict(repl.tags),
        "systemData": system_data(created, repl.created_by_type, *([by] if by else [])),
        "properties": props,
    }


def home_replica(reg: Registry) -> Replication | None:
    return next((r for r in reg.replications.values() if r.is_home), None)


def ensure_home_replica(reg: Registry) -> None:
    """Materialize the implicit home replica of a Premium registry (idempotent)."""
    if reg.sku != "Premium" or reg.state != "Succeeded" or home_replica(reg) is not None:
        return
    if reg.location in reg.replications:
        return  # a user replication already took the name; leave it
    reg.replications[reg.location] = Replication(
        name=reg.location,
        location=reg.location,
        tags={},
        properties={},
        is_home=True,
        created_by_type="Application",
        state="Succeeded",
    )


def _not_found(reg: Registry, name: str) -> ArmError:
    return resource_not_found(
        f"Microsoft.ContainerRegistry/registries/{reg.name}/replications", name, reg.resource_group
    )


def _registry(ctx: Ctx) -> Registry:
    group = ctx.group()
    reg = ctx.store.registry(ctx.subscription, group.name, ctx.param("reg"))
    if reg is None:
        raise ArmError(
            404,
            "ParentResourceNotFound",
            f"Can not perform requested operation on nested resource. Parent resource '{ctx.param('reg')}' not found.",
        )
    if ctx.settings.home_replica is HomeReplica.ALWAYS:
        ensure_home_replica(reg)
    return reg


def handle_list(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    reg = _registry(ctx)
    return ctx.paged([replication_body(reg, r) for r in reg.replications.values()])


def handle_item(ctx: Ctx) -> Response:
    method = ctx.method
    if method == "GET":
        reg = _registry(ctx)
        repl = reg.replications.get(ctx.param("repl").lower())
        if repl is None:
            raise _not_found(reg, ctx.param("repl"))
        return Response.json(200, replication_body(reg, repl))
    if method == "PUT":
        return _put(ctx)
    if method == "PATCH":
        return _patch(ctx)
    if method == "DELETE":
        return _delete(ctx)
    raise method_not_allowed(method)


def _put(ctx: Ctx) -> Response:
    ctx.group_for_write()
    reg = _registry(ctx)
    name = ctx.param("repl")
    if reg.state != "Succeeded":
        raise operation_in_progress(reg.name)
    if reg.sku != "Premium":
        # UNVERIFIED status and code (docs/sandbox.md); the message is the Azure CLI's.
        raise ArmError(
            400,
            "RegistrySkuNotSupported",
            "Replications are only supported for managed registries in Premium SKU.",
        )
    if not NAME_RE.match(name):
        raise ArmError(
            400,
            "InvalidResourceName",
            f"The replication name '{name}' is invalid. Replication names may contain only alpha numeric "
            "characters and must be between 5 and 50 characters.",
            target=name,
        )
    body = ctx.request.json_body()
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise invalid_request_content("'location' is required")
    if not is_known_region(location):
        raise location_not_available(location, REPLICATION_TYPE)
    location = location.lower()
    tags = validate_tags(body.get("tags"))
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise invalid_request_content("'properties' must be an object")
    props = {k: v for k, v in props.items() if v is not None and k not in ("provisioningState", "status")}
    store = ctx.store
    repl = reg.replications.get(name.lower())
    if repl is not None:
        return _put_existing(ctx, store, reg, repl, location=location, tags=tags, props=props)
    clash = next((r for r in reg.replications.values() if r.location == location), None)
    if clash is not None:
        # UNVERIFIED code: one replication per location.
        raise ArmError(
            409,
            "ReplicationAlreadyExists",
            f"Registry '{reg.name}' already has replication '{clash.name}' in location '{location}'.",
        )
    is_home = location == reg.location
    if not is_home:
        ensure_home_replica(reg)
    repl = Replication(
        name=name,
        location=location,
        tags=tags,
        properties=props,
        is_home=is_home,
        created_by_type="User",
    )
    reg.replications[name.lower()] = repl
    _start_create(ctx, store, reg, repl)
    return _created(ctx, reg, repl)


def _put_existing(
    ctx: Ctx,
    store: Store,
    reg: Registry,
    repl: Replication,
    *,
    location: str,
    tags: dict[str, str],
    props: dict[str, Any],
) -> Response:
    if repl.location != location:
        raise invalid_resource_location(repl.name, repl.location, reg.resource_group, location)
    same = tags == repl.tags and all(repl.properties.get(k) == v for k, v in props.items())
    if repl.state == "Creating" and repl.op is not None and not repl.op.done:
        if same:
            return _created(ctx, reg, repl)  # a retried PUT joins the running operation
        raise operation_in_progress(reg.name)
    if repl.state == "Deleting":
        raise operation_in_progress(reg.name)
    if repl.state == "Failed":
        repl.tags, repl.properties = tags, props
        _start_create(ctx, store, reg, repl)
        return _created(ctx, reg, repl)
    if not same:
        repl.tags = tags
        repl.properties.update(props)
    return Response.json(200, replication_body(reg, repl))


def _start_create(ctx: Ctx, store: Store, reg: Registry, repl: Replication) -> None:
    op_id = f"replications-{uuid.uuid4()}"
    kind = OpKind.HOME_REPLICATION_CREATE if repl.is_home else OpKind.REPLICATION_CREATE
    op = store.start_operation(
        kind,
        Protocol.ASYNC,
        REPLICATION_TYPE,
        ctx.subscription,
        f"{reg.id}/replications/{repl.name}/operationStatuses/{op_id}?api-version={ctx.request.api_version}",
        now=ctx.now,
        failure=ctx.lro_failure(),
        op_id=op_id,
    )
    op.running_status = "Creating"
    op.send_retry_after = ctx.settings.acr_monitor_retry_after

    def effect(outcome: Outcome) -> None:
        if repl.op is op:
            repl.state = "Succeeded" if outcome is Outcome.SUCCEEDED else "Failed"

    op.effect = effect
    repl.op = op
    repl.state = "Creating"


def _created(ctx: Ctx, reg: Registry, repl: Replication) -> Response:
    op = repl.op
    assert op is not None
    headers = {"azure-asyncoperation": op.monitor_url(ctx.request.base_url), **op.retry_headers(ctx.now)}
    return Response.json(201, replication_body(reg, repl), headers)


def _patch(ctx: Ctx) -> Response:
    reg = _registry(ctx)
    repl = reg.replications.get(ctx.param("repl").lower())
    if repl is None:
        raise _not_found(reg, ctx.param("repl"))
    if repl.state != "Succeeded":
        raise operation_in_progress(reg.name)
    body = ctx.request.json_body()
    if body.get("tags") is not None:
        repl.tags = validate_tags(body["tags"])
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise invalid_request_content("'properties' must be an object")
    repl.properties.update({k: v for k, v in props.items() if v is not None})
    return Response.json(200, replication_body(reg, repl))


def _delete(ctx: Ctx) -> Response:
    reg = _registry(ctx)
    store = ctx.store
    repl = reg.replications.get(ctx.param("repl").lower())
    if repl is None:
        return Response.empty(204)
    if repl.is_home:
        # Status UNVERIFIED (400 chosen); the code is documented.
        raise ArmError(
            400,
            "HomeReplicationCannotBeDeleted",
            f"The home region replication '{repl.name}' of registry '{reg.name}' cannot be deleted.",
        )
    op = repl.op
    if repl.state != "Deleting" or op is None:
        if op is not None:
            op.cancel("The replication is being deleted.")
        op_id = f"replications-{uuid.uuid4()}"
        op = store.start_operation(
            OpKind.REPLICATION_DELETE,
            Protocol.LOCATION,
            REPLICATION_TYPE,
            ctx.subscription,
            f"/subscriptions/{ctx.subscription}/providers/Microsoft.ContainerRegistry/locations/{repl.location}"
            f"/operationResults/{op_id}?api-version={ctx.request.api_version}",
            now=ctx.now,
            failure=ctx.lro_failure(),
            op_id=op_id,
        )
        op.final_status = 204
        delete_op = op

        def effect(outcome: Outcome, repl: Replication = repl) -> None:
            if outcome is Outcome.SUCCEEDED:
                if reg.replications.get(repl.name.lower()) is repl:
                    del reg.replications[repl.name.lower()]
            elif repl.op is delete_op:
                repl.state = "Failed"

        op.effect = effect
        repl.op = op
        repl.state = "Deleting"
    return Response.empty(202, {"location": op.monitor_url(ctx.request.base_url), **op.retry_headers(ctx.now)})


def handle_status(ctx: Ctx) -> Response:
    """Azure-AsyncOperation monitor of a replication create."""
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    op = ctx.store.operations.get(ctx.param("op"))
    kinds = (OpKind.REPLICATION_CREATE, OpKind.HOME_REPLICATION_CREATE)
    if op is None or op.kind not in kinds or op.subscription.lower() != ctx.subscription.lower():
        raise operation_not_found(ctx.param("op"))
    return monitor_response(op, ctx.request.base_url, ctx.now)
