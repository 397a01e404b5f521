"""Submitting registry operations, and reading registries and operations back.

A request is validated completely before anything is stored; a rejected request stores and enqueues
nothing. An accepted one is stored (registry, operation, idempotency entry in one transaction), then a
Reconcile message is enqueued. If the enqueue fails the request is answered with an error, and the
region-sync timer still picks the registry up (its generation is ahead of what it converged to), so
nothing accepted is lost; the client retrying with the same Idempotency-Key sends the message again at
once (a replay of an operation still going re-sends its submit message under the same message id).

What becomes of an accepted request (its answer and activity-log entry, the operation it supersedes, its
Reconcile message, replays) is the part ``RegistryService`` inherits: ``shared.services.registry_operations``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from shared.domain.access import Principal, registry_scope
from shared.domain.arm_resource import DEFAULT_RESOURCE_GROUP
from shared.domain.commands import (
    CreateRegistry,
    DeleteRegistry,
    PatchRegistry,
    ReplaceRegistry,
    SetPolicy,
    SyncRegistry,
)
from shared.domain.errors import ConcurrentUpdate, Conflict, NotFound
from shared.domain.records import (
    OperationKind,
    OperationRecord,
    OperationStatus,
    RegistryRecord,
    RegistryStatus,
    StepRecord,
    new_operation_id,
    utcnow,
)
from shared.domain.roles import Action
from shared.domain.spec import RegistrySpec
from shared.domain.updates import check_update
from shared.domain.work import REGISTRY_LANE
from shared.observability import context_log, current_traceparent
from shared.ports import StateStore
from shared.services.lifecycle import OperationLifecycle
from shared.services.queueing import Dispatcher
from shared.services.registry_operations import Accepted, ActivityLog, NoActivityLog, RegistryOperations

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OperationView:
    operation: OperationRecord
    registry_name: str
    steps: list[StepRecord]


P = ParamSpec("P")
T = TypeVar("T")

#: How often a request re-reads and re-applies its change after losing an ETag race. The reconcile
#: loop writes the registry record (status, drift, converged generation) while an operation runs, so
#: a request racing it is normal and must not reach the caller as a 409; a change is a pure function
#: of the request and the record it reads, so applying it again to the fresh record is correct.
CONCURRENT_UPDATE_ATTEMPTS = 8


def retry_concurrent_update(method: Callable[P, T]) -> Callable[P, T]:
    """Run a read-modify-write again from the read when the store reports ``ConcurrentUpdate``."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        for attempt in range(1, CONCURRENT_UPDATE_ATTEMPTS):
            try:
                return method(*args, **kwargs)
            except ConcurrentUpdate:
                name = getattr(args[1], "name", "-") if len(args) > 1 else "-"
                context_log(log, registry=str(name).lower(), step="submit").info(
                    "lost an ETag race (attempt %d); re-reading", attempt
                )
        return method(*args, **kwargs)

    return wrapper


def _operation(
    registry: str,
    kind: OperationKind,
    generation: int,
    idempotency_key: str | None = None,
    caller: Principal | None = None,
    *,
    operation_id: str | None = None,
) -> OperationRecord:
    """A new operation of the registry lane, stamped with who asked and the request's trace; its id is
    ``operation_id`` when the caller chose one (a ticket answers the id before the operation exists)."""
    return OperationRecord(
        id=operation_id or new_operation_id(registry),
        registry=registry,
        kind=kind,
        generation=generation,
        idempotency_key=idempotency_key,
        lane=REGISTRY_LANE,
        requested_by=caller,
        traceparent=current_traceparent(),
    )


