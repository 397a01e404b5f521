"""Delivers one queue's messages to its function with Service Bus semantics.

Per queue function: a receive loop, worker threads and a lock renewer. The loop receives only as many
messages as there are idle workers (prefetch 0), so a message is never locked while it waits. A function
of ``cardinality: one`` has ``maxConcurrentCalls`` workers, one message each. A ``cardinality: many``
function has one worker, as the Service Bus extension has one batch receive loop per function: each
receive takes up to ``maxMessageBatchSize`` messages (at most 32, Storage's limit), handed to one call as
a list. Settlement follows ``autoCompleteMessages: true``: return -> complete every message of the call,
exception -> abandon every one (visible again at once; the Storage dequeue count is the delivery count).
Past ``maxDeliveryCount`` a message moves to ``{queue}-deadletter``; an envelope that cannot be read
moves there at once.
"""

from __future__ import annotations

import logging
import queue as queue_module
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from azure.core.exceptions import AzureError
from azure.storage.queue import QueueClient, QueueMessage

from sandbox.host.bindings import QueueFunction
from sandbox.host.config import HostJson, QueueOptions
from sandbox.host.dedup import DuplicateDetector
from sandbox.host.invoker import Invoker, Watchdog
from sandbox.host.lease import Lease
from sandbox.host.messages import (
    MALFORMED_ENVELOPE,
    MAX_DELIVERY_COUNT_EXCEEDED,
    Delivery,
    dead_letter_text,
    to_function_message,
)
from shared.adapters.queue_envelope import Envelope, decode

logger = logging.getLogger(__name__)

DEAD_LETTER_SUFFIX = "-deadletter"
_MAX_BATCH = 32  # Storage returns at most 32 messages per receive
_NEVER_EXPIRES = -1
_T = TypeVar("_T")
_R = TypeVar("_R")


def dead_letter_queue(queue: str) -> str:
    return f"{queue}{DEAD_LETTER_SUFFIX}"


@dataclass(frozen=True)
class _Admitted:
    """A delivery that passed the broker's checks and goes to the function."""

    message: QueueMessage
    lease: Lease
    envelope: Envelope
    count: int
    doubled: bool  # SANDBOX_DELIVER_TWICE: this is the second run


