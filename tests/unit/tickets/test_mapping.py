"""The ticket mapping: defaults that work unedited, YAML overrides checked field by field, and where the
request sits in a ticket (ADF codeBlock, {code:yaml}, triple backticks)."""

from __future__ import annotations

import pytest

from shared.domain.errors import InvalidSpec
from shared.domain.ticket_mapping import DEFAULT_TICKET_PRINCIPAL, load_mapping
from shared.domain.ticket_payloads import jira_event
from shared.domain.tickets import Approval, yaml_block
from tests.unit.tickets.support import jira_issue

OTHER = "6a1f5e0c-2b7d-4c3e-8f9a-0d1e2f3a4b5c"


def test_the_defaults_map_a_registry_request_to_the_default_principal():
    event = jira_event(jira_issue(status="Approved"), load_mapping(None).jira)
    assert not isinstance(event, str)
    assert event.approval is Approval.APPROVED and event.principal_id == DEFAULT_TICKET_PRINCIPAL
    assert event.request is not None and event.request.action == "apply" and event.request.registry == "TicketReg"


def test_a_yaml_mapping_overrides_projects_statuses_and_principals():
    mapping = load_mapping(f"jira:\n  projects: [OPS]\n  approved: [Go]\n  project_principals: {{ops: {OTHER}}}\n").jira
    assert jira_event(jira_issue(project="REG"), mapping) == "project REG is not mapped to regctl"
    event = jira_event(jira_issue(project="OPS", status="Go"), mapping)
    assert not isinstance(event, str) and event.approval is Approval.APPROVED and event.principal_id == OTHER


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("jira:\n  principal_id: not-a-guid\n", "jira.principal_id"),
        ("servicenow:\n  tables: 3\n", "servicenow.tables"),
        ("jira:\n  approvd: [x]\n", "jira.approvd"),
    ],
)
def test_an_invalid_mapping_names_the_field(text, field):
    with pytest.raises(InvalidSpec) as caught:
        load_mapping(text)
    assert caught.value.errors[0].path == field


@pytest.mark.parametrize(
    "description",
    [
        "Please:\n{code:yaml}\nname: A\n{code}\n",
        "Please:\n```yaml\nname: A\n```\n",
        "```\nname: A\n```",
        {
            "type": "doc",
            "version": 1,
            "content": [{"type": "codeBlock", "content": [{"type": "text", "text": "name: A\n"}]}],
        },
    ],
)
def test_the_request_is_the_first_fenced_yaml_block(description):
    assert yaml_block(description).strip() == "name: A"


def test_no_block_is_no_request():
    payload = jira_issue()
    payload["issue"]["fields"]["description"] = "just words"
    assert jira_event(payload, load_mapping(None).jira) == "the description holds no YAML block"
