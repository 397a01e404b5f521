"""In-memory fakes of the ticket ports: the ticket store and a ticket system that records writes."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

from shared.domain.errors import ConcurrentUpdate, TransientError
from shared.domain.tickets import DeliveryResult, TicketRecord, TicketRef, delivery_key


class FakeTicketStore:
    def __init__(self) -> None:
        self.deliveries: dict[tuple[str, str], DeliveryResult] = {}
        self.tickets: dict[tuple[str, str], TicketRecord] = {}
        self.operations: dict[str, TicketRef] = {}
        self.written: set[tuple[str, str, str]] = set()
        self._etags = itertools.count(1)

    def get_delivery(self, source: str, delivery_id: str) -> DeliveryResult | None:
        return self.deliveries.get((source, delivery_id))

    def record_delivery(
        self, source: str, delivery_id: str, result: DeliveryResult, ticket: TicketRecord | None = None
    ) -> DeliveryResult | None:
        """As the table store: a new ticket is one insert carrying the answer inline (no delivery row);
        otherwise the delivery row and the ETag-checked ticket together, or nothing."""
        if ticket is not None and ticket.etag is None:
            ticket.first_delivery = (delivery_key(delivery_id), result)
            try:
                self.save_ticket(ticket)
            except ConcurrentUpdate:
                ticket.first_delivery = None
                raise
            return None
        first = self.deliveries.get((source, delivery_id))
        if first is not None:
            return first
        if ticket is not None:
            self.save_ticket(ticket)
        self.deliveries[(source, delivery_id)] = result
        return None

    def get_ticket(self, source: str, key: str) -> TicketRecord | None:
        found = self.tickets.get((source, key))
        return copy.deepcopy(found) if found is not None else None

    def save_ticket(self, record: TicketRecord) -> None:
        current = self.tickets.get((record.source, record.key))
        if (current is None) != (record.etag is None) or (current is not None and current.etag != record.etag):
            raise ConcurrentUpdate("changed")
        record.etag = str(next(self._etags))
        self.tickets[(record.source, record.key)] = copy.deepcopy(record)

    def link_operation(self, operation_id: str, ref: TicketRef) -> None:
        self.operations[operation_id] = ref

    def ticket_of(self, operation_id: str) -> TicketRef | None:
        return self.operations.get(operation_id)

    def is_written(self, ref: TicketRef, write_id: str) -> bool:
        return (ref.source, ref.key, write_id) in self.written

    def mark_written(self, ref: TicketRef, write_id: str) -> None:
        self.written.add((ref.source, ref.key, write_id))


@dataclass
class FakeTicketSystem:
    """A ticket system: ``down`` answers every write with a transient error (``retry_after`` asked)."""

    comments: list[tuple[str, str]] = field(default_factory=list)
    finished: list[tuple[str, bool]] = field(default_factory=list)
    down: bool = False
    retry_after: float | None = None

    def _check(self) -> None:
        if self.down:
            raise TransientError("the ticket system answered 503", code="Http503", retry_after=self.retry_after)

    def comment(self, ref: TicketRef, text: str) -> None:
        self._check()
        self.comments.append((ref.key, text))

    def finish(self, ref: TicketRef, succeeded: bool) -> None:
        self._check()
        self.finished.append((ref.key, succeeded))