class QueuePump:
    """Receive loop, worker pool and lock renewer of one ``service_bus_queue_trigger`` function."""

    def __init__(
        self,
        function: QueueFunction,
        *,
        queue: QueueClient,
        dead_letter: QueueClient,
        host: HostJson,
        options: QueueOptions,
        invoker: Invoker,
        watchdog: Watchdog,
        dedup: DuplicateDetector | None,
    ) -> None:
        self.function = function
        self._queue = queue
        self._dead_letter = dead_letter
        self._host = host
        self._options = options
        self._invoker = invoker
        self._watchdog = watchdog
        self._dedup = dedup
        self._workers = 1 if function.batch else host.max_concurrent_calls
        self._batch_size = min(_MAX_BATCH, host.max_message_batch_size)
        # A batch's messages are admitted and settled side by side, as the extension completes them.
        self._settlers = ThreadPoolExecutor(self._batch_size, f"settle-{function.name}") if function.batch else None
        self._slots = threading.Semaphore(self._workers)
        self._work: queue_module.SimpleQueue[list[QueueMessage] | None] = queue_module.SimpleQueue()
        self._leases: set[Lease] = set()
        self._leases_lock = threading.Lock()
        self._busy = 0
        self._idle = threading.Condition()
        self._redeliver: set[str] = set()  # SANDBOX_DELIVER_TWICE: released once, awaiting the second run
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        name = self.function.name
        self._threads.append(threading.Thread(target=self._receive_loop, name=f"receive-{name}", daemon=True))
        self._threads.append(threading.Thread(target=self._renew_loop, name=f"renew-{name}", daemon=True))
        for index in range(self._workers):
            self._threads.append(threading.Thread(target=self._work_loop, name=f"{name}-{index}", daemon=True))
        for thread in self._threads:
            thread.start()

    def stop_receiving(self) -> None:
        self._stop.set()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no invocation runs (after ``stop_receiving``); False if the time ran out."""
        deadline = time.monotonic() + timeout
        self._threads[0].join(timeout)  # the receive loop hands over what it has just received
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        for _ in range(self._workers):
            self._work.put(None)
        if self._settlers is not None:
            self._settlers.shutdown(wait=False)

    # --- receiving ----------------------------------------------------------------------------------

    def _receive_loop(self) -> None:
        pause = self._options.poll_min_seconds
        while not self._stop.is_set():
            if not self._slots.acquire(timeout=0.2):
                continue  # every worker is busy
            taken = 1
            while taken < min(_MAX_BATCH, self._workers) and self._slots.acquire(blocking=False):
                taken += 1
            wanted = self._batch_size if self.function.batch else taken
            try:
                messages = list(
                    self._queue.receive_messages(
                        messages_per_page=wanted,
                        max_messages=wanted,
                        visibility_timeout=self._options.lock_duration_seconds,
                    )
                )
            except AzureError as exc:
                self._release(taken)
                logger.warning("receive failed queue=%s: %s", self.function.queue, type(exc).__name__)
                self._stop.wait(1.0)
                continue
            calls = [messages] if self.function.batch and messages else [[message] for message in messages]
            self._release(taken - len(calls))
            if not calls:
                self._stop.wait(pause)
                pause = min(pause * 2, self._options.poll_max_seconds)
                continue
            pause = self._options.poll_min_seconds
            with self._idle:
                self._busy += len(calls)
            for call in calls:
                self._work.put(call)

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._slots.release()

    def _work_loop(self) -> None:
        while (messages := self._work.get()) is not None:
            try:
                self._handle(messages)
            except Exception:  # never let a worker die: the messages' locks expire and they are redelivered
                ids = ",".join(message.id for message in messages)
                logger.exception("sandbox host error queue=%s queue_messages=%s", self.function.queue, ids)
            finally:
                self._slots.release()
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    # --- one call -----------------------------------------------------------------------------------

    def _handle(self, messages: list[QueueMessage]) -> None:
        leases = [Lease(self._queue, message, self._options.lock_duration_seconds) for message in messages]
        with self._leases_lock:
            self._leases.update(leases)
        try:
            admitted = [a for a in self._each(self._admit, list(zip(messages, leases, strict=True))) if a]
            if admitted:
                error = self._invoke(admitted)
                self._each(lambda a: self._settle(a, error), admitted)
        finally:
            with self._leases_lock:
                self._leases.difference_update(leases)

    def _each(self, action: Callable[[_T], _R], items: list[_T]) -> list[_R]:
        if self._settlers is None or len(items) < 2:
            return [action(item) for item in items]
        return list(self._settlers.map(action, items))

    def _admit(self, delivery: tuple[QueueMessage, Lease]) -> _Admitted | None:
        """The broker's side before a delivery: unreadable, duplicate or over-delivered messages are settled
        here and never reach the function."""
        message, lease = delivery
        name, queue = self.function.name, self.function.queue
        count = int(message.dequeue_count or 1)
        try:
            envelope = decode(str(message.content))
        except (ValueError, KeyError, TypeError) as exc:
            self._dead_letter_message(lease, message, MALFORMED_ENVELOPE, f"not a queue envelope: {exc}", count=count)
            return None
        sent_at = message.inserted_on or datetime.now(UTC)
        if self._dedup is not None and not self._dedup.accept(queue, envelope.message_id, message.id, sent_at):
            logger.info("duplicate dropped function=%s queue=%s message_id=%s", name, queue, envelope.message_id)
            lease.complete()
            return None
        limit = self._options.max_delivery_count
        if count > limit:  # the last delivery's lock expired (crash, timeout): Service Bus dead-letters now
            description = f"Message could not be consumed after {limit} delivery attempts."
            self._dead_letter_message(lease, message, MAX_DELIVERY_COUNT_EXCEEDED, description, count=count - 1)
            return None
        with self._leases_lock:
            doubled = message.id in self._redeliver
            self._redeliver.discard(message.id)
        return _Admitted(message, lease, envelope, count, doubled)

    def _settle(self, delivery: _Admitted, error: str | None) -> None:
        message, lease, count = delivery.message, delivery.lease, delivery.count
        if error is not None:
            limit = self._options.max_delivery_count
            if count >= limit:
                description = f"Message could not be consumed after {limit} delivery attempts."
                self._dead_letter_message(
                    lease, message, MAX_DELIVERY_COUNT_EXCEEDED, description, count=count, last_error=error
                )
            else:
                lease.abandon()
            return
        if self._options.deliver_twice and not delivery.doubled:
            with self._leases_lock:
                self._redeliver.add(message.id)
            if lease.abandon():
                logger.info(
                    "SANDBOX_DELIVER_TWICE: redelivering function=%s queue=%s message_id=%s",
                    self.function.name,
                    self.function.queue,
                    delivery.envelope.message_id,
                )
            return
        lease.complete()

    def _invoke(self, deliveries: list[_Admitted]) -> str | None:
        """Run the function once, on one message or (``cardinality: many``) on the list; None on success,
        else the error text."""
        name, queue = self.function.name, self.function.queue
        function_messages = [
            to_function_message(
                d.envelope,
                Delivery(
                    delivery_count=d.count,
                    lock_token=str(uuid.uuid4()),
                    locked_until=d.lease.locked_until,
                    enqueued_time_utc=d.message.inserted_on,
                    expires_at_utc=d.message.expires_on,
                ),
            )
            for d in deliveries
        ]
        ids = ",".join(d.envelope.message_id for d in deliveries)
        counts = ",".join(str(d.count) for d in deliveries)
        started = time.monotonic()
        logger.info("Executing function=%s queue=%s message_id=%s delivery_count=%s", name, queue, ids, counts)
        argument: object = function_messages if self.function.batch else function_messages[0]
        try:
            with self._watchdog.invocation(name):
                self._invoker.call(self.function.target, self.function.arg_name, argument)
        except Exception as exc:
            logger.exception("Failed function=%s queue=%s message_id=%s delivery_count=%s", name, queue, ids, counts)
            return f"{type(exc).__name__}: {exc}"
        logger.info(
            "Succeeded function=%s queue=%s message_id=%s delivery_count=%s duration_ms=%d",
            name,
            queue,
            ids,
            counts,
            (time.monotonic() - started) * 1000,
        )
        return None

    def _dead_letter_message(
        self,
        lease: Lease,
        message: QueueMessage,
        reason: str,
        description: str,
        *,
        count: int,
        last_error: str | None = None,
    ) -> None:
        text = dead_letter_text(
            str(message.content),
            queue_message_id=message.id,
            source_queue=self.function.queue,
            reason=reason,
            description=description,
            delivery_count=count,
            last_error=last_error,
        )
        self._dead_letter.send_message(text, time_to_live=_NEVER_EXPIRES)
        completed = lease.complete()
        logger.warning(
            "dead-lettered function=%s queue=%s queue_message=%s reason=%s delivery_count=%d%s",
            self.function.name,
            self.function.queue,
            message.id,
            reason,
            count,
            "" if completed else " (lock lost first: the original may be dead-lettered again)",
        )

    # --- lock renewal -------------------------------------------------------------------------------

    def _renew_loop(self) -> None:
        interval = min(max(self._options.lock_duration_seconds / 3, 0.1), 10.0)
        limit = self._host.max_auto_lock_renewal_seconds
        while not (self._stop.is_set() and self._busy_now() == 0):
            time.sleep(interval)
            now = time.monotonic()
            with self._leases_lock:
                leases = list(self._leases)
            for lease in leases:
                if lease.held and now - lease.received_at < limit:
                    lease.renew()

    def _busy_now(self) -> int:
        with self._idle:
            return self._busy
