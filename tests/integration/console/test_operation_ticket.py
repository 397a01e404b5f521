"""The operation page of an operation a ticket requested: a Jira issue approved in the ticketing simulator
creates a registry, and its operation page names the ticket; following the link shows the ticket's status and
the operations it made (the ticket's address is the API's, read with the signed-in user's token)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.integration.console.conftest import assert_accessible, sign_in
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_provisioning import unique
from tests.integration.e2e.test_tickets import automation, jira_issue, spec, started, transition  # noqa: F401

pytestmark = pytest.mark.integration


@pytest.fixture
def ticketing(env: Env) -> Iterator[httpx.Client]:
    """The ticketing simulator's client, with no faults left over."""
    with httpx.Client(base_url=env.sandbox.info["ticketing"]["endpoint"], timeout=30) as client:
        client.delete("/_sandbox/faults")
        yield client


@pytest.mark.usefixtures("automation")
def test_the_operation_page_links_to_the_ticket_that_requested_it(
    env: Env, ticketing: httpx.Client, page: Page, console: str, shot: Any
) -> None:
    key = jira_issue(ticketing, spec(unique("ConsoleTicket")))
    transition(ticketing, key, "Approved")
    operation = env.wait(started(env, "jira", key))
    assert operation["status"] == "Succeeded", operation
    ticket = env.api.get(f"/api/operations/{operation['id']}").json()["ticket"]

    sign_in(page, console, path=f"/operations/{operation['id']}")
    expect(page.get_by_test_id("operation-status")).to_have_text("Succeeded")
    shown = page.get_by_test_id("operation-ticket")
    expect(shown).to_contain_text("Requested by jira ticket")
    link = shown.get_by_role("link", name=ticket["display"] or key)
    assert link.get_attribute("href") == ticket["url"]
    link.click()
    details = page.get_by_test_id("ticket-details")
    expect(details).to_contain_text("Started")  # the ticket started its operation (which Succeeded)
    expect(details.get_by_role("link", name=operation["id"])).to_be_visible()
    assert_accessible(page, "operation with its ticket")
    shot(page, "operation-ticket")
