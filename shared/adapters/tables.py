"""StateStore over Azure Table storage (azure-data-tables), with ETag optimistic concurrency.

Layout (docs/architecture.md):
- ``{prefix}Registries``: partition = registry key. Row ``registry`` is the registry record; rows
  ``op:{id}`` are its operations and ``idem:{sha256(key)}`` its Idempotency-Key entries. An operation id
  names its registry (``{key}.{hex}``), so an operation is one point read, no index.
- A create is one entity: the registry row carries its first operation inline (column ``first_op``), so
  the request makes one single-entity insert instead of a multipart transaction (about a third of the CPU,
  measured: docs/performance.md). Reads fall back to the inline copy while the operation has no row of its
  own; its first save creates that row (insert-if-absent: a concurrent first save gets ``ConcurrentUpdate``), and
  its Idempotency-Key entry with it. Registry rows are written in MERGE mode with every property of the
  record present, so a write keeps ``first_op`` and otherwise equals a replace. Later operations (update,
  delete, sync) are written with the registry row in one transaction, as before.
- ``{prefix}Steps``: partition = registry key, row = ``{lane}|{step key}`` (``registry|ensure_storage:eastus:0``):
  one lane's records are one RowKey range, and one operation's are that range filtered by operation.
- ``{prefix}Seen``: partition = scope, row = key: what deduplicating consumers have handled.

Every Azure error leaves this adapter as one of regctl's (``_classified``): a lost ETag race is
``ConcurrentUpdate``, an unreachable or failing service ``TransientError`` (``StoreUnavailable``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from azure.core import MatchConditions
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableClient, TableServiceClient, TableTransactionError, UpdateMode

from shared.adapters.table_rows import (
    LANE_END,
    REGISTRY_ROW,
    etag,
    idem_entity,
    idem_row,
    lane_row,
    operation_entity,
    operation_record,
    registry_entity,
    registry_record,
    step_entity,
    step_record,
    step_row,
)
from shared.adapters.transport import transport_options
from shared.domain.errors import ConcurrentUpdate, Conflict, RegctlError, TransientError
from shared.domain.records import (
    OperationRecord,
    RegistryRecord,
    StepRecord,
    operation_registry,
)

FIRST_OP = "first_op"
INLINE_ETAG = "inline"  # an operation read from its registry row's inline copy: it has no row of its own yet

#: In-call retries of the Table client: 3, backing off 0.5 s to 4 s. The SDK default (10 retries, backoff
#: to 120 s) held a request or a function for minutes through a storage outage; a request answers 503 and a
#: function's message is retried by the queue instead.
RETRY_OPTIONS: dict[str, Any] = {"retry_total": 3, "retry_backoff_factor": 0.5, "retry_backoff_max": 4}


def classify_store_error(exc: AzureError) -> RegctlError:
    """An Azure Tables error as one of regctl's: a service that failed, throttled or did not answer is
    transient (``StoreUnavailable``); anything else is a fault regctl does not expect (``StoreError``)."""
    status = exc.status_code if isinstance(exc, HttpResponseError) else None
    if status is None or status >= 500 or status in (408, 429):
        return TransientError(f"the state store is unavailable: {type(exc).__name__}", code="StoreUnavailable")
    return RegctlError(f"the state store answered {status}: {type(exc).__name__}", code="StoreError")


def _classified(method: Any) -> Any:
    """Run a store method, turning whatever Azure error escapes it into regctl's tree."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except AzureError as exc:
            raise classify_store_error(exc) from exc

    return wrapper


def _etag_of(meta: Any) -> str | None:
    """The ETag in a write's response metadata."""
    etag = meta.get("etag") if meta else None
    return str(etag) if etag else None


