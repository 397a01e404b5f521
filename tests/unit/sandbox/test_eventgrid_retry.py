"""Event Grid retries and dead-lettering in the stand-in: the documented schedule and policy as pure rules,
the scheduler on a fake clock, the ``fail`` fault rule, ``deadLetterDestination`` on the simulator, and
the stand-in in-process retrying through a failing send and dropping what it cannot dead-letter."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sandbox.arm.envelope import ArmError
from sandbox.arm.eventgrid_properties import subscription_properties
from sandbox.arm.faults import FaultConfigError, parse_rules
from sandbox.eventgrid.retry import (
    DEAD_LETTER_DELAY,
    DeadLetterTarget,
    Policy,
    dead_letter_blob,
    dead_lettered,
    outcome_of,
    retry_delay,
)
from sandbox.eventgrid.schedule import DeadLetter, Delivery, Scheduler, Send
from shared.ports import OutboundMessage
from tests.unit.sandbox.eventgrid_world import SUB, World, committed, destination

STORE = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/deadletters"
TARGET = DeadLetterTarget(STORE, "undelivered")


# The rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failed_attempts", "seconds"),
    [
        *[(1, 10), (2, 30), (3, 60), (4, 300), (5, 600), (6, 1800), (7, 3600), (8, 3 * 3600), (9, 6 * 3600)],
        *[(10, 12 * 3600), (11, 12 * 3600), (29, 12 * 3600)],  # then every 12 hours
    ],
)
def test_the_wait_after_each_failed_attempt_is_event_grids_schedule(failed_attempts: int, seconds: float) -> None:
    assert retry_delay(failed_attempts) == seconds


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (ConnectionRefusedError(), "SocketError"),
        (type("NotThere", (Exception,), {"status_code": 404})(), "NotFound"),
        (type("Boom", (Exception,), {"status_code": 500})(), "Busy"),
        (type("Forbidden", (Exception,), {"status_code": 403})(), "Forbidden"),
    ],
)
def test_a_failed_sends_outcome_is_read_from_the_status_it_or_its_cause_carries(error: Exception, outcome: str) -> None:
    wrapped = RuntimeError("the queue is unavailable")
    wrapped.__cause__ = error
    assert outcome_of(error) == outcome and outcome_of(wrapped) == outcome


def test_the_dead_letter_blob_is_named_by_the_subscription_in_upper_case_and_the_unpadded_utc_hour() -> None:
    when = datetime(2019, 8, 8, 5, 59, tzinfo=UTC)
    assert dead_letter_blob("My-Blob-Subscription", when, "1111") == "MY-BLOB-SUBSCRIPTION/2019/8/8/5/1111.json"


def test_a_dead_lettered_event_is_the_event_plus_why_in_its_schemas_casing() -> None:
    event = {"id": "e1", "eventType": "Microsoft.Storage.BlobCreated", "data": {"api": "PutBlob"}}
    times = {"publish_time": "2026-01-01T00:00:00.0000000Z", "last_attempt_time": "2026-01-01T00:01:00.0000000Z"}
    grid = dead_lettered(event, cloud_events=False, reason="R", attempts=3, outcome="Busy", **times)
    assert grid == {
        **event,
        "deadLetterReason": "R",
        "deliveryAttempts": 3,
        "lastDeliveryOutcome": "Busy",
        "publishTime": times["publish_time"],
        "lastDeliveryAttemptTime": times["last_attempt_time"],
    }
    cloud = dead_lettered({"id": "e1"}, cloud_events=True, reason="R", attempts=1, outcome="NotFound", **times)
    assert cloud == {
        "id": "e1",
        "deadletterreason": "R",
        "deliveryattempts": 1,
        "lastdeliveryoutcome": "NotFound",
        "publishtime": times["publish_time"],
    }


def test_the_policy_comes_from_the_subscriptions_retry_policy_and_dead_letter_destination() -> None:
    props = subscription_properties(
        {
            "destination": destination("q"),
            "retryPolicy": {"maxDeliveryAttempts": 3, "eventTimeToLiveInMinutes": 5},
            "deadLetterDestination": {
                "endpointType": "StorageBlob",
                "properties": {"resourceId": STORE, "blobContainerName": "undelivered"},
            },
            "eventDeliverySchema": "CloudEventSchemaV1_0",
        }
    )
    assert Policy.of("sub", props, 0.5) == Policy("sub", 3, 5, TARGET, cloud_events=True, time_scale=0.5)
    assert Policy.of("sub", subscription_properties({"destination": destination("q")}), 1.0) == Policy("sub")


# The scheduler on a fake clock -------------------------------------------------------------------------


class Clocked:
    """A scheduler, one delivery published at 0.0, and helpers to fail sends and read what is released."""

    def __init__(self, policy: Policy) -> None:
        self.epoch = 0
        self.scheduler = Scheduler(list, lambda: self.epoch)
        count: dict[str, str | int] = {"aeg-delivery-count": 0}
        made = OutboundMessage(queue="q", message_id="event-1", body='{"id": "event-1"}', application_properties=count)
        self.delivery = Delivery(made, None, 0, policy, published=0.0, publish_time="t0")

    def first(self) -> Send:
        [send] = self.scheduler.admit(self.delivery, now=0.0)
        return send

    def fail(self, send: Send, now: float, outcome: str = "Busy") -> None:
        self.scheduler.failed(send, outcome, now, f"at {now}")

    def due(self, now: float) -> list[Send | DeadLetter]:
        return self.scheduler.due(now)


def test_a_failed_send_is_retried_after_each_scaled_wait_with_its_id_and_a_growing_delivery_count() -> None:
    clocked = Clocked(Policy("sub", max_attempts=3, dead_letter=TARGET, time_scale=0.5))
    send = clocked.first()
    assert send.attempt == 1 and send.message.application_properties["aeg-delivery-count"] == 0

    clocked.fail(send, now=1.0)
    assert clocked.scheduler.next_wake() == 6.0 and clocked.due(5.9) == []
    [second] = clocked.due(6.0)
    assert isinstance(second, Send) and second.attempt == 2
    assert second.message.message_id == "event-1" and second.message.body == send.message.body
    assert second.message.application_properties["aeg-delivery-count"] == 1
    assert (second.last_outcome, second.last_attempt_time) == ("Busy", "at 1.0")

    clocked.fail(second, now=6.0, outcome="NotFound")
    [third] = clocked.due(21.0)  # 30 s at scale 0.5
    assert isinstance(third, Send) and third.message.application_properties["aeg-delivery-count"] == 2


def test_used_up_attempts_become_a_dead_letter_after_the_scaled_dead_letter_delay() -> None:
    clocked = Clocked(Policy("sub", max_attempts=2, dead_letter=TARGET, time_scale=0.5))
    clocked.fail(clocked.first(), now=0.0)
    [second] = clocked.due(5.0)
    assert isinstance(second, Send)
    clocked.fail(second, now=5.0, outcome="NotFound")

    ready = 5.0 + DEAD_LETTER_DELAY * 0.5
    assert clocked.scheduler.next_wake() == ready and clocked.due(ready - 0.1) == []
    [record] = clocked.due(ready)
    assert record == DeadLetter(clocked.delivery, "MaxDeliveryAttemptsExceeded", 2, "NotFound", "at 5.0")
    assert clocked.scheduler.next_wake() is None


def test_without_a_dead_letter_destination_the_exhausted_delivery_is_released_at_once_to_be_dropped() -> None:
    clocked = Clocked(Policy("sub", max_attempts=1))
    clocked.fail(clocked.first(), now=3.0)
    assert clocked.scheduler.next_wake() == 3.0
    [record] = clocked.due(3.0)
    assert isinstance(record, DeadLetter) and record.reason == "MaxDeliveryAttemptsExceeded" and record.attempts == 1


@pytest.mark.parametrize("outcome", ["BadRequest", "Forbidden", "PayloadTooLarge"])
def test_a_failure_event_grid_does_not_retry_ends_the_delivery_after_that_one_attempt(outcome: str) -> None:
    clocked = Clocked(Policy("sub", max_attempts=30, dead_letter=TARGET, time_scale=0.5))
    clocked.fail(clocked.first(), now=2.0, outcome=outcome)

    ready = 2.0 + DEAD_LETTER_DELAY * 0.5
    assert clocked.scheduler.next_wake() == ready  # no retry is held before the dead-letter
    [record] = clocked.due(ready)
    assert record == DeadLetter(clocked.delivery, "MaxDeliveryAttemptsExceeded", 1, outcome, "at 2.0")


@pytest.mark.parametrize("outcome", ["Busy", "NotFound", "Unauthorized", "TimedOut", "SocketError"])
def test_other_failures_are_retried(outcome: str) -> None:
    clocked = Clocked(Policy("sub", max_attempts=30, time_scale=1.0))
    clocked.fail(clocked.first(), now=0.0, outcome=outcome)
    [retry] = clocked.due(10.0)
    assert isinstance(retry, Send) and retry.attempt == 2 and retry.last_outcome == outcome


def test_the_time_to_live_is_checked_at_the_next_attempt_as_in_the_docs_example() -> None:
    # "30 minutes as time-to-live and 10 max delivery attempts ... max 6 delivery attempts happen"
    clocked = Clocked(Policy("sub", max_attempts=10, ttl_minutes=30))
    attempts, now = [], 0.0
    released: list[Send | DeadLetter] = [clocked.first()]
    while isinstance(released[0], Send):
        attempts.append(now)
        clocked.fail(released[0], now)
        now = clocked.scheduler.next_wake() or 0.0
        released = clocked.due(now)
    assert attempts == [0.0, 10.0, 40.0, 100.0, 400.0, 1000.0]
    [record] = released
    assert isinstance(record, DeadLetter) and record.reason == "TimeToLiveExceeded"
    assert record.attempts == 6 and record.last_attempt_time == "at 1000.0"


def test_a_reset_drops_held_retries_and_dead_letters_and_copies_are_never_retried() -> None:
    clocked = Clocked(Policy("sub", max_attempts=1, dead_letter=TARGET))
    first = clocked.first()
    clocked.fail(first, now=0.0)
    assert clocked.scheduler.next_wake() == DEAD_LETTER_DELAY
    clocked.epoch = 1
    assert clocked.due(DEAD_LETTER_DELAY) == [] and clocked.scheduler.next_wake() is None
    clocked.fail(first, now=1.0)  # a send of before the reset failing late
    assert clocked.scheduler.next_wake() is None

    copy = Send(first.message, Delivery(first.message, None, 1, Policy("sub")), attempt=0)
    clocked.fail(copy, now=2.0)
    assert clocked.scheduler.next_wake() is None


# The ``fail`` fault rule ----------------------------------------------------------------------------


def test_a_fail_rule_is_an_eventgrid_rule_of_its_own() -> None:
    [rule], _ = parse_rules({"rules": [{"service": "eventgrid", "fail": 2, "count": 1}]})
    assert rule.fail == 2 and rule.as_json()["fail"] == 2 and rule.as_json()["count"] == 1
    assert rule.status is None and rule.as_json()["status"] is None


def test_a_fail_rule_may_name_the_status_its_failed_sends_answer() -> None:
    [rule], _ = parse_rules({"rules": [{"service": "eventgrid", "fail": 1, "status": 403}]})
    assert rule.status == 403 and rule.as_json()["status"] == 403


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"service": "eventgrid", "fail": 0}, r"rules\[0\]\.fail must be an integer in \[1, 30\]"),
        ({"service": "eventgrid", "fail": 31}, r"\.fail must be an integer in \[1, 30\]"),
        ({"service": "eventgrid", "fail": "2"}, r"\.fail must be"),
        ({"service": "eventgrid", "fail": True}, r"\.fail must be"),
        ({"service": "eventgrid", "fail": 1.5}, r"\.fail must be"),
        ({"status": 500, "fail": 1}, r"\['fail'\] apply to 'service': 'eventgrid' rules only"),
        ({"service": "blob", "status": 500, "fail": 1}, "apply to 'service': 'eventgrid' rules only"),
        ({"service": "eventgrid", "duplicate": 1, "status": 403}, r"rules\[0\]: 'status' on an eventgrid rule is"),
        ({"service": "eventgrid", "fail": 1, "status": 0}, r"rules\[0\]\.status must be an HTTP status 400-599"),
        ({"service": "eventgrid", "fail": 1, "status": 302}, r"rules\[0\]\.status must be"),
    ],
)
def test_bad_fail_rules_are_refused_naming_the_field(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultConfigError, match=message):
        parse_rules({"rules": [rule]})


# ``deadLetterDestination`` and ``retryPolicy`` on the simulator ----------------------------------------


def test_a_storage_blob_dead_letter_destination_is_kept_as_the_spec_shapes_it() -> None:
    sent = {"endpointType": "StorageBlob", "properties": {"resourceId": STORE, "blobContainerName": "c"}}
    props = subscription_properties({"destination": destination("q"), "deadLetterDestination": sent})
    assert props["deadLetterDestination"] == sent
    assert "deadLetterDestination" not in subscription_properties({"destination": destination("q")})


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"deadLetterDestination": {"endpointType": "WebHook", "properties": {}}}, "endpoint type 'WebHook'"),
        ({"deadLetterDestination": {"endpointType": "StorageBlob"}}, "needs 'properties'"),
        (
            {"deadLetterDestination": {"endpointType": "StorageBlob", "properties": {"resourceId": "/x"}}},
            "not the resource id of a storage account",
        ),
        (
            {"deadLetterDestination": {"endpointType": "StorageBlob", "properties": {"resourceId": STORE}}},
            "needs a 'blobContainerName'",
        ),
        ({"deadLetterDestination": "somewhere"}, "must be an object"),
        ({"retryPolicy": {"maxDeliveryAttempts": 0}}, r"maxDeliveryAttempts must be an integer between 1 and 30"),
        ({"retryPolicy": {"maxDeliveryAttempts": 31}}, "between 1 and 30"),
        ({"retryPolicy": {"eventTimeToLiveInMinutes": 1441}}, r"eventTimeToLiveInMinutes .* between 1 and 1440"),
        ({"retryPolicy": {"eventTimeToLiveInMinutes": "5"}}, "between 1 and 1440"),
    ],
)
def test_what_azure_refuses_in_a_retry_policy_or_dead_letter_destination_answers_400(
    extra: dict[str, Any], message: str
) -> None:
    with pytest.raises(ArmError, match=message) as refused:
        subscription_properties({"destination": destination("q"), **extra})
    assert refused.value.status == 400


# The stand-in in-process ----------------------------------------------------------------------------


class Logged(logging.Handler):
    """The stand-in's log records; ``wait`` until one passes a test."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self._changed = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self._changed:
            self.records.append(record)
            self._changed.notify_all()

    def wait(self, test: Callable[[logging.LogRecord], bool], timeout: float = 5.0) -> logging.LogRecord:
        with self._changed:
            assert self._changed.wait_for(lambda: any(test(r) for r in self.records), timeout), self.records
            return next(r for r in self.records if test(r))


