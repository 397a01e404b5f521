"""Azure Storage's error answers: an XML ``<Error>`` body and the ``x-ms-error-code`` header.

Shape and wording follow "Status and error codes" and "Blob Storage error codes" (Microsoft Learn): the
``Message`` ends with ``RequestId:`` and ``Time:`` lines; authentication failures add
``AuthenticationErrorDetail``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape

#: The ``Server`` header Azure Blob Storage sends.
SERVER = "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"

AUTH_FAILED = (
    "Server failed to authenticate the request. Make sure the value of Authorization header is formed "
    "correctly including the signature."
)
PERMISSION_MISMATCH = "This request is not authorized to perform this operation using this permission."
RESOURCE_TYPE_MISMATCH = "This request is not authorized to perform this operation using this resource type."

#: Default codes and messages of the statuses a fault rule may answer.
FAULT_ERRORS: dict[int, tuple[str, str]] = {
    500: ("InternalError", "The server encountered an internal error. Please retry the request."),
    503: ("ServerBusy", "The server is currently unable to receive requests. Please retry your request."),
    408: ("OperationTimedOut", "The operation could not be completed within the permitted time."),
    429: ("ServerBusy", "Operations per second is over the account limit."),
}


@dataclass
class StorageError(Exception):
    """Raised anywhere in the proxy; answered as Azure Storage answers errors."""

    status: int
    code: str
    message: str
    details: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


def auth_failed(detail: str) -> StorageError:
    """403 ``AuthenticationFailed`` with ``AuthenticationErrorDetail``."""
    return StorageError(403, "AuthenticationFailed", AUTH_FAILED, {"AuthenticationErrorDetail": detail})


def permission_mismatch() -> StorageError:
    return StorageError(403, "AuthorizationPermissionMismatch", PERMISSION_MISMATCH)


def resource_type_mismatch() -> StorageError:
    return StorageError(403, "AuthorizationResourceTypeMismatch", RESOURCE_TYPE_MISMATCH)


def fault_error(status: int, error_code: str | None) -> StorageError:
    code, message = FAULT_ERRORS.get(status, ("InternalError" if status >= 500 else "InvalidInput", "Injected."))
    return StorageError(status, error_code or code, f"{message} (injected by the sandbox)")


def new_request_id() -> str:
    return str(uuid.uuid4())


def http_date(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).strftime("%a, %d %b %Y %H:%M:%S GMT")


def error_response(err: StorageError, request_id: str, version: str | None) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, body)`` of ``err``."""
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond:06d}0Z"
    message = f"{err.message}\nRequestId:{request_id}\nTime:{stamp}"
    extra = "".join(f"<{key}>{escape(value)}</{key}>" for key, value in err.details.items())
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{escape(err.code)}</Code><Message>{escape(message)}</Message>{extra}</Error>"
    ).encode()
    headers = [
        ("content-type", "application/xml"),
        ("content-length", str(len(body))),
        ("server", SERVER),
        ("x-ms-request-id", request_id),
        ("x-ms-error-code", err.code),
        ("date", http_date(now)),
    ]
    if version:
        headers.append(("x-ms-version", version))
    return err.status, headers, body
