"""Each simulated storage account has its own blob data plane behind the simulator's HTTPS proxy."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from sandbox.arm.launcher import ArmEndpoint
from tests.integration.blob.helpers import Account, Accounts

pytestmark = pytest.mark.integration


def test_the_blob_endpoint_is_the_proxy_path_style(arm: ArmEndpoint, accounts: Accounts) -> None:
    account = accounts.create()

    assert account.blob_endpoint == f"{arm.blob_endpoint}/{account.name}/"
    assert account.blob_endpoint.startswith("https://127.0.0.1:")


def test_two_accounts_in_a_region_do_not_see_each_others_containers(accounts: Accounts) -> None:
    first, second = accounts.create(), accounts.create()
    one, two = accounts.bearer(first), accounts.bearer(second)

    one.create_container("models")
    one.get_blob_client("models", "a/b.bin").upload_blob(b"first")
    two.create_container("data")

    assert [c.name for c in one.list_containers()] == ["models"]
    assert [c.name for c in two.list_containers()] == ["data"]
    with pytest.raises(ResourceNotFoundError):
        two.get_blob_client("models", "a/b.bin").download_blob()


def test_a_deleted_accounts_data_is_gone_when_its_pool_account_is_reused(accounts: Accounts) -> None:
    old = accounts.create()
    accounts.bearer(old).create_container("leftover")
    accounts.clients.storage.storage_accounts.delete(accounts.group, old.name)

    new = accounts.create()

    assert list(accounts.bearer(new).list_containers()) == []


def test_a_read_access_geo_account_reads_its_data_at_the_secondary_endpoint(accounts: Accounts) -> None:
    account = accounts.create(sku="Standard_RAGRS")
    accounts.bearer(account).create_container("geo")
    accounts.bearer(account).get_blob_client("geo", "a.txt").upload_blob(b"replicated")
    props = accounts.clients.storage.storage_accounts.get_properties(accounts.group, account.name)
    assert props.secondary_endpoints is not None
    secondary = Account(account.name, str(props.secondary_endpoints.blob), account.key)

    data = accounts.bearer(secondary).get_blob_client("geo", "a.txt").download_blob().readall()

    assert secondary.blob_endpoint.endswith(f"/{account.name}-secondary/")
    assert data == b"replicated"
