"""Storage accounts (Microsoft.Storage/storageAccounts, api 2026-09-01).

Create is the real storage protocol: PUT answers **202 + Location** (never 201: the SDK accepts only
200/202), the monitor answers 202 (empty) while running and then **200 with the full account**, which
is the poller's result. A PUT on an existing account answers 200 synchronously (same properties: as is;
different allowed ones: updated). PATCH and DELETE are synchronous. Keys are never part of a GET/LIST.
The body is built in ``storage_body.py``; ``GET ...?$expand=geoReplicationStats`` adds the replication
statistics of a geo-redundant account.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.arm import azurite
from sandbox.arm.bodies import deep_merge, merge_patch, without_nulls
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
from sandbox.arm.lro import Outcome, Protocol, iso, monitor_response, utc_now
from sandbox.arm.resources import validate_tags
from sandbox.arm.routes import STORAGE_TYPE
from sandbox.arm.state import StorageAccount
from sandbox.arm.storage_body import account_body, parse_expand, provisioning_state, record_encryption
from sandbox.arm.storage_rules import (
    IMMUTABLE_PROPERTIES,
    READ_ONLY_PROPERTIES,
    canonical_kind,
    canonical_sku,
    check_kind_change,
    check_kind_sku,
    check_sku_change,
    check_sku_location,
    name_problem,
    property_cannot_be_updated,
)
from shared.domain.regions import is_known_region


def _visible(acct: StorageAccount, ctx: Ctx) -> bool:
    return ctx.settings.storage_visible_while_creating or provisioning_state(acct, ctx.now) == "Succeeded"


# Subscription-level routes -------------------------------------------------------------------------


def handle_check_name(ctx: Ctx) -> Response:
    if ctx.method != "POST":
        raise method_not_allowed(ctx.method)
    body = ctx.request.json_body()
    name = body.get("name")
    if not isinstance(name, str):
        raise invalid_request_content("'name' is required")
    rtype = body.get("type")
    if rtype is not None and (not isinstance(rtype, str) or rtype.lower() != STORAGE_TYPE.lower()):
        raise ArmError(400, "InvalidResourceType", f"The resource type '{rtype}' is not valid for this operation.")
    problem = name_problem(name)
    if problem is not None:
        return Response.json(200, {"nameAvailable": False, "reason": "AccountNameInvalid", "message": problem})
    if name.lower() in ctx.store.accounts or name.lower() in ctx.settings.taken_storage_names:
        message = f"The storage account named {name} is already taken."
        return Response.json(200, {"nameAvailable": False, "reason": "AlreadyExists", "message": message})
    return Response.json(200, {"nameAvailable": True})


def handle_list_sub(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    sub = ctx.subscription.lower()
    items = [
        account_body(a, ctx.settings, ctx.now)
        for a in ctx.store.accounts.values()
        if a.subscription.lower() == sub and _visible(a, ctx)
    ]
    return ctx.paged(items)


def handle_list_rg(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    group = ctx.group()
    key = (group.subscription.lower(), group.name.lower())
    items = [
        account_body(a, ctx.settings, ctx.now)
        for a in ctx.store.accounts.values()
        if (a.subscription.lower(), a.resource_group.lower()) == key and _visible(a, ctx)
    ]
    return ctx.paged(items)


def handle_monitor(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    op = ctx.store.operations.get(ctx.param("op"))
    if op is None or op.kind is not OpKind.STORAGE_CREATE or op.subscription.lower() != ctx.subscription.lower():
        raise operation_not_found(ctx.param("op"))
    return monitor_response(op, ctx.request.base_url, ctx.now)


# The account -------------------------------------------------------------------------------------


def handle_item(ctx: Ctx) -> Response:
    method = ctx.method
    if method == "GET":
        group = ctx.group()
        acct = ctx.store.account(ctx.subscription, group.name, ctx.param("name"))
        if acct is None or not _visible(acct, ctx):
            raise resource_not_found(STORAGE_TYPE, ctx.param("name"), group.name)
        expand = parse_expand(ctx.request.query.get("$expand", ""))
        return Response.json(200, account_body(acct, ctx.settings, ctx.now, expand=expand, now_wall=utc_now()))
    if method == "PUT":
        return _put(ctx)
    if method == "PATCH":
        return _patch(ctx)
    if method == "DELETE":
        return _delete(ctx)
    raise method_not_allowed(method)


def _existing_for_update(ctx: Ctx) -> StorageAccount:
    group = ctx.group()
    name = ctx.param("name")
    acct = ctx.store.account(ctx.subscription, group.name, name)
    if acct is None:
        raise ArmError(404, "StorageAccountNotFound", f"The storage account {name} was not found.")
    if provisioning_state(acct, ctx.now) != "Succeeded":
        raise ArmError(
            409,
            "StorageAccountIsNotProvisioned",
            f"The storage account provisioning state must be 'Succeeded' before executing the operation. "
            f"Storage account {acct.name} is in '{provisioning_state(acct, ctx.now)}' state.",
        )
    return acct


def _put(ctx: Ctx) -> Response:
    group = ctx.group_for_write()
    name = ctx.param("name")
    problem = name_problem(name)
    if problem is not None:
        raise ArmError(400, "AccountNameInvalid", problem, target=name)
    body = ctx.request.json_body()
    sku_raw = body.get("sku")
    if not isinstance(sku_raw, dict) or "name" not in sku_raw:
        raise invalid_request_content("'sku.name' is required")
    sku = canonical_sku(sku_raw["name"])
    if "kind" not in body:
        raise invalid_request_content("'kind' is required")
    kind = canonical_kind(body["kind"])
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise invalid_request_content("'location' is required")
    if not is_known_region(location):
        raise location_not_available(location, STORAGE_TYPE)
    location = location.lower()
    tags = validate_tags(body.get("tags"))
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise invalid_request_content("'properties' must be an object")
    props = _writable(props)
    check_kind_sku(kind, sku, bool(props.get("isHnsEnabled", False)))
    check_sku_location(sku, location)
    extended = _extended_location(body.get("extendedLocation"))

    store = ctx.store
    existing = store.account(ctx.subscription, group.name, name)
    if existing is not None:
        return _put_existing(ctx, existing, sku=sku, kind=kind, location=location, tags=tags, props=props)
    _check_name_free(ctx, name, location)
    quota = ctx.settings.storage_account_quota
    in_region = sum(
        1
        for a in store.accounts.values()
        if a.subscription.lower() == ctx.subscription.lower() and a.location == location
    )
    if in_region >= quota:
        raise ArmError(
            409,
            "MaxStorageAccountsCountPerSubscriptionExceeded",
            f"The subscription {ctx.subscription} already contains {in_region} storage accounts in location "
            f"{location} and the maximum allowed is {quota}.",
        )
    acct = StorageAccount(
        subscription=ctx.subscription,
        resource_group=group.name,
        name=name,
        location=location,
        kind=kind,
        sku=sku,
        tags=tags,
        properties=without_nulls(props),
        extended_location=extended,
    )
    record_encryption(acct, acct.created_wall)
    _assign_pool_account(ctx, acct)
    store.accounts[name.lower()] = acct
    op_id = str(uuid.uuid4())
    op = store.start_operation(
        OpKind.STORAGE_CREATE,
        Protocol.LOCATION,
        STORAGE_TYPE,
        ctx.subscription,
        f"/subscriptions/{ctx.subscription}/providers/Microsoft.Storage/locations/{location}"
        f"/asyncoperations/{op_id}?monitor=true&api-version={ctx.request.api_version}",
        now=ctx.now,
        failure=ctx.lro_failure(),
        op_id=op_id,
    )
    acct.create_op = op

    def effect(outcome: Outcome) -> None:
        # Storage has no Failed provisioning state: a failed create leaves no account behind.
        if outcome is not Outcome.SUCCEEDED:
            store.remove_account(acct)

    def result() -> dict[str, Any] | None:
        if store.accounts.get(acct.name.lower()) is not acct:
            return None
        return account_body(acct, store.settings, op.ready_at)

    op.effect = effect
    op.result = result
    return _accepted(ctx, acct)


def _writable(props: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in props.items() if k not in READ_ONLY_PROPERTIES}


def _extended_location(raw: object) -> dict[str, Any] | None:
    """``extendedLocation`` as sent (an edge zone: ``{"type": "EdgeZone", "name": ...}``), echoed by GET."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise invalid_request_content("'extendedLocation' must be an object with a 'name'")
    if raw.get("type", "EdgeZone") != "EdgeZone":
        raise invalid_request_content("'extendedLocation.type' must be 'EdgeZone'")
    return {"type": "EdgeZone", "name": raw["name"]}


