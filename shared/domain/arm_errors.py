"""regctl's request errors in ARM's error envelope (pure): ``{"error": {code, message, target?, details}}``.

ARM's codes and statuses (ARM RPC "Error Response Content"; shared/reference/arm-behavior.md section 4):
400 ``InvalidRequestContent`` (or ARM's own ``MissingApiVersionParameter``/``InvalidApiVersionParameter``),
401 ``AuthenticationFailed``/``InvalidAuthenticationToken``, 403 ``AuthorizationFailed``, 404
``ResourceNotFound`` (``SubscriptionNotFound``), 409 ``Conflict``. regctl's own code and message travel
along: the message at the top (what azure-core's ``HttpResponseError`` shows), the code in ``details``,
with each offending field's ARM path as its ``target``.
"""

from __future__ import annotations

import re
from typing import Any

from shared.domain.errors import Conflict, FieldError, Forbidden, InvalidSpec, NotFound, RequestError, Unauthenticated

#: Codes that are ARM's own and go out as they are.
ARM_CODES = frozenset(
    {
        "MissingApiVersionParameter",
        "InvalidApiVersionParameter",
        "InvalidRequestContent",
        "SubscriptionNotFound",
        "ResourceNotFound",
        "InvalidResourceGroupName",
        "AuthorizationFailed",
    }
)

#: The spec's (YAML) field paths as the ARM body's paths, first match wins.
_PATHS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (
            r"^replication_locations\[(\d+)\]\.storage_config\.storage_account_type",
            r"properties.regionDetails[\1].storageAccountDetails[0].systemCreatedStorageAccount.storageAccountType",
        ),
        (
            r"^replication_locations\[(\d+)\]\.storage_config\.storage_account_hns",
            r"properties.regionDetails[\1].storageAccountDetails[0].systemCreatedStorageAccount.storageAccountHnsEnabled",
        ),
        (
            r"^replication_locations\[(\d+)\]\.storage_config(\.replication_count)?",
            r"properties.regionDetails[\1].storageAccountDetails",
        ),
        (r"^replication_locations", "properties.regionDetails"),
        (r"^public_network_access", "properties.publicNetworkAccess"),
        (r"^intellectual_property(\.publisher)?", "properties.intellectualPropertyPublisher"),
        (
            r"^container_registry(\.acr_account_sku)?",
            "properties.regionDetails[0].acrDetails[0].systemCreatedAcrAccount.acrAccountSku",
        ),
    )
)


def arm_target(path: str) -> str:
    """A spec field path (``replication_locations[1].location``) as the ARM body's path; ARM paths stay."""
    for pattern, replacement in _PATHS:
        if pattern.match(path):
            return pattern.sub(replacement, path, count=1)
    return path


def _status_and_code(exc: RequestError) -> tuple[int, str]:
    if isinstance(exc, Unauthenticated):
        return 401, "AuthenticationFailed" if exc.code == "AuthenticationRequired" else "InvalidAuthenticationToken"
    if isinstance(exc, Forbidden):
        return 403, "AuthorizationFailed"
    if isinstance(exc, NotFound):
        return 404, exc.code if exc.code in ARM_CODES else "ResourceNotFound"
    if isinstance(exc, Conflict):
        return 409, "Conflict"
    if isinstance(exc, InvalidSpec):
        return 400, exc.code if exc.code in ARM_CODES else "InvalidRequestContent"
    return exc.status, exc.code


def _field(error: FieldError) -> FieldError:
    return FieldError(arm_target(error.path), error.message)


def arm_error(exc: RequestError) -> tuple[int, dict[str, Any]]:
    """The HTTP status and the ARM error body for a request error."""
    status, code = _status_and_code(exc)
    message = exc.message
    details: list[dict[str, Any]] = []
    if isinstance(exc, InvalidSpec) and exc.errors:
        fields = [_field(e) for e in exc.errors]
        more = f" (and {len(fields) - 1} more)" if len(fields) > 1 else ""
        if not message.startswith("The request content is invalid"):
            message = f"The request content is invalid: {fields[0]}{more}"
        details = [{"code": exc.code, "target": f.path, "message": f.message} for f in fields]
    elif code != exc.code:
        details = [{"code": exc.code, "message": exc.message}]
    error: dict[str, Any] = {"code": code, "message": message, "details": details}
    if isinstance(exc, InvalidSpec) and exc.errors:
        error["target"] = details[0]["target"]
    return status, {"error": error}


def envelope(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    """An ARM error body for what is not a regctl request error (an unknown route, an outage)."""
    return status, {"error": {"code": code, "message": message, "details": []}}
