"""Records the control plane keeps: registries, operations, step progress (pure data).

A registry record holds the newest desired spec and its ``generation``; ``observed_generation`` is the
generation the registry last converged to. An operation is one accepted request (create, update, delete,
sync) and reaches a terminal status that the API shows. Step records are the per-step progress an
operation document lists; an in-flight ARM long-running operation keeps its continuation token on the
step record of the registry, so a redelivered or later step resumes polling instead of writing again.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from shared.domain.access import Principal
from shared.domain.work import REGISTRY_LANE

#: An operation id is ``{registry key}.{32 hex}``: the registry it belongs to can be read from the id, so
#: finding an operation needs no index. Registry keys never contain ``.`` (shared/domain/spec_fields.py).
_OPERATION_ID = re.compile(r"(?P<registry>[a-z0-9][a-z0-9_-]{1,31})\.[0-9a-f]{32}")


def new_operation_id(registry: str) -> str:
    return f"{registry}.{uuid.uuid4().hex}"


def operation_registry(operation_id: str) -> str | None:
    """The registry key an operation id names, or None if the id is not one regctl could have made."""
    matched = _OPERATION_ID.fullmatch(operation_id)
    return matched.group("registry") if matched else None


def utcnow() -> datetime:
    return datetime.now(UTC)


class OperationKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    SYNC = "sync"
    GRANT = "grant"  # a principal's data-plane roles applied on a registry
    REVOKE = "revoke"
    REGISTER = "register"  # an asset version registered and copied to every region
    REPLICATE = "replicate"  # an asset version's copies healed or backfilled (a region added, a blob lost)
    DELETE_VERSION = "delete_version"  # an asset version's copies deleted in every region


class OperationStatus(StrEnum):
    ACCEPTED = "Accepted"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"

    @property
    def terminal(self) -> bool:
        return self in (OperationStatus.SUCCEEDED, OperationStatus.FAILED, OperationStatus.CANCELED)


class StepState(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class ReconcilePolicy(StrEnum):
    """``manage`` heals drift; ``observe`` reports it and changes nothing; ``skip`` does not even look."""

    MANAGE = "manage"
    OBSERVE = "observe"
    SKIP = "skip"


class RegistryStatus(StrEnum):
    PROVISIONING = "Provisioning"
    READY = "Ready"
    DELETING = "Deleting"
    FAILED = "Failed"


@dataclass
class RegistryRecord:
    key: str  # lowercase name
    name: str  # as first given
    spec: dict[str, Any]  # RegistrySpec.to_document()
    generation: int = 1
    observed_generation: int = 0
    status: RegistryStatus = RegistryStatus.PROVISIONING
    operation_id: str = ""  # the newest operation
    deleting: bool = False
    policy: ReconcilePolicy = ReconcilePolicy.MANAGE
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    resource_group: str = ""  # the ARM resource group it is listed in ("" in rows written before there was one)
    resources: dict[str, Any] = field(default_factory=dict)  # last observed, per resource
    drift: list[dict[str, str]] = field(default_factory=list)  # last observed differences from the spec
    observed_at: datetime | None = None
    etag: str | None = None


@dataclass
class OperationRecord:
    id: str
    registry: str  # registry key
    kind: OperationKind
    generation: int
    status: OperationStatus = OperationStatus.ACCEPTED
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    error_code: str | None = None
    error_message: str | None = None
    idempotency_key: str | None = None
    lane: str = REGISTRY_LANE  # operations of one lane supersede each other; of different lanes run side by side
    requested_by: Principal | None = None
    traceparent: str | None = None  # W3C trace context of the request that started it
    event_pending: bool = False  # its OperationFinished is written but not yet known to be sent (the outbox)
    etag: str | None = None


@dataclass
class StepRecord:
    registry: str
    key: str  # {goal}_{kind}:{subject}
    operation_id: str
    kind: str
    region: str
    index: int = 0
    goal: str = "ensure"
    item: str = ""
    state: StepState = StepState.PENDING
    attempts: int = 0
    last_error: str | None = None
    resource_name: str | None = None
    name_attempt: int = 0
    run: int = 0  # how many times the loop dispatched this step within its operation, from 0
    continuation: str | None = None  # ARM LRO continuation token while one runs
    started_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    etag: str | None = None

    @property
    def lane(self) -> str:
        return self.item or REGISTRY_LANE

    def failure(self) -> tuple[str, str]:
        """The code and message of ``last_error`` (recorded as ``code: message``)."""
        code, _, text = (self.last_error or "").partition(": ")
        return code or "StepFailed", text
