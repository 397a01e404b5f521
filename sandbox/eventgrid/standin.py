"""The stand-in itself: announcements in, matching deliveries out, on a thread of its own.

It subscribes to the blob proxy's hooks (``BlobCommitted``, ``BlobDeleted``) and to the ARM app's image
hooks (``ImageChanged``); each announcement is queued, so the request that made it (which may hold the
store's lock: a push, an import completing) never waits. The thread takes them in order and, holding the
store's lock only to read the topics, subscriptions and fault rules, turns each into its deliveries: for
each ``Succeeded`` system topic whose ``source`` is the account or registry, one event, and for each of its
``Succeeded`` ``ServiceBusQueue`` subscriptions whose filter passes (``eventgrid_filter.matches``) one
message with the Event Grid fault rule that applies to it, if any. The scheduler (``schedule.py``) says when
each leaves; the thread sends them outside the lock. A failed send is logged (Event Grid would retry).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from sandbox.arm.acr_images import ImageChanged
from sandbox.arm.eventgrid_filter import matches
from sandbox.arm.faults import FaultEngine
from sandbox.arm.state import Store
from sandbox.blob.hooks import BlobCommitted, BlobDeleted
from sandbox.eventgrid.events import blob_created, blob_deleted, image_event, message
from sandbox.eventgrid.schedule import Delivery, Held, Scheduler
from shared.ports import MessagePublisher, OutboundMessage

log = logging.getLogger(__name__)

Announcement = BlobCommitted | BlobDeleted | ImageChanged
#: Wakes the thread to send what the scheduler released (nothing new came in).
_TICK = object()


class EventGridStandIn:
    def __init__(self, store: Store, publisher: MessagePublisher, faults: FaultEngine | None = None) -> None:
        self._store = store
        self._publisher = publisher
        self._faults = faults or FaultEngine()
        self._pending: queue.Queue[Announcement | object | None] = queue.Queue()
        self._sequencer = 0
        self._scheduler = Scheduler(self._shuffle, lambda: self._store.epoch)
        self._thread = threading.Thread(target=self._run, name="eventgrid-standin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; deliveries still held by a delay or reorder rule are dropped."""
        self._pending.put(None)
        self._thread.join(timeout=5)

    # The hooks: queued, handled by the stand-in's thread -------------------------------------------

    def blob_committed(self, commit: BlobCommitted) -> None:
        self._pending.put(commit)

    def blob_deleted(self, deleted: BlobDeleted) -> None:
        self._pending.put(deleted)

    def image_changed(self, change: ImageChanged) -> None:
        self._pending.put(change)

    # Deliveries -----------------------------------------------------------------------------------

    def deliveries(self, announced: Announcement) -> list[Delivery]:
        """The deliveries of one announcement (under the store's lock: topics and rules may change)."""
        found: list[Delivery] = []
        with self._store.lock:
            source = self._source_of(announced)
            if source is None:
                return []
            for topic in self._store.system_topics.values():
                if topic.state != "Succeeded" or topic.source.lower() != source.lower():
                    continue
                event = self._event(topic.source, announced)
                for subscription in topic.subscriptions.values():
                    destination = subscription.properties.get("destination", {})
                    if subscription.state != "Succeeded" or destination.get("endpointType") != "ServiceBusQueue":
                        continue
                    if matches(subscription, event):
                        rule = self._faults.eventgrid_fault(event["eventType"])
                        found.append(Delivery(message(subscription, event), rule, self._store.epoch))
        return found

    def _source_of(self, announced: Announcement) -> str | None:
        """The ARM id of the account or registry the announcement is about (``None``: it is gone)."""
        if isinstance(announced, ImageChanged):
            return announced.registry_id
        account = self._store.accounts.get(announced.account.lower())
        return None if account is None else account.id

    def _event(self, topic: str, announced: Announcement) -> dict[str, Any]:
        if isinstance(announced, ImageChanged):
            return image_event(announced)
        self._sequencer += 1
        if isinstance(announced, BlobCommitted):
            return blob_created(topic, announced, self._sequencer)
        return blob_deleted(topic, announced, self._sequencer)

    def _shuffle(self, held: list[Held]) -> list[Held]:
        with self._store.lock:
            return self._faults.shuffle(held)

    # The thread -----------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            wake = self._scheduler.next_wake()
            try:
                item = self._pending.get(timeout=None if wake is None else max(0.0, wake - time.monotonic()))
            except queue.Empty:
                item = _TICK
            if item is None:
                return
            now = time.monotonic()
            outgoing = self._scheduler.due(now)
            if isinstance(item, BlobCommitted | BlobDeleted | ImageChanged):
                outgoing += self._admit(item, now)
            self._send(outgoing)

    def _admit(self, announced: Announcement, now: float) -> list[OutboundMessage]:
        try:
            return [m for delivery in self.deliveries(announced) for m in self._scheduler.admit(delivery, now)]
        except Exception:
            log.exception("the events of %r were not made", announced)
            return []

    def _send(self, messages: list[OutboundMessage]) -> None:
        if not messages:
            return
        try:
            self._publisher.publish(messages)
        except Exception:  # Event Grid would retry; the stand-in logs and goes on
            log.exception("%d event(s) not delivered (first: %s)", len(messages), messages[0].message_id)
