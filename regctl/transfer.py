"""Blob transfer of asset files: uploads into a pending upload's container, downloads from a region's copy.

Commands reach blob storage only through a ``Transfer``, which the ``Runtime`` makes (the unit tests give
one over the fake data plane). ``BlobTransfer`` is azure-storage-blob's ``ContainerClient`` on the container
SAS URL that the API hands out: each file is streamed from or to disk (never held in memory), uploads set
the blob's Content-MD5, several files move at once and large ones in parallel blocks. TLS: azure-core's
requests transport trusts ``REQUESTS_CA_BUNDLE`` (the sandbox's CA bundle for its Azurite accounts).
Error messages never carry the SAS signature.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from regctl.client import ApiError

if TYPE_CHECKING:
    from azure.storage.blob import ContainerClient

CHUNK_BYTES = 4 * 1024 * 1024
FILES_AT_ONCE = 4
BLOCKS_AT_ONCE = 4
_SIGNATURE = re.compile(r"(sig=)[^&\s'\"]+", re.IGNORECASE)
T = TypeVar("T")


class TransferError(ApiError):
    """Blob storage refused or did not answer (exit 2)."""


@dataclass(frozen=True)
class LocalFile:
    """A file to upload: its blob name (relative, ``/`` between folders), where it is, its size and
    Content-MD5 (base64, as blob storage and the manifest carry it)."""

    path: str
    source: Path
    size: int
    md5: str

    def entry(self) -> dict[str, Any]:
        """As the registration's ``files`` list names it."""
        return {"path": self.path, "size": self.size, "md5": self.md5}


def md5_of_file(path: Path) -> str:
    """The base64 MD5 of a file, read in chunks."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def redacted(message: str) -> str:
    """``message`` without any SAS signature it quotes (a URL in a connection error, say)."""
    return _SIGNATURE.sub(r"\1REDACTED", message)


class Transfer(Protocol):
    def upload(self, container_url: str, files: Sequence[LocalFile]) -> None:
        """Put every file under its ``path`` in the container (overwriting), with its Content-MD5."""

    def download(self, container_url: str, blobs: Sequence[tuple[str, Path]]) -> None:
        """Write each blob ``name`` of the container to its ``target`` file (its folder exists)."""


class BlobTransfer:
    """The real transfer, with azure-storage-blob (imported on first use: it is slow to import)."""

    def __init__(self, files_at_once: int = FILES_AT_ONCE, blocks_at_once: int = BLOCKS_AT_ONCE) -> None:
        self.files_at_once = files_at_once
        self.blocks_at_once = blocks_at_once

    def upload(self, container_url: str, files: Sequence[LocalFile]) -> None:
        from azure.storage.blob import ContentSettings  # noqa: PLC0415

        def put(container: ContainerClient, file: LocalFile) -> None:
            settings = ContentSettings(content_md5=bytearray(base64.b64decode(file.md5)))
            with file.source.open("rb") as handle:
                container.upload_blob(
                    file.path,
                    handle,
                    length=file.size,
                    overwrite=True,
                    content_settings=settings,
                    max_concurrency=self.blocks_at_once,
                )

        self._each(container_url, files, put, lambda f: f.path)

    def download(self, container_url: str, blobs: Sequence[tuple[str, Path]]) -> None:
        def get(container: ContainerClient, blob: tuple[str, Path]) -> None:
            name, target = blob
            with target.open("wb") as handle:
                container.download_blob(name, max_concurrency=self.blocks_at_once).readinto(handle)

        self._each(container_url, blobs, get, lambda b: b[0])

    def _each(
        self,
        container_url: str,
        items: Iterable[T],
        act: Callable[[ContainerClient, T], None],
        name: Callable[[T], str],
    ) -> None:
        """``act`` on every item, ``files_at_once`` at a time; the first failure stops the rest."""
        from azure.core.exceptions import AzureError  # noqa: PLC0415
        from azure.storage.blob import ContainerClient  # noqa: PLC0415

        with (
            ContainerClient.from_container_url(container_url) as container,
            ThreadPoolExecutor(self.files_at_once) as pool,
        ):
            running = {pool.submit(act, container, item): item for item in items}
            for done in as_completed(running):
                try:
                    done.result()
                except (AzureError, OSError) as exc:
                    pool.shutdown(cancel_futures=True)
                    reason = redacted(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                    raise TransferError(f"{name(running[done])}: {reason}") from None
