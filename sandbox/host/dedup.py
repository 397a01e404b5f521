"""Duplicate detection, emulating a Service Bus queue with ``requiresDuplicateDetection``.

Service Bus drops a message whose ``MessageId`` was already accepted within the history window, at send
time. Storage queues accept everything, so the sandbox decides at receive time, with the same outcome for
the functions: the first queue message that carries an id is delivered (and redelivered as often as it
fails), and another queue message with that id sent within the window of the first is dropped unseen.
Send times are the queue's insertion times, so a scheduled duplicate is dropped too, as it would be.

The record lives in a table of the queue storage account, so it survives a host restart exactly as the
broker's history does. The row key is a hash of the id, because ids may hold characters a RowKey cannot.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

logger = logging.getLogger(__name__)

_ATTEMPTS = 5


class DuplicateDetector:
    """Remembers, per queue, which queue message first carried each ``message_id`` and when."""

    def __init__(self, table: TableClient, window_seconds: float) -> None:
        self._table = table
        self._window = timedelta(seconds=window_seconds)

    @classmethod
    def open(cls, connection_string: str, table_name: str, window_seconds: float) -> DuplicateDetector:
        """Connect to (and create if needed) the history table; the emulator's own state, not infra's."""
        service = TableServiceClient.from_connection_string(connection_string)
        service.create_table_if_not_exists(table_name)
        return cls(service.get_table_client(table_name), window_seconds)

    def accept(self, queue: str, message_id: str, queue_message_id: str, sent_at: datetime) -> bool:
        """True when this delivery goes to the function; False for a duplicate to drop."""
        row_key = hashlib.sha256(message_id.encode("utf-8")).hexdigest()
        entity = {
            "PartitionKey": queue,
            "RowKey": row_key,
            "MessageId": message_id[:1024],
            "QueueMessageId": queue_message_id,
            "SentAt": sent_at.astimezone(UTC),
        }
        for _ in range(_ATTEMPTS):
            try:
                self._table.create_entity(entity)
                return True
            except ResourceExistsError:
                pass
            try:
                first = self._table.get_entity(queue, row_key)
            except ResourceNotFoundError:
                continue  # purged meanwhile: try to be first again
            if first.get("QueueMessageId") == queue_message_id:
                return True  # a redelivery of the message that was accepted
            first_sent: datetime = first["SentAt"]
            if abs(sent_at - first_sent) < self._window:
                return False
            try:  # the history expired: this is a new send of the id, and now the one remembered
                self._table.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=first.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                return True
            except (ResourceModifiedError, ResourceNotFoundError):
                continue  # another delivery got there first; look again
        raise RuntimeError(f"could not settle duplicate detection for message {message_id!r}")

    def purge(self, now: datetime | None = None) -> int:
        """Forget ids accepted before the window; the number forgotten."""
        cutoff = (now or datetime.now(UTC)) - self._window
        removed = 0
        for entity in self._table.query_entities("SentAt lt @cutoff", parameters={"cutoff": cutoff}):
            try:
                self._table.delete_entity(
                    entity["PartitionKey"],
                    entity["RowKey"],
                    etag=entity.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                removed += 1
            except (ResourceModifiedError, ResourceNotFoundError):
                continue
        return removed

    def close(self) -> None:
        self._table.close()
