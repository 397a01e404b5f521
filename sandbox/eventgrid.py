"""The sandbox's Event Grid stand-in: ``Microsoft.Storage.BlobCreated`` from the blob proxy's commit hook.

For each committed write the blob proxy announces (``sandbox/blob/hooks.py``: Put Blob, Put Block List, a
finished Copy Blob, Copy Blob From URL), it finds the system topics of the ARM simulator whose ``source`` is
that storage account and, for each of their ``Succeeded`` event subscriptions with a ``ServiceBusQueue``
destination whose filter passes (``sandbox/arm/eventgrid.py::matches``: ``includedEventTypes``,
``subjectBeginsWith``, ``subjectEndsWith``), sends one event onto the Service Bus stand-in (the Azurite
queue named by the destination's ``resourceId``), one event per message, message id = the event id, with
Event Grid's ``aeg-*`` application properties. The schema is the subscription's ``eventDeliverySchema``:
Event Grid schema, or CloudEvents 1.0.

The event's ``data`` has Azure's fields: ``api``, ``clientRequestId``, ``requestId``, ``eTag``,
``contentType``, ``contentLength``, ``blobType`` (``BlockBlob``), ``url``, ``sequencer`` (increasing in the
stand-in's lifetime) and ``storageDiagnostics.batchId``. ``contentLength`` is known for Put Blob only (the
others answer no size; ``null`` then). Sends happen on a thread of their own, in commit order, so a blob
request never waits on them. Not done: ``BlobDeleted``, ACR's ``ImagePushed``, delivery faults.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from typing import Any

from sandbox.arm.eventgrid import EventSubscription, SystemTopic
from sandbox.arm.eventgrid_filter import matches
from sandbox.arm.lro import iso, utc_now
from sandbox.arm.state import Store
from sandbox.blob.hooks import BlobCommitted
from shared.ports import MessagePublisher, OutboundMessage

log = logging.getLogger(__name__)
BLOB_CREATED = "Microsoft.Storage.BlobCreated"


def blob_created(topic: SystemTopic, commit: BlobCommitted, sequencer: int) -> dict[str, Any]:
    """The Event Grid schema event of a committed write."""
    return {
        "topic": topic.source,
        "subject": f"/blobServices/default/containers/{commit.container}/blobs/{commit.blob}",
        "eventType": BLOB_CREATED,
        "eventTime": iso(utc_now()),
        "id": str(uuid.uuid4()),
        "data": {
            "api": commit.api,
            "clientRequestId": commit.client_request_id,
            "requestId": commit.request_id,
            "eTag": commit.etag,
            "contentType": commit.content_type,
            "contentLength": commit.content_length,
            "blobType": "BlockBlob",
            "url": commit.url,
            "sequencer": f"{sequencer:032X}",
            "storageDiagnostics": {"batchId": str(uuid.uuid4())},
        },
        "dataVersion": "",
        "metadataVersion": "1",
    }


def as_cloud_event(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": event["topic"],
        "subject": event["subject"],
        "type": event["eventType"],
        "time": event["eventTime"],
        "id": event["id"],
        "data": event["data"],
        "specversion": "1.0",
    }


def message(subscription: EventSubscription, event: dict[str, Any]) -> OutboundMessage:
    """One event as the Service Bus message Event Grid sends for ``subscription``."""
    cloud = subscription.properties.get("eventDeliverySchema") == "CloudEventSchemaV1_0"
    destination = subscription.properties["destination"]["properties"]["resourceId"]
    return OutboundMessage(
        queue=str(destination).rstrip("/").rsplit("/", 1)[-1],
        message_id=str(event["id"]),
        body=json.dumps(as_cloud_event(event) if cloud else event),
        application_properties={
            "aeg-subscription-name": subscription.name.upper(),
            "aeg-delivery-count": 0,
            "aeg-event-type": "Notification",
            "aeg-metadata-version": "1.0" if cloud else "1",
            "aeg-data-version": "",
        },
    )


class EventGridStandIn:
    def __init__(self, store: Store, publisher: MessagePublisher) -> None:
        self._store = store
        self._publisher = publisher
        self._pending: queue.Queue[BlobCommitted | None] = queue.Queue()
        self._sequencer = 0
        self._thread = threading.Thread(target=self._run, name="eventgrid-standin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._pending.put(None)
        self._thread.join(timeout=5)

    def blob_committed(self, commit: BlobCommitted) -> None:
        """The commit hook: queued, sent by the stand-in's thread."""
        self._pending.put(commit)

    def deliveries(self, commit: BlobCommitted) -> list[OutboundMessage]:
        """The messages one committed write makes (under the store's lock: the topics may change)."""
        sent: list[OutboundMessage] = []
        with self._store.lock:
            account = self._store.accounts.get(commit.account.lower())
            if account is None:
                return []
            for topic in self._store.system_topics.values():
                if topic.state != "Succeeded" or topic.source.lower() != account.id.lower():
                    continue
                self._sequencer += 1
                event = blob_created(topic, commit, self._sequencer)
                for subscription in topic.subscriptions.values():
                    destination = subscription.properties.get("destination", {})
                    if subscription.state != "Succeeded" or destination.get("endpointType") != "ServiceBusQueue":
                        continue
                    if matches(subscription, event):
                        sent.append(message(subscription, event))
        return sent

    def _run(self) -> None:
        while (commit := self._pending.get()) is not None:
            try:
                messages = self.deliveries(commit)
                if messages:
                    self._publisher.publish(messages)
            except Exception:  # Event Grid would retry; the stand-in logs and goes on
                log.exception("BlobCreated of %s/%s/%s not delivered", commit.account, commit.container, commit.blob)
