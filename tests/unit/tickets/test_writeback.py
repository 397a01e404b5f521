"""Write-back rides its own queue: a ticket system that is down or throttles delays the writes (backoff, at
least Retry-After) and never the operation; every write lands once, however often it is delivered."""

from __future__ import annotations

from datetime import timedelta

from shared.domain.messages import decode_message
from shared.domain.records import OperationStatus, StepRecord, StepState, utcnow
from shared.domain.ticket_writes import TicketWrite, region_progress
from tests.unit.tickets.support import TicketWorld, jira_issue


def test_the_ticket_api_down_for_the_whole_operation_gets_every_write_once_after_it_returns():
    tw = TicketWorld()
    tw.world.jira.down, tw.world.jira.retry_after = True, 30.0
    operation_id = tw.jira(jira_issue(status="Approved")).json()["operation"].rsplit("/", 1)[-1]
    delays: list[float] = []
    queue = tw.world.container.settings.ticket_writeback_queue
    tw.run_starts()  # the operation starts from the ticket queue, the ticket system not needed
    for _ in range(3000):  # run the operation to its end with the ticket system down
        message = next((m for m in tw.world.publisher.sent if m.queue != queue), None)
        if message is None and not tw.world.publisher.events:
            break
        if message is not None:
            tw.world.publisher.sent.remove(message)
            tw.world.deliver(decode_message(message.body))
        else:
            tw.run_event()
        retries = [m for m in tw.world.publisher.sent if m.queue == queue]
        for retry in retries:  # one failing attempt of each pending write
            tw.world.publisher.sent.remove(retry)
            write = TicketWrite.model_validate_json(retry.body)
            tw.world.container.ticket_writeback.handle(write)
            delays += [
                m.delay_seconds
                for m in tw.world.publisher.sent
                if m.queue == queue and TicketWrite.model_validate_json(m.body).attempt == write.attempt + 1
            ]
    assert tw.world.store.operations[operation_id].status is OperationStatus.SUCCEEDED  # never blocked by write-back
    assert tw.world.jira.comments == [] and tw.world.jira.finished == []
    assert delays and min(delays) >= 30.0  # Retry-After honoured
    tw.world.jira.down = False
    tw.run()
    texts = [text for _, text in tw.world.jira.comments]
    assert sum(t.startswith("regctl accepted") for t in texts) == 1
    assert sum(t == f"regctl operation {operation_id} Succeeded." for t in texts) == 1
    assert tw.world.jira.finished == [("REG-1", True)]


def test_a_redelivered_write_posts_nothing_twice():
    tw = TicketWorld()
    tw.jira(jira_issue(status="Approved"))
    tw.run_starts()
    accepted = next(w for w in tw.writes_queued() if w.write == "accepted")
    tw.run()
    before = list(tw.world.jira.comments)
    tw.world.container.ticket_writeback.handle(accepted)
    tw.world.container.ticket_writeback.handle(accepted.model_copy(update={"attempt": 3}))
    assert tw.world.jira.comments == before


def test_progress_is_commented_at_most_once_a_minute_per_ticket():
    tw = TicketWorld()
    operation_id = tw.jira(jira_issue(status="Approved")).json()["operation"].rsplit("/", 1)[-1]
    tw.run_starts()  # the operation starts from the ticket queue
    writeback = tw.world.container.ticket_writeback
    record = tw.world.ticket_store.tickets[("jira", "REG-1")]
    record.reported_regions, record.progress_at = ["eastus"], utcnow() - timedelta(seconds=10)
    operation = tw.world.store.operations[operation_id]
    for region in ("eastus", "westus"):
        step = StepRecord(
            registry="ticketreg",
            key=f"ensure_storage:{region}:0",
            operation_id=operation_id,
            kind="storage",
            region=region,
            state=StepState.SUCCEEDED,
        )
        tw.world.store.save_step(step)
    base = {"source": "jira", "key": "REG-1", "display": "REG-1", "operation_id": operation_id}
    assert not operation.status.terminal
    writeback.handle(TicketWrite(**base, write="progress", round=1))
    assert not any("regions done" in t for _, t in tw.world.jira.comments)  # the last one is 10 s old
    tw.world.ticket_store.tickets[("jira", "REG-1")].progress_at = utcnow() - timedelta(seconds=61)
    writeback.handle(TicketWrite(**base, write="progress", round=2))
    progress = [t for _, t in tw.world.jira.comments if "regions done" in t]
    assert progress == [f"regctl operation {operation_id}: 2/2 regions done (eastus, westus)."]
    rounds = [w.round for w in tw.writes_queued() if w.write == "progress"]
    assert 3 in rounds  # checked again while the operation runs


def test_a_region_is_done_when_every_step_in_it_succeeded():
    steps = [
        StepRecord("r", "ensure_storage:eastus:0", "op", "storage", "eastus", state=StepState.SUCCEEDED),
        StepRecord("r", "ensure_acr:eastus:0", "op", "acr", "eastus", state=StepState.SUCCEEDED),
        StepRecord("r", "ensure_storage:westus:0", "op", "storage", "westus", state=StepState.SUCCEEDED),
        StepRecord("r", "ensure_replica:westus:0", "op", "replica", "westus", state=StepState.RUNNING),
    ]
    assert region_progress(steps) == (["eastus"], ["eastus", "westus"])
