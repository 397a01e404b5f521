"""Submitting registry operations, and reading registries and operations back.

A request is validated completely before anything is stored; a rejected request stores and enqueues
nothing. An accepted one is stored (registry, operation, idempotency entry in one transaction), then a
Reconcile message is enqueued. If the enqueue fails the request is answered with an error, and the
region-sync timer still picks the registry up (its generation is ahead of what it converged to), so
nothing accepted is lost.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from shared.domain.errors import Conflict, NotFound
from shared.domain.messages import Reconcile
from shared.domain.records import (
    OperationKind,
    OperationRecord,
    RegistryRecord,
    StepRecord,
)
from shared.domain.spec import RegistrySpec, parse_spec
from shared.ports import StateStore
from shared.services.queueing import Dispatcher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    operation: OperationRecord
    warnings: list[str] = field(default_factory=list)
    replayed: bool = False


@dataclass(frozen=True)
class OperationView:
    operation: OperationRecord
    registry_name: str
    steps: list[StepRecord]


def new_operation_id() -> str:
    return uuid.uuid4().hex


class RegistryService:
    def __init__(self, store: StateStore, dispatcher: Dispatcher) -> None:
        self._store = store
        self._dispatch = dispatcher

    def create(self, document: dict[str, Any], idempotency_key: str | None = None) -> Accepted:
        parsed = parse_spec(document)
        spec = parsed.spec
        if idempotency_key:
            previous = self._store.find_idempotent(spec.key, idempotency_key)
            if previous is not None:
                return Accepted(previous, parsed.warnings, replayed=True)
        existing = self._store.get_registry(spec.key)
        if existing is not None:
            return self._create_again(existing, spec, parsed.warnings)
        operation = OperationRecord(
            id=new_operation_id(),
            registry=spec.key,
            kind=OperationKind.CREATE,
            generation=1,
            idempotency_key=idempotency_key,
        )
        record = RegistryRecord(
            key=spec.key, name=spec.name, spec=spec.to_document(), operation_id=operation.id
        )
        self._store.create_registry(record, operation)
        log.info(
            "accepted registry=%s operation=%s step=submit kind=create region=%s",
            spec.key,
            operation.id,
            spec.location,
        )
        self._enqueue(record, operation)
        return Accepted(operation, parsed.warnings)

    def _create_again(self, existing: RegistryRecord, spec: RegistrySpec, warnings: list[str]) -> Accepted:
        """Creating a registry that exists: the same spec is accepted again (idempotent), another is 409."""
        if existing.deleting:
            raise Conflict(
                f'registry "{existing.name}" is being deleted; create it again when that finishes',
                code="RegistryBeingDeleted",
            )
        if existing.spec != spec.to_document():
            raise Conflict(
                f'registry "{existing.name}" already exists with another spec; use PUT or PATCH to change it',
                code="RegistryExists",
            )
        operation = self._store.get_operation(existing.operation_id)
        if operation is None:
            raise NotFound(f"operation {existing.operation_id} not found", code="OperationNotFound")
        return Accepted(operation, warnings, replayed=True)

    def _enqueue(self, record: RegistryRecord, operation: OperationRecord) -> None:
        self._dispatch.send(
            [
                Reconcile(
                    registry=record.key,
                    generation=record.generation,
                    operation_id=operation.id,
                    trigger="submit",
                )
            ]
        )

    # -- reads --------------------------------------------------------------------------------------

    def get(self, name: str) -> RegistryRecord:
        record = self._store.get_registry(name.lower())
        if record is None:
            raise NotFound(f'registry "{name}" not found', code="RegistryNotFound")
        return record

    def list(self) -> list[RegistryRecord]:
        return sorted(self._store.list_registries(), key=lambda r: r.key)

    def operation(self, operation_id: str) -> OperationView:
        operation = self._store.get_operation(operation_id)
        if operation is None:
            raise NotFound(f"operation {operation_id} not found", code="OperationNotFound")
        record = self._store.get_registry(operation.registry)
        steps = [s for s in self._store.list_steps(operation.registry) if s.operation_id == operation.id]
        return OperationView(
            operation, record.name if record else operation.registry, sorted(steps, key=lambda s: s.key)
        )
