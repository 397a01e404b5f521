"""The blob transfer of asset files over the World's ``FakeDataPlane``, as azure-storage-blob does it over a
container SAS URL (``{endpoint}/{container}?sig=w..`` to write, ``sig=r..`` to read): an upload stores each
file with the Content-MD5 the CLI set; a download writes what the data plane holds, tampered or not."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from regctl.transfer import LocalFile, TransferError
from tests.unit.services.fake_assets import Blob, FakeDataPlane


class FakeTransfer:
    def __init__(self, data: FakeDataPlane) -> None:
        self.data = data
        self.uploaded: list[str] = []  # blob names, in order
        self.downloaded: list[tuple[str, str]] = []  # (account endpoint, blob name), in order

    @staticmethod
    def _container(url: str, permission: str) -> tuple[str, str]:
        base, _, sas = url.partition("?")
        if not sas.startswith(f"sig={permission}"):
            raise TransferError(f"AuthorizationPermissionMismatch: the SAS does not allow {permission!r}")
        endpoint, _, container = base.rpartition("/")
        return endpoint + "/", container

    def upload(self, container_url: str, files: Sequence[LocalFile]) -> None:
        endpoint, container = self._container(container_url, "w")
        for file in files:
            self.data.container(endpoint, container)[file.path] = Blob(file.source.read_bytes(), file.md5)
            self.uploaded.append(file.path)

    def download(self, container_url: str, blobs: Sequence[tuple[str, Path]]) -> None:
        endpoint, container = self._container(container_url, "r")
        for name, target in blobs:
            found = self.data.accounts.get(endpoint, {}).get(container, {}).get(name)
            if found is None:
                raise TransferError(f"{name}: BlobNotFound")
            target.write_bytes(found.data)
            self.downloaded.append((endpoint, name))
