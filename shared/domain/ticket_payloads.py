"""Webhook payloads as ``TicketEvent``s (pure): a Jira Cloud ``jira:issue_*`` event, and a ServiceNow record
as a Business Rule script sends it (also the shape of ``/api/hooks/std``). A payload that is not a regctl
request gives a reason string (answered 202 ``{"ignored": reason}``); one that is not the source's shape
raises ``MalformedPayload`` (400)."""

from __future__ import annotations

import re
from typing import Any

from shared.domain.errors import FieldError, InvalidSpec
from shared.domain.ticket_mapping import JiraMapping, TableMapping
from shared.domain.tickets import (
    Approval,
    MalformedPayload,
    TicketEvent,
    TicketRef,
    TicketRequest,
    parse_request,
    problem_text,
    request_from_yaml,
    yaml_block,
)

JIRA_EVENTS = ("jira:issue_created", "jira:issue_updated")
_KEY = re.compile(r"[A-Za-z0-9._:-]{1,100}\Z")


def _key(value: object, what: str) -> str:
    if not isinstance(value, str) or not _KEY.match(value):
        raise MalformedPayload(f"{what} is missing or not 1-100 letters, digits, '.', '_', ':' or '-'")
    return value


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} must be a JSON object")
    return value


def _name(value: object) -> str:
    """A Jira ``{"name": ...}`` field, or a ServiceNow reference's display value, or a plain string."""
    if isinstance(value, dict):
        for key in ("name", "display_value", "value", "key"):
            if isinstance(value.get(key), str):
                return str(value[key])
        return ""
    return str(value) if isinstance(value, str | int | float) else ""


def _approval(status: str, approved: tuple[str, ...], rejected: tuple[str, ...]) -> Approval:
    lowered = status.strip().lower()
    if lowered in (a.lower() for a in approved):
        return Approval.APPROVED
    if lowered in (r.lower() for r in rejected):
        return Approval.REJECTED
    return Approval.WAITING


def _event(
    ref: TicketRef,
    approval: Approval,
    principal: str,
    order: float,
    *,
    text: str | None,
    label_action: str | None = None,
    registry: str = "",
    created: bool = False,
) -> TicketEvent:
    """The event of a ticket whose request is ``text`` (YAML) or a label/variable action on ``registry``."""
    try:
        request: TicketRequest | None = None
        if text is not None:
            request = request_from_yaml(text)
        elif label_action is not None:
            if not registry:
                raise InvalidSpec(f"a {label_action} request names its registry", [FieldError("registry", "required")])
            request = parse_request({"action": label_action, "registry": registry})
    except InvalidSpec as exc:
        return TicketEvent(ref, approval, principal, None, problem_text(exc), order, created)
    return TicketEvent(ref, approval, principal, request, None, order, created)


def jira_event(payload: object, mapping: JiraMapping) -> TicketEvent | str:
    body = _object(payload, "the payload")
    kind = body.get("webhookEvent")
    if not isinstance(kind, str):
        raise MalformedPayload("webhookEvent is missing")
    if kind not in JIRA_EVENTS:
        return f"{kind[:60]} is not an issue event regctl handles"
    issue = _object(body.get("issue"), "issue")
    key = _key(issue.get("key"), "issue.key")
    fields = _object(issue.get("fields"), "issue.fields")
    project = _name(fields.get("project"))
    if mapping.projects and project.upper() not in (p.upper() for p in mapping.projects):
        return f"project {project[:40]} is not mapped to regctl"
    labels = [str(label) for label in fields.get("labels") or [] if isinstance(label, str)]
    by_label = (("delete", mapping.delete_label), ("sync", mapping.sync_label))
    label_action = next((action for action, label in by_label if label in labels), None)
    issue_type = _name(fields.get("issuetype"))
    if issue_type not in mapping.issue_types and label_action is None:
        return f"issue type {issue_type[:40]} is not a regctl request"
    text = yaml_block(fields.get("description")) if label_action is None else None
    if label_action is None and text is None:
        return "the description holds no YAML block"
    approval = _approval(_name(fields.get("status")), mapping.approved, mapping.rejected)
    timestamp = body.get("timestamp")
    order = float(timestamp) if isinstance(timestamp, int | float) and not isinstance(timestamp, bool) else 0.0
    registry = _name(fields.get(mapping.registry_field)).strip()
    ref = TicketRef("jira", key, key)
    principal = mapping.principal_for(project)
    created = kind == "jira:issue_created"
    action = label_action
    return _event(ref, approval, principal, order, text=text, label_action=action, registry=registry, created=created)


def table_event(payload: object, mapping: TableMapping, source: str) -> TicketEvent | str:
    body = _object(payload, "the payload")
    sys_id = _key(body.get("sys_id"), "sys_id")
    table = _name(body.get("table") or body.get("sys_class_name"))
    if table not in mapping.tables:
        return f"table {table[:40]} is not mapped to regctl"
    item = _name(body.get("cat_item"))
    if mapping.catalog_items and item not in mapping.catalog_items:
        return f"catalog item {item[:40]} is not mapped to regctl"
    variables = body.get("variables") or {}
    if not isinstance(variables, dict):
        raise MalformedPayload("variables must be a JSON object")
    text = variables.get(mapping.request_variable)
    action = _name(variables.get(mapping.action_variable)).strip().lower() or None
    if not (isinstance(text, str) and text.strip()) and action not in ("delete", "sync"):
        return "the record holds no regctl request"
    approval = _approval(_name(body.get(mapping.approval_field)), mapping.approved, mapping.rejected)
    count = body.get("sys_mod_count")
    order = float(count) if isinstance(count, str | int) and str(count).isdigit() else 0.0
    ref = TicketRef(source, sys_id, _name(body.get("number")) or sys_id, table)
    registry = _name(variables.get(mapping.registry_variable)).strip()
    created = str(count) == "0"  # the Business Rule's insert
    if isinstance(text, str) and text.strip():
        return _event(ref, approval, mapping.principal_id, order, text=text, created=created)
    principal = mapping.principal_id
    return _event(ref, approval, principal, order, text=None, label_action=action, registry=registry, created=created)
