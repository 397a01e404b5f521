"""Resource groups (Microsoft.Resources/resourceGroups, api 2025-04-01).

PUT creates (201) or updates (200); the location is immutable (409 ``InvalidResourceGroupLocation``).
HEAD is ``check_existence`` (204/404). DELETE is an LRO (202 + Location; the monitor answers 202 until
done, then 200) that deletes everything the group holds when it completes; while it runs the group
reads ``provisioningState: Deleting`` and refuses new children (409 ``ResourceGroupBeingDeleted``).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.arm.config import OpKind
from sandbox.arm.context import Ctx
from sandbox.arm.envelope import (
    ArmError,
    Response,
    invalid_request_content,
    method_not_allowed,
    operation_not_found,
    resource_group_being_deleted,
    resource_group_not_found,
)
from sandbox.arm.lro import Outcome, Protocol, monitor_response
from sandbox.arm.routes import RG_TYPE
from sandbox.arm.state import ResourceGroup
from shared.domain.regions import REGIONS, is_known_region

_RG_CHARS = re.compile(r"[^\w\-.()]", re.UNICODE)


def rg_body(group: ResourceGroup) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group.id,
        "name": group.name,
        "type": RG_TYPE,
        "location": group.location,
        "properties": {"provisioningState": "Deleting" if group.deleting is not None else "Succeeded"},
    }
    if group.tags:
        body["tags"] = dict(group.tags)
    if group.managed_by:
        body["managedBy"] = group.managed_by
    return body


def validate_tags(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise invalid_request_content("tags must be an object of string names to string values")
    if len(raw) > 50:
        raise ArmError(400, "TooManyTags", "The number of tags exceeds the limit of 50.")
    return {str(k): v for k, v in raw.items()}


def _validate_name(name: str) -> None:
    bad = sorted(set(_RG_CHARS.findall(name)))
    if bad:
        chars = "".join(bad)
        raise ArmError(
            400,
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' has these invalid characters: '{chars}'. "
            "The name can only be a letter, digit, '-', '.', '(', ')' or '_'.",
        )
    if len(name) > 90 or name.endswith("."):
        raise ArmError(
            400,
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' is invalid: it must be 1-90 characters long "
            "and must not end with a period.",
        )


def handle_list(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    sub = ctx.subscription.lower()
    items = [rg_body(g) for (s, _), g in ctx.store.groups.items() if s == sub]
    return ctx.paged(items)


def handle_item(ctx: Ctx) -> Response:
    method = ctx.method
    if method in ("GET", "HEAD"):
        group = ctx.store.group(ctx.subscription, ctx.param("rg"))
        if method == "HEAD":
            return Response.empty(204 if group is not None else 404)
        if group is None:
            raise resource_group_not_found(ctx.param("rg"))
        return Response.json(200, rg_body(group))
    if method == "PUT":
        return _put(ctx)
    if method == "PATCH":
        return _patch(ctx)
    if method == "DELETE":
        return _delete(ctx)
    raise method_not_allowed(method)


def _put(ctx: Ctx) -> Response:
    name = ctx.param("rg")
    _validate_name(name)
    body = ctx.request.json_body()
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
    if not is_known_region(location):
        raise ArmError(
            400,
            "LocationNotAvailableForResourceGroup",
            f"The provided location '{location}' is not available for resource group. "
            f"List of available regions is '{','.join(REGIONS)}'.",
        )
    location = location.lower()
    tags = validate_tags(body.get("tags"))
    managed_by = body.get("managedBy")
    existing = ctx.store.group(ctx.subscription, name)
    if existing is not None:
        if existing.deleting is not None:
            raise resource_group_being_deleted(existing.name)
        if existing.location != location:
            raise ArmError(
                409,
                "InvalidResourceGroupLocation",
                f"Invalid resource group location '{location}'. The Resource group already exists in "
                f"location '{existing.location}'.",
            )
        existing.tags = tags
        if isinstance(managed_by, str):
            existing.managed_by = managed_by
        return Response.json(200, rg_body(existing))
    group = ResourceGroup(
        subscription=ctx.subscription,
        name=name,
        location=location,
        tags=tags,
        managed_by=managed_by if isinstance(managed_by, str) else None,
    )
    ctx.store.groups[(ctx.subscription.lower(), name.lower())] = group
    return Response.json(201, rg_body(group))


def _patch(ctx: Ctx) -> Response:
    group = ctx.store.group(ctx.subscription, ctx.param("rg"))
    if group is None:
        raise resource_group_not_found(ctx.param("rg"))
    body = ctx.request.json_body()
    if "tags" in body:
        group.tags = validate_tags(body["tags"])  # tags are replaced wholesale
    if isinstance(body.get("managedBy"), str):
        group.managed_by = body["managedBy"]
    return Response.json(200, rg_body(group))


def _delete(ctx: Ctx) -> Response:
    store = ctx.store
    group = store.group(ctx.subscription, ctx.param("rg"))
    if group is None:
        raise resource_group_not_found(ctx.param("rg"))
    op = group.deleting
    if op is None:
        op_id = _op_token()
        op = store.start_operation(
            OpKind.RESOURCE_GROUP_DELETE,
            Protocol.LOCATION,
            RG_TYPE,
            ctx.subscription,
            f"/subscriptions/{ctx.subscription}/operationresults/{op_id}?api-version={ctx.request.api_version}",
            now=ctx.now,
            failure=ctx.lro_failure(),
            op_id=op_id,
        )

        def effect(outcome: Outcome, group: ResourceGroup = group) -> None:
            if outcome is Outcome.SUCCEEDED:
                store.remove_group(group)
            else:
                group.deleting = None

        op.effect = effect
        group.deleting = op
    return Response.empty(202, {"location": op.monitor_url(ctx.request.base_url), **op.retry_headers(ctx.now)})


def handle_monitor(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    op = ctx.store.operations.get(ctx.param("op"))
    if op is None or op.subscription.lower() != ctx.subscription.lower():
        raise operation_not_found(ctx.param("op"))
    return monitor_response(op, ctx.request.base_url, ctx.now)


def handle_provider(ctx: Ctx) -> Response:
    """``GET /providers/{ns}`` and ``POST .../register``: every provider is already registered."""
    if ctx.method not in ("GET", "POST"):
        raise method_not_allowed(ctx.method)
    ns = ctx.param("ns")
    return Response.json(
        200,
        {
            "id": f"/subscriptions/{ctx.subscription}/providers/{ns}",
            "namespace": ns,
            "registrationState": "Registered",
            "registrationPolicy": "RegistrationRequired",
            "resourceTypes": [],
        },
    )


def _op_token() -> str:
    """ARM's resource group operation ids are opaque tokens; a GUID without dashes will do."""
    return "RESOURCEGROUPDELETIONJOB-" + uuid.uuid4().hex.upper()
