"""Which tickets are regctl requests, which field holds what, what "approved" is, and who a ticket acts as:
the mapping (configuration, docs/tickets.md). ``load_mapping`` reads the YAML of ``TICKET_MAPPING_FILE``;
every key has a built-in default, so an empty file (or none) is the defaults.
"""

from __future__ import annotations

import uuid
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.domain.errors import FieldError, InvalidSpec

#: The principal tickets act as unless the mapping names another: a fixed id, given roles like any other
#: principal (``regctl access grant --principal-id ... --principal-type ServicePrincipal``).
DEFAULT_TICKET_PRINCIPAL = str(uuid.uuid5(uuid.NAMESPACE_URL, "https://regctl/tickets"))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _guid(value: str) -> str:
    return str(uuid.UUID(value))


class JiraMapping(_Strict):
    principal_id: str = DEFAULT_TICKET_PRINCIPAL
    project_principals: dict[str, str] = Field(default_factory=dict)
    projects: tuple[str, ...] = ()  # none: every project
    issue_types: tuple[str, ...] = ("Registry Request",)
    registry_field: str = "customfield_10100"
    delete_label: str = "regctl-delete"
    sync_label: str = "regctl-sync"
    approved: tuple[str, ...] = ("Approved",)
    rejected: tuple[str, ...] = ("Rejected", "Canceled", "Cancelled", "Declined")
    done_status: str = "Done"
    failed_status: str = "Failed"

    _principal = field_validator("principal_id")(_guid)

    @field_validator("project_principals")
    @classmethod
    def _principals(cls, value: dict[str, str]) -> dict[str, str]:
        return {project.upper(): _guid(principal) for project, principal in value.items()}

    def principal_for(self, project: str) -> str:
        return self.project_principals.get(project.upper(), self.principal_id)


class TableMapping(_Strict):
    """A ServiceNow table (or a Standard Webhooks sender) whose records are regctl requests."""

    principal_id: str = DEFAULT_TICKET_PRINCIPAL
    tables: tuple[str, ...] = ("sc_req_item",)
    catalog_items: tuple[str, ...] = ()  # none: every catalog item
    request_variable: str = "regctl_request"
    action_variable: str = "regctl_action"
    registry_variable: str = "regctl_registry"
    approval_field: str = "approval"
    approved: tuple[str, ...] = ("approved",)
    rejected: tuple[str, ...] = ("rejected", "cancelled", "canceled")
    done_state: str = "3"  # sc_req_item: Closed Complete
    failed_state: str = "4"  # sc_req_item: Closed Incomplete

    _principal = field_validator("principal_id")(_guid)


class Mapping(_Strict):
    jira: JiraMapping = Field(default_factory=JiraMapping)
    servicenow: TableMapping = Field(default_factory=TableMapping)
    std: TableMapping = Field(default_factory=TableMapping)


def load_mapping(text: str | None) -> Mapping:
    """The mapping of a YAML document (``None`` or empty: the defaults); ``InvalidSpec`` naming each bad key."""
    if not text or not text.strip():
        return Mapping()
    try:
        document: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidSpec(f"the ticket mapping is not YAML: {exc}", code="InvalidTicketMapping") from None
    try:
        return Mapping.model_validate(document or {})
    except ValidationError as exc:
        errors = [FieldError(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise InvalidSpec("the ticket mapping is invalid", errors, code="InvalidTicketMapping") from None
