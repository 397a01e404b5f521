"""AccessStore over Azure Table storage: role definitions, role assignments, the access version, and the
activity log.

Layout:
- ``{prefix}Access``: partition ``definition`` (custom role definitions, row = GUID), partition
  ``assignment`` (role assignments, row = GUID), partition ``meta`` row ``version``: a counter every change
  of a definition or an assignment bumps, which every host instance polls to refresh its authorization
  cache within seconds.
- ``{prefix}Activity``: partition = registry key (``_`` for the control plane's own scope), row = the
  inverted time in microseconds plus a random suffix, so a partition reads newest first.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from shared.adapters.table_rows import principal
from shared.adapters.tables import classified_methods
from shared.domain.access import Principal, RoleAssignment
from shared.domain.activity import ActivityEntry
from shared.domain.errors import ConcurrentUpdate
from shared.domain.roles import RoleDefinition

DEFINITION = "definition"
ASSIGNMENT = "assignment"
META = "meta"
VERSION = "version"
CONTROL_PLANE = "_"
_MAX_MICROS = 10**17


def _principal_json(who: Principal | None) -> str:
    return json.dumps({"id": who.id, "name": who.name, "type": who.type}) if who else ""


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


class TableAccessStore:
    def __init__(self, service: TableServiceClient, prefix: str) -> None:
        self._access: TableClient = service.get_table_client(f"{prefix}Access")
        self._activity: TableClient = service.get_table_client(f"{prefix}Activity")

    def table_names(self) -> list[str]:
        return [t.table_name for t in (self._access, self._activity)]

    # -- the version every change bumps ------------------------------------------------------------

    def version(self) -> int:
        try:
            return int(self._access.get_entity(META, VERSION)["value"])
        except ResourceNotFoundError:
            return 0

    def bump_version(self) -> int:
        """Increment the access version (ETag-checked, retried on a lost race)."""
        for _ in range(20):
            try:
                row = self._access.get_entity(META, VERSION)
            except ResourceNotFoundError:
                try:
                    self._access.create_entity({"PartitionKey": META, "RowKey": VERSION, "value": 1})
                    return 1
                except ResourceExistsError:
                    continue
            value = int(row["value"]) + 1
            try:
                self._access.update_entity(
                    {"PartitionKey": META, "RowKey": VERSION, "value": value},
                    mode=UpdateMode.REPLACE,
                    etag=row.metadata["etag"],
                    match_condition=MatchConditions.IfNotModified,
                )
                return value
            except ResourceModifiedError:
                continue
        raise ConcurrentUpdate("the access version kept changing")

    # -- role definitions --------------------------------------------------------------------------

    def list_definitions(self) -> list[RoleDefinition]:
        rows = self._access.query_entities("PartitionKey eq @p", parameters={"p": DEFINITION})
        return [_definition(row) for row in rows]

    def save_definition(self, definition: RoleDefinition) -> None:
        self._access.upsert_entity(
            {
                "PartitionKey": DEFINITION,
                "RowKey": definition.id,
                "role_name": definition.role_name,
                "description": definition.description,
                "actions": json.dumps(list(definition.actions)),
                "not_actions": json.dumps(list(definition.not_actions)),
                "assignable_scopes": json.dumps(list(definition.assignable_scopes)),
            },
            mode=UpdateMode.REPLACE,
        )

    def delete_definition(self, role_id: str) -> None:
        try:
            self._access.delete_entity(DEFINITION, role_id)
        except ResourceNotFoundError:
            return

    # -- role assignments --------------------------------------------------------------------------

    def list_assignments(self) -> list[RoleAssignment]:
        rows = self._access.query_entities("PartitionKey eq @p", parameters={"p": ASSIGNMENT})
        return [_assignment(row) for row in rows]

    def data_plane_operations(self, assignment_id: str) -> dict[str, str]:
        try:
            row = self._access.get_entity(ASSIGNMENT, assignment_id, select=["data_plane"])
        except ResourceNotFoundError:
            return {}
        return dict(json.loads(row.get("data_plane") or "{}"))

    def save_assignment(self, assignment: RoleAssignment, data_plane: dict[str, str]) -> None:
        self._access.upsert_entity(
            {
                "PartitionKey": ASSIGNMENT,
                "RowKey": assignment.id,
                "scope": assignment.scope,
                "principal_id": assignment.principal_id,
                "principal_type": assignment.principal_type,
                "role_definition_id": assignment.role_definition_id,
                "created_by": _principal_json(assignment.created_by),
                "created_at": assignment.created_at or datetime.now(UTC),
                "data_plane": json.dumps(data_plane),
            },
            mode=UpdateMode.REPLACE,
        )

    def delete_assignment(self, assignment_id: str) -> None:
        try:
            self._access.delete_entity(ASSIGNMENT, assignment_id)
        except ResourceNotFoundError:
            return

    # -- the activity log --------------------------------------------------------------------------

    def record_activity(self, entry: ActivityEntry) -> None:
        micros = int(entry.time.timestamp() * 1_000_000)
        row = f"{_MAX_MICROS - micros:017d}-{uuid.uuid4().hex[:8]}"
        self._activity.create_entity(
            {
                "PartitionKey": entry.registry or CONTROL_PLANE,
                "RowKey": row,
                "time": entry.time,
                "principal": _principal_json(entry.principal),
                "action": entry.action,
                "scope": entry.scope,
                "result": entry.result,
                "operation": entry.operation or "",
                "detail": entry.detail or "",
            }
        )

    def list_activity(self, registry: str | None, since: datetime | None, limit: int) -> list[ActivityEntry]:
        clauses, parameters = [], {}
        if registry is not None:
            clauses.append("PartitionKey eq @p")
            parameters["p"] = registry or CONTROL_PLANE
        if since is not None:
            clauses.append("time ge @since")
            parameters["since"] = since  # type: ignore[assignment]
        query = " and ".join(clauses) or "PartitionKey ne ''"
        rows = self._activity.query_entities(query, parameters=parameters, results_per_page=min(limit, 1000))
        entries: list[ActivityEntry] = []
        for row in rows:
            entries.append(
                ActivityEntry(
                    time=_when(row["time"]) or datetime.now(UTC),
                    principal=principal(row.get("principal")),
                    action=str(row["action"]),
                    scope=str(row["scope"]),
                    result=str(row["result"]),
                    registry="" if row["PartitionKey"] == CONTROL_PLANE else str(row["PartitionKey"]),
                    operation=row.get("operation") or None,
                    detail=row.get("detail") or None,
                )
            )
            if len(entries) >= limit and registry is not None:
                break
        entries.sort(key=lambda e: e.time, reverse=True)
        return entries[:limit]


classified_methods(TableAccessStore)


def _definition(row: Any) -> RoleDefinition:
    return RoleDefinition(
        id=str(row["RowKey"]),
        role_name=str(row["role_name"]),
        description=str(row.get("description") or ""),
        actions=tuple(json.loads(row["actions"])),
        not_actions=tuple(json.loads(row.get("not_actions") or "[]")),
        assignable_scopes=tuple(json.loads(row.get("assignable_scopes") or '["/"]')),
    )


def _assignment(row: Any) -> RoleAssignment:
    return RoleAssignment(
        id=str(row["RowKey"]),
        scope=str(row["scope"]),
        principal_id=str(row["principal_id"]),
        principal_type=row.get("principal_type") or "User",
        role_definition_id=str(row["role_definition_id"]),
        created_by=principal(row.get("created_by")),
        created_at=_when(row.get("created_at")),
    )
