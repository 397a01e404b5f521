"""Peek-lock on a Storage queue message, through its visibility timeout.

Receiving a Storage queue message hides it for the visibility timeout: that is the Service Bus lock. The
pop receipt is the lock token: renewing (``update_message``) extends the hiding and yields a new receipt,
completing deletes the message, abandoning makes it visible at once. When the lock is lost (it expired,
or the message was received again by someone else) the receipt no longer matches and Storage answers 404
or 400, which is Service Bus's ``MessageLockLostError``: the message will be (or was) delivered again.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.storage.queue import QueueClient, QueueMessage

logger = logging.getLogger(__name__)


class Lease:
    """One delivery of one queue message, held under lock until it is settled."""

    def __init__(self, client: QueueClient, message: QueueMessage, lock_seconds: int) -> None:
        self._client = client
        self.message_id: str = message.id
        self._pop_receipt: str | None = message.pop_receipt
        self._lock_seconds = lock_seconds
        self._guard = threading.Lock()
        self.received_at = time.monotonic()
        self.locked_until: datetime = message.next_visible_on or (datetime.now(UTC) + timedelta(seconds=lock_seconds))
        self.settled = False
        self.lost = False

    @property
    def held(self) -> bool:
        return not (self.settled or self.lost)

    def renew(self) -> bool:
        """Extend the lock by the lock duration from now; False if it is settled or lost."""
        with self._guard:
            if not self.held:
                return False
            try:
                updated = self._client.update_message(
                    self.message_id, pop_receipt=self._pop_receipt, visibility_timeout=self._lock_seconds
                )
            except (ResourceNotFoundError, HttpResponseError) as exc:
                self._lose("renew", exc)
                return False
            self._pop_receipt = updated.pop_receipt
            if updated.next_visible_on is not None:
                self.locked_until = updated.next_visible_on
            return True

    def complete(self) -> bool:
        """Delete the message; False if the lock was lost first (it will be delivered again)."""
        with self._guard:
            if not self.held:
                return False
            try:
                self._client.delete_message(self.message_id, pop_receipt=self._pop_receipt)
            except (ResourceNotFoundError, HttpResponseError) as exc:
                self._lose("complete", exc)
                return False
            self.settled = True
            return True

    def abandon(self) -> bool:
        """Release the lock now: the message is visible again at once, its delivery count to grow."""
        with self._guard:
            if not self.held:
                return False
            try:
                self._client.update_message(self.message_id, pop_receipt=self._pop_receipt, visibility_timeout=0)
            except (ResourceNotFoundError, HttpResponseError) as exc:
                self._lose("abandon", exc)
                return False
            self.settled = True
            return True

    def _lose(self, action: str, exc: Exception) -> None:
        self.lost = True
        status = getattr(exc, "status_code", None)
        logger.warning(
            "lock lost queue_message=%s action=%s status=%s: it was or will be delivered again",
            self.message_id,
            action,
            status,
        )
