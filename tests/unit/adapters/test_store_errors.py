"""The Tables adapter classifies its own errors, so nothing above it meets an Azure exception."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import (
    HttpResponseError,
    ResourceModifiedError,
    ServiceRequestError,
    ServiceResponseError,
)

from shared.adapters.tables import TableStateStore, classify_store_error
from shared.domain.errors import ConcurrentUpdate, RegctlError, TransientError
from shared.domain.records import StepRecord


class _Response:
    def __init__(self, status: int) -> None:
        self.status_code = status
        self.reason = "reason"
        self.headers: dict[str, str] = {}

    def text(self) -> str:
        return ""


def _http(status: int) -> HttpResponseError:
    return HttpResponseError(message=f"status {status}", response=_Response(status))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ServiceRequestError("connection refused"), True),
        (ServiceResponseError("connection reset"), True),
        (_http(503), True),
        (_http(500), True),
        (_http(429), True),
        (_http(408), True),
        (_http(400), False),
        (_http(403), False),
    ],
)
def test_outages_are_transient_and_other_answers_are_faults(error: Exception, transient: bool) -> None:
    classified = classify_store_error(error)  # type: ignore[arg-type]
    assert isinstance(classified, TransientError) is transient
    assert isinstance(classified, RegctlError)
    assert classified.code == ("StoreUnavailable" if transient else "StoreError")


class _Table:
    """A TableClient whose every call fails with ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.error

        return fail


class _Service:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_table_client(self, name: str) -> _Table:
        return _Table(self.error)


def test_every_store_method_raises_regctl_errors_only() -> None:
    store = TableStateStore(_Service(ServiceRequestError("down")), "regctl")  # type: ignore[arg-type]
    with pytest.raises(TransientError):
        store.get_registry("r")
    with pytest.raises(TransientError):
        store.list_steps("r", "registry")
    with pytest.raises(TransientError):
        store.mark_seen("finished", "k")


def test_a_lost_etag_race_on_a_step_is_a_concurrent_update() -> None:
    store = TableStateStore(_Service(ResourceModifiedError("etag")), "regctl")  # type: ignore[arg-type]
    step = StepRecord(registry="r", key="ensure_group:eastus:0", operation_id="o", kind="group", region="eastus")
    step.etag = "old"
    with pytest.raises(ConcurrentUpdate):
        store.save_step(step)
