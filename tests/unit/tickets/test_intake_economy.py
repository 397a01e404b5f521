"""The intake does one store write and sends one message for a new ticket's delivery, answers a duplicate
from that write, and leaves starting the operation to the ticket queue's consumer, which starts it once
under the id the answer named."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from shared.domain.ticket_writes import TicketWrite
from tests.unit.tickets.support import TicketWorld, jira_issue


class Counting:
    """Counts the calls made on the ticket store (wrapping the world's fake)."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, Counter[str]()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return method(*args, **kwargs)

        return counted


@pytest.fixture
def tw() -> TicketWorld:
    return TicketWorld()


def _count_store(tw: TicketWorld) -> Counting:
    counting = Counting(tw.world.ticket_store)
    tw.world.container.tickets._store = counting
    return counting


def test_a_new_tickets_delivery_is_one_store_write_and_one_message(tw):
    counting = _count_store(tw)
    answer = tw.jira(jira_issue(status="Approved"), delivery="d-1")
    assert answer.status_code == 202 and answer.json()["operation"].startswith("/api/operations/ticketreg.")
    assert dict(counting.calls) == {"record_delivery": 1}  # no read: the event says the ticket is new
    assert [TicketWrite.model_validate_json(m.body).write for m in tw.world.publisher.sent] == ["start"]
    assert all(o.lane != "registry" for o in tw.world.store.operations.values())  # started by the consumer


def test_a_duplicate_is_answered_from_the_tickets_row_and_starts_nothing_twice(tw):
    first = tw.jira(jira_issue(status="Approved"), delivery="d-1")
    counting = _count_store(tw)
    again = tw.jira(jira_issue(status="Approved"), delivery="d-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert dict(counting.calls) == {"record_delivery": 1, "get_ticket": 1}  # the insert refused, then one read
    tw.run()
    registry_ops = [o for o in tw.world.store.operations.values() if o.lane == "registry"]
    assert [o.id for o in registry_ops] == [first.json()["operation"].rsplit("/", 1)[-1]]
    assert sum(t.startswith("regctl accepted") for _, t in tw.world.jira.comments) == 1


def test_a_start_delivered_again_after_it_ran_submits_nothing(tw):
    tw.jira(jira_issue(status="Approved"))
    start = next(TicketWrite.model_validate_json(m.body) for m in tw.world.publisher.sent)
    tw.run()
    before = (len(tw.world.store.operations), len(tw.world.publisher.sent))
    tw.world.container.ticket_writeback.handle(start)
    assert (len(tw.world.store.operations), len(tw.world.publisher.sent)) == before


def test_a_claim_that_moved_on_is_not_started(tw):
    tw.jira(jira_issue(status="Approved"))
    start = next(TicketWrite.model_validate_json(m.body) for m in tw.world.publisher.sent)
    tw.world.publisher.sent.clear()
    tw.world.container.ticket_writeback.handle(start.model_copy(update={"operation_id": "ticketreg." + "0" * 32}))
    assert tw.world.publisher.sent == [] and tw.world.store.registries == {}
