"""The events the stand-in sends, in Azure's shapes, and the Service Bus message each becomes.

Event Grid schema (``topic``, ``subject``, ``eventType``, ``eventTime``, ``id``, ``data``, ``dataVersion``,
``metadataVersion``), or CloudEvents 1.0 when the subscription's ``eventDeliverySchema`` asks (``source``,
``subject``, ``type``, ``time``, ``id``, ``data``, ``specversion``). The ``data`` of each type, as
shared/reference/assets-events.md section 3 and the "... as an Event Grid source" pages show them:

- ``Microsoft.Storage.BlobCreated``: ``api`` (PutBlob, PutBlockList, CopyBlob, CopyBlobFromUrl),
  ``clientRequestId``, ``requestId``, ``eTag``, ``contentType``, ``contentLength`` (known for Put Blob only,
  ``null`` otherwise), ``blobType``, ``url``, ``sequencer``, ``storageDiagnostics.batchId``; ``dataVersion`` "".
- ``Microsoft.Storage.BlobDeleted``: ``api`` (DeleteBlob), ``requestId``, ``contentType``, ``blobType``,
  ``url``, ``sequencer``, ``storageDiagnostics.batchId``; ``dataVersion`` "".
- ``Microsoft.ContainerRegistry.ImagePushed`` / ``ImageDeleted``: subject ``{repository}:{tag}``; ``data``
  ``id`` (the event's id), ``timestamp``, ``action`` (push, delete), ``target`` (``mediaType``, ``size``,
  ``digest``, ``length`` = ``size``, ``repository``, ``tag``), ``request`` (``id``, ``host`` = the login
  server, ``method`` PUT or DELETE, ``useragent``); ``dataVersion`` "1.0".

Storage ``sequencer`` values increase over the stand-in's lifetime (32 hex digits, as Azure's), so they
order the events of one blob.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

from sandbox.arm.acr_images import ImageChanged
from sandbox.arm.eventgrid import EventSubscription
from sandbox.arm.lro import iso, utc_now
from sandbox.blob.hooks import BlobCommitted, BlobDeleted
from shared.ports import OutboundMessage

BLOB_CREATED = "Microsoft.Storage.BlobCreated"
BLOB_DELETED = "Microsoft.Storage.BlobDeleted"
IMAGE_PUSHED = "Microsoft.ContainerRegistry.ImagePushed"
IMAGE_DELETED = "Microsoft.ContainerRegistry.ImageDeleted"
#: ``data.request.useragent`` when the request that changed the image sent none.
DEFAULT_USER_AGENT = "regctl-sandbox"


def _event(topic: str, subject: str, event_type: str, data: dict[str, Any], data_version: str) -> dict[str, Any]:
    return {
        "topic": topic,
        "subject": subject,
        "eventType": event_type,
        "eventTime": iso(utc_now()),
        "id": str(uuid.uuid4()),
        "data": data,
        "dataVersion": data_version,
        "metadataVersion": "1",
    }


def blob_subject(container: str, blob: str) -> str:
    return f"/blobServices/default/containers/{container}/blobs/{blob}"


def blob_created(topic: str, commit: BlobCommitted, sequencer: int) -> dict[str, Any]:
    """The event of a committed write into the account ``topic`` (its ARM id) names."""
    data = {
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
    }
    return _event(topic, blob_subject(commit.container, commit.blob), BLOB_CREATED, data, "")


def blob_deleted(topic: str, deleted: BlobDeleted, sequencer: int) -> dict[str, Any]:
    """The event of a deleted blob."""
    data = {
        "api": "DeleteBlob",
        "requestId": deleted.request_id,
        "contentType": deleted.content_type,
        "blobType": deleted.blob_type,
        "url": deleted.url,
        "sequencer": f"{sequencer:032X}",
        "storageDiagnostics": {"batchId": str(uuid.uuid4())},
    }
    return _event(topic, blob_subject(deleted.container, deleted.blob), BLOB_DELETED, data, "")


def image_event(change: ImageChanged) -> dict[str, Any]:
    """The ImagePushed / ImageDeleted event of a tag written or removed (its topic: the registry)."""
    pushed = change.action == "push"
    manifest = change.manifest
    data = {
        "id": "",
        "timestamp": iso(utc_now()),
        "action": change.action,
        "target": {
            "mediaType": manifest.media_type,
            "size": manifest.size,
            "digest": manifest.digest,
            "length": manifest.size,
            "repository": change.repository,
            "tag": change.tag,
        },
        "request": {
            "id": str(uuid.uuid4()),
            "host": change.login_server,
            "method": "PUT" if pushed else "DELETE",
            "useragent": change.user_agent or DEFAULT_USER_AGENT,
        },
    }
    event_type = IMAGE_PUSHED if pushed else IMAGE_DELETED
    event = _event(change.registry_id, f"{change.repository}:{change.tag}", event_type, data, "1.0")
    data["id"] = event["id"]
    return event


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
            "aeg-data-version": str(event["dataVersion"]),
        },
    )


def redelivered(sent: OutboundMessage, attempt: int) -> OutboundMessage:
    """Another delivery of the same message (same message id: Event Grid's at-least-once delivery)."""
    return replace(sent, application_properties={**sent.application_properties, "aeg-delivery-count": attempt})