@pytest.fixture
def logged() -> Iterator[Logged]:
    handler, logger = Logged(), logging.getLogger("sandbox.eventgrid")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def world() -> Iterator[World]:
    made = World(time_scale=0.001)
    made.standin.start()
    yield made
    made.standin.stop()


def test_a_fail_rule_makes_the_first_sends_fail_and_the_retry_delivers_once_with_its_delivery_count(
    world: World,
) -> None:
    world.topic(world.account.id, blobs={})
    world.rules({"service": "eventgrid", "fail": 2, "count": 1})

    world.standin.blob_committed(committed("retried.yml"))
    [retried] = world.publisher.wait(1)
    world.standin.blob_committed(committed("marker.yml"))  # the rule's count is used: sent at once

    retried, marker = world.publisher.wait(2)
    assert retried.application_properties["aeg-delivery-count"] == 2
    assert marker.application_properties["aeg-delivery-count"] == 0
    assert [body["subject"].rsplit("/", 1)[-1] for body in world.publisher.bodies()] == ["retried.yml", "marker.yml"]


def test_a_delivery_whose_attempts_run_out_without_a_destination_is_dropped_with_a_warning(
    world: World, logged: Logged
) -> None:
    world.topic(world.account.id, blobs={"retryPolicy": {"maxDeliveryAttempts": 2}})
    world.publisher.error = type("QueueNotFound", (Exception,), {"status_code": 404})()

    world.standin.blob_committed(committed("lost.yml"))

    dropped = logged.wait(lambda r: "dropped" in r.getMessage())
    assert dropped.levelno == logging.WARNING and world.publisher.failures == 2
    event_id, subscription, reason, attempts, outcome = dropped.args or ()
    assert (subscription, reason, attempts, outcome) == ("blobs", "MaxDeliveryAttemptsExceeded", 2, "NotFound")
    assert isinstance(event_id, str) and event_id in dropped.getMessage()


