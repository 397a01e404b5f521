"""Azure errors classified in one table (DESIGN.md section 5): ARM code -> transient or permanent.

Unknown codes are transient (a retry is cheap; a wrongly permanent error strands an operation), and the
step gives up after ``MAX_STEP_ATTEMPTS`` anyway. Connection failures are transient.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from enum import Enum
from time import time

from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError, ServiceResponseError

from shared.domain.errors import NameTaken, PermanentError, RegctlError, StatusUnreadable, TransientError


class Kind(Enum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


# Sources: shared/reference/arm-behavior.md sections 2.5, 3, 5, 6; ASO's error classifier for the
# generic ARM codes.
ARM_ERROR_TABLE: dict[str, Kind] = {
    # throttling and service faults
    "TooManyRequests": Kind.TRANSIENT,
    "SubscriptionRequestsThrottled": Kind.TRANSIENT,
    "InternalServerError": Kind.TRANSIENT,
    "InternalError": Kind.TRANSIENT,
    "ServerBusy": Kind.TRANSIENT,
    "ServiceUnavailable": Kind.TRANSIENT,
    "OperationTimedOut": Kind.TRANSIENT,
    "GatewayTimeout": Kind.TRANSIENT,
    # another operation holds the resource
    "AnotherOperationInProgress": Kind.TRANSIENT,
    "Conflict": Kind.TRANSIENT,
    "StorageAccountOperationInProgress": Kind.TRANSIENT,
    "StorageAccountBeingCreated": Kind.TRANSIENT,
    "StorageAccountIsNotProvisioned": Kind.TRANSIENT,
    "StorageAccountInCreating": Kind.TRANSIENT,
    "SubscriptionOperationInProgress": Kind.TRANSIENT,
    "ResourceGroupBeingDeleted": Kind.TRANSIENT,
    "ResourceGroupNotFound": Kind.TRANSIENT,  # propagation right after the group is created
    "PrincipalNotFound": Kind.TRANSIENT,  # directory replication lag for new principals
    # the request can never succeed as sent
    "BadRequest": Kind.PERMANENT,
    "InvalidParameter": Kind.PERMANENT,
    "InvalidRequestContent": Kind.PERMANENT,
    "AccountNameInvalid": Kind.PERMANENT,
    "StorageAccountNameNotValid": Kind.PERMANENT,
    "InvalidAccountType": Kind.PERMANENT,
    "AccountTypeNotSupportedInLocation": Kind.PERMANENT,
    "AccountPropertyCannotBeUpdated": Kind.PERMANENT,
    "StorageAccountTypeConversionNotAllowed": Kind.PERMANENT,
    "StorageAccountTypeConversionCannotBeChanged": Kind.PERMANENT,
    "TooManyTags": Kind.PERMANENT,
    "LocationNotAvailableForResourceType": Kind.PERMANENT,
    "LocationNotValid": Kind.PERMANENT,
    "InvalidResourceLocation": Kind.PERMANENT,
    "MaxStorageAccountsCountPerSubscriptionExceeded": Kind.PERMANENT,
    "QuotaExceeded": Kind.PERMANENT,
    "SkuNotAvailable": Kind.PERMANENT,
    "RequestDisallowedByPolicy": Kind.PERMANENT,
    "AuthorizationFailed": Kind.PERMANENT,
    "LinkedAuthorizationFailed": Kind.PERMANENT,
    "InvalidAuthenticationToken": Kind.PERMANENT,
    "HomeReplicationCannotBeDeleted": Kind.PERMANENT,
    "RoleAssignmentUpdateNotPermitted": Kind.PERMANENT,
    "ScopeLocked": Kind.TRANSIENT,
    # globally unique names held by someone else: the step walks the naming fallback sequence
    "StorageAccountAlreadyTaken": Kind.PERMANENT,
    "StorageAccountAlreadyExists": Kind.PERMANENT,
    "StorageAccountInAnotherResourceGroup": Kind.PERMANENT,
    "AlreadyInUse": Kind.PERMANENT,
    "RegistryNameNotAvailable": Kind.PERMANENT,
    # the blob data plane (x-ms-error-code): what a retry cannot fix. Everything else there (500/503,
    # ServerBusy, a copy source not found or its SAS refused) is transient: the step observes afresh.
    "AuthorizationPermissionMismatch": Kind.PERMANENT,  # the app's identity lacks a Storage Blob Data role
    "KeyBasedAuthenticationNotPermitted": Kind.PERMANENT,
    "InvalidHeaderValue": Kind.PERMANENT,
    "InvalidQueryParameterValue": Kind.PERMANENT,
    "InvalidBlobOrBlock": Kind.PERMANENT,
}

NAME_TAKEN_CODES = frozenset(
    {
        "StorageAccountAlreadyTaken",
        "StorageAccountAlreadyExists",
        "StorageAccountInAnotherResourceGroup",
        "AlreadyInUse",
        "RegistryNameNotAvailable",
    }
)


def retry_after_seconds(headers: object) -> float | None:
    """``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms``; ``None`` when absent or zero."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001), ("Retry-After", 1.0)):
        raw = get(name)
        if not raw:
            continue
        try:
            value = float(raw) * scale
        except ValueError:
            try:
                value = parsedate_to_datetime(str(raw)).timestamp() - time()
            except (TypeError, ValueError):
                continue
        if value > 0:
            return value
    return None


def classify(exc: AzureError) -> RegctlError:
    """Turn an Azure SDK error into a ``TransientError`` or ``PermanentError`` of our tree."""
    if isinstance(exc, ServiceRequestError | ServiceResponseError):
        return TransientError(f"connection failed: {exc.message}", code="ConnectionFailed")
    if isinstance(exc, HttpResponseError):
        error = getattr(exc, "error", None)
        # ARM's error envelope, else the storage data plane's x-ms-error-code, else the status
        code = getattr(error, "code", None) or getattr(exc, "error_code", None) or _status_code_name(exc.status_code)
        message = getattr(error, "message", None) or exc.message or code
        retry_after = retry_after_seconds(getattr(exc.response, "headers", None))
        if code in NAME_TAKEN_CODES:
            return NameTaken(message, code=code)
        if ARM_ERROR_TABLE.get(code, Kind.TRANSIENT) is Kind.PERMANENT:
            return PermanentError(message, code=code)
        return TransientError(message, code=code, retry_after=retry_after)
    return TransientError(str(exc) or type(exc).__name__, code=type(exc).__name__)


def classify_poll(exc: AzureError) -> RegctlError:
    """``classify`` for a status request of a running operation. A request that was throttled (429) or got
    no answer (no connection, or none read back) says nothing about the operation: ``StatusUnreadable``, and
    the step polls again. Any other answer is the operation's: an Azure-AsyncOperation monitor reports a
    failure as 200 with a Failed status, a Location monitor as the failure's own 4xx/5xx status, so a 5xx
    from a monitor is the operation ending, classified by its error code as usual."""
    error = classify(exc)
    unanswered = isinstance(exc, ServiceRequestError | ServiceResponseError) or (
        isinstance(exc, HttpResponseError) and exc.status_code == 429
    )
    if unanswered and isinstance(error, TransientError):
        return StatusUnreadable(error.message, code=error.code, retry_after=error.retry_after)
    return error


def _status_code_name(status: int | None) -> str:
    return f"Http{status}" if status else "Unknown"
