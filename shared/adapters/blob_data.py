"""The blob data plane of the registries' storage accounts, with azure-storage-blob (``DataPlane``).

- Authentication is the app's identity (a bearer token); every SAS it hands out (upload credentials,
  download credentials, copy sources) is a **user-delegation SAS** signed with a key from Get User
  Delegation Key, so the accounts can keep shared keys off. Keys are cached per account until shortly
  before they expire.
- Copies are server-side: Copy Blob From URL (synchronous, atomic per blob) up to 256 MiB, Copy Blob
  (asynchronous) above; a pending copy's status is polled by the step's scheduled messages through
  ``poll``. Bytes never pass through the Function App.
- In-flight copies are bounded per destination account (``copies_per_account``), across the steps of
  this process, so one large promotion cannot take every slot of an account.
- Errors are classified by the one table (``arm_errors.classify``), with the storage ``x-ms-error-code``.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import (
    BlobServiceClient,
    ContainerSasPermissions,
    LinearRetry,
    UserDelegationKey,
    generate_container_sas,
)

from shared.adapters.arm_errors import classify
from shared.adapters.transport import transport_options
from shared.domain.errors import InvalidSpec, NotFound, TransientError
from shared.domain.manifest import SYNC_COPY_LIMIT, BlobListing
from shared.ports import LroState

log = logging.getLogger(__name__)
T = TypeVar("T")

_KEY_HOURS = 6  # a user delegation key lives at most 7 days; renewed well before it ends
_SOURCE_SAS_MINUTES = 60
_POLL_SECONDS = 2.0
_PAGE = 5000


def _md5(settings: Any) -> str:
    raw = getattr(settings, "content_md5", None)
    return base64.b64encode(bytes(raw)).decode("ascii") if raw else ""


class AzureBlobDataPlane:
    def __init__(
        self,
        credential: TokenCredential,
        *,
        ca_bundle: str | None = None,
        copies_per_account: int = 8,
        workers: int = 32,
    ) -> None:
        self._credential = credential
        self._ca_bundle = ca_bundle
        self._per_account = max(1, copies_per_account)
        self._clients: dict[str, BlobServiceClient] = {}
        self._keys: dict[str, tuple[UserDelegationKey, datetime]] = {}
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._made: set[tuple[str, str]] = set()  # containers known to exist
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blobcopy")

    # -- plumbing ---------------------------------------------------------------------------------

    def _service(self, endpoint: str) -> BlobServiceClient:
        with self._lock:
            client = self._clients.get(endpoint)
            if client is None:
                client = BlobServiceClient(
                    endpoint,
                    credential=self._credential,
                    retry_policy=LinearRetry(backoff=1, random_jitter_range=1, retry_total=2),
                    connection_timeout=10,
                    read_timeout=120,
                    **transport_options(ca_bundle=self._ca_bundle),
                )
                self._clients[endpoint] = client
            return client

    @staticmethod
    def _call(fn: Callable[[], T]) -> T:
        try:
            return fn()
        except AzureError as exc:
            raise classify(exc) from exc

    @contextmanager
    def _slot(self, endpoint: str) -> Iterator[None]:
        with self._lock:
            slot = self._slots.setdefault(endpoint, threading.BoundedSemaphore(self._per_account))
        with slot:
            yield

    def _key(self, endpoint: str) -> UserDelegationKey:
        now = datetime.now(UTC)
        with self._lock:
            cached = self._keys.get(endpoint)
        if cached is not None and cached[1] - now > timedelta(minutes=_SOURCE_SAS_MINUTES + 5):
            return cached[0]
        expiry = now + timedelta(hours=_KEY_HOURS)
        key = self._call(lambda: self._service(endpoint).get_user_delegation_key(now - timedelta(minutes=5), expiry))
        with self._lock:
            self._keys[endpoint] = (key, expiry)
        return key

    def _sas(self, endpoint: str, container: str, permission: ContainerSasPermissions, minutes: int) -> str:
        service = self._service(endpoint)
        now = datetime.now(UTC)
        return generate_container_sas(
            service.account_name or "",
            container,
            user_delegation_key=self._key(endpoint),
            permission=permission,
            start=now - timedelta(minutes=5),
            expiry=now + timedelta(minutes=minutes),
        )

    # -- the port ---------------------------------------------------------------------------------

    def container_url(self, endpoint: str, container: str, *, write: bool, minutes: int, prefix: str = "") -> str:
        permission = ContainerSasPermissions(read=True, list=True, write=write, create=write, add=write)
        sas = self._sas(endpoint, container, permission, minutes)
        return f"{endpoint.rstrip('/')}/{container}?{sas}"

    def _ensure_container(self, endpoint: str, container: str) -> None:
        """Create a copy's destination container once per account and process (one request, not a failed
        copy per file when it is missing)."""
        if (endpoint, container) in self._made:
            return
        self.create_container(endpoint, container)
        with self._lock:
            self._made.add((endpoint, container))

    def create_container(self, endpoint: str, container: str) -> None:
        try:
            self._call(lambda: self._service(endpoint).create_container(container))
        except Exception as exc:
            if not isinstance(exc.__cause__, ResourceExistsError):
                raise

    def delete_container(self, endpoint: str, container: str) -> None:
        try:
            self._call(lambda: self._service(endpoint).delete_container(container))
        except Exception as exc:
            if not isinstance(exc.__cause__, ResourceNotFoundError):
                raise

    def list_blobs(self, endpoint: str, container: str, prefix: str) -> dict[str, BlobListing]:
        client = self._service(endpoint).get_container_client(container)

        def listing() -> dict[str, BlobListing]:
            found: dict[str, BlobListing] = {}
            for blob in client.list_blobs(name_starts_with=prefix or None, results_per_page=_PAGE):
                copy = getattr(blob, "copy", None)
                status = str(getattr(copy, "status", "") or "")
                found[blob.name] = BlobListing(blob.name, int(blob.size or 0), _md5(blob.content_settings), status)
            return found

        try:
            return self._call(listing)
        except Exception as exc:
            if isinstance(exc.__cause__, ResourceNotFoundError):
                return {}  # no container yet: nothing copied there
            raise

    def read_blob(self, endpoint: str, container: str, name: str, limit: int) -> bytes:
        client = self._service(endpoint).get_blob_client(container, name)

        def read() -> bytes:
            try:
                size = int(client.get_blob_properties().size or 0)
                if size > limit:
                    raise InvalidSpec(f"{container}/{name} holds {size} bytes; at most {limit} are read", [])
                return bytes(client.download_blob().readall())
            except ResourceNotFoundError:
                raise NotFound(f"{container}/{name} not found", code="BlobNotFound") from None

        return self._call(read)

    def copy(self, body: dict[str, Any]) -> LroState:
        source, target, files = body["source"], body["target"], body["files"]
        sas = self._sas(
            source["endpoint"], source["container"], ContainerSasPermissions(read=True), _SOURCE_SAS_MINUTES
        )
        base = f"{source['endpoint'].rstrip('/')}/{source['container']}/"
        self._ensure_container(target["endpoint"], target["container"])
        destination = self._service(target["endpoint"]).get_container_client(target["container"])

        def one(entry: dict[str, Any]) -> tuple[str, str] | None:
            url = base + quote(source["prefix"] + entry["path"]) + "?" + sas
            name = target["prefix"] + entry["path"]
            blob = destination.get_blob_client(name)
            with self._slot(target["endpoint"]):
                result = blob.start_copy_from_url(url, requires_sync=int(entry["size"]) <= SYNC_COPY_LIMIT)
            status = str(result.get("copy_status") or "")
            return (name, str(result.get("copy_id") or "")) if status == "pending" else None

        def run() -> list[tuple[str, str]]:
            return [p for p in self._pool.map(one, files) if p is not None]

        try:
            pending = self._call(run)
        except Exception as exc:
            if isinstance(exc.__cause__, ResourceNotFoundError) and "ContainerNotFound" in str(exc):
                self._made.discard((target["endpoint"], target["container"]))  # deleted meanwhile: next time
            raise
        if not pending:
            return LroState(done=True)
        state = {
            "dataplane": "copy",
            "endpoint": target["endpoint"],
            "container": target["container"],
            "pending": pending,
        }
        return LroState(done=False, continuation=json.dumps(state), retry_after=_POLL_SECONDS)

    def poll(self, continuation: str) -> LroState:
        state = json.loads(continuation)
        container = self._service(state["endpoint"]).get_container_client(state["container"])
        still: list[list[str]] = []
        for name, copy_id in state["pending"]:
            blob = container.get_blob_client(name)
            props = self._call(blob.get_blob_properties)
            status = str(getattr(props.copy, "status", "") or "")
            if status == "pending":
                still.append([name, copy_id])
            elif status not in ("", "success"):
                # ended badly: the step observes afresh and copies what lacks again
                raise TransientError(f"copy of {name} ended {status}", code="CopyFailed")
        if not still:
            return LroState(done=True)
        return LroState(done=False, continuation=json.dumps({**state, "pending": still}), retry_after=_POLL_SECONDS)

    def delete_blobs(self, body: dict[str, Any]) -> LroState:
        target = body["target"]
        names = sorted(self.list_blobs(target["endpoint"], target["container"], target["prefix"]))
        container = self._service(target["endpoint"]).get_container_client(target["container"])

        def one(name: str) -> None:
            try:
                container.delete_blob(name)
            except ResourceNotFoundError:
                return

        self._call(lambda: list(self._pool.map(one, names)))
        return LroState(done=True)

    def close(self) -> None:
        self._pool.shutdown(wait=False)
