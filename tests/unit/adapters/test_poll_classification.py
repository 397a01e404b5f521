"""A status request of a running operation that went unanswered is not the operation failing."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError

from shared.adapters.arm_errors import classify_poll
from shared.domain.errors import PermanentError, StatusUnreadable, TransientError


def answered(status: int, code: str = "", message: str = "") -> HttpResponseError:
    response = SimpleNamespace(status_code=status, headers={"Retry-After": "3"}, reason="", text=lambda: "")
    error = HttpResponseError(message=message or f"status {status}", response=response)
    error.status_code = status
    if code:
        error.error = SimpleNamespace(code=code, message=message)  # type: ignore[assignment]
    return error


@pytest.mark.parametrize(
    "exc",
    [
        answered(429, "SubscriptionRequestsThrottled"),
        ServiceRequestError("connection refused"),
        ServiceResponseError("connection reset"),
    ],
    ids=["throttled", "no connection", "reset"],
)
def test_an_unanswered_status_request_keeps_polling(exc: Exception):
    assert isinstance(classify_poll(exc), StatusUnreadable)  # type: ignore[arg-type]


@pytest.mark.parametrize("status", [200, 400, 500, 503])
def test_an_operation_that_ended_failed_is_classified_by_its_code(status: int):
    """200 is an Azure-AsyncOperation monitor's failure; a Location monitor answers with the failure's own
    status (the simulator maps OperationTimedOut to 500, ServiceUnavailable to 503)."""
    transient = classify_poll(answered(status, "OperationTimedOut", "the replica could not be created"))
    permanent = classify_poll(answered(status, "QuotaExceeded", "no more replicas in this region"))
    assert isinstance(transient, TransientError) and not isinstance(transient, StatusUnreadable)
    assert isinstance(permanent, PermanentError) and permanent.code == "QuotaExceeded"