class TableStateStore:
    def __init__(self, service: TableServiceClient, prefix: str) -> None:
        self._registries: TableClient = service.get_table_client(f"{prefix}Registries")
        self._steps: TableClient = service.get_table_client(f"{prefix}Steps")
        self._seen: TableClient = service.get_table_client(f"{prefix}Seen")

    @classmethod
    def from_settings(
        cls,
        *,
        connection_string: str | None,
        endpoint: str | None,
        credential: TokenCredential | None,
        prefix: str,
    ) -> TableStateStore:
        if connection_string:
            service = TableServiceClient.from_connection_string(
                connection_string, **RETRY_OPTIONS, **transport_options()
            )
        elif endpoint and credential is not None:
            service = TableServiceClient(
                endpoint=endpoint, credential=credential, **RETRY_OPTIONS, **transport_options()
            )
        else:
            raise ValueError("the state store needs a connection string or an endpoint and a credential")
        return cls(service, prefix)

    def table_names(self) -> list[str]:
        return [t.table_name for t in (self._registries, self._steps, self._seen)]

    def ping(self) -> None:
        """One cheap read, for health checks."""
        next(iter(self._registries.query_entities("PartitionKey eq 'health'", results_per_page=1)), None)

    # -- registries -------------------------------------------------------------------------------

    def create_registry(self, registry: RegistryRecord, operation: OperationRecord) -> None:
        entity = {**registry_entity(registry), FIRST_OP: json.dumps(operation_entity(operation), default=str)}
        try:
            meta = self._registries.create_entity(entity)
        except ResourceExistsError as exc:
            raise Conflict(f'registry "{registry.name}" already exists', code="RegistryExists") from exc
        registry.etag = _etag_of(meta)

    def replace_registry(self, registry: RegistryRecord, operation: OperationRecord | None = None) -> None:
        """ETag-checked replace of the registry row; with ``operation``, the operation (and its
        Idempotency-Key entry) in the same transaction. Alone it is a plain update, not a one-entry
        transaction: the multipart batch costs several times the CPU of a single write (the reconcile loop
        writes the row alone, often)."""
        if registry.etag is None:
            raise ValueError("replace_registry needs the record as read (with its ETag)")
        checked: dict[str, Any] = {
            "mode": UpdateMode.MERGE,  # every property is written; MERGE keeps first_op
            "etag": registry.etag,
            "match_condition": MatchConditions.IfNotModified,
        }
        meta: Mapping[str, Any]
        try:
            if operation is None:
                meta = self._registries.update_entity(registry_entity(registry), **checked)
            else:
                batch: list[tuple[str, Any, dict[str, Any]]] = [
                    ("update", registry_entity(registry), checked),
                    ("create", operation_entity(operation), {}),
                ]
                if operation.idempotency_key:
                    batch.append(("upsert", idem_entity(operation), {}))
                meta = self._registries.submit_transaction(batch)[0]
        except (TableTransactionError, ResourceModifiedError, ResourceNotFoundError) as exc:
            raise ConcurrentUpdate(f'registry "{registry.name}" was changed concurrently; retry') from exc
        registry.etag = _etag_of(meta) or etag(self._registries.get_entity(registry.key, REGISTRY_ROW))

    def delete_registry(self, registry: RegistryRecord) -> None:
        try:
            self._registries.delete_entity(registry.key, REGISTRY_ROW)
        except ResourceNotFoundError:
            return

    def get_registry(self, key: str) -> RegistryRecord | None:
        try:
            entity = self._registries.get_entity(key.lower(), REGISTRY_ROW)
        except ResourceNotFoundError:
            return None
        return registry_record(entity)

    def list_registries(self) -> list[RegistryRecord]:
        rows = self._registries.query_entities(f"RowKey eq '{REGISTRY_ROW}'")
        return [registry_record(e) for e in rows]

    # -- operations -------------------------------------------------------------------------------

    def get_operation(self, operation_id: str) -> OperationRecord | None:
        registry = operation_registry(operation_id)
        if registry is None:
            return None
        found = self._operation_row(registry, operation_id)
        if found is not None:
            return found
        first = self._first_operation(registry)
        return first if first is not None and first.id == operation_id else None

    def save_operation(self, operation: OperationRecord) -> None:
        entity = operation_entity(operation)
        first_save = operation.etag == INLINE_ETAG  # the operation's own row, if nobody made it yet
        try:
            if first_save:
                meta = self._registries.create_entity(entity)
            elif operation.etag:
                meta = self._registries.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=operation.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            else:
                meta = self._registries.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except (ResourceModifiedError, ResourceExistsError) as exc:
            raise ConcurrentUpdate(f"operation {operation.id} was changed concurrently") from exc
        if first_save and operation.idempotency_key:
            self._registries.upsert_entity(idem_entity(operation))
        operation.etag = _etag_of(meta)

    def find_idempotent(self, registry: str, idempotency_key: str) -> OperationRecord | None:
        try:
            entity = self._registries.get_entity(registry.lower(), idem_row(idempotency_key))
        except ResourceNotFoundError:
            first = self._first_operation(registry.lower())
            if first is None or first.idempotency_key != idempotency_key:
                return None
            return self._operation_row(first.registry, first.id) or first
        return self.get_operation(str(entity["operation_id"]))

    def _operation_row(self, registry: str, operation_id: str) -> OperationRecord | None:
        try:
            return operation_record(self._registries.get_entity(registry, "op:" + operation_id))
        except ResourceNotFoundError:
            return None

    def _first_operation(self, registry: str) -> OperationRecord | None:
        """The inline copy of a registry's first operation (as accepted), while its registry row exists."""
        try:
            row = self._registries.get_entity(registry, REGISTRY_ROW, select=[FIRST_OP])
        except ResourceNotFoundError:
            return None
        raw = row.get(FIRST_OP)
        if not raw:
            return None
        first = operation_record({**json.loads(raw), "PartitionKey": registry})
        first.etag = INLINE_ETAG
        return first

    def list_pending_events(self) -> list[OperationRecord]:
        rows = self._registries.query_entities("event_pending eq true")
        return [operation_record(e) for e in rows]

    # -- steps ------------------------------------------------------------------------------------

    def get_step(self, registry: str, lane: str, key: str) -> StepRecord | None:
        try:
            entity = self._steps.get_entity(registry, step_row(lane, key))
        except ResourceNotFoundError:
            return None
        return step_record(entity)

    def save_step(self, step: StepRecord) -> None:
        entity = step_entity(step)
        try:
            if step.etag:
                meta = self._steps.update_entity(
                    entity,
                    mode=UpdateMode.REPLACE,
                    etag=step.etag,
                    match_condition=MatchConditions.IfNotModified,
                )
            else:
                meta = self._steps.create_entity(entity)
        except (ResourceModifiedError, ResourceExistsError) as exc:
            raise ConcurrentUpdate(f"step {step.key} of {step.registry} was changed concurrently") from exc
        step.etag = _etag_of(meta)

    def list_steps(self, registry: str, lane: str, operation_id: str | None = None) -> list[StepRecord]:
        prefix = lane_row(lane)
        query = "PartitionKey eq @pk and RowKey ge @low and RowKey lt @high"
        parameters = {"pk": registry, "low": f"{prefix}|", "high": f"{prefix}{LANE_END}"}
        if operation_id is not None:
            query += " and operation_id eq @op"
            parameters["op"] = operation_id
        rows = self._steps.query_entities(query, parameters=parameters)
        return [step_record(e) for e in rows]

    def get_lane_operation(self, registry: str, lane: str) -> str | None:
        try:
            row = self._registries.get_entity(registry, f"lane:{lane_row(lane)}")
        except ResourceNotFoundError:
            return None
        return str(row["operation_id"])

    def set_lane_operation(self, registry: str, lane: str, operation_id: str) -> None:
        entity = {"PartitionKey": registry, "RowKey": f"lane:{lane_row(lane)}", "operation_id": operation_id}
        self._registries.upsert_entity(entity, mode=UpdateMode.REPLACE)

    # -- deduplication ----------------------------------------------------------------------------

    def is_seen(self, scope: str, key: str) -> bool:
        try:
            self._seen.get_entity(scope, key.replace("/", "!"), select=["PartitionKey"])
        except ResourceNotFoundError:
            return False
        return True

    def mark_seen(self, scope: str, key: str) -> None:
        self._seen.upsert_entity({"PartitionKey": scope, "RowKey": key.replace("/", "!")})


def classified_methods(cls: type) -> None:
    """Wrap every public method of a store class so that Azure errors leave it as regctl's."""
    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("_") and not isinstance(member, classmethod | staticmethod):
            setattr(cls, name, _classified(member))


classified_methods(TableStateStore)
