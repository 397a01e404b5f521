"""Authentication and authorization on the blob endpoints, as the function app and users do it."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.storage.blob import (
    AccountSasPermissions,
    BlobServiceClient,
    ResourceTypes,
    generate_account_sas,
    generate_blob_sas,
    generate_container_sas,
)

from sandbox.arm.launcher import ArmEndpoint
from tests.integration.blob.helpers import Account, Accounts, delegation_key, error_code, in_hours

pytestmark = pytest.mark.integration


@pytest.fixture
def account(accounts: Accounts) -> Account:
    account = accounts.create()
    accounts.bearer(account).create_container("uploads")
    return account


def _container_url(account: Account, sas: str) -> str:
    return f"{account.blob_endpoint}uploads?{sas}"


def _delegation_sas(accounts: Accounts, account: Account, permission: str) -> str:
    key = delegation_key(accounts.bearer(account))
    return generate_container_sas(
        account.name, "uploads", user_delegation_key=key, permission=permission, expiry=in_hours(1)
    )


def test_a_bearer_client_gets_a_delegation_key_and_a_user_uploads_with_its_container_sas(
    accounts: Accounts, account: Account
) -> None:
    sas = _delegation_sas(accounts, account, "racwl")
    user = accounts.with_sas(_container_url(account, sas))

    user.upload_blob("model/weights.bin", b"w" * 1000)
    user.get_blob_client("model/weights.bin").upload_blob(b"v2", overwrite=True)

    assert [b.name for b in user.list_blobs(name_starts_with="model/")] == ["model/weights.bin"]
    assert user.download_blob("model/weights.bin").readall() == b"v2"


def test_the_delegation_key_echoes_the_requested_times_and_the_caller(accounts: Accounts, account: Account) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    key = accounts.bearer(account).get_user_delegation_key(start, start + timedelta(hours=2))

    assert key.signed_start == start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert key.signed_service == "b"
    assert key.signed_oid and key.signed_tid and key.value


def test_a_delegation_key_needs_a_bearer_token(accounts: Accounts, account: Account) -> None:
    now = datetime.now(UTC)

    with pytest.raises(ClientAuthenticationError) as err:
        accounts.shared_key(account).get_user_delegation_key(now, now + timedelta(hours=1))

    assert error_code(err.value) == "AuthenticationFailed"


def test_a_delegation_key_longer_than_seven_days_is_refused(accounts: Accounts, account: Account) -> None:
    now = datetime.now(UTC)

    with pytest.raises(HttpResponseError) as err:
        accounts.bearer(account).get_user_delegation_key(now, now + timedelta(days=8))

    assert err.value.status_code == 400


def test_a_read_only_blob_sas_downloads_ranges(accounts: Accounts, account: Account) -> None:
    accounts.bearer(account).get_blob_client("uploads", "f.bin").upload_blob(bytes(range(256)))
    key = delegation_key(accounts.bearer(account))
    sas = generate_blob_sas(
        account.name, "uploads", "f.bin", user_delegation_key=key, permission="r", expiry=in_hours(1)
    )
    user = accounts.with_sas(_container_url(account, sas))

    assert user.download_blob("f.bin", offset=10, length=5).readall() == bytes(range(10, 15))
    assert user.get_blob_client("f.bin").get_blob_properties().size == 256


def test_a_tampered_signature_is_refused_with_azures_error(account: Account, accounts: Accounts) -> None:
    sas = _delegation_sas(accounts, account, "rl")
    tampered = sas.replace("sp=rl", "sp=rwl")
    user = accounts.with_sas(_container_url(account, tampered))

    with pytest.raises(ClientAuthenticationError) as err:
        user.upload_blob("x.bin", b"x")

    assert err.value.status_code == 403
    assert error_code(err.value) == "AuthenticationFailed"


def test_an_expired_sas_is_refused(account: Account, accounts: Accounts) -> None:
    sas = generate_container_sas(
        account.name,
        "uploads",
        account_key=account.key,
        permission="rl",
        expiry=datetime.now(UTC) - timedelta(minutes=1),
    )

    with pytest.raises(ClientAuthenticationError) as err:
        list(accounts.with_sas(_container_url(account, sas)).list_blobs())

    assert error_code(err.value) == "AuthenticationFailed"
    assert "Signature not valid in the specified time frame" in str(err.value)


def test_a_sas_not_yet_valid_is_refused(account: Account, accounts: Accounts) -> None:
    sas = generate_container_sas(
        account.name, "uploads", account_key=account.key, permission="rl", start=in_hours(1), expiry=in_hours(2)
    )

    with pytest.raises(ClientAuthenticationError) as err:
        list(accounts.with_sas(_container_url(account, sas)).list_blobs())

    assert error_code(err.value) == "AuthenticationFailed"


def test_a_missing_permission_is_a_permission_mismatch(account: Account, accounts: Accounts) -> None:
    user = accounts.with_sas(_container_url(account, _delegation_sas(accounts, account, "r")))

    with pytest.raises(HttpResponseError) as err:
        user.upload_blob("x.bin", b"x")

    assert err.value.status_code == 403
    assert error_code(err.value) == "AuthorizationPermissionMismatch"


def test_create_without_write_makes_new_blobs_only(account: Account, accounts: Accounts) -> None:
    user = accounts.with_sas(_container_url(account, _delegation_sas(accounts, account, "c")))
    user.upload_blob("new.bin", b"1")

    with pytest.raises(HttpResponseError) as err:
        user.upload_blob("new.bin", b"2", overwrite=True)

    assert error_code(err.value) == "AuthorizationPermissionMismatch"


def test_a_container_sas_cannot_act_on_another_container(account: Account, accounts: Accounts) -> None:
    accounts.bearer(account).create_container("other")
    sas = _delegation_sas(accounts, account, "racwl")
    other = accounts.with_sas(f"{account.blob_endpoint}other?{sas}")

    with pytest.raises(ClientAuthenticationError) as err:
        other.upload_blob("x.bin", b"x")

    assert error_code(err.value) == "AuthenticationFailed"


def test_a_sas_of_another_account_is_refused(accounts: Accounts, account: Account) -> None:
    other = accounts.create()
    accounts.bearer(other).create_container("uploads")
    sas = _delegation_sas(accounts, account, "racwl")

    with pytest.raises(ClientAuthenticationError):
        accounts.with_sas(_container_url(other, sas)).upload_blob("x.bin", b"x")


def test_shared_key_with_either_listed_key_works_and_a_wrong_key_fails(accounts: Accounts, account: Account) -> None:
    keys = accounts.clients.storage.storage_accounts.list_keys(accounts.group, account.name).as_dict()["keys"]
    for key in keys:
        client = BlobServiceClient(
            account.blob_endpoint,
            credential={"account_name": account.name, "account_key": key["value"]},
            connection_verify=accounts.arm.ca_bundle,
        )
        assert [c.name for c in client.list_containers()] == ["uploads"]
    wrong = {"account_name": account.name, "account_key": base64.b64encode(bytes(64)).decode()}
    client = BlobServiceClient(account.blob_endpoint, credential=wrong, connection_verify=accounts.arm.ca_bundle)

    with pytest.raises(ClientAuthenticationError) as err:
        list(client.list_containers())

    assert keys[0]["value"] != keys[1]["value"]
    assert error_code(err.value) == "AuthenticationFailed"


def test_service_sas_signed_with_the_account_key(accounts: Accounts, account: Account) -> None:
    sas = generate_container_sas(
        account.name, "uploads", account_key=account.key, permission="racwl", expiry=in_hours(1)
    )
    user = accounts.with_sas(_container_url(account, sas))

    user.upload_blob("k.bin", b"key")

    assert user.download_blob("k.bin").readall() == b"key"


def test_account_sas_needs_the_resource_type(accounts: Accounts, account: Account) -> None:
    objects_only = generate_account_sas(
        account.name, account.key, ResourceTypes(object=True), AccountSasPermissions(read=True, list=True), in_hours(1)
    )
    everything = generate_account_sas(
        account.name,
        account.key,
        ResourceTypes(service=True, container=True, object=True),
        AccountSasPermissions(read=True, list=True, create=True, write=True),
        in_hours(1),
    )
    ca = accounts.arm.ca_bundle

    BlobServiceClient(account.blob_endpoint, credential=everything, connection_verify=ca).create_container("made")
    with pytest.raises(HttpResponseError) as err:
        BlobServiceClient(account.blob_endpoint, credential=objects_only, connection_verify=ca).create_container("x1")

    assert error_code(err.value) == "AuthorizationResourceTypeMismatch"


def test_a_container_sas_cannot_create_containers(accounts: Accounts, account: Account) -> None:
    key = delegation_key(accounts.bearer(account))
    sas = generate_container_sas(account.name, "fresh", user_delegation_key=key, permission="racwl", expiry=in_hours(1))

    with pytest.raises(HttpResponseError) as err:
        accounts.with_sas(f"{account.blob_endpoint}fresh?{sas}").create_container()

    assert error_code(err.value) == "AuthorizationResourceTypeMismatch"


def test_no_credentials_is_401_with_azures_xml_error(arm: ArmEndpoint, account: Account) -> None:
    session = requests.Session()
    session.trust_env = False

    response = session.get(
        f"{account.blob_endpoint}uploads?restype=container&comp=list", verify=arm.ca_bundle, timeout=10
    )

    assert response.status_code == 401
    assert response.headers["x-ms-error-code"] == "NoAuthenticationInformation"
    assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?><Error><Code>NoAuthenticationInformation')


def test_list_blobs_answers_name_the_simulated_account(accounts: Accounts, account: Account) -> None:
    session = requests.Session()
    session.trust_env = False
    sas = _delegation_sas(accounts, account, "rl")

    response = session.get(
        f"{account.blob_endpoint}uploads?restype=container&comp=list&{sas}", verify=accounts.arm.ca_bundle, timeout=10
    )

    assert response.status_code == 200
    assert f'ServiceEndpoint="{account.blob_endpoint}"' in response.text
    assert "sbxpool" not in response.text
