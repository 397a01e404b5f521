"""Writes dead-lettered events into the container a subscription's ``deadLetterDestination`` names.

The destination is a simulated storage account (its ARM id) and a container. Its blobs live in the Azurite
pool account it holds (``sandbox/arm/azurite.py``), so the blob is put there directly: Put Blob, signed with
the pool account's Shared Key, on the simulator's ``azurite_blob_endpoint``, as the blob proxy forwards
requests. Event Grid needs the container to exist ("Before setting the dead-letter location, you must have
a storage account with a container"); a missing account or container is "dead-letter destination isn't
found", and the event is dropped (the caller logs it). A pool account the proxy has not emptied since it was
handed out has no container of this account yet (what it holds is an earlier holder's), so it counts as
not found too, and nothing is written that the proxy's purge would then remove.

A written blob is announced like a write through the proxy (``BlobCommitted``, api ``PutBlob``): Event Grid
raises ``BlobCreated`` for the dead-letter blob, which is how Learn suggests to be told of one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import httpx

from sandbox.arm.azurite import pool_account
from sandbox.arm.eventgrid_properties import is_storage_account_id
from sandbox.arm.state import Store
from sandbox.blob.errors import http_date
from sandbox.blob.hooks import BlobCommitted
from sandbox.blob.sharedkey import signature, string_to_sign
from sandbox.eventgrid.retry import DeadLetterTarget

log = logging.getLogger(__name__)

#: The storage service version the writes to Azurite ask for (as the blob proxy's).
_VERSION = "2025-11-05"
_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class _Place:
    account: str
    pool_index: int
    azurite: str
    proxy: str


class DeadLetterWriter:
    """Puts dead-letter blobs; ``announce`` is told of each one written (the stand-in's ``blob_committed``)."""

    def __init__(self, store: Store, announce: Callable[[BlobCommitted], None]) -> None:
        self._store = store
        self._announce = announce
        self._client: httpx.Client | None = None

    def write(self, target: DeadLetterTarget, blob: str, content: bytes) -> str | None:
        """Put ``content`` as ``blob`` into the destination: ``None`` when written, else why it was not."""
        place = self._place(target)
        if isinstance(place, str):
            return place
        pool_name, key = pool_account(place.pool_index)
        path = f"/{target.container}/{quote(blob, safe='/')}"
        url = f"{place.azurite}/{pool_name}{path}"
        headers = {
            "x-ms-date": http_date(),
            "x-ms-version": _VERSION,
            "x-ms-blob-type": "BlockBlob",
            "content-type": _CONTENT_TYPE,
            "content-length": str(len(content)),
        }
        text = string_to_sign("PUT", headers, pool_name, urlsplit(url).path, [])
        headers["authorization"] = f"SharedKey {pool_name}:{signature(key, text)}"
        try:
            answer = self.client.put(url, headers=headers, content=content)
        except httpx.HTTPError as err:
            return f"Azurite could not be reached: {err!r}"
        if answer.status_code != 201:
            code = answer.headers.get("x-ms-error-code", "")
            return f"the write answered {answer.status_code} {code}".rstrip()
        self._announce(
            BlobCommitted(
                account=place.account,
                container=target.container,
                blob=blob,
                api="PutBlob",
                url=f"{place.proxy}/{place.account}{path}",
                etag=answer.headers.get("etag"),
                content_length=len(content),
                content_type=_CONTENT_TYPE,
                request_id=answer.headers.get("x-ms-request-id", ""),
            )
        )
        return None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(trust_env=False, timeout=httpx.Timeout(10.0, connect=5.0))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _place(self, target: DeadLetterTarget) -> _Place | str:
        """Where the destination's blobs are, or why there is no such destination (under the store's lock)."""
        if not is_storage_account_id(target.account_id):
            return f"'{target.account_id}' is not a storage account"
        parts = target.account_id.strip("/").split("/")
        with self._store.lock:
            account = self._store.account(parts[1], parts[3], parts[7])
            if account is None:
                return "the storage account was not found"
            if self._store.blob_pool.needs_purge(account.pool_index):
                return "the container was not found"  # nothing of this account's was written there yet
            settings = self._store.settings
            azurite, proxy = settings.azurite_blob_endpoint.rstrip("/"), settings.blob_endpoint.rstrip("/")
            return _Place(account.name.lower(), account.pool_index, azurite, proxy)