def _accepted(ctx: Ctx, acct: StorageAccount) -> Response:
    op = acct.create_op
    assert op is not None
    return Response.empty(202, {"location": op.monitor_url(ctx.request.base_url), **op.retry_headers(ctx.now)})


def _check_name_free(ctx: Ctx, name: str, location: str) -> None:
    """Global uniqueness, with the codes of the SRP table (arm-behavior.md 2.5)."""
    lowered = name.lower()
    if lowered in ctx.settings.taken_storage_names:
        raise ArmError(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
    other = ctx.store.accounts.get(lowered)
    if other is None:
        return
    if other.subscription.lower() != ctx.subscription.lower():
        raise ArmError(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
    if other.location == location:
        raise ArmError(
            409,
            "StorageAccountInAnotherResourceGroup",
            f"The account {name} is already in another resource group in this subscription.",
        )
    raise ArmError(
        409,
        "StorageAccountAlreadyExists",
        "This specified storage account already exists under the subscription.",
    )


def _put_existing(
    ctx: Ctx,
    acct: StorageAccount,
    *,
    sku: str,
    kind: str,
    location: str,
    tags: dict[str, str],
    props: dict[str, Any],
) -> Response:
    if acct.location != location:
        raise invalid_resource_location(acct.name, acct.location, acct.resource_group, location)
    same = (
        sku == acct.sku
        and kind == acct.kind
        and tags == acct.tags
        and all(acct.properties.get(k) == v for k, v in props.items() if v is not None)
    )
    if provisioning_state(acct, ctx.now) != "Succeeded":
        if same:
            return _accepted(ctx, acct)  # a retried PUT: the same operation, never "name taken"
        raise ArmError(409, "StorageAccountOperationInProgress", "An operation for the storage account is in progress.")
    if not same:
        _check_immutables(acct, props)
        check_sku_change(acct.sku, sku)
        check_kind_change(acct.kind, kind)
        acct.sku, acct.kind, acct.tags = sku, kind, tags
        acct.properties = deep_merge(acct.properties, without_nulls(props))
        record_encryption(acct, utc_now())
    return Response.json(200, account_body(acct, ctx.settings, ctx.now))


def _assign_pool_account(ctx: Ctx, acct: StorageAccount) -> None:
    """The Azurite pool account behind the new account's blob endpoint (``sandbox/arm/azurite.py``)."""
    try:
        acct.pool_index = ctx.store.blob_pool.assign(acct.name)
    except azurite.PoolExhaustedError as err:
        raise ArmError(
            409,
            "SandboxBlobPoolExhausted",
            f"The sandbox cannot create another storage account: {err} (raise --blob-pool-size).",
        ) from err


def _check_immutables(acct: StorageAccount, props: dict[str, Any]) -> None:
    for prop in IMMUTABLE_PROPERTIES:
        if prop in props and props[prop] is not None and bool(props[prop]) != bool(acct.properties.get(prop, False)):
            raise property_cannot_be_updated(prop)


def _patch(ctx: Ctx) -> Response:
    acct = _existing_for_update(ctx)
    body = ctx.request.json_body()
    location = body.get("location")
    if isinstance(location, str) and location.lower() != acct.location:
        raise property_cannot_be_updated("location")
    props = body.get("properties")
    if props is not None and not isinstance(props, dict):
        raise invalid_request_content("'properties' must be an object")
    props = _writable(props or {})
    _check_immutables(acct, props)
    new_sku = acct.sku
    if body.get("sku") is not None:
        if not isinstance(body["sku"], dict) or "name" not in body["sku"]:
            raise invalid_request_content("'sku.name' is required when 'sku' is given")
        new_sku = canonical_sku(body["sku"]["name"])
        check_sku_change(acct.sku, new_sku)
        check_sku_location(new_sku, acct.location)
    new_kind = acct.kind
    if body.get("kind") is not None:
        new_kind = canonical_kind(body["kind"])
        check_kind_change(acct.kind, new_kind)
    tags = validate_tags(body["tags"]) if body.get("tags") is not None else acct.tags
    # Everything validated: apply. Tags are replaced wholesale; properties follow JSON merge-patch. The
    # answer is the whole account, as GET returns it.
    acct.sku, acct.kind, acct.tags = new_sku, new_kind, tags
    merge_patch(acct.properties, props)
    record_encryption(acct, utc_now())
    return Response.json(200, account_body(acct, ctx.settings, ctx.now))


def _delete(ctx: Ctx) -> Response:
    group = ctx.group()
    acct = ctx.store.account(ctx.subscription, group.name, ctx.param("name"))
    if acct is None:
        return Response.empty(204)
    if provisioning_state(acct, ctx.now) != "Succeeded":
        raise ArmError(
            409,
            "StorageAccountInCreating",
            "Cannot delete the storage account while it is being created. Please retry later.",
        )
    ctx.store.remove_account(acct)
    return Response.empty(200)


def handle_list_keys(ctx: Ctx) -> Response:
    if ctx.method != "POST":
        raise method_not_allowed(ctx.method)
    acct = _existing_for_update(ctx)
    created = iso(acct.created_wall)
    keys = [
        {"keyName": n, "value": key, "permissions": "FULL", "creationTime": created}
        for n, key in zip(("key1", "key2"), acct.keys, strict=True)
    ]
    return Response.json(200, {"keys": keys})
