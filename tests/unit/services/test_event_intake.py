"""The events handler: malformed and foreign events are dead-lettered with a reason (and never retried),
duplicates are dropped by event id, regctl's own writes are ignored."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from shared.domain.promotions import PromotionRule
from shared.domain.rule_sources import RuleSource, SourceKind
from shared.services.event_intake import Delivered, EventIntake, EventsFailed
from shared.services.rule_cache import RuleCache
from tests.unit.services.fake_promotions import FakePromotionStore
from tests.unit.services.promotion_world import OWNER, PromotionWorld


def world() -> PromotionWorld:
    return PromotionWorld({"dev": ("eastus",), "prod": ("westus",), "staging": ("westus2",)})


def available(event_id: str, name: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "eventType": "Regctl.Registries.AssetVersionAvailable",
        "subject": f"/registries/dev/models/{name}/versions/1",
        "eventTime": "2026-01-01T00:00:00Z",
        "data": {},
        "dataVersion": "1.0",
    }


def test_malformed_events_are_dead_lettered_with_the_reason_and_complete():
    w = world()
    outcome = w.container.event_intake.handle(b"{not json", "m-1")
    assert outcome.what == "dead-lettered"
    [dead] = w.container.promotions.dead_letters()
    assert dead["messageId"] == "m-1" and dead["reason"].startswith("not JSON") and dead["body"] == "{not json"


def test_foreign_event_types_are_dead_lettered_too():
    w = world()
    event = {
        "id": "f-1",
        "eventType": "Contoso.Orders.Created",
        "subject": "/orders/1",
        "eventTime": "2026-01-01T00:00:00Z",
        "data": {},
        "dataVersion": "1",
    }
    assert w.deliver_event(event).what == "dead-lettered"
    assert "foreign event type Contoso.Orders.Created" in w.container.promotions.dead_letters()[0]["reason"]


def test_an_available_event_with_another_subject_is_dead_lettered():
    w = world()
    event = {
        "id": "a-1",
        "eventType": "Regctl.Registries.AssetVersionAvailable",
        "subject": "/nope",
        "eventTime": "2026-01-01T00:00:00Z",
        "data": {},
        "dataVersion": "1.0",
    }
    assert w.deliver_event(event).what == "dead-lettered"


def test_the_same_event_twice_is_handled_once():
    w = world()
    blob = {
        "id": "b-1",
        "eventType": "Microsoft.Storage.BlobCreated",
        "topic": "/subscriptions/s/x",
        "subject": "/blobServices/default/containers/drop/blobs/a.bin",
        "eventTime": "2026-01-01T00:00:00Z",
        "data": {"api": "PutBlob"},
        "dataVersion": "",
    }
    assert [w.deliver_event(blob).what, w.deliver_event(blob).what] == ["ignored", "duplicate"]


def test_blobs_regctl_wrote_itself_are_ignored_as_its_own():
    w = world()
    for i, container in enumerate(("assets", "upload-0123")):
        blob = {
            "id": f"own-{i}",
            "eventType": "Microsoft.Storage.BlobCreated",
            "topic": "/subscriptions/s/x",
            "subject": f"/blobServices/default/containers/{container}/blobs/models/m/1/a.bin",
            "eventTime": "2026-01-01T00:00:00Z",
            "data": json.dumps({"api": "CopyBlob"}),
            "dataVersion": "",
        }
        outcome = w.deliver_event(blob)
        assert (outcome.what, outcome.detail) == ("ignored", "regctl's own write")


def test_a_duplicate_this_process_handled_costs_no_read_and_rules_are_listed_once_per_freshness_window():
    w = world()
    w.container.promotions.put_rule("r", {"source": "dev", "target": "prod", "approval": "required"}, OWNER)
    reads = {"seen": 0, "rules": 0}
    is_seen, list_rules = w.store.is_seen, w.promotion_store.list_rules

    def counting_seen(scope: str, key: str) -> bool:
        reads["seen"] += 1
        return is_seen(scope, key)

    def counting_rules() -> list[Any]:
        reads["rules"] += 1
        return list_rules()

    w.store.is_seen = counting_seen  # type: ignore[method-assign]
    w.promotion_store.list_rules = counting_rules  # type: ignore[method-assign]
    events = [available(f"e-{i}", f"m{i}") for i in range(5)]
    for event in events + events:  # each new event once, then each again
        w.deliver_event(event)
    assert reads == {"seen": 5, "rules": 1}  # the five new ones read the record; the rules were read once
    assert [o.what for o in w.outcomes] == ["handled"] * 5 + ["duplicate"] * 5
    assert len(w.container.promotions.list_promotions(status="PendingApproval")) == 5
    w.container.promotions.put_rule("r2", {"source": "dev", "target": "staging"}, OWNER)  # a rule saved here
    w.deliver_event(available("e-new", "m-new"))
    assert reads["rules"] == 2  # is seen by the next event


def test_the_rule_cache_reads_again_after_its_freshness_bound():
    store = FakePromotionStore()
    now = [0.0]
    cache = RuleCache(store, fresh_seconds=2.0, clock=lambda: now[0])
    assert cache.rules() == []
    store.save_rule(PromotionRule("late", RuleSource(SourceKind.REGISTRY, registry="dev"), "prod"))
    now[0] = 1.9
    assert cache.rules() == []  # saved elsewhere: not seen within the bound
    now[0] = 2.0
    assert [r.name for r in cache.rules()] == ["late"]


def test_an_event_that_made_promotions_is_recorded_by_them_and_a_fresh_process_drops_its_duplicate():
    w = world()
    w.container.promotions.put_rule("r", {"source": "dev", "target": "prod", "approval": "required"}, OWNER)
    promoting, idle = available("p-1", "fraud"), available("n-1", "other")
    idle["subject"] = "/registries/staging/models/other/versions/1"  # no rule's source: makes nothing
    assert w.deliver_event(promoting).detail == "1 promotion(s)"
    assert w.deliver_event(idle).detail == "0 promotion(s)"
    assert len(w.store.seen) == 1  # only the event that made nothing needed a Seen row
    restarted = EventIntake(w.store, w.container.promotions, w.promotion_store)  # nothing remembered
    again = restarted.handle(json.dumps(promoting).encode(), "m-again")
    assert (again.what, again.detail) == ("handled", "0 promotion(s)")  # found made: none made again
    assert len(w.container.promotions.list_promotions()) == 1
    assert len(w.store.seen) == 2  # recorded now
    assert restarted.handle(json.dumps(promoting).encode(), "m-third").what == "duplicate"


def test_a_rule_saved_through_another_instance_is_not_missed_by_an_event_no_cached_rule_takes():
    w = world()
    w.deliver_event(available("warm", "warm"))  # the cache now holds no rule
    w.promotion_store.save_rule(
        PromotionRule("elsewhere", RuleSource(SourceKind.REGISTRY, registry="dev"), "prod", created_by=OWNER)
    )  # saved by another instance: this process's cache was not told
    assert w.deliver_event(available("next", "fraud")).detail == "1 promotion(s)"


def test_a_batch_is_handled_side_by_side_and_every_event_gets_its_outcome():
    w = world()
    w.container.promotions.put_rule("r", {"source": "dev", "target": "prod", "approval": "required"}, OWNER)
    intake = EventIntake(w.store, w.container.promotions, w.promotion_store, parallel=4)
    inside, most, lock = [0], [0], threading.Lock()
    route = intake._route
    gate = threading.Barrier(4, timeout=5)

    def slow_route(event: Any) -> Any:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        gate.wait()  # passes only when four events are inside at once
        try:
            return route(event)
        finally:
            with lock:
                inside[0] -= 1

    intake._route = slow_route  # type: ignore[method-assign]
    batch = [Delivered(json.dumps(available(f"p-{i}", f"m{i}")).encode(), {}, f"p-{i}") for i in range(8)]
    outcomes = intake.handle_all(batch)
    assert [o.detail for o in outcomes] == ["1 promotion(s)"] * 8  # in the batch's order
    assert most[0] == 4
    assert len(w.container.promotions.list_promotions(status="PendingApproval")) == 8


def test_one_failed_event_fails_the_batch_after_the_others_were_handled_and_a_redelivery_drops_them():
    w = world()
    w.container.promotions.put_rule("r", {"source": "dev", "target": "prod", "approval": "required"}, OWNER)
    intake = EventIntake(w.store, w.container.promotions, w.promotion_store, parallel=2)
    route = intake._route
    broken = {"bad"}

    def flaky_route(event: Any) -> Any:
        if event.id in broken:
            raise TimeoutError("table service did not answer")
        return route(event)

    intake._route = flaky_route  # type: ignore[method-assign]
    batch = [Delivered(json.dumps(available(i, f"m-{i}")).encode(), {}, i) for i in ("a", "bad", "c")]
    with pytest.raises(EventsFailed, match="1 of 3 events failed") as failed:
        intake.handle_all(batch)
    assert isinstance(failed.value.__cause__, TimeoutError)
    assert len(w.container.promotions.list_promotions()) == 2  # the others were handled meanwhile
    broken.clear()
    outcomes = intake.handle_all(batch)  # Service Bus delivers the whole batch again
    assert [o.what for o in outcomes] == ["duplicate", "handled", "duplicate"]
    assert len(w.container.promotions.list_promotions()) == 3


def _failing_intake(w: PromotionWorld, broken: set[str]) -> EventIntake:
    intake = EventIntake(w.store, w.container.promotions, w.promotion_store, parallel=2, max_deliveries=10)
    route = intake._route

    def flaky_route(event: Any) -> Any:
        if event.id in broken:
            raise TimeoutError("https://st.blob.core.windows.net/c/b?sig=secret did not answer")
        return route(event)

    intake._route = flaky_route  # type: ignore[method-assign]
    return intake


def _delivered(event_id: str, delivery_count: int) -> Delivered:
    return Delivered(json.dumps(available(event_id, f"m-{event_id}")).encode(), {}, event_id, delivery_count)


def test_an_event_failing_on_its_last_delivery_is_dead_lettered_and_its_batch_completes():
    w = world()
    w.container.promotions.put_rule("r", {"source": "dev", "target": "prod", "approval": "required"}, OWNER)
    intake = _failing_intake(w, {"bad"})

    outcomes = intake.handle_all([_delivered("a", 10), _delivered("bad", 10), _delivered("c", 10)])

    assert [o.what for o in outcomes] == ["handled", "dead-lettered", "handled"]  # no EventsFailed: completed
    [dead] = w.container.promotions.dead_letters()
    assert dead["messageId"] == "bad"
    assert dead["reason"] == "MaxDeliveryCountExceeded: delivery 10 of at most 10 failed (TimeoutError)"
    assert "sig=" not in dead["reason"]  # an error's text is never kept: it may hold a SAS token
    assert len(w.container.promotions.list_promotions()) == 2


@pytest.mark.parametrize(
    ("batch", "why"),
    [
        ([("a", 10), ("bad", 9)], "the failed event has a delivery left"),
        ([("bad", 10), ("worse", 3)], "one failed event has deliveries left: Service Bus dead-letters the other"),
    ],
)
def test_a_batch_with_a_failed_event_that_has_deliveries_left_fails_and_nothing_is_dead_lettered_here(
    batch: list[tuple[str, int]], why: str
):
    w = world()
    w.container.promotions.put_rule("r", {"source": "dev", "target": "prod", "approval": "required"}, OWNER)
    intake = _failing_intake(w, {"bad", "worse"})

    with pytest.raises(EventsFailed):
        intake.handle_all([_delivered(event_id, count) for event_id, count in batch])
    assert w.container.promotions.dead_letters() == [], why
