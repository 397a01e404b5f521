"""Table rows of the state store (pure mapping between records and Azure Table entities)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from shared.domain.access import Principal
from shared.domain.records import (
    OperationKind,
    OperationRecord,
    OperationStatus,
    ReconcilePolicy,
    RegistryRecord,
    RegistryStatus,
    StepRecord,
    StepState,
)

REGISTRY_ROW = "registry"
LANE_END = "}"  # the character after "|": a lane's rows are the RowKey range [lane|, lane})


def etag(entity: Any) -> str | None:
    metadata = getattr(entity, "metadata", None) or {}
    found = metadata.get("etag")
    return str(found) if found else None


def lane_row(lane: str) -> str:
    """A lane as a RowKey prefix (item lanes such as ``asset:model/n/1`` hold "/", which keys may not)."""
    return lane.replace("/", "!")


def step_row(lane: str, key: str) -> str:
    return f"{lane_row(lane)}|{key.replace('/', '!')}"


def idem_row(key: str) -> str:
    return "idem:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def dt(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def registry_entity(r: RegistryRecord) -> dict[str, Any]:
    return {
        "PartitionKey": r.key,
        "RowKey": REGISTRY_ROW,
        "name": r.name,
        "spec": json.dumps(r.spec, separators=(",", ":")),
        "generation": r.generation,
        "observed_generation": r.observed_generation,
        "status": r.status.value,
        "operation_id": r.operation_id,
        "deleting": r.deleting,
        "policy": r.policy.value,
        "drift": json.dumps(r.drift, separators=(",", ":")),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "resources": json.dumps(r.resources, separators=(",", ":")),
        "observed_at": r.observed_at or "",  # always present: rows are written in MERGE mode
        "resource_group": r.resource_group,
    }


def registry_record(e: Any) -> RegistryRecord:
    return RegistryRecord(
        key=str(e["PartitionKey"]),
        name=str(e["name"]),
        spec=json.loads(e["spec"]),
        generation=int(e["generation"]),
        observed_generation=int(e["observed_generation"]),
        status=RegistryStatus(e["status"]),
        operation_id=str(e.get("operation_id", "")),
        deleting=bool(e.get("deleting", False)),
        policy=ReconcilePolicy(e.get("policy", ReconcilePolicy.MANAGE.value)),
        drift=json.loads(e.get("drift") or "[]"),
        observed_at=dt(e["observed_at"]) if e.get("observed_at") else None,
        created_at=dt(e["created_at"]),
        updated_at=dt(e["updated_at"]),
        resources=json.loads(e.get("resources") or "{}"),
        resource_group=str(e.get("resource_group") or ""),
        etag=etag(e),
    )


def operation_entity(o: OperationRecord) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": o.registry,
        "RowKey": "op:" + o.id,
        "operation_id": o.id,
        "kind": o.kind.value,
        "generation": o.generation,
        "status": o.status.value,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
        "lane": o.lane,
        "event_pending": o.event_pending,
    }
    if o.requested_by is not None:
        who = o.requested_by
        entity["requested_by"] = json.dumps({"id": who.id, "name": who.name, "type": who.type})
    for name in ("error_code", "error_message", "idempotency_key", "traceparent"):
        value = getattr(o, name)
        if value is not None:
            entity[name] = value
    return entity


def idem_entity(o: OperationRecord) -> dict[str, Any]:
    assert o.idempotency_key is not None
    return {"PartitionKey": o.registry, "RowKey": idem_row(o.idempotency_key), "operation_id": o.id}


def operation_record(e: Any) -> OperationRecord:
    return OperationRecord(
        id=str(e["operation_id"]),
        registry=str(e["PartitionKey"]),
        kind=OperationKind(e["kind"]),
        generation=int(e["generation"]),
        status=OperationStatus(e["status"]),
        created_at=dt(e["created_at"]),
        updated_at=dt(e["updated_at"]),
        error_code=e.get("error_code"),
        error_message=e.get("error_message"),
        idempotency_key=e.get("idempotency_key"),
        lane=str(e.get("lane") or "registry"),
        requested_by=principal(e.get("requested_by")),
        traceparent=e.get("traceparent"),
        event_pending=bool(e.get("event_pending", False)),
        etag=etag(e),
    )


def principal(raw: Any) -> Principal | None:
    if not raw:
        return None
    data = json.loads(raw)
    return Principal(id=str(data["id"]), name=str(data.get("name", "")), type=data.get("type", "User"))


def step_entity(s: StepRecord) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "PartitionKey": s.registry,
        "RowKey": step_row(s.lane, s.key),
        "key": s.key,
        "operation_id": s.operation_id,
        "kind": s.kind,
        "goal": s.goal,
        "item": s.item,
        "region": s.region,
        "index": s.index,
        "state": s.state.value,
        "attempts": s.attempts,
        "name_attempt": s.name_attempt,
        "run": s.run,
        "started_at": s.started_at,
        "updated_at": s.updated_at,
    }
    for name in ("last_error", "resource_name", "continuation"):
        value = getattr(s, name)
        if value is not None:
            entity[name] = value
    return entity


def step_record(e: Any) -> StepRecord:
    return StepRecord(
        registry=str(e["PartitionKey"]),
        key=str(e["key"]),
        operation_id=str(e["operation_id"]),
        kind=str(e["kind"]),
        goal=str(e.get("goal") or "ensure"),
        item=str(e.get("item") or ""),
        region=str(e["region"]),
        index=int(e["index"]),
        state=StepState(e["state"]),
        attempts=int(e["attempts"]),
        last_error=e.get("last_error"),
        resource_name=e.get("resource_name"),
        name_attempt=int(e.get("name_attempt", 0)),
        run=int(e.get("run", 0)),
        continuation=e.get("continuation"),
        started_at=dt(e["started_at"]),
        updated_at=dt(e["updated_at"]),
        etag=etag(e),
    )
