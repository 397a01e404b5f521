"""The ARM error envelope and the response type every handler returns.

ARM always answers errors as ``{"error": {"code", "message"}}`` with ``Content-Type: application/json``:
the ACR SDK only tolerates JSON error bodies (anything else leaks ``json.JSONDecodeError``). A
``Retry-After`` header is only ever put on retryable errors (429, 5xx) because azure-core retries *any*
>= 400 response carrying one, even a 409.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

#: Statuses on which azure-core retries by itself; only these may carry Retry-After.
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def dump_json(obj: object) -> bytes:
    """Compact JSON, as ARM sends it."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Response:
    """A response before the common headers are added by the app."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, obj: object, headers: dict[str, str] | None = None) -> Response:
        merged = {"content-type": JSON_CONTENT_TYPE}
        if headers:
            merged.update(headers)
        return cls(status, dump_json(obj), merged)

    @classmethod
    def empty(cls, status: int, headers: dict[str, str] | None = None) -> Response:
        return cls(status, b"", dict(headers or {}))


class ArmError(Exception):
    """Raised by handlers; the app turns it into an enveloped error response."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        retry_after: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        if retry_after is not None and status not in RETRYABLE_STATUSES:
            raise ValueError(f"Retry-After on a non-retryable status {status} would make the SDK retry it")
        self.retry_after = retry_after
        self.headers = dict(headers or {})

    def to_response(self) -> Response:
        return error_response(
            self.status,
            self.code,
            self.message,
            target=self.target,
            retry_after=self.retry_after,
            extra_headers=self.headers,
        )


def error_body(code: str, message: str, target: str | None = None) -> dict[str, Any]:
    inner: dict[str, Any] = {"code": code, "message": message}
    if target is not None:
        inner["target"] = target
    return {"error": inner}


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    target: str | None = None,
    retry_after: int | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    headers: dict[str, str] = dict(extra_headers or {})
    if retry_after is not None and retry_after > 0 and status in RETRYABLE_STATUSES:
        headers["retry-after"] = str(retry_after)
    return Response.json(status, error_body(code, message, target), headers)


# Frequently used errors, with the messages real ARM sends.


def resource_group_not_found(rg: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")


def resource_not_found(resource_type: str, name: str, rg: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{resource_type}/{name}' under resource group '{rg}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def invalid_request_content(detail: str) -> ArmError:
    return ArmError(
        400,
        "InvalidRequestContent",
        f"The request content was invalid and could not be deserialized: '{detail}'.",
    )


def location_not_available(location: str, resource_type: str) -> ArmError:
    return ArmError(
        400,
        "LocationNotAvailableForResourceType",
        f"The provided location '{location}' is not available for resource type '{resource_type}'.",
    )


def invalid_resource_location(name: str, existing: str, rg: str, requested: str) -> ArmError:
    # Status UNVERIFIED in the reference; 409 is what ARM front door answers for this code.
    return ArmError(
        409,
        "InvalidResourceLocation",
        f"The resource '{name}' already exists in location '{existing}' in resource group '{rg}'. "
        f"A resource with the same name cannot be created in location '{requested}'. "
        "Please select a new resource name.",
    )


def resource_group_being_deleted(rg: str) -> ArmError:
    return ArmError(
        409,
        "ResourceGroupBeingDeleted",
        f"The resource group '{rg}' is in deprovisioning state and cannot perform this operation.",
    )


def method_not_allowed(method: str) -> ArmError:
    return ArmError(405, "HttpMethodNotAllowed", f"The requested resource does not support http method '{method}'.")


def operation_not_found(op_id: str) -> ArmError:
    return ArmError(404, "OperationNotFound", f"The operation '{op_id}' could not be found.")
