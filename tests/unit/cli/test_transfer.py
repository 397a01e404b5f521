"""``regctl.transfer.BlobTransfer`` over a stand-in for azure-storage-blob's ``ContainerClient``: what it asks
the SDK to do (streamed uploads with length, Content-MD5 and overwrite; downloads into the target file), and
that a storage failure becomes a ``TransferError`` that does not quote the SAS signature. The SDK itself is
exercised against Azurite by the sandbox tests."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ServiceRequestError

from regctl.transfer import BlobTransfer, LocalFile, TransferError, md5_of_file, redacted

SAS_URL = "https://acct.blob.core.windows.net/upload-0123?sv=2024&sp=cw&sig=s3cr3t%2Bsig"


class StandInContainer:
    def __init__(self, blobs: dict[str, bytes], calls: list[dict[str, Any]], fail: set[str]) -> None:
        self.blobs, self.calls, self.fail = blobs, calls, fail

    def __enter__(self) -> StandInContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def upload_blob(self, name: str, data: Any, **kwargs: Any) -> None:
        if name in self.fail:
            raise ServiceRequestError(f"Max retries exceeded with url: /upload-0123/{name}?sv=2024&sig=s3cr3t%2Bsig")
        self.blobs[name] = data.read()
        self.calls.append({"name": name, **kwargs})

    def download_blob(self, name: str, **kwargs: Any) -> Any:
        blobs = self.blobs

        class Downloader:
            def readinto(self, handle: Any) -> int:
                return int(handle.write(blobs[name]))

        self.calls.append({"name": name, **kwargs})
        return Downloader()


@pytest.fixture
def storage(monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, bytes], list[dict[str, Any]], set[str], list[str]]:
    blobs: dict[str, bytes] = {}
    calls: list[dict[str, Any]] = []
    fail: set[str] = set()
    urls: list[str] = []

    def from_container_url(url: str, **kwargs: Any) -> StandInContainer:
        urls.append(url)
        return StandInContainer(blobs, calls, fail)

    monkeypatch.setattr("azure.storage.blob.ContainerClient.from_container_url", from_container_url)
    return blobs, calls, fail, urls


def local(tmp_path: Path, name: str, data: bytes) -> LocalFile:
    path = tmp_path / name.replace("/", "_")
    path.write_bytes(data)
    return LocalFile(name, path, len(data), md5_of_file(path))


def test_md5_of_a_file_is_the_base64_content_md5_read_in_chunks(tmp_path):
    data = b"x" * (5 * 1024 * 1024 + 3)  # more than one read chunk
    (tmp_path / "big").write_bytes(data)

    assert md5_of_file(tmp_path / "big") == base64.b64encode(hashlib.md5(data).digest()).decode()


def test_upload_streams_every_file_with_its_length_content_md5_and_overwrite(storage, tmp_path):
    blobs, calls, _, urls = storage
    files = [local(tmp_path, "MLmodel", b"flavors: {}\n"), local(tmp_path, "data/w.bin", bytes(range(256)))]

    BlobTransfer(files_at_once=2, blocks_at_once=3).upload(SAS_URL, files)

    assert urls == [SAS_URL]
    assert blobs == {"MLmodel": b"flavors: {}\n", "data/w.bin": bytes(range(256))}
    by_name = {c["name"]: c for c in calls}
    for file in files:
        call = by_name[file.path]
        assert (call["length"], call["overwrite"], call["max_concurrency"]) == (file.size, True, 3)
        assert base64.b64encode(bytes(call["content_settings"].content_md5)).decode() == file.md5


def test_download_writes_each_blob_into_its_target(storage, tmp_path):
    blobs, calls, _, _ = storage
    blobs.update({"models/clf/1/a": b"aaa", "models/clf/1/b/c": b"ccc"})
    targets = [("models/clf/1/a", tmp_path / "a"), ("models/clf/1/b/c", tmp_path / "c")]

    BlobTransfer().download(SAS_URL, targets)

    assert [(tmp_path / "a").read_bytes(), (tmp_path / "c").read_bytes()] == [b"aaa", b"ccc"]
    assert {c["name"] for c in calls} == {"models/clf/1/a", "models/clf/1/b/c"}


def test_a_storage_failure_is_a_transfer_error_without_the_sas_signature(storage, tmp_path):
    _, _, fail, _ = storage
    fail.add("model.pkl")

    with pytest.raises(TransferError) as raised:
        BlobTransfer().upload(SAS_URL, [local(tmp_path, "model.pkl", b"\x00" * 10)])

    assert raised.value.message.startswith("model.pkl: Max retries exceeded")
    assert "s3cr3t" not in raised.value.message and "sig=REDACTED" in raised.value.message


def test_redacted_removes_every_signature_and_keeps_the_rest():
    assert redacted("GET /c/b?sv=1&sig=abc%2F&se=2 and ?SIG=def") == "GET /c/b?sv=1&sig=REDACTED&se=2 and ?SIG=REDACTED"
