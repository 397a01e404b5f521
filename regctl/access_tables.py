"""Tables for people (``-o table``) of access control: role assignments, role definitions and the activity
log. Built from the API's ARM-shaped documents, as ``regctl.tables`` does (missing or odd fields show as
``-``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import RenderableType
from rich.text import Text

from regctl.tables import NONE, as_items, as_mapping, field_lines, grid, styled, text


def properties(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """An ARM-shaped document's ``properties``."""
    return as_mapping(doc.get("properties"))


def principal_text(value: object) -> str:
    """A principal as ``{"id", "name", "type"}``: its name, else its id."""
    principal = as_mapping(value)
    return text(principal.get("name") or principal.get("id"))


def data_plane(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    return as_mapping(properties(doc).get("dataPlane"))


ASSIGNMENT_COLUMNS = ("Id", "Scope", "Principal", "Type", "Role", "Data plane")


def assignment_list(documents: Sequence[Mapping[str, Any]]) -> RenderableType:
    if not documents:
        return Text("No role assignments.")
    rows = (
        (
            doc.get("name"),
            properties(doc).get("scope"),
            properties(doc).get("principalId"),
            properties(doc).get("principalType"),
            properties(doc).get("roleName") or properties(doc).get("roleDefinitionId"),
            styled(data_plane(doc).get("state")),
        )
        for doc in documents
    )
    return grid(ASSIGNMENT_COLUMNS, rows)


def assignment_view(doc: Mapping[str, Any]) -> RenderableType:
    props = properties(doc)
    plane = data_plane(doc)
    rows: list[tuple[str, object]] = [
        ("Id", doc.get("name")),
        ("Scope", props.get("scope")),
        ("Principal", props.get("principalId")),
        ("Principal type", props.get("principalType")),
        ("Role", props.get("roleName")),
        ("Role definition", props.get("roleDefinitionId")),
        ("Created by", principal_text(props.get("createdBy"))),
        ("Created on", props.get("createdOn")),
        ("Data plane", styled(plane.get("state"))),
        ("Operation", plane.get("operation")),
    ]
    operation = plane.get("operation")
    if plane.get("state") == "Pending" and isinstance(operation, str) and operation:
        rows.append(("Follow with", f"regctl operation show {operation.rstrip('/').rsplit('/', 1)[-1]} --wait"))
    return field_lines(rows)


def _strings(value: object) -> list[str]:
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _permissions(doc: Mapping[str, Any], key: str) -> list[str]:
    """``actions`` or ``notActions`` of every entry of ``properties.permissions``."""
    return [v for permission in as_items(properties(doc).get("permissions")) for v in _strings(permission.get(key))]


def _lines(values: list[str]) -> str:
    return "\n".join(values) or NONE


ROLE_COLUMNS = ("Name", "Type", "Id", "Actions", "Not actions", "Scopes")


def role_list(documents: Sequence[Mapping[str, Any]]) -> RenderableType:
    if not documents:
        return Text("No role definitions.")
    rows = (
        (
            properties(doc).get("roleName"),
            properties(doc).get("type"),
            doc.get("name"),
            _lines(_permissions(doc, "actions")),
            _lines(_permissions(doc, "notActions")),
            _lines(_strings(properties(doc).get("assignableScopes"))),
        )
        for doc in documents
    )
    return grid(ROLE_COLUMNS, rows)


def role_view(doc: Mapping[str, Any]) -> RenderableType:
    props = properties(doc)
    return field_lines(
        [
            ("Name", props.get("roleName")),
            ("Id", doc.get("name")),
            ("Type", props.get("type")),
            ("Description", props.get("description")),
            ("Actions", ", ".join(_permissions(doc, "actions")) or NONE),
            ("Not actions", ", ".join(_permissions(doc, "notActions")) or NONE),
            ("Assignable scopes", ", ".join(_strings(props.get("assignableScopes"))) or NONE),
        ]
    )


ACTIVITY_COLUMNS = ("Time", "Principal", "Action", "Scope", "Result", "Operation")


def activity_list(entries: Sequence[Mapping[str, Any]]) -> RenderableType:
    if not entries:
        return Text("No activity.")
    rows = (
        (
            entry.get("time"),
            principal_text(entry.get("principal")),
            entry.get("action"),
            entry.get("scope"),
            styled(entry.get("result")),
            text(entry.get("operation")).rstrip("/").rsplit("/", 1)[-1],  # the id `operation show` takes
        )
        for entry in entries
    )
    return grid(ACTIVITY_COLUMNS, rows)
