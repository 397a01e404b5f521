"""One operation lifecycle: every change of an operation's status goes through here.

``running`` marks an accepted operation Running; ``succeed``, ``fail`` and ``cancel`` end it. Each terminal
transition publishes an ``OperationFinished`` (ticket write-back, regctl's own events and the console listen
to it), at least once and never lost, through an outbox on the operation's own row:

1. the terminal status is written together with ``event_pending = True`` (one ETag-checked write);
2. the event is sent (message id ``finished:{operation}:{status}``, so Service Bus duplicate detection drops
   a re-send);
3. ``event_pending`` is cleared (best effort).

A crash between 1 and 2 leaves the flag set, and ``relay`` (run by the operation-events timer) sends it;
a crash between 2 and 3 sends it again, which the queue or the consumer drops. Consumers deduplicate by
operation id and status (``OperationEventConsumer``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from shared.domain.access import Principal
from shared.domain.errors import ConcurrentUpdate, TransientError
from shared.domain.messages import OperationFinished, Reconcile, Requester
from shared.domain.records import (
    OperationKind,
    OperationRecord,
    OperationStatus,
    ReconcilePolicy,
    RegistryRecord,
    new_operation_id,
    utcnow,
)
from shared.domain.work import REGISTRY_LANE
from shared.observability import context_log, current_traceparent
from shared.ports import StateStore
from shared.services.queueing import Dispatcher

log = logging.getLogger(__name__)

#: An outbox entry younger than this is left to the transition that wrote it (it is probably sending it).
RELAY_GRACE = timedelta(seconds=30)
RESYNC_ATTEMPTS = 3

Listener = Callable[[OperationFinished], None]


def finished_event(operation: OperationRecord) -> OperationFinished:
    who = operation.requested_by
    return OperationFinished(
        operation_id=operation.id,
        registry=operation.registry,
        kind=operation.kind.value,
        lane=operation.lane,
        status=operation.status.value,
        error_code=operation.error_code,
        error_message=operation.error_message,
        requested_by=Requester(id=who.id, name=who.name, type=who.type) if who else None,
        finished_at=operation.updated_at,
    )


class OperationLifecycle:
    def __init__(self, store: StateStore, dispatcher: Dispatcher) -> None:
        self._store = store
        self._dispatch = dispatcher

    def current(self, registry: str, lane: str) -> OperationRecord | None:
        """The newest operation of an item lane, while it runs."""
        operation_id = self._store.get_lane_operation(registry, lane)
        found = self._store.get_operation(operation_id) if operation_id else None
        return found if found is not None and not found.status.terminal else None

    def start(
        self,
        registry: RegistryRecord,
        kind: OperationKind,
        lane: str,
        caller: Principal | None = None,
        *,
        supersede: bool = True,
    ) -> OperationRecord:
        """Accept an operation of an item lane (registry-shape operations are written with their registry by
        ``RegistryService``) and send its first reconcile. The lane's operation still running is superseded
        (Canceled, its steps taken over), or with ``supersede=False`` returned instead of a new one."""
        if lane == REGISTRY_LANE:
            raise ValueError("registry-lane operations are started by RegistryService with their registry")
        running = self.current(registry.key, lane)
        if running is not None and not supersede:
            return running
        operation = OperationRecord(
            id=new_operation_id(registry.key),
            registry=registry.key,
            kind=kind,
            generation=registry.generation,
            lane=lane,
            requested_by=caller,
            traceparent=current_traceparent(),
        )
        self._store.save_operation(operation)
        self._store.set_lane_operation(registry.key, lane, operation.id)
        if running is not None:
            self.cancel(running, "Superseded", f"superseded by operation {operation.id} ({kind.value})")
        self._dispatch.send(
            [
                Reconcile(
                    registry=registry.key,
                    generation=registry.generation,
                    operation_id=operation.id,
                    lane=lane,
                    trigger="submit",
                )
            ]
        )
        context_log(log, registry=registry.key, operation=operation.id, step="submit").info(
            "accepted %s in lane %s", kind.value, lane
        )
        return operation

    def resync(self, registry: str, why: str, caller: Principal | None = None) -> OperationRecord | None:
        """Have ``registry``'s lane reconcile soon for a reason outside its spec (``why``: a promotion rule
        naming an external source was saved or deleted). Converged and idle, it gets a ``sync`` operation (as
        the region sync starts one); a running operation is reconciled again (each reconcile reads the newest
        rules); nothing while it is deleted, under policy ``skip``, or after a change that failed (its next
        operation reads the rules). Best effort: the region-sync timer heals what this misses. The operation
        reconciled, or None."""
        logger = context_log(log, registry=registry.lower(), step="resync")
        for _ in range(RESYNC_ATTEMPTS):
            record = self._store.get_registry(registry.lower())
            if record is None or record.deleting or record.policy is ReconcilePolicy.SKIP:
                return None
            current = self._store.get_operation(record.operation_id)
            if current is not None and not current.status.terminal:
                stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
                trigger = f"resync:{stamp}"
                self._send_reconcile(record.key, record.generation, current.id, trigger)
                logger.info("%s; operation %s reconciles again", why, current.id)
                return current
            if record.observed_generation != record.generation:
                return None
            operation = OperationRecord(
                id=new_operation_id(record.key),
                registry=record.key,
                kind=OperationKind.SYNC,
                generation=record.generation,
                lane=REGISTRY_LANE,
                requested_by=caller,
                traceparent=current_traceparent(),
            )
            record.operation_id, record.updated_at = operation.id, utcnow()
            try:
                self._store.replace_registry(record, operation)
            except ConcurrentUpdate:
                continue  # the registry changed meanwhile: look again
            self._send_reconcile(record.key, record.generation, operation.id, "submit")
            logger.info("%s; sync %s accepted", why, operation.id)
            return operation
        logger.info("%s; the registry kept changing, the region sync heals it", why)
        return None

    def _send_reconcile(self, registry: str, generation: int, operation_id: str, trigger: str) -> None:
        message = Reconcile(registry=registry, generation=generation, operation_id=operation_id, trigger=trigger)
        self._dispatch.send([message])

    def running(self, operation: OperationRecord | None) -> None:
        """Accepted -> Running (the first reconcile that plans work)."""
        if operation is None or operation.status is not OperationStatus.ACCEPTED:
            return
        operation.status = OperationStatus.RUNNING
        operation.updated_at = utcnow()
        self._store.save_operation(operation)

    def succeed(self, operation: OperationRecord | None) -> None:
        self._end(operation, OperationStatus.SUCCEEDED, None, None)

    def fail(self, operation: OperationRecord | None, code: str, message: str) -> None:
        self._end(operation, OperationStatus.FAILED, code, message)

    def cancel(self, operation: OperationRecord | None, code: str, message: str) -> None:
        """End ``operation`` Canceled (superseded by a newer one); losing a race to its own end is fine."""
        try:
            self._end(operation, OperationStatus.CANCELED, code, message)
        except ConcurrentUpdate:
            if operation is not None:
                context_log(log, registry=operation.registry, operation=operation.id, step="cancel").info(
                    "the superseded operation changed meanwhile"
                )

    def _end(
        self, operation: OperationRecord | None, status: OperationStatus, code: str | None, text: str | None
    ) -> None:
        if operation is None or operation.status.terminal:
            return
        operation.status = status
        operation.error_code = code
        operation.error_message = text
        operation.updated_at = utcnow()
        operation.event_pending = True
        self._store.save_operation(operation)  # the state and the outbox entry, in one write
        self.publish(operation)

    def publish(self, operation: OperationRecord) -> bool:
        """Send ``operation``'s OperationFinished and clear its outbox entry; False when the send failed (the
        relay sends it later)."""
        logger = context_log(log, registry=operation.registry, operation=operation.id, step="finished")
        try:
            self._dispatch.finished(finished_event(operation))
        except TransientError as exc:
            logger.warning("OperationFinished not sent (%s); the relay sends it", exc.code)
            return False
        logger.info("OperationFinished %s sent", operation.status.value)
        operation.event_pending = False
        try:
            self._store.save_operation(operation)
        except TransientError:
            logger.info("outbox entry left set; a later relay sends the event again (deduplicated)")
        return True

    def relay(self) -> int:
        """Send every OperationFinished that was written but not known to be sent; how many were sent."""
        sent = 0
        cutoff = utcnow() - RELAY_GRACE
        for operation in self._store.list_pending_events():
            if operation.updated_at <= cutoff and self.publish(operation):
                sent += 1
        return sent


class OperationEventConsumer:
    """Hands each OperationFinished to the listeners once, whatever the deliveries: it deduplicates by
    operation id and status in the state store before anything else."""

    def __init__(self, store: StateStore, listeners: Sequence[Listener] = ()) -> None:
        self._store = store
        self._listeners = list(listeners)

    def add(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def handle(self, event: OperationFinished) -> bool:
        """True when ``event`` was new and the listeners heard it; False for a duplicate. It is recorded as
        seen only after every listener returned, so a crash in between delivers it again (listeners are
        idempotent by operation id and status)."""
        logger = context_log(log, registry=event.registry, operation=event.operation_id, step="finished")
        if self._store.is_seen("finished", event.dedupe_key):
            logger.info("duplicate OperationFinished %s; dropped", event.status)
            return False
        for listener in self._listeners:
            listener(event)
        self._store.mark_seen("finished", event.dedupe_key)
        logger.info("OperationFinished %s (%s) heard by %d listeners", event.status, event.kind, len(self._listeners))
        return True