def test_a_dead_letter_destination_that_is_not_found_drops_the_event_with_a_warning(
    world: World, logged: Logged
) -> None:
    missing = {"endpointType": "StorageBlob", "properties": {"resourceId": STORE, "blobContainerName": "c"}}
    world.topic(world.account.id, blobs={"retryPolicy": {"maxDeliveryAttempts": 1}, "deadLetterDestination": missing})
    world.rules({"service": "eventgrid", "fail": 1})

    world.standin.blob_committed(committed("lost.yml"))

    dropped = logged.wait(lambda r: "dropped" in r.getMessage())
    assert dropped.levelno == logging.WARNING
    assert "blobs" in dropped.getMessage() and "the storage account was not found" in dropped.getMessage()
    assert not world.publisher.sent


def test_a_send_the_queue_refuses_with_403_is_not_retried_and_is_dropped_without_a_destination(
    world: World, logged: Logged
) -> None:
    world.topic(world.account.id, blobs={})  # the default policy: 30 attempts
    world.publisher.error = type("AuthorizationFailure", (Exception,), {"status_code": 403})()

    world.standin.blob_committed(committed("refused.yml"))

    dropped = logged.wait(lambda r: "dropped" in r.getMessage())
    _, subscription, reason, attempts, outcome = dropped.args or ()
    assert (subscription, reason, attempts, outcome) == ("blobs", "MaxDeliveryAttemptsExceeded", 1, "Forbidden")
    assert world.publisher.failures == 1
