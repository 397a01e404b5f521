"""Ticket intake: a verified webhook delivery becomes at most one operation per ticket action.

``receive`` answers a delivery seen before with its first answer (200); maps the payload to a
``TicketEvent`` (the mapping, shared/domain/ticket_payloads.py); and applies ``decide`` to the ticket's
record: wait for approval (Pending), cancel, refuse, or start. Starting claims the action on the ticket's
record first (an ETag-checked write), then submits the typed command as the ticket's principal, whose role
assignments decide what it may do; a refusal is recorded and written back to the ticket. Nothing here
waits on ARM: the operation runs from the queue, and write-backs ride their own queue
(``TicketWriteBack``).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from shared.domain.access import Principal, registry_scope
from shared.domain.commands import CreateRegistry, DeleteRegistry, ReplaceRegistry, SyncRegistry
from shared.domain.errors import ConcurrentUpdate, Conflict, RequestError
from shared.domain.records import utcnow
from shared.domain.roles import Action
from shared.domain.ticket_mapping import Mapping
from shared.domain.ticket_payloads import jira_event, table_event
from shared.domain.ticket_writes import TicketWrite, accepted_text
from shared.domain.tickets import (
    TicketEvent,
    TicketRecord,
    TicketRef,
    TicketRequest,
    TicketStatus,
    Verdict,
    decide,
)
from shared.observability import context_log
from shared.ports import DeliveryResult, MessagePublisher, OutboundMessage, TicketStore
from shared.services.access import AccessService
from shared.services.registries import RegistryService

log = logging.getLogger(__name__)

#: A claimed action whose operation is not recorded after this long is started again (the claimer died).
CLAIM_TIMEOUT = timedelta(seconds=60)
ATTEMPTS = 8
NAMESPACE = uuid.UUID("5b0b7a34-6f0c-4c0e-9f0a-7e1c2d3b4a59")
PROMOTIONS_UNAVAILABLE = "promotions are not available yet"


def ticket_link(ref: TicketRef) -> str:
    return f"/api/tickets/{ref.source}/{ref.key}"


def summary(request: TicketRequest) -> str:
    doc = request.document
    if request.action == "apply":
        return f"create or update registry {request.registry}"
    if request.action in ("grant", "revoke"):
        return f"{request.action} {doc['role']} on {request.registry} to {doc['principalId']}"
    return f"{request.action} registry {request.registry}"


@dataclass(frozen=True)
class Delivery:
    source: str
    delivery_id: str
    payload: object


class WriteQueue:
    """Enqueues ticket writes (the write-back queue), each with its message id."""

    def __init__(self, publisher: MessagePublisher, queue: str) -> None:
        self._publisher = publisher
        self._queue = queue

    def send(self, write: TicketWrite, delay_seconds: float = 0.0) -> None:
        self._publisher.publish(
            [
                OutboundMessage(
                    queue=self._queue,
                    message_id=write.message_id,
                    body=write.model_dump_json(),
                    subject=write.type,
                    application_properties={"source": write.source, "ticket": write.key, "write": write.write},
                    delay_seconds=delay_seconds,
                )
            ]
        )


class TicketService:
    def __init__(
        self,
        store: TicketStore,
        registries: RegistryService,
        access: AccessService,
        writes: WriteQueue,
        *,
        mapping: Mapping,
        progress_seconds: float,
    ) -> None:
        self._store = store
        self._registries = registries
        self._access = access
        self._writes = writes
        self._mapping = mapping
        self._progress = progress_seconds

    def event(self, source: str, payload: object) -> TicketEvent | str:
        """The ticket event of a payload, or why it is none of regctl's business (``MalformedPayload``)."""
        if source == "jira":
            return jira_event(payload, self._mapping.jira)
        return table_event(payload, getattr(self._mapping, source), source)

    def receive(self, delivery: Delivery) -> DeliveryResult:
        previous = self._store.get_delivery(delivery.source, delivery.delivery_id)
        if previous is not None:
            return DeliveryResult(200, previous.body)
        event = self.event(delivery.source, delivery.payload)
        if isinstance(event, str):
            result = DeliveryResult(202, {"ignored": event})
        elif event.request is not None and event.request.action == "promote":
            result = DeliveryResult(202, {"ignored": PROMOTIONS_UNAVAILABLE})
        else:
            result = self._apply(event)
        self._store.save_delivery(delivery.source, delivery.delivery_id, result)
        return result

    def ticket(self, source: str, key: str) -> TicketRecord | None:
        return self._store.get_ticket(source, key)

    # -- applying an event to the ticket's record ---------------------------------------------------

    def _apply(self, event: TicketEvent) -> DeliveryResult:
        for _ in range(ATTEMPTS - 1):
            try:
                return self._apply_once(event)
            except ConcurrentUpdate:
                continue
        return self._apply_once(event)

    def _apply_once(self, event: TicketEvent) -> DeliveryResult:
        ref = event.ref
        record = self._store.get_ticket(ref.source, ref.key)
        decision = decide(record, event, utcnow() - CLAIM_TIMEOUT)
        link = {"ticket": ticket_link(ref)}
        logger = context_log(log, step=f"ticket {ref.source}:{ref.key}")
        if decision.verdict is Verdict.IGNORE:
            logger.info("ignored: %s", decision.reason)
            operation = record.operation_id if record is not None else None
            return DeliveryResult(202, {"ignored": decision.reason, **link, **_operation(operation)})
        if record is None:
            record = TicketRecord(ref.source, ref.key, ref.display, ref.table, event.principal_id)
        record.order = max(record.order, event.order)
        record.principal_id = event.principal_id
        record.updated_at = utcnow()
        if decision.verdict is Verdict.REFUSE or decision.verdict is Verdict.CANCEL:
            record.status = TicketStatus.REFUSED if decision.verdict is Verdict.REFUSE else TicketStatus.CANCELED
            record.message = decision.reason
            self._store.save_ticket(record)
            self._note(ref, f"regctl did not run this request: {decision.reason}")
            logger.info("%s: %s", record.status.value, decision.reason)
            return DeliveryResult(202, {record.status.value.lower(): decision.reason, **link})
        request = event.request
        assert request is not None
        record.request, record.action, record.message = request.document, request.action_key, None
        if decision.verdict is Verdict.PEND:
            record.status = TicketStatus.PENDING
            self._store.save_ticket(record)
            logger.info("pending approval: %s", summary(request))
            return DeliveryResult(202, {"pending": ticket_link(ref), **link})
        record.status, record.reported_regions, record.progress_at = TicketStatus.STARTED, [], None
        record.operations[request.action_key] = ""  # the claim: one winner of concurrent deliveries starts
        self._store.save_ticket(record)
        return self._start(record, request)

    def _start(self, record: TicketRecord, request: TicketRequest) -> DeliveryResult:
        ref = record.ref
        caller = Principal(record.principal_id, f"ticket {ref.source} {ref.display}", "ServicePrincipal")
        logger = context_log(log, registry=request.registry.lower(), step=f"ticket {ref.source}:{ref.key}")
        try:
            operation = self._submit(request, caller, f"ticket:{ref.source}:{ref.key}:{request.digest}")
        except RequestError as exc:
            record.operations.pop(request.action_key, None)
            record.status, record.message = TicketStatus.REFUSED, f"{exc.code}: {exc.message}"
            record.updated_at = utcnow()
            self._store.save_ticket(record)
            self._note(ref, f"regctl refused this request: {record.message}")
            logger.info("refused: %s", exc.code)
            return DeliveryResult(202, {"refused": record.message, "ticket": ticket_link(ref)})
        record.operations[request.action_key] = operation or "-"
        record.updated_at = utcnow()
        self._store.save_ticket(record)
        if operation is None:
            self._note(ref, f"regctl did this ({summary(request)}); there was nothing to run")
            return DeliveryResult(202, {"done": summary(request), "ticket": ticket_link(ref)})
        self._store.link_operation(operation, ref)
        base = {"source": ref.source, "key": ref.key, "display": ref.display, "table": ref.table}
        text = accepted_text(summary(request), operation, record.principal_id)
        self._writes.send(TicketWrite(**base, write="accepted", operation_id=operation, text=text))
        self._writes.send(TicketWrite(**base, write="progress", operation_id=operation, round=1), self._progress)
        logger.info("started operation %s: %s", operation, summary(request))
        return DeliveryResult(202, {**_operation(operation), "ticket": ticket_link(ref)})

    def _submit(self, request: TicketRequest, caller: Principal, key: str) -> str | None:
        """Submit the request's command as ``caller``: the operation id (None when nothing runs)."""
        doc, name = request.document, request.registry
        if request.action == "apply":
            self._access.require(caller, Action.REGISTRIES_WRITE, registry_scope(name))
            try:
                return self._registries.create(CreateRegistry.from_document(doc, key, caller)).operation.id
            except Conflict as exc:
                if exc.code != "RegistryExists":
                    raise
                return self._registries.replace(ReplaceRegistry.from_document(name, doc, key, caller)).operation.id
        if request.action == "delete":
            self._access.require_registry(caller, Action.REGISTRIES_DELETE, name)
            return self._registries.delete(DeleteRegistry(name, key, caller)).operation.id
        if request.action == "sync":
            self._access.require_registry(caller, Action.REGISTRIES_WRITE, name)
            return self._registries.sync(SyncRegistry(name, caller)).operation.id
        return self._assignment(request, caller, key)

    def _assignment(self, request: TicketRequest, caller: Principal, key: str) -> str | None:
        doc, scope = request.document, registry_scope(request.registry)
        principal_id, role = str(doc["principalId"]), str(doc["role"])
        if request.action == "grant":
            self._access.require(caller, Action.ROLE_ASSIGNMENTS_WRITE, scope)
            body = {
                "scope": scope,
                "principalId": principal_id,
                "principalType": str(doc.get("principalType", "User")),
                "roleDefinitionId": role,
            }
            _, view = self._access.put_assignment(str(uuid.uuid5(NAMESPACE, key)), body, caller)
        else:
            self._access.require(caller, Action.ROLE_ASSIGNMENTS_DELETE, scope)
            found = [
                v
                for v in self._access.list_assignments(scope, principal_id)
                if v.role is not None and role.lower() in (v.role.role_name.lower(), v.role.id)
            ]
            if not found:
                return None
            removed = self._access.delete_assignment(found[0].assignment.id, caller)
            view = removed if removed is not None else found[0]
        link = view.data_plane_operation
        return link.rsplit("/", 1)[-1] if link else None

    def _note(self, ref: TicketRef, text: str) -> None:
        base = {"source": ref.source, "key": ref.key, "display": ref.display, "table": ref.table}
        self._writes.send(TicketWrite(**base, write="note", text=text[:4000]))


def _operation(operation_id: str | None) -> dict[str, str]:
    return {"operation": f"/api/operations/{operation_id}"} if operation_id and operation_id != "-" else {}
