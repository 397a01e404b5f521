"""``MessagePublisher`` over Azure Service Bus queues (production, ``MESSAGE_TRANSPORT=servicebus``).

Identity-based: ``DefaultAzureCredential`` (the Function App's managed identity in Azure) and the fully
qualified namespace from Settings, never a connection string. The mapping from ``OutboundMessage`` to
``ServiceBusMessage`` is a pure function so it can be tested without a namespace:

- ``message_id`` is the idempotency key, so the queue's duplicate detection drops a second enqueue;
- ``subject``, ``content_type`` and application properties carry the metadata;
- a delay becomes ``scheduled_enqueue_time_utc`` (Service Bus holds the message, no worker sleeps).

Messages are sent in batches per queue through one sender per queue, created on first use and reused:
opening an AMQP link per publish would cost a round trip each time.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.identity import DefaultAzureCredential
from azure.servicebus import ServiceBusClient, ServiceBusMessage, ServiceBusMessageBatch, ServiceBusSender
from azure.servicebus.exceptions import MessageSizeExceededError

from shared.domain.errors import RegctlError, TransientError
from shared.ports import OutboundMessage
from shared.settings import Settings

logger = logging.getLogger(__name__)


def to_service_bus_message(message: OutboundMessage, now: datetime) -> ServiceBusMessage:
    """The Service Bus message for ``message``; ``now`` (aware, UTC) anchors a delay."""
    if message.delay_seconds < 0:
        raise ValueError(f"a delay cannot be negative: {message.delay_seconds}")
    scheduled = now + timedelta(seconds=message.delay_seconds) if message.delay_seconds > 0 else None
    properties: dict[str | bytes, int | float | bytes | bool | str | UUID] = dict(
        message.application_properties.items()
    )
    return ServiceBusMessage(
        message.body,
        message_id=message.message_id,
        subject=message.subject or None,
        content_type=message.content_type or None,
        application_properties=properties or None,
        scheduled_enqueue_time_utc=scheduled,
    )


class ServiceBusPublisher:
    """Sends messages to Service Bus queues; thread-safe (a lock per sender, which is not).

    ``publish`` raises on the first failed batch; batches sent before it stay sent. The caller's retry
    re-sends them with the same ``message_id`` and duplicate detection drops the copies.
    """

    def __init__(self, fully_qualified_namespace: str, credential: TokenCredential | None = None) -> None:
        if not fully_qualified_namespace:
            raise ValueError("a Service Bus namespace is required")
        # A credential we create is ours to close; a caller's stays the caller's.
        self._own_credential: DefaultAzureCredential | None = None
        if credential is None:
            credential = self._own_credential = DefaultAzureCredential()
        self._client = ServiceBusClient(fully_qualified_namespace, credential)
        self._senders: dict[str, tuple[ServiceBusSender, threading.Lock]] = {}
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_settings(cls, settings: Settings) -> ServiceBusPublisher:
        if not settings.servicebus_namespace:
            raise ValueError("ServiceBusConnection__fullyQualifiedNamespace is not set")
        return cls(settings.servicebus_namespace)

    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        now = datetime.now(UTC)
        by_queue: dict[str, list[ServiceBusMessage]] = defaultdict(list)
        for message in messages:
            by_queue[message.queue].append(to_service_bus_message(message, now))
        for queue, queue_messages in by_queue.items():
            sender, sender_lock = self._sender(queue)
            try:
                with sender_lock:
                    sent = _send_in_batches(sender, queue_messages)
            except MessageSizeExceededError as exc:
                raise RegctlError(
                    f"a message is larger than the namespace allows: {exc}", code="MessageTooLarge"
                ) from exc
            except AzureError as exc:
                raise TransientError(
                    f"Service Bus is unavailable: {type(exc).__name__}", code="QueueUnavailable"
                ) from exc
            logger.debug("sent %d messages in %d batches to queue %s", len(queue_messages), sent, queue)

    def close(self) -> None:
        with self._lock:
            senders, self._senders = list(self._senders.values()), {}
            self._closed = True
        for sender, sender_lock in senders:
            with sender_lock:
                sender.close()
        self._client.close()
        if self._own_credential is not None:
            self._own_credential.close()

    def _sender(self, queue: str) -> tuple[ServiceBusSender, threading.Lock]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the publisher is closed")
            entry = self._senders.get(queue)
            if entry is None:
                entry = (self._client.get_queue_sender(queue), threading.Lock())
                self._senders[queue] = entry
            return entry


def _send_in_batches(sender: ServiceBusSender, messages: Sequence[ServiceBusMessage]) -> int:
    """Send ``messages`` in as few batches as their size allows, in order; the number of batches sent."""
    batches = 0
    batch: ServiceBusMessageBatch = sender.create_message_batch()
    for message in messages:
        try:
            batch.add_message(message)
        except MessageSizeExceededError:  # the batch is full
            if len(batch) == 0:
                raise  # a single message larger than the namespace allows
            sender.send_messages(batch)
            batches += 1
            batch = sender.create_message_batch()
            batch.add_message(message)
    if len(batch) > 0:
        sender.send_messages(batch)
        batches += 1
    return batches
