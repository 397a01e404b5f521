"""Ports: the interfaces the services need, as ``typing.Protocol``. Adapters implement them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from shared.domain.records import OperationRecord, RegistryRecord, StepRecord
from shared.domain.resources import ALL_PARTS, Observed, Part


@dataclass(frozen=True)
class OutboundMessage:
    """A message to enqueue. ``message_id`` is the idempotency key (duplicate detection)."""

    queue: str
    message_id: str
    body: str
    subject: str = ""
    application_properties: dict[str, str | int] = field(default_factory=dict)
    delay_seconds: float = 0.0
    content_type: str = "application/json"


class MessagePublisher(Protocol):
    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        """Enqueue every message (scheduled ones with their delay); raise on failure, send nothing twice."""
        ...

    def close(self) -> None: ...


class StateStore(Protocol):
    """Registries, operations and step records, with optimistic concurrency (ETags)."""

    def create_registry(self, registry: RegistryRecord, operation: OperationRecord) -> None:
        """Store a new registry and its first operation atomically; ``Conflict`` if the name exists."""
        ...

    def replace_registry(self, registry: RegistryRecord, operation: OperationRecord | None = None) -> None:
        """Replace the registry if its ETag still matches (``Conflict`` otherwise), with a new operation
        in the same transaction when given."""
        ...

    def delete_registry(self, registry: RegistryRecord) -> None: ...

    def get_registry(self, key: str) -> RegistryRecord | None: ...

    def list_registries(self) -> list[RegistryRecord]: ...

    def get_operation(self, operation_id: str) -> OperationRecord | None: ...

    def save_operation(self, operation: OperationRecord) -> None:
        """Replace the operation if its ETag matches (``Conflict`` otherwise)."""
        ...

    def find_idempotent(self, registry: str, idempotency_key: str) -> OperationRecord | None: ...

    def get_step(self, registry: str, key: str) -> StepRecord | None: ...

    def save_step(self, step: StepRecord) -> None:
        """Insert or replace (ETag-checked when the record carries one; ``Conflict`` on a lost race)."""
        ...

    def list_steps(self, registry: str) -> list[StepRecord]: ...


@dataclass(frozen=True)
class LroState:
    """Where an ARM write stands: finished, or running with a continuation to poll later."""

    done: bool
    continuation: str | None = None
    retry_after: float | None = None


class ArmGateway(Protocol):
    """The ARM calls the steps make. Errors are raised as ``TransientError`` / ``PermanentError``."""

    def observe(self, registry: str, resource_group: str, parts: frozenset[Part] = ALL_PARTS) -> Observed:
        """What regctl manages for one registry, read with LIST calls: the ``parts`` asked for (the group,
        when not asked for, is reported as existing, details unread, or missing)."""
        ...

    def observe_all(self) -> dict[str, Observed]:
        """Every registry regctl manages in the subscription, keyed by registry, read with subscription-wide
        LIST calls (region sync)."""
        ...

    def ensure_group(self, name: str, location: str, tags: dict[str, str]) -> None: ...

    def delete_group(self, name: str) -> LroState: ...

    def create_storage(
        self, group: str, name: str, *, location: str, sku: str, hns: bool, tags: dict[str, str]
    ) -> LroState: ...

    def update_storage(self, group: str, name: str, sku: str, tags: dict[str, str]) -> None: ...

    def delete_storage(self, group: str, name: str) -> None: ...

    def create_acr(self, group: str, name: str, location: str, tags: dict[str, str]) -> LroState: ...

    def update_acr(self, group: str, name: str, tags: dict[str, str]) -> LroState: ...

    def delete_acr(self, group: str, name: str) -> LroState: ...

    def create_replica(self, group: str, acr: str, location: str, tags: dict[str, str]) -> LroState: ...

    def delete_replica(self, group: str, acr: str, location: str) -> LroState: ...

    def poll(self, continuation: str) -> LroState:
        """One status request for a running operation; raises if it ended Failed or Canceled."""
        ...
