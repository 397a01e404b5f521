"""Ticket intake: a verified webhook delivery becomes at most one operation per ticket action.

``receive`` does no more per delivery than the decision needs: it maps the payload to a ``TicketEvent``
(pure: the mapping, shared/domain/ticket_payloads.py), applies ``decide`` to the ticket's record and keeps
the answer and the record in one write (``TicketStore.record_delivery``: for the event that makes a ticket,
one insert carrying the answer; otherwise an ETag-checked transaction of the delivery row and the ticket),
then sends at most one message. A delivery seen before finds its first answer there (200). The ticket is
read first unless the source says it is new; a ticket that exists after all costs a retry from the read.

Starting is deferred: the action is claimed on the record under a deterministic operation id (the answer
names it), and a ``start`` message on the ticket queue makes the consumer (``start``) submit the typed
command as the ticket's principal, link the operation to the ticket and queue the acceptance and progress
writes. The principal's permission is checked at intake (the access snapshot is in memory), so a ticket
that may not do its action is refused in the answer and told so. Grants and revokes start inline: their
operations are the access service's data-plane work, whose ids it makes. Nothing here waits on ARM.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from shared.domain.access import Principal, registry_scope
from shared.domain.commands import CreateRegistry, DeleteRegistry, ReplaceRegistry, SyncRegistry
from shared.domain.errors import ConcurrentUpdate, Conflict, NotFound, RequestError
from shared.domain.records import utcnow
from shared.domain.roles import Action
from shared.domain.ticket_mapping import Mapping
from shared.domain.ticket_payloads import jira_event, table_event
from shared.domain.ticket_writes import TicketWrite, accepted_text
from shared.domain.tickets import (
    Approval,
    DeliveryResult,
    TicketEvent,
    TicketRecord,
    TicketRef,
    TicketRequest,
    TicketStatus,
    Verdict,
    decide,
    delivery_key,
    parse_request,
)
from shared.observability import context_log
from shared.ports import TicketStore
from shared.services.access import AccessService
from shared.services.promotions import PromotionService
from shared.services.registries import RegistryService
from shared.services.ticket_promotions import ticket_promotion
from shared.services.ticket_queue import WriteQueue

log = logging.getLogger(__name__)

#: A claimed grant or revoke whose operation is not recorded after this long is started again (the claimer died).
CLAIM_TIMEOUT = timedelta(seconds=60)
ATTEMPTS = 8
NAMESPACE = uuid.UUID("5b0b7a34-6f0c-4c0e-9f0a-7e1c2d3b4a59")


INLINE_ACTIONS = ("grant", "revoke", "promote")
TICKET_CALLER_PREFIX = "ticket "  # the name of a ticket's principal as a caller: "ticket {source} {display}"


def ticket_link(ref: TicketRef) -> str:
    return f"/api/tickets/{ref.source}/{ref.key}"


def summary(request: TicketRequest) -> str:
    doc = request.document
    if request.action == "apply":
        return f"create or update registry {request.registry}"
    if request.action in ("grant", "revoke"):
        return f"{request.action} {doc['role']} on {request.registry} to {doc['principalId']}"
    if request.action == "promote":
        return f"promote {doc['source']} into {request.registry}"
    return f"{request.action} registry {request.registry}"


def promised_operation(ref: TicketRef, request: TicketRequest) -> str:
    """The operation id of a ticket's registry action, fixed before it is submitted (the answer names it)."""
    key = f"ticket:{ref.source}:{ref.key}:{request.digest}"
    return f"{request.registry.lower()}.{uuid.uuid5(NAMESPACE, key).hex}"


def _base(ref: TicketRef) -> dict[str, str]:
    return {"source": ref.source, "key": ref.key, "display": ref.display, "table": ref.table}


@dataclass(frozen=True)
class Outcome:
    """What a delivery does: its answer, the record to keep with it (None: the answer alone), and the
    message to send once both are stored."""

    answer: DeliveryResult
    record: TicketRecord | None = None
    follow: TicketWrite | None = None
    inline: TicketRequest | None = None  # a grant or revoke to start before answering


@dataclass(frozen=True)
class Delivery:
    source: str
    delivery_id: str
    payload: object


