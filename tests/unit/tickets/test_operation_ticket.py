"""An operation that came from a ticket shows its ticket (``GET /api/operations/{id}``); others do not."""

from __future__ import annotations

import pytest

from shared.domain.records import OperationStatus
from tests.unit.tickets.support import TicketWorld, jira_issue

OWNER = {"Authorization": "Bearer owner-token"}


@pytest.fixture
def tw() -> TicketWorld:
    return TicketWorld()


def test_the_operation_document_shows_its_ticket(tw):
    operation = tw.jira(jira_issue(status="Approved")).json()["operation"]
    tw.run()
    document = tw.client.get(operation, headers=OWNER).json()
    assert document["status"] == OperationStatus.SUCCEEDED.value
    assert document["ticket"] == {
        "source": "jira",
        "key": "REG-1",
        "display": "REG-1",
        "url": "/api/tickets/jira/REG-1",
    }


def test_an_operation_not_from_a_ticket_has_no_ticket_field(tw):
    answer = tw.client.post(
        "/api/registries",
        content=b'{"name": "Plain", "location": "eastus", "replication_locations": [{"location": "eastus"}]}',
        headers={**OWNER, "Content-Type": "application/json"},
    )
    assert answer.status_code == 202, answer.text
    assert "ticket" not in tw.client.get(answer.headers["Location"], headers=OWNER).json()
