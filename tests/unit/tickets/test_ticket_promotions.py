"""A ticket's ``{action: promote}``: an explicit promotion as the ticket's principal, followed to its end; or,
when the ticket names a promotion waiting for approval (or one matches it), the ticket's approval approves it."""

from __future__ import annotations

from typing import Any

import pytest

from shared.domain.asset_records import AssetStatus
from shared.domain.promotions import PromotionStatus
from shared.domain.ticket_mapping import DEFAULT_TICKET_PRINCIPAL
from tests.unit.services.promotion_world import OWNER, PromotionWorld
from tests.unit.tickets.support import TicketWorld, jira_issue

SOURCE = "azureml://registries/dev/models/fraud/versions/1"


@pytest.fixture
def tw() -> TicketWorld:
    world = PromotionWorld({"dev": ("eastus", "eastus2"), "prod": ("westus", "centralus")})
    world.register("dev")
    world.pump()
    return TicketWorld(world=world)


def promotion_world(tw: TicketWorld) -> PromotionWorld:
    assert isinstance(tw.world, PromotionWorld)
    return tw.world


def promote_yaml(**extra: str) -> str:
    lines = ["action: promote", f"source: {SOURCE}", "target: prod", *(f"{k}: {v}" for k, v in extra.items())]
    return "\n".join(lines) + "\n"


def pending_rule(tw: TicketWorld) -> str:
    """A rule needing approval, and the promotion the dev version's announcement made under it (re-announced:
    the rule came after the version)."""
    world = promotion_world(tw)
    document = {"source": {"registry": "dev"}, "target": {"registry": "prod"}, "approval": "required"}
    world.container.promotions.put_rule("gated", document, OWNER)
    world.deliver_event(dict(world.grid.events[0], id="announced-again"))
    [pending] = world.container.promotions.list_promotions(rule="gated")
    assert pending.status is PromotionStatus.PENDING_APPROVAL
    return pending.id


def prod_version(tw: TicketWorld) -> Any:
    return promotion_world(tw).asset_store.get("prod", "models:fraud:1")


def test_an_approved_promote_ticket_promotes_as_its_principal_and_the_ticket_follows_the_copy(tw):
    answer = tw.jira(jira_issue(status="Approved", yaml_text=promote_yaml()))
    assert answer.status_code == 202 and answer.json()["operation"].startswith("/api/operations/"), answer.text
    tw.run()
    version = prod_version(tw)
    assert version.status is AssetStatus.AVAILABLE
    assert version.properties["promotedFrom"] == SOURCE and version.properties["promotionRule"] == "explicit"
    [promotion] = promotion_world(tw).container.promotions.list_promotions()
    assert promotion.status is PromotionStatus.SUCCEEDED
    assert promotion.requested_by is not None and promotion.requested_by.name == "ticket jira REG-1"
    assert ("REG-1", True) in tw.world.jira.finished
    assert promotion_world(tw).copies("prod", "centralus") == promotion_world(tw).copies("dev", "eastus")


def test_a_promote_ticket_delivered_again_makes_one_promotion(tw):
    first = tw.jira(jira_issue(status="Approved", yaml_text=promote_yaml()), delivery="d-1")
    again = tw.jira(jira_issue(status="Approved", yaml_text=promote_yaml()), delivery="d-1")
    later = tw.jira(jira_issue(status="Approved", yaml_text=promote_yaml(), event="jira:issue_updated"))
    tw.run()
    assert again.json() == first.json() and "has started already" in later.json()["ignored"]
    assert len(promotion_world(tw).container.promotions.list_promotions()) == 1
    assert promotion_world(tw).versions("prod") == ["models:fraud:1"]


def test_a_ticket_naming_a_pending_promotion_approves_it_once_approved_itself(tw):
    pending = pending_rule(tw)
    waiting = tw.jira(jira_issue(status="To Do", yaml_text=promote_yaml(promotion=pending)))
    assert "pending" in waiting.json()
    assert promotion_world(tw).container.promotions.get(pending).status is PromotionStatus.PENDING_APPROVAL

    approved = tw.jira(
        jira_issue(status="Approved", yaml_text=promote_yaml(promotion=pending), event="jira:issue_updated")
    )
    assert "operation" in approved.json(), approved.text
    tw.run()
    [promotion] = promotion_world(tw).container.promotions.list_promotions()  # approved, not a second one
    assert promotion.id == pending and promotion.status is PromotionStatus.SUCCEEDED
    assert promotion.decided_by is not None and promotion.decided_by.name == "ticket jira REG-1"
    assert prod_version(tw).properties["promotionRule"] == "gated"
    assert ("REG-1", True) in tw.world.jira.finished


def test_a_ticket_asking_for_what_a_pending_promotion_does_approves_that_promotion(tw):
    pending = pending_rule(tw)
    tw.jira(jira_issue(status="Approved", yaml_text=promote_yaml()))
    tw.run()
    [promotion] = promotion_world(tw).container.promotions.list_promotions()
    assert promotion.id == pending and promotion.status is PromotionStatus.SUCCEEDED


def test_a_ticket_naming_a_promotion_of_something_else_is_refused_and_approves_nothing(tw):
    pending = pending_rule(tw)
    other = promote_yaml(promotion=pending, version="2")
    answer = tw.jira(jira_issue(status="Approved", yaml_text=other))
    assert answer.json()["refused"].startswith("PromotionMismatch"), answer.text
    assert promotion_world(tw).container.promotions.get(pending).status is PromotionStatus.PENDING_APPROVAL
    assert promotion_world(tw).versions("prod") == []


def test_a_ticket_whose_principal_may_not_write_the_target_is_refused(tw):
    world = promotion_world(tw)
    [owner] = world.access.list_assignments("/", DEFAULT_TICKET_PRINCIPAL)
    world.access.delete_assignment(owner.assignment.id, OWNER)
    reader = TicketWorld(role="Reader", world=world)  # the same world, the ticket principal a Reader
    answer = reader.jira(jira_issue(status="Approved", yaml_text=promote_yaml()))
    assert answer.json()["refused"].startswith("AuthorizationFailed"), answer.text
    assert world.container.promotions.list_promotions() == [] and world.versions("prod") == []


def test_a_ticket_promoting_a_version_that_does_not_exist_is_refused_with_the_reason(tw):
    missing = promote_yaml().replace("versions/1", "versions/9")
    answer = tw.jira(jira_issue(status="Approved", yaml_text=missing))
    assert answer.json()["refused"].startswith("SourceNotFound"), answer.text
    assert promotion_world(tw).versions("prod") == []