class TicketService:
    def __init__(
        self,
        store: TicketStore,
        registries: RegistryService,
        access: AccessService,
        writes: WriteQueue,
        *,
        promotions: PromotionService,
        mapping: Mapping,
        progress_seconds: float,
    ) -> None:
        self._store = store
        self._registries = registries
        self._access = access
        self._promotions = promotions
        self._writes = writes
        self._mapping = mapping
        self._progress = progress_seconds

    def event(self, source: str, payload: object) -> TicketEvent | str:
        """The ticket event of a payload, or why it is none of regctl's business (``MalformedPayload``)."""
        if source == "jira":
            return jira_event(payload, self._mapping.jira)
        return table_event(payload, getattr(self._mapping, source), source)

    def ticket(self, source: str, key: str) -> TicketRecord | None:
        return self._store.get_ticket(source, key)

    def ticket_of(self, operation_id: str) -> TicketRef | None:
        return self._store.ticket_of(operation_id)

    # -- intake ------------------------------------------------------------------------------------

    def receive(self, delivery: Delivery) -> DeliveryResult:
        event = self.event(delivery.source, delivery.payload)
        if isinstance(event, str):
            return self._answer_only(delivery, DeliveryResult(202, {"ignored": event}))
        ref, key = event.ref, delivery_key(delivery.delivery_id)
        record = None if event.created else self._store.get_ticket(ref.source, ref.key)
        for attempt in range(1, ATTEMPTS + 1):
            if record is not None and record.first_delivery is not None and record.first_delivery[0] == key:
                return self._again(event, record.first_delivery[1])
            outcome = self._outcome(record, event)
            try:
                if outcome.inline is not None:
                    return self._start_inline(delivery, outcome)
                answer, kept = outcome.answer, outcome.record
                first = self._store.record_delivery(delivery.source, delivery.delivery_id, answer, kept)
            except ConcurrentUpdate:
                if attempt == ATTEMPTS:
                    raise
                record = self._store.get_ticket(ref.source, ref.key)
                continue
            if first is not None:
                return self._again(event, first)
            if outcome.follow is not None:
                self._writes.send(outcome.follow)
            return outcome.answer
        raise AssertionError("unreachable")

    def _answer_only(self, delivery: Delivery, result: DeliveryResult) -> DeliveryResult:
        first = self._store.record_delivery(delivery.source, delivery.delivery_id, result)
        return DeliveryResult(200, first.body) if first is not None else result

    def _again(self, event: TicketEvent, first: DeliveryResult) -> DeliveryResult:
        """A delivery seen before: its first answer. If that answer started an operation, the start message
        is sent again under the same message id (duplicate detection drops it when the first send went out;
        it starts the action when the first send failed after the write; the consumer skips a started one)."""
        request = event.request
        if request is not None and request.action not in INLINE_ACTIONS and event.approval is Approval.APPROVED:
            operation = promised_operation(event.ref, request)
            if first.body.get("operation") == f"/api/operations/{operation}":
                self._writes.send(self._start_write(event.ref, request, event.principal_id, operation))
        return DeliveryResult(200, first.body)

    def _outcome(self, record: TicketRecord | None, event: TicketEvent) -> Outcome:
        """What ``event`` does to ``record``: pure but for the (in-memory) permission check."""
        ref = event.ref
        decision = decide(record, event, utcnow() - CLAIM_TIMEOUT)
        link = {"ticket": ticket_link(ref)}
        logger = context_log(log, step=f"ticket {ref.source}:{ref.key}")
        if decision.verdict is Verdict.IGNORE:
            logger.info("ignored: %s", decision.reason)
            operation = record.operation_id if record is not None else None
            return Outcome(DeliveryResult(202, {"ignored": decision.reason, **link, **_operation(operation)}))
        if record is None:
            record = TicketRecord(ref.source, ref.key, ref.display, ref.table, event.principal_id)
        record.order = max(record.order, event.order)
        record.principal_id = event.principal_id
        record.updated_at = utcnow()
        if decision.verdict is Verdict.REFUSE or decision.verdict is Verdict.CANCEL:
            record.status = TicketStatus.REFUSED if decision.verdict is Verdict.REFUSE else TicketStatus.CANCELED
            record.message = decision.reason
            logger.info("%s: %s", record.status.value, decision.reason)
            answer = DeliveryResult(202, {record.status.value.lower(): decision.reason, **link})
            return Outcome(answer, record, self._note(ref, f"regctl did not run this request: {decision.reason}"))
        request = event.request
        assert request is not None
        record.request, record.action, record.message = request.document, request.action_key, None
        if decision.verdict is Verdict.PEND:
            record.status = TicketStatus.PENDING
            logger.info("pending approval: %s", summary(request))
            return Outcome(DeliveryResult(202, {"pending": ticket_link(ref), **link}), record)
        try:
            self._authorize(request, _caller(record))
        except RequestError as exc:
            record.status, record.message = TicketStatus.REFUSED, f"{exc.code}: {exc.message}"
            logger.info("refused: %s", exc.code)
            note = self._note(ref, f"regctl refused this request: {record.message}")
            return Outcome(DeliveryResult(202, {"refused": record.message, **link}), record, note)
        record.status, record.reported_regions, record.progress_at = TicketStatus.STARTED, [], None
        if request.action in INLINE_ACTIONS:
            record.operations[request.action_key] = ""  # the claim: one winner of concurrent deliveries starts
            return Outcome(DeliveryResult(202, link), record, inline=request)
        operation = promised_operation(ref, request)
        record.operations[request.action_key] = operation  # the claim, under the id the answer names
        logger.info("claimed operation %s: %s", operation, summary(request))
        start = self._start_write(ref, request, record.principal_id, operation)
        return Outcome(DeliveryResult(202, {**_operation(operation), **link}), record, start)

    def _start_inline(self, delivery: Delivery, outcome: Outcome) -> DeliveryResult:
        assert outcome.record is not None and outcome.inline is not None
        self._store.save_ticket(outcome.record)
        answer = self._start(outcome.record, outcome.inline, None)
        self._store.record_delivery(delivery.source, delivery.delivery_id, answer)
        return answer

    def _start_write(self, ref: TicketRef, request: TicketRequest, principal_id: str, operation: str) -> TicketWrite:
        document = {**request.document, "action": request.action}
        return TicketWrite(
            **_base(ref),
            write="start",
            operation_id=operation,
            action=request.action_key,
            request=document,
            principal_id=principal_id,
        )

    # -- starting (the ticket queue's consumer; grants and revokes inline) --------------------------

    def start(self, write: TicketWrite) -> None:
        """Submit the action an intake claimed under ``write.operation_id``: at most once, however often
        the message comes (a claim that moved on, or an operation already linked, is left alone)."""
        ref, operation = write.ref, write.operation_id
        logger = context_log(log, operation=operation, step=f"ticket {ref.source}:{ref.key}")
        record = self._store.get_ticket(ref.source, ref.key)
        if record is None or write.action is None or operation is None or write.request is None:
            logger.warning("start without its ticket or request; nothing to do")
            return
        if record.operations.get(write.action) != operation or self._store.ticket_of(operation) is not None:
            logger.info("start of %s: claimed elsewhere or started already", write.action)
            return
        self._start(record, parse_request(write.request), operation)

    def _start(self, record: TicketRecord, request: TicketRequest, promised: str | None) -> DeliveryResult:
        ref = record.ref
        logger = context_log(log, registry=request.registry.lower(), step=f"ticket {ref.source}:{ref.key}")
        key = f"ticket:{ref.source}:{ref.key}:{request.digest}"
        try:
            operation = self._submit(request, _caller(record), key, promised)
        except RequestError as exc:
            message = f"{exc.code}: {exc.message}"
            self._update(record, lambda r: _refused(r, request.action_key, message))
            self._writes.send(self._note(ref, f"regctl refused this request: {message}"))
            logger.info("refused: %s", exc.code)
            return DeliveryResult(202, {"refused": message, "ticket": ticket_link(ref)})
        if operation is not None:
            self._store.link_operation(operation, ref)  # first: the final write-back finds the ticket by it
        self._update(record, lambda r: r.operations.__setitem__(request.action_key, operation or "-"))
        if operation is None:
            self._writes.send(self._note(ref, f"regctl did this ({summary(request)}); there was nothing to run"))
            return DeliveryResult(202, {"done": summary(request), "ticket": ticket_link(ref)})
        text = accepted_text(summary(request), operation, record.principal_id)
        self._writes.send(TicketWrite(**_base(ref), write="accepted", operation_id=operation, text=text))
        self._writes.send(TicketWrite(**_base(ref), write="progress", operation_id=operation, round=1), self._progress)
        logger.info("started operation %s: %s", operation, summary(request))
        return DeliveryResult(202, {**_operation(operation), "ticket": ticket_link(ref)})

    def _update(self, record: TicketRecord, change: Callable[[TicketRecord], object]) -> None:
        """Apply ``change`` to the ticket and save it, re-reading after a lost ETag race."""
        for _ in range(ATTEMPTS):
            change(record)
            record.updated_at = utcnow()
            try:
                self._store.save_ticket(record)
                return
            except ConcurrentUpdate:
                fresh = self._store.get_ticket(record.source, record.key)
                if fresh is None:
                    return
                record = fresh
        raise ConcurrentUpdate(f"ticket {record.source}:{record.key} keeps changing")

    def _authorize(self, request: TicketRequest, caller: Principal) -> None:
        """The principal's permission for the request (the access snapshot: no store call)."""
        name, scope = request.registry, registry_scope(request.registry)
        if request.action == "apply":
            self._access.require(caller, Action.REGISTRIES_WRITE, scope)
        elif request.action in ("delete", "sync"):
            wanted = Action.REGISTRIES_DELETE if request.action == "delete" else Action.REGISTRIES_WRITE
            self._access.require_registry(caller, wanted, name)
        elif request.action == "promote":
            self._access.require_registry(caller, Action.ASSETS_WRITE, name)
        elif request.action == "grant":
            self._access.require(caller, Action.ROLE_ASSIGNMENTS_WRITE, scope)
        else:
            self._access.require(caller, Action.ROLE_ASSIGNMENTS_DELETE, scope)

    def _submit(self, request: TicketRequest, caller: Principal, key: str, operation: str | None) -> str | None:
        """Submit the request's command as ``caller``: the operation id (None when nothing runs)."""
        doc, name = request.document, request.registry
        self._authorize(request, caller)  # again: the roles may have changed since the intake
        if request.action in INLINE_ACTIONS:
            return self._inline(request, caller, key)
        if request.action == "apply":
            try:
                return self._registries.create(CreateRegistry.from_document(doc, key, caller, operation)).operation.id
            except Conflict as exc:
                if exc.code != "RegistryExists":
                    raise
                replace = ReplaceRegistry.from_document(name, doc, key, caller, operation)
                return self._registries.replace(replace).operation.id
        if request.action == "delete":
            return self._registries.delete(DeleteRegistry(name, key, caller, operation)).operation.id
        if request.action == "sync":
            if operation is not None and _exists(self._registries, operation):
                return operation  # a start redelivered after its submit
            return self._registries.sync(SyncRegistry(name, caller, operation)).operation.id
        raise AssertionError(f"unknown action {request.action}")

    def _inline(self, request: TicketRequest, caller: Principal, key: str) -> str | None:
        if request.action == "promote":
            return ticket_promotion(self._promotions, request, caller)
        return self._assignment(request, caller, key)

    def _assignment(self, request: TicketRequest, caller: Principal, key: str) -> str | None:
        doc, scope = request.document, registry_scope(request.registry)
        principal_id, role = str(doc["principalId"]), str(doc["role"])
        if request.action == "grant":
            body = {
                "scope": scope,
                "principalId": principal_id,
                "principalType": str(doc.get("principalType", "User")),
                "roleDefinitionId": role,
            }
            _, view = self._access.put_assignment(str(uuid.uuid5(NAMESPACE, key)), body, caller)
        else:
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

    @staticmethod
    def _note(ref: TicketRef, text: str) -> TicketWrite:
        return TicketWrite(**_base(ref), write="note", text=text[:4000])


def _caller(record: TicketRecord) -> Principal:
    name = f"{TICKET_CALLER_PREFIX}{record.source} {record.display}"
    return Principal(record.principal_id, name, "ServicePrincipal")


def _refused(record: TicketRecord, action_key: str, message: str) -> None:
    record.operations.pop(action_key, None)
    record.status, record.message = TicketStatus.REFUSED, message


def _exists(registries: RegistryService, operation_id: str) -> bool:
    try:
        registries.operation(operation_id)
    except NotFound:
        return False
    return True


def _operation(operation_id: str | None) -> dict[str, str]:
    return {"operation": f"/api/operations/{operation_id}"} if operation_id and operation_id != "-" else {}
