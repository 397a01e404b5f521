"""Server-side copies between simulated accounts: Copy Blob From URL (sync) and Copy Blob (async)."""

from __future__ import annotations

import hashlib
import os

import pytest
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import BlobClient, ContentSettings, generate_blob_sas

from tests.integration.blob.helpers import Account, Accounts, delegation_key, error_code, in_hours

pytestmark = pytest.mark.integration


def _source(accounts: Accounts, account: Account, data: bytes, name: str = "m/w.bin") -> str:
    """Upload ``data`` with its MD5 into ``account`` and return a read SAS URL of it."""
    service = accounts.bearer(account)
    service.create_container("src")
    settings = ContentSettings(content_md5=bytearray(hashlib.md5(data).digest()))
    service.get_blob_client("src", name).upload_blob(data, content_settings=settings)
    key = delegation_key(service)
    sas = generate_blob_sas(account.name, "src", name, user_delegation_key=key, permission="r", expiry=in_hours(1))
    return f"{account.blob_endpoint}src/{name}?{sas}"


def _destination(accounts: Accounts, account: Account) -> BlobClient:
    service = accounts.bearer(account)
    service.create_container("dst")
    return service.get_blob_client("dst", "m/w.bin")


def test_copy_blob_from_url_across_regions_keeps_content_and_md5(accounts: Accounts) -> None:
    source, target = accounts.create("eastus"), accounts.create("westeurope")
    data = os.urandom(3 * 1024 * 1024 + 17)
    destination = _destination(accounts, target)

    result = destination.start_copy_from_url(_source(accounts, source, data), requires_sync=True)

    assert result["copy_status"] == "success"
    properties = destination.get_blob_properties()
    assert bytes(properties.content_settings.content_md5 or b"") == hashlib.md5(data).digest()
    assert destination.download_blob().readall() == data
    assert properties.copy.source is not None
    assert properties.copy.source.startswith(f"{source.blob_endpoint}src/m/w.bin")
    assert "sbxpool" not in properties.copy.source and "sig=" not in properties.copy.source


def test_async_copy_blob_is_polled_to_success_and_abort_after_it_is_refused(accounts: Accounts) -> None:
    source, target = accounts.create(), accounts.create()
    data = b"async copy" * 1000
    destination = _destination(accounts, target)

    started = destination.start_copy_from_url(_source(accounts, source, data))
    properties = destination.get_blob_properties()
    with pytest.raises(HttpResponseError) as err:
        destination.abort_copy(str(started["copy_id"]))

    assert properties.copy.status == "success"
    assert properties.copy.id == started["copy_id"]
    assert destination.download_blob().readall() == data
    assert error_code(err.value) == "NoPendingCopyOperation"


def test_a_copy_source_without_read_permission_cannot_be_verified(accounts: Accounts) -> None:
    source, target = accounts.create(), accounts.create()
    url = _source(accounts, source, b"data")
    key = delegation_key(accounts.bearer(source))
    list_only = generate_blob_sas(
        source.name, "src", "m/w.bin", user_delegation_key=key, permission="l", expiry=in_hours(1)
    )
    destination = _destination(accounts, target)

    with pytest.raises(HttpResponseError) as err:
        destination.start_copy_from_url(url.split("?")[0] + "?" + list_only, requires_sync=True)

    assert err.value.status_code == 403
    assert error_code(err.value) == "CannotVerifyCopySource"


def test_a_copy_source_without_credentials_reads_as_missing(accounts: Accounts) -> None:
    source, target = accounts.create(), accounts.create()
    url = _source(accounts, source, b"data")

    with pytest.raises(HttpResponseError) as err:
        _destination(accounts, target).start_copy_from_url(url.split("?")[0])

    assert err.value.status_code == 404
    assert error_code(err.value) == "CannotVerifyCopySource"


def test_a_300_mib_blob_async_copied_between_accounts_keeps_md5_and_content(accounts: Accounts) -> None:
    source, target = accounts.create("eastus"), accounts.create("westus")
    block = os.urandom(1024 * 1024)
    data = b"".join(block[i:] + block[:i] for i in range(300))  # 300 distinct MiB
    digest = hashlib.md5(data).digest()
    service = accounts.bearer(source)
    service.create_container("src")
    uploader = service.get_blob_client("src", "big.bin")
    uploader.upload_blob(data, content_settings=ContentSettings(content_md5=bytearray(digest)), max_concurrency=2)
    key = delegation_key(service)
    sas = generate_blob_sas(source.name, "src", "big.bin", user_delegation_key=key, permission="r", expiry=in_hours(1))
    destination = _destination(accounts, target)

    destination.start_copy_from_url(f"{source.blob_endpoint}src/big.bin?{sas}")

    properties = destination.get_blob_properties()
    assert properties.copy.status == "success"
    assert properties.size == len(data)
    assert bytes(properties.content_settings.content_md5 or b"") == digest
    copied = hashlib.md5()
    for chunk in destination.download_blob(max_concurrency=2).chunks():
        copied.update(chunk)
    assert copied.digest() == digest
