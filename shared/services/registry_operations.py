"""What becomes of a registry request once it is accepted: the ``Accepted`` answer, the activity-log entry of
who asked, the older operation it supersedes (Canceled), its Reconcile message, and the replay of an
operation when the same request is sent again. ``RegistryOperations`` is the part of
``shared.services.registries.RegistryService`` that does this; the service decides what each request
changes and stores it first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from shared.domain.access import Principal, registry_scope
from shared.domain.messages import Reconcile
from shared.domain.records import OperationKind, OperationRecord, RegistryRecord
from shared.domain.roles import Action
from shared.ports import StateStore
from shared.services.lifecycle import OperationLifecycle
from shared.services.queueing import Dispatcher


@dataclass(frozen=True)
class Accepted:
    operation: OperationRecord
    warnings: list[str] = field(default_factory=list)
    replayed: bool = False


class ActivityLog(Protocol):
    """Where accepted writes are kept: who, what, scope, result (the access service)."""

    def record(
        self,
        caller: Principal | None,
        action: str,
        scope: str,
        result: str,
        *,
        operation: str | None = None,
        detail: str | None = None,
    ) -> None: ...


class NoActivityLog:
    def record(
        self,
        caller: Principal | None,
        action: str,
        scope: str,
        result: str,
        *,
        operation: str | None = None,
        detail: str | None = None,
    ) -> None:
        return None


_ACTIONS = {
    OperationKind.CREATE: Action.REGISTRIES_WRITE,
    OperationKind.UPDATE: Action.REGISTRIES_WRITE,
    OperationKind.SYNC: Action.REGISTRIES_WRITE,
    OperationKind.DELETE: Action.REGISTRIES_DELETE,
}


class RegistryOperations:
    """Works with what ``RegistryService`` is built with."""

    _store: StateStore
    _dispatch: Dispatcher
    _lifecycle: OperationLifecycle
    _activity: ActivityLog

    def _accepted(self, operation: OperationRecord, warnings: list[str]) -> Accepted:
        """A newly accepted operation, kept in the activity log with who asked."""
        self._activity.record(
            operation.requested_by,
            _ACTIONS.get(operation.kind, Action.REGISTRIES_WRITE),
            registry_scope(operation.registry),
            "Accepted",
            operation=operation.id,
            detail=operation.kind.value,
        )
        return Accepted(operation, warnings)

    def _supersede(self, previous_id: str, newer: OperationRecord) -> None:
        """An operation still running when a newer one is accepted ends Canceled, naming its successor."""
        previous = self._store.get_operation(previous_id)
        self._lifecycle.cancel(
            previous,
            "Superseded",
            f"superseded by operation {newer.id} ({newer.kind.value}, generation {newer.generation})",
        )

    def _enqueue(self, record: RegistryRecord, operation: OperationRecord) -> None:
        self._submit(record.key, record.generation, operation)

    def _submit(self, registry: str, generation: int, operation: OperationRecord) -> None:
        self._dispatch.send(
            [Reconcile(registry=registry, generation=generation, operation_id=operation.id, trigger="submit")]
        )

    def _replay(self, operation: OperationRecord, warnings: list[str]) -> Accepted:
        """A request accepted before, sent again: the same operation. If it is still going, its submit
        message is sent again under the same message id: duplicate detection drops it when the first
        send went out, and it starts the operation when the first send failed after the write."""
        if not operation.status.terminal:
            self._submit(operation.registry, operation.generation, operation)
        return Accepted(operation, warnings, replayed=True)
