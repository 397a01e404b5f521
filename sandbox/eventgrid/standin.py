"""The stand-in itself: announcements in, matching deliveries out, on a thread of its own.

It subscribes to the blob proxy's hooks (``BlobCommitted``, ``BlobDeleted``) and to the ARM app's image
hooks (``ImageChanged``); each announcement is queued, so the request that made it (which may hold the
store's lock: a push, an import completing) never waits. The thread takes them in order and, holding the
store's lock only to read the topics, subscriptions and fault rules, turns each into its deliveries: for
each ``Succeeded`` system topic whose ``source`` is the account or registry, one event, and for each of its
``Succeeded`` ``ServiceBusQueue`` subscriptions whose filter passes (``eventgrid_filter.matches``) one
message with the Event Grid fault rule that applies to it, if any, and its subscription's retry policy. The
scheduler (``schedule.py``) says when each leaves; the thread sends them outside the lock, one message per
send. A send that fails (the publisher raised, or a ``fail`` fault rule says so) is given back to the
scheduler, which holds its retry for Event Grid's wait (``retry.py``); when the subscription's retries run
out the thread writes the event into the subscription's dead-letter container (``deadletter.py``) or, with
no ``deadLetterDestination``, drops it with a warning naming the subscription, the event and the reason.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from typing import Any

from sandbox.arm.acr_images import ImageChanged
from sandbox.arm.eventgrid_filter import matches
from sandbox.arm.faults import FaultEngine
from sandbox.arm.lro import iso, utc_now
from sandbox.arm.state import Store
from sandbox.blob.hooks import BlobCommitted, BlobDeleted
from sandbox.eventgrid.deadletter import DeadLetterWriter
from sandbox.eventgrid.events import blob_created, blob_deleted, image_event, message
from sandbox.eventgrid.retry import (
    INJECTED_OUTCOME,
    Policy,
    dead_letter_blob,
    dead_lettered,
    outcome_of,
    outcome_of_status,
)
from sandbox.eventgrid.schedule import DeadLetter, Delivery, Released, Scheduler, Send
from shared.ports import MessagePublisher

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
        self._writer = DeadLetterWriter(store, self.blob_committed)
        self._thread = threading.Thread(target=self._run, name="eventgrid-standin", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; deliveries still held (by a rule, for a retry or a dead-letter) are dropped."""
        self._pending.put(None)
        self._thread.join(timeout=5)
        self._writer.close()

    # The hooks: queued, handled by the stand-in's thread -------------------------------------------

    def blob_committed(self, commit: BlobCommitted) -> None:
        self._pending.put(commit)

    def blob_deleted(self, deleted: BlobDeleted) -> None:
        self._pending.put(deleted)

    def image_changed(self, change: ImageChanged) -> None:
        self._pending.put(change)

    # Deliveries -----------------------------------------------------------------------------------

    def deliveries(self, announced: Announcement, now: float) -> list[Delivery]:
        """The deliveries of one announcement, published at ``now`` (``time.monotonic()``), under the store's
        lock: topics, rules and the time scale may change."""
        found: list[Delivery] = []
        with self._store.lock:
            source = self._source_of(announced)
            if source is None:
                return []
            scale, published = self._store.settings.time_scale, iso(utc_now())
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
                        policy = Policy.of(subscription.name, subscription.properties, scale)
                        made = message(subscription, event)
                        found.append(Delivery(made, rule, self._store.epoch, policy, now, published))
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

    def _shuffle(self, held: list[Send]) -> list[Send]:
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
            released = self._scheduler.due(now)
            if isinstance(item, BlobCommitted | BlobDeleted | ImageChanged):
                released += self._admit(item, now)
            self._handle(released)

    def _admit(self, announced: Announcement, now: float) -> list[Send]:
        try:
            return [s for delivery in self.deliveries(announced, now) for s in self._scheduler.admit(delivery, now)]
        except Exception:
            log.exception("the events of %r were not made", announced)
            return []

    def _handle(self, released: list[Released]) -> None:
        for item in released:
            try:
                if isinstance(item, DeadLetter):
                    self._dead_letter(item)
                else:
                    self._attempt(item)
            except Exception:
                log.exception("event %s was not handled", item.delivery.message.message_id)

    def _attempt(self, send: Send) -> None:
        """One send; a failed one goes back to the scheduler (a copy of a duplicate rule is sent once)."""
        event_id, subscription = send.message.message_id, send.delivery.policy.subscription
        outcome = self._send(send)
        if outcome is None:
            if send.attempt > 1:
                log.info("event %s delivered to subscription %s at attempt %d", event_id, subscription, send.attempt)
            return
        if send.attempt < 1:
            log.warning("a copy of event %s to subscription %s was not delivered (%s)", event_id, subscription, outcome)
            return
        log.info("event %s to subscription %s: attempt %d failed (%s)", event_id, subscription, send.attempt, outcome)
        self._scheduler.failed(send, outcome, time.monotonic(), iso(utc_now()))

    def _send(self, send: Send) -> str | None:
        """``None`` when the message went onto its queue, else the outcome (a ``fail`` rule's: ``Busy``, or
        that of the rule's ``status``)."""
        rule = send.delivery.rule
        if rule is not None and 1 <= send.attempt <= rule.fail:
            return INJECTED_OUTCOME if rule.status is None else outcome_of_status(rule.status)
        try:
            self._publisher.publish([send.message])
        except Exception as err:
            outcome = outcome_of(err)
            log.warning(
                "event %s: the send to queue %s failed (%s): %r",
                send.message.message_id,
                send.message.queue,
                outcome,
                err,
            )
            return outcome
        return None

    def _dead_letter(self, record: DeadLetter) -> None:
        """Write the event whose retries ended into its subscription's dead-letter container, or drop it."""
        delivery, policy = record.delivery, record.delivery.policy
        event_id, subscription = delivery.message.message_id, policy.subscription
        why = (record.reason, record.attempts, record.last_outcome)
        if policy.dead_letter is None:
            log.warning(
                "event %s of subscription %s dropped: %s after %d attempt(s), last outcome %s; "
                "no dead-letter destination",
                event_id,
                subscription,
                *why,
            )
            return
        body = dead_lettered(
            json.loads(delivery.message.body),
            cloud_events=policy.cloud_events,
            reason=record.reason,
            attempts=record.attempts,
            outcome=record.last_outcome,
            publish_time=delivery.publish_time,
            last_attempt_time=record.last_attempt_time,
        )
        target = policy.dead_letter
        blob = dead_letter_blob(subscription, utc_now(), str(uuid.uuid4()))
        problem = self._writer.write(target, blob, json.dumps([body]).encode())
        if problem is None:
            log.info(
                "event %s of subscription %s dead-lettered: %s after %d attempt(s), last outcome %s; blob %s/%s",
                event_id,
                subscription,
                *why,
                target.container,
                blob,
            )
            return
        log.warning(
            "event %s of subscription %s dropped: %s after %d attempt(s), last outcome %s; dead-letter "
            "destination %s container %s: %s",
            event_id,
            subscription,
            *why,
            target.account_id,
            target.container,
            problem,
        )