class RegistryService(RegistryOperations):
    def __init__(
        self,
        store: StateStore,
        dispatcher: Dispatcher,
        lifecycle: OperationLifecycle,
        activity: ActivityLog | None = None,
        *,
        default_resource_group: str = DEFAULT_RESOURCE_GROUP,
    ) -> None:
        self._store = store
        self._dispatch = dispatcher
        self._lifecycle = lifecycle
        self._activity: ActivityLog = activity or NoActivityLog()
        self._default_group = default_resource_group

    def create(self, command: CreateRegistry) -> Accepted:
        spec = command.spec
        if command.idempotency_key:
            previous = self._store.find_idempotent(spec.key, command.idempotency_key)
            if previous is not None:
                return self._replay(previous, command.warnings)
        key, caller = command.idempotency_key, command.caller
        operation = _operation(spec.key, OperationKind.CREATE, 1, key, caller, operation_id=command.operation_id)
        group = command.resource_group or self._default_group
        record = RegistryRecord(
            key=spec.key, name=spec.name, spec=spec.to_document(), operation_id=operation.id, resource_group=group
        )
        # Write first, read only on conflict: the common path costs one store call fewer.
        try:
            self._store.create_registry(record, operation)
        except Conflict as exc:
            existing = self._store.get_registry(spec.key)
            if exc.code != "RegistryExists" or existing is None:
                raise
            return self._create_again(existing, spec, command.warnings, group)
        context_log(log, registry=spec.key, operation=operation.id, step="submit", region=spec.location).info(
            "accepted create"
        )
        self._enqueue(record, operation)
        return self._accepted(operation, command.warnings)

    def _create_again(self, existing: RegistryRecord, spec: RegistrySpec, warnings: list[str], group: str) -> Accepted:
        """Creating a registry that exists: the same spec in the same group is accepted again (idempotent),
        anything else is 409 (names are unique across groups, as Azure's registry names are)."""
        if (existing.resource_group or self._default_group).lower() != group.lower():
            raise Conflict(
                f'registry "{existing.name}" already exists in resource group '
                f'"{existing.resource_group or self._default_group}"; registry names are unique',
                code="RegistryExists",
            )
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
        return self._replay(operation, warnings)

    # -- changes to an existing registry ------------------------------------------------------------

    @retry_concurrent_update
    def replace(self, command: ReplaceRegistry) -> Accepted:
        """PUT: the full new spec. Name and primary region are immutable; storage changes as Azure allows."""
        return self._replace(
            command.name,
            command.spec,
            command.warnings,
            command.idempotency_key,
            command.caller,
            operation_id=command.operation_id,
        )

    def _replace(
        self,
        name: str,
        spec: RegistrySpec,
        warnings: list[str],
        idempotency_key: str | None,
        caller: Principal | None,
        *,
        operation_id: str | None = None,
    ) -> Accepted:
        record = self._existing(name, idempotency_key)
        if isinstance(record, Accepted):
            return record
        check_update(RegistrySpec.model_validate(record.spec), spec)
        document = spec.to_document()
        if document == record.spec and not record.deleting:
            operation = self._store.get_operation(record.operation_id)
            if operation is not None and operation.status is not OperationStatus.FAILED:
                return self._replay(operation, warnings)
        return self._change(
            record, OperationKind.UPDATE, document, idempotency_key, warnings, caller=caller, operation_id=operation_id
        )

    @retry_concurrent_update
    def patch(self, command: PatchRegistry) -> Accepted:
        """PATCH: an RFC 7396 merge patch applied to the stored spec, then validated as a PUT."""
        current = self.get(command.name)
        parsed = command.patch.apply(current.spec)
        return self._replace(command.name, parsed.spec, parsed.warnings, command.idempotency_key, command.caller)

    @retry_concurrent_update
    def delete(self, command: DeleteRegistry) -> Accepted:
        """DELETE: tear down every resource; the registry answers 404 once done, its operation stays."""
        record = self._existing(command.name, command.idempotency_key)
        if isinstance(record, Accepted):
            return record
        if record.deleting:
            operation = self._store.get_operation(record.operation_id)
            if operation is not None and not operation.status.terminal:
                return self._replay(operation, [])
        return self._change(
            record,
            OperationKind.DELETE,
            record.spec,
            command.idempotency_key,
            [],
            caller=command.caller,
            deleting=True,
            operation_id=command.operation_id,
        )

    @retry_concurrent_update
    def sync(self, command: SyncRegistry) -> Accepted:
        """Reconcile one registry now (what the region-sync timer does for all), as its own operation."""
        record = self.get(command.name)
        operation = _operation(
            record.key, OperationKind.SYNC, record.generation, caller=command.caller, operation_id=command.operation_id
        )
        previous = record.operation_id
        record.operation_id = operation.id
        record.updated_at = utcnow()
        self._store.replace_registry(record, operation)
        self._supersede(previous, operation)
        self._enqueue(record, operation)
        return self._accepted(operation, [])

    @retry_concurrent_update
    def set_policy(self, command: SetPolicy) -> RegistryRecord:
        record = self.get(command.name)
        record.policy = command.policy
        record.updated_at = utcnow()
        self._store.replace_registry(record)
        context_log(log, registry=record.key, operation=record.operation_id, step="policy").info(
            "policy=%s", command.policy.value
        )
        self._activity.record(
            command.caller,
            Action.REGISTRIES_WRITE,
            registry_scope(record.key),
            "Succeeded",
            detail=f"reconcile policy {command.policy.value}",
        )
        return record

    def _existing(self, name: str, idempotency_key: str | None) -> RegistryRecord | Accepted:
        if idempotency_key:
            previous = self._store.find_idempotent(name.lower(), idempotency_key)
            if previous is not None:
                return self._replay(previous, [])
        return self.get(name)

    def _change(
        self,
        record: RegistryRecord,
        kind: OperationKind,
        spec: dict[str, Any],
        idempotency_key: str | None,
        warnings: list[str],
        *,
        caller: Principal | None,
        deleting: bool = False,
        operation_id: str | None = None,
    ) -> Accepted:
        operation = _operation(
            record.key, kind, record.generation + 1, idempotency_key, caller, operation_id=operation_id
        )
        previous = record.operation_id
        record.generation += 1
        record.spec = spec
        record.deleting = record.deleting or deleting
        record.operation_id = operation.id
        record.status = RegistryStatus.DELETING if record.deleting else RegistryStatus.PROVISIONING
        record.updated_at = utcnow()
        self._store.replace_registry(record, operation)
        context_log(log, registry=record.key, operation=operation.id, step="submit").info(
            "accepted %s generation=%d", kind.value, record.generation
        )
        self._supersede(previous, operation)
        self._enqueue(record, operation)
        return self._accepted(operation, warnings)

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
        steps = self._store.list_steps(operation.registry, operation.lane, operation.id)
        return OperationView(
            operation, record.name if record else operation.registry, sorted(steps, key=lambda s: s.key)
        )
