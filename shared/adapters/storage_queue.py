"""``MessagePublisher`` over Azure Storage queues (the sandbox transport, ``MESSAGE_TRANSPORT=storagequeue``).

Storage queues carry only text, so each message travels in the JSON envelope of ``queue_envelope``; the
sandbox host unwraps it and hands the functions a Service Bus-shaped message. A scheduled enqueue becomes
the initial visibility timeout: the message exists at once but no receiver sees it before the delay ends,
which is what Service Bus's ``scheduled_enqueue_time_utc`` guarantees too. Bodies are plain text on both
sides (no base64 policy), so the envelope is readable in Azure Storage Explorer.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence

from azure.core.exceptions import AzureError
from azure.storage.queue import ExponentialRetry, QueueClient

from shared.adapters.queue_envelope import encode
from shared.adapters.transport import transport_options
from shared.domain.errors import TransientError
from shared.ports import OutboundMessage
from shared.settings import Settings

logger = logging.getLogger(__name__)

#: Azure Storage rejects a visibility timeout beyond seven days.
MAX_DELAY_SECONDS = 7 * 24 * 3600
#: ``time_to_live=-1``: the message never expires, like a Service Bus queue with the default TTL; it also
#: keeps a long visibility timeout below the TTL, which Storage requires.
_NEVER_EXPIRES = -1


def retry_policy() -> ExponentialRetry:
    """Short in-call retries: about 1 s, 3 s, 9 s. The SDK default starts at 15 s, so after a brief storage
    outage every sender sat out 15 s or more in the call; longer outages are the caller's scheduled retry."""
    return ExponentialRetry(initial_backoff=1, increment_base=3, retry_total=3, random_jitter_range=1)


class StorageQueuePublisher:
    """Sends envelopes to Storage queues; one ``QueueClient`` per queue, created once and reused.

    Thread-safe: the functions' thread pool may publish concurrently. ``publish`` sends in order and
    raises on the first failure; messages sent before it stay sent. The caller's retry then re-sends
    them with the same ``message_id``, which the host's duplicate detection drops, as Service Bus would.
    """

    def __init__(self, connection_string: str) -> None:
        if not connection_string:
            raise ValueError("a queue storage connection string is required")
        self._connection_string = connection_string
        self._clients: dict[str, QueueClient] = {}
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> StorageQueuePublisher:
        if not settings.queue_storage_connection:
            raise ValueError("QueueStorageConnection is not set")
        return cls(settings.queue_storage_connection)

    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        for message in messages:
            delay = _visibility_delay(message.delay_seconds)
            try:
                self._client(message.queue).send_message(
                    encode(message), visibility_timeout=delay, time_to_live=_NEVER_EXPIRES
                )
            except AzureError as exc:
                raise TransientError(
                    f"the queue is unavailable: {type(exc).__name__}", code="QueueUnavailable"
                ) from exc
            logger.debug("enqueued message %s on queue %s (delay %ss)", message.message_id, message.queue, delay)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
            self._closed = True
        for client in clients:
            client.close()

    def _client(self, queue: str) -> QueueClient:
        with self._lock:
            if self._closed:
                raise RuntimeError("the publisher is closed")
            client = self._clients.get(queue)
            if client is None:
                client = QueueClient.from_connection_string(
                    self._connection_string, queue, retry_policy=retry_policy(), **transport_options()
                )
                self._clients[queue] = client
            return client


def _visibility_delay(delay_seconds: float) -> int | None:
    """Whole seconds for the visibility timeout (rounded up: never earlier than asked), None for none."""
    if delay_seconds < 0:
        raise ValueError(f"a delay cannot be negative: {delay_seconds}")
    if delay_seconds == 0:
        return None
    if delay_seconds > MAX_DELAY_SECONDS:
        raise ValueError(f"a storage queue cannot delay a message by more than {MAX_DELAY_SECONDS} s: {delay_seconds}")
    return math.ceil(delay_seconds)
