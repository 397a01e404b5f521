"""List Blobs paging, and ``"service": "blob"`` faults: 500/503 answers and timeouts on copies, reads, lists."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.storage.blob import generate_blob_sas

from sandbox.arm.control import ControlError, SandboxControl
from tests.integration.blob.helpers import Account, Accounts, delegation_key, error_code, in_hours

pytestmark = pytest.mark.integration


@pytest.fixture
def account(accounts: Accounts) -> Account:
    account = accounts.create()
    service = accounts.bearer(account)
    service.create_container("assets")
    for index in range(7):
        service.get_blob_client("assets", f"models/m1/{index}.bin").upload_blob(b"x")
    service.get_blob_client("assets", "data/d1/0.bin").upload_blob(b"x")
    return account


def test_list_blobs_pages_by_maxresults_and_marker(accounts: Accounts, account: Account) -> None:
    container = accounts.bearer(account).get_container_client("assets")

    pages = container.list_blobs(name_starts_with="models/", results_per_page=3).by_page()
    names = [[blob.name for blob in page] for page in pages]

    assert names == [
        ["models/m1/0.bin", "models/m1/1.bin", "models/m1/2.bin"],
        ["models/m1/3.bin", "models/m1/4.bin", "models/m1/5.bin"],
        ["models/m1/6.bin"],
    ]


def test_a_page_resumes_from_a_continuation_token(accounts: Accounts, account: Account) -> None:
    container = accounts.bearer(account).get_container_client("assets")
    first: Any = container.list_blobs(results_per_page=5).by_page()
    next(first)
    token = first.continuation_token

    rest = [blob.name for page in container.list_blobs(results_per_page=5).by_page(token) for blob in page]

    assert rest == ["models/m1/4.bin", "models/m1/5.bin", "models/m1/6.bin"]  # after data/d1/0 and models 0-3


def test_a_503_on_reads_is_retried_by_the_sdk_until_the_count_is_used_up(
    accounts: Accounts, account: Account, control: SandboxControl
) -> None:
    control.set_faults([{"service": "blob", "operation": "read", "status": 503, "count": 2}])

    data = accounts.bearer(account).get_blob_client("assets", "data/d1/0.bin").download_blob().readall()

    assert data == b"x"
    assert control.faults()[0]["hits"] == 2


def test_a_500_on_lists_carries_azures_error_code(
    accounts: Accounts, account: Account, control: SandboxControl
) -> None:
    control.set_faults([{"service": "blob", "operation": "list", "status": 500}])
    container = accounts.bearer(account, retry_total=1).get_container_client("assets")

    with pytest.raises(HttpResponseError) as err:
        list(container.list_blobs())

    assert err.value.status_code == 500
    assert error_code(err.value) == "InternalError"
    assert control.faults()[0]["hits"] == 2  # the first try and one retry


def test_a_fault_only_hits_the_account_it_names(accounts: Accounts, account: Account, control: SandboxControl) -> None:
    other = accounts.create()
    accounts.bearer(other).create_container("assets")
    control.set_faults([{"service": "blob", "account": other.name, "status": 503}])

    assert len(list(accounts.bearer(account).get_container_client("assets").list_blobs())) == 8
    with pytest.raises(HttpResponseError) as err:
        list(accounts.bearer(other, retry_total=0).get_container_client("assets").list_blobs())

    assert error_code(err.value) == "ServerBusy"


def test_copies_fail_with_503_and_succeed_once_the_fault_is_used_up(
    accounts: Accounts, account: Account, control: SandboxControl
) -> None:
    target = accounts.create()
    accounts.bearer(target).create_container("assets")
    key = delegation_key(accounts.bearer(account))
    sas = generate_blob_sas(
        account.name, "assets", "data/d1/0.bin", user_delegation_key=key, permission="r", expiry=in_hours(1)
    )
    source = f"{account.blob_endpoint}assets/data/d1/0.bin?{sas}"
    control.set_faults([{"service": "blob", "operation": "copy", "status": 503, "count": 1}])
    destination = accounts.bearer(target, retry_total=0).get_blob_client("assets", "copy.bin")

    with pytest.raises(HttpResponseError) as err:
        destination.start_copy_from_url(source, requires_sync=True)
    result = destination.start_copy_from_url(source, requires_sync=True)

    assert err.value.status_code == 503
    assert result["copy_status"] == "success"


def test_a_timeout_hangs_then_drops_the_connection(
    accounts: Accounts, account: Account, control: SandboxControl
) -> None:
    control.set_faults([{"service": "blob", "operation": "read", "status": 0, "delay": 0.5, "count": 1}])
    blob = accounts.bearer(account, retry_total=0).get_blob_client("assets", "data/d1/0.bin")

    with pytest.raises((ServiceRequestError, ServiceResponseError)):
        blob.get_blob_properties()

    assert blob.get_blob_properties().size == 1
    assert control.faults()[0]["hits"] == 1


def test_blob_rules_leave_arm_alone_and_arm_keys_are_refused_on_them(control: SandboxControl) -> None:
    rules = control.set_faults([{"service": "blob", "status": 500}])

    assert rules[0]["service"] == "blob"
    assert control.health()
    with pytest.raises(ControlError, match="apply to ARM rules only"):
        control.set_faults([{"service": "blob", "status": 500, "resource_type": "Microsoft.Storage/storageAccounts"}])
    with pytest.raises(ControlError, match="operation must be one of"):
        control.set_faults([{"service": "blob", "status": 500, "operation": "teleport"}])  # type: ignore[typeddict-item]
