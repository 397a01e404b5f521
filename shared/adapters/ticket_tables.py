"""TicketStore over Azure Table storage: one table, ``{prefix}Tickets``.

| partition | row | what |
|---|---|---|
| ``{source}`` | ``ticket\\|{key}`` | the ticket's record: status, request, action, operations, progress, the first \
answer to the delivery that made it (``first_delivery``, ``first_answer``) |
| ``{source}`` | ``delivery\\|{sha256 of the delivery id}`` | the first answer to a later webhook delivery |
| ``op`` | operation id | the ticket of an operation (write-back finds it from ``OperationFinished``) |
| ``write\\|{source}\\|{key}`` | write id | a write done to the ticket (never posted twice) |

Ticket keys are checked by the payload parsers (letters, digits, ``.-_:``), so they are valid RowKeys.
A delivery row shares its ticket's partition, so a delivery that changes a ticket is one entity-group
transaction (the delivery row inserted, the ticket replaced if its ETag still matches); the delivery that
makes a ticket is one plain insert, its answer inline in the ticket row (a batch costs several times the
CPU of a single write, shared/adapters/tables.py).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from shared.adapters.tables import classified_methods
from shared.domain.errors import ConcurrentUpdate
from shared.domain.tickets import DeliveryResult, TicketRecord, TicketRef, TicketStatus, delivery_key

OPERATIONS = "op"


def _delivery_row(delivery_id: str) -> str:
    return f"delivery|{delivery_key(delivery_id)}"


def _answer(row: Any, status: str, body: str) -> DeliveryResult:
    return DeliveryResult(int(row[status]), json.loads(row[body]))


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class TableTicketStore:
    def __init__(self, service: TableServiceClient, prefix: str) -> None:
        self._table: TableClient = service.get_table_client(f"{prefix}Tickets")

    def table_names(self) -> list[str]:
        return [self._table.table_name]

    # -- deliveries --------------------------------------------------------------------------------

    def get_delivery(self, source: str, delivery_id: str) -> DeliveryResult | None:
        try:
            row = self._table.get_entity(source, _delivery_row(delivery_id))
        except ResourceNotFoundError:
            return None
        return _answer(row, "status", "body")

    def record_delivery(
        self, source: str, delivery_id: str, result: DeliveryResult, ticket: TicketRecord | None = None
    ) -> DeliveryResult | None:
        if ticket is not None and ticket.etag is None:
            ticket.first_delivery = (delivery_key(delivery_id), result)
            try:
                self.save_ticket(ticket)  # one insert: the ticket and the answer to its first delivery
            except ConcurrentUpdate:
                ticket.first_delivery = None
                raise
            return None
        row = {"PartitionKey": source, "RowKey": _delivery_row(delivery_id), "status": result.status}
        row["body"] = json.dumps(result.body)
        try:
            if ticket is None:
                self._table.create_entity(row)
                return None
            checked = {
                "mode": UpdateMode.REPLACE,
                "etag": ticket.etag,
                "match_condition": MatchConditions.IfNotModified,
            }
            metas = self._table.submit_transaction([("create", row), ("update", _ticket_entity(ticket), checked)])
        except (ResourceExistsError, TableTransactionError) as exc:
            if getattr(exc, "status_code", 409) not in (409, 412):
                raise
            first = self.get_delivery(source, delivery_id)
            if first is not None:
                return first
            if ticket is None:
                raise
            raise ConcurrentUpdate(f"ticket {ticket.source}:{ticket.key} changed meanwhile") from None
        etag = metas[1].get("etag") if len(metas) > 1 else None
        ticket.etag = str(etag) if etag else ticket.etag
        return None

    # -- tickets -----------------------------------------------------------------------------------

    def get_ticket(self, source: str, key: str) -> TicketRecord | None:
        try:
            row = self._table.get_entity(source, f"ticket|{key}")
        except ResourceNotFoundError:
            return None
        return TicketRecord(
            source=source,
            key=key,
            display=str(row.get("display") or key),
            table=str(row.get("table") or ""),
            principal_id=str(row["principal_id"]),
            status=TicketStatus(row["status"]),
            request=json.loads(row["request"]) if row.get("request") else None,
            action=row.get("action") or None,
            operations=dict(json.loads(row.get("operations") or "{}")),
            message=row.get("message") or None,
            order=float(row.get("order") or 0.0),
            reported_regions=list(json.loads(row.get("reported_regions") or "[]")),
            progress_at=_when(row.get("progress_at")),
            created_at=_when(row.get("created_at")) or datetime.now().astimezone(),
            updated_at=_when(row.get("updated_at")) or datetime.now().astimezone(),
            first_delivery=(
                (str(row["first_delivery"]), _answer(row, "first_status", "first_answer"))
                if row.get("first_delivery")
                else None
            ),
            etag=str(row.metadata["etag"]),
        )

    def save_ticket(self, record: TicketRecord) -> None:
        entity = _ticket_entity(record)
        try:
            if record.etag is None:
                meta = self._table.create_entity(entity)
            else:
                meta = self._table.update_entity(
                    entity, mode=UpdateMode.REPLACE, etag=record.etag, match_condition=MatchConditions.IfNotModified
                )
        except (ResourceExistsError, ResourceModifiedError):
            raise ConcurrentUpdate(f"ticket {record.source}:{record.key} changed meanwhile") from None
        record.etag = str(meta.get("etag")) if meta and meta.get("etag") else record.etag

    # -- the operation index -----------------------------------------------------------------------

    def link_operation(self, operation_id: str, ref: TicketRef) -> None:
        self._table.upsert_entity(
            {
                "PartitionKey": OPERATIONS,
                "RowKey": operation_id,
                "source": ref.source,
                "key": ref.key,
                "display": ref.display,
                "table": ref.table,
            },
            mode=UpdateMode.REPLACE,
        )

    def ticket_of(self, operation_id: str) -> TicketRef | None:
        try:
            row = self._table.get_entity(OPERATIONS, operation_id)
        except ResourceNotFoundError:
            return None
        display, table = str(row.get("display") or ""), str(row.get("table") or "")
        return TicketRef(str(row["source"]), str(row["key"]), display, table)

    # -- writes done -------------------------------------------------------------------------------

    def is_written(self, ref: TicketRef, write_id: str) -> bool:
        try:
            self._table.get_entity(f"write|{ref.source}|{ref.key}", write_id, select=["RowKey"])
        except ResourceNotFoundError:
            return False
        return True

    def mark_written(self, ref: TicketRef, write_id: str) -> None:
        self._table.upsert_entity({"PartitionKey": f"write|{ref.source}|{ref.key}", "RowKey": write_id})


def _ticket_entity(record: TicketRecord) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": record.source,
        "RowKey": f"ticket|{record.key}",
        "display": record.display,
        "table": record.table,
        "principal_id": record.principal_id,
        "status": record.status.value,
        "request": json.dumps(record.request) if record.request is not None else "",
        "action": record.action or "",
        "operations": json.dumps(record.operations),
        "message": record.message or "",
        "order": record.order,
        "reported_regions": json.dumps(record.reported_regions),
        "progress_at": record.progress_at.isoformat() if record.progress_at else "",
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
    }
    if record.first_delivery is not None:  # kept on every replace: a late duplicate still finds its answer
        key, answer = record.first_delivery
        entity.update(first_delivery=key, first_status=answer.status, first_answer=json.dumps(answer.body))
    return entity


classified_methods(TableTicketStore)
