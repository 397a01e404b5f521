"""Where the proxy announces committed writes and deleted blobs, for the Event Grid stand-in (issue 13).

Azure's ``Microsoft.Storage.BlobCreated`` fires for Put Blob, Put Block List and Copy Blob once the block
blob is committed. The proxy calls every commit subscriber with a ``BlobCommitted`` after such a request
succeeded: Put Blob and Put Block List (201), Copy Blob From URL (202, sync) and Copy Blob when Azurite
answers ``x-ms-copy-status: success`` (it always finishes copies before answering).

``Microsoft.Storage.BlobDeleted`` fires for Delete Blob: the proxy calls every delete subscriber with a
``BlobDeleted`` after a Delete Blob of the blob itself (not of a snapshot or version) answered 202. The
event carries the deleted blob's content type and blob type, which the delete's answer does not: when
there are delete subscribers the proxy reads them with a HEAD just before forwarding the delete.

The Event Grid stand-in (``sandbox/eventgrid/``) subscribes to both when the simulator is given an events
queue connection; a callback's exception is logged and does not affect the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlobCommitted:
    #: The simulated storage account.
    account: str
    container: str
    blob: str
    #: ``PutBlob``, ``PutBlockList``, ``CopyBlob`` or ``CopyBlobFromUrl`` (the event's ``data.api``).
    api: str
    #: The blob's URL on the proxy (the event's ``data.url``).
    url: str
    etag: str | None
    content_length: int | None
    #: The blob's content type, the request ids (``x-ms-request-id``, ``x-ms-client-request-id``).
    content_type: str = "application/octet-stream"
    request_id: str = ""
    client_request_id: str = ""


@dataclass(frozen=True)
class BlobDeleted:
    #: The simulated storage account.
    account: str
    container: str
    blob: str
    #: The blob's URL on the proxy (the event's ``data.url``).
    url: str
    #: What the blob was (``data.contentType``, ``data.blobType``: ``BlockBlob``, ``AppendBlob``, ``PageBlob``).
    content_type: str = "application/octet-stream"
    blob_type: str = "BlockBlob"
    #: The request ids (``x-ms-request-id``, ``x-ms-client-request-id``).
    request_id: str = ""
    client_request_id: str = ""


_E = TypeVar("_E", "BlobCommitted", "BlobDeleted")
Subscriber = Callable[[BlobCommitted], None]
DeleteSubscriber = Callable[[BlobDeleted], None]


class CommitHooks:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._delete_subscribers: list[DeleteSubscriber] = []

    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        self._subscribers.remove(callback)

    def subscribe_deletes(self, callback: DeleteSubscriber) -> None:
        self._delete_subscribers.append(callback)

    def unsubscribe_deletes(self, callback: DeleteSubscriber) -> None:
        self._delete_subscribers.remove(callback)

    @property
    def wants_deletes(self) -> bool:
        """Whether anyone listens to deletes (the proxy then reads a blob's properties before deleting it)."""
        return bool(self._delete_subscribers)

    def announce(self, event: BlobCommitted | BlobDeleted) -> None:
        if isinstance(event, BlobCommitted):
            for callback in list(self._subscribers):
                _call(callback, event)
        else:
            for delete_callback in list(self._delete_subscribers):
                _call(delete_callback, event)


def _call(callback: Callable[[_E], None], event: _E) -> None:
    try:
        callback(event)
    except Exception:
        log.exception("a blob subscriber failed on %s/%s/%s", event.account, event.container, event.blob)
