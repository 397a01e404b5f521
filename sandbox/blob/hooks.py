"""Where the proxy announces committed writes, for the Event Grid stand-in (issue 13).

Azure's ``Microsoft.Storage.BlobCreated`` fires for Put Blob, Put Block List and Copy Blob once the block
blob is committed. The proxy calls every subscribed callback with a ``BlobCommitted`` after such a
request succeeded: Put Blob and Put Block List (201), Copy Blob From URL (202, sync) and Copy Blob when
Azurite answers ``x-ms-copy-status: success`` (it always finishes copies before answering). The Event Grid
stand-in (``sandbox/eventgrid.py``) subscribes when the simulator is given an events queue connection; a
callback's exception is logged and does not affect the request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

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


Subscriber = Callable[[BlobCommitted], None]


class CommitHooks:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Subscriber) -> None:
        self._subscribers.remove(callback)

    def announce(self, event: BlobCommitted) -> None:
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("a blob commit subscriber failed on %s/%s/%s", event.account, event.container, event.blob)
