"""regctl's own events out (docs/events.md): ``AssetVersionAvailable``, ``AssetVersionDeleted`` and
``OperationFinished``, in Event Grid schema, through the ``EventPublisher`` port.

Each event's id is derived from the fact it states (``event_id``): the version's registration time for a
version's events, the operation id and status for an operation's. The ledger publishes *before* it records
the change, so a crash or a lost write between the two publishes the same event again, with the same id,
which every consumer drops: at least once, never lost. ``on_finished`` listens to the operation lifecycle's
outbox (``OperationEventConsumer``), which is at least once already.
"""

from __future__ import annotations

import logging
from typing import Any

from shared.domain.asset_records import AssetVersionRecord
from shared.domain.events import (
    ASSET_VERSION_AVAILABLE,
    ASSET_VERSION_DELETED,
    OPERATION_FINISHED,
    asset_subject,
    event_id,
    grid_event,
)
from shared.domain.messages import OperationFinished
from shared.domain.records import utcnow
from shared.observability import context_log
from shared.ports import EventPublisher

log = logging.getLogger(__name__)


def version_data(registry: str, version: AssetVersionRecord) -> dict[str, Any]:
    return {
        "registry": registry,
        "assetId": version.id(registry),
        "type": version.type.value,
        "name": version.name,
        "version": version.version,
        "tags": dict(version.tags),
        "properties": dict(version.properties),
        "contentDigest": version.content_digest,
        "files": len(version.files),
        "bytes": version.total_bytes,
        "regions": sorted(version.ledger),
    }


class RegctlEvents:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def _send(self, kind: str, subject: str, data: dict[str, Any], identity: str, registry: str) -> None:
        self._publisher.publish([grid_event(kind, subject, data, identity, utcnow())])
        context_log(log, registry=registry, operation="", step="event").info("%s %s sent (%s)", kind, subject, identity)

    def available(self, registry: str, version: AssetVersionRecord) -> None:
        """``version`` became Available in every region of ``registry`` (its display name)."""
        identity = event_id("available", registry.lower(), version.row, version.created_at.isoformat())
        subject = asset_subject(registry, version.type, version.name, version.version)
        self._send(ASSET_VERSION_AVAILABLE, subject, version_data(registry, version), identity, registry)

    def deleted(self, registry: str, version: AssetVersionRecord) -> None:
        identity = event_id("deleted", registry.lower(), version.row, version.created_at.isoformat())
        subject = asset_subject(registry, version.type, version.name, version.version)
        self._send(ASSET_VERSION_DELETED, subject, version_data(registry, version), identity, registry)

    def on_finished(self, event: OperationFinished) -> None:
        """An ``OperationEventConsumer`` listener: every terminal operation, as ``OperationFinished``."""
        data = {
            "operationId": event.operation_id,
            "registry": event.registry,
            "kind": event.kind,
            "lane": event.lane,
            "status": event.status,
            "error": {"code": event.error_code, "message": event.error_message} if event.error_code else None,
            "finishedAt": event.finished_at.isoformat(),
        }
        subject = f"/registries/{event.registry}/operations/{event.operation_id}"
        identity = event_id("finished", event.dedupe_key)
        self._send(OPERATION_FINISHED, subject, data, identity, event.registry)
