"""Queue triggers: delivery, settlement, lock renewal, concurrency, scheduling, dead-lettering."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import pytest

from tests.integration.host.support import FixtureHost, wait_for

pytestmark = pytest.mark.integration

StartHost = Callable[..., FixtureHost]


def test_a_message_reaches_the_function_as_a_service_bus_message_with_its_metadata(start_host: StartHost) -> None:
    host = start_host()
    host.send(
        host.message(
            "demo:1:storage:eastus:0:0",
            body='{"type": "step"}',
            subject="step",
            application_properties={"registry": "demo", "generation": 1},
        )
    )

    (record,) = wait_for(lambda: host.records("record_message"), what="a delivery", log=host.log)
    assert record["type"] == "azure.functions.servicebus.ServiceBusMessage"
    assert record["is_service_bus_message"]
    assert record["message_id"] == "demo:1:storage:eastus:0:0"
    assert record["body"] == '{"type": "step"}'
    assert record["subject"] == record["label"] == "step"
    assert record["content_type"] == "application/json"
    assert record["application_properties"] == {"registry": "demo", "generation": 1}
    assert record["delivery_count"] == 1
    assert record["lock_token"]
    assert record["locked_until"] and record["enqueued_time_utc"]
    wait_for(lambda: host.message_count() == 0, what="the message to be completed", log=host.log)


def test_an_async_function_receives_its_messages_too(start_host: StartHost) -> None:
    host = start_host()
    host.send(host.message("async-1", queue=host.async_queue, body="{}"))

    (record,) = wait_for(lambda: host.records("record_message_async"), what="a delivery", log=host.log)
    assert record["message_id"] == "async-1"
    assert record["is_service_bus_message"]


def test_an_exception_abandons_the_message_and_it_comes_back_with_a_higher_delivery_count(
    start_host: StartHost,
) -> None:
    host = start_host()
    host.send(host.message("flaky", body=json.dumps({"fail_until": 2})))

    wait_for(lambda: host.message_count() == 0, what="the message to succeed and be completed", log=host.log)
    counts = [r["delivery_count"] for r in host.records("record_message", "flaky")]
    assert counts == [1, 2, 3]
    assert host.dead_letters() == []


def test_a_message_that_always_fails_is_dead_lettered_after_ten_deliveries(start_host: StartHost) -> None:
    host = start_host()
    host.send(host.message("poison", body=json.dumps({"fail_until": 99})))

    (dead,) = wait_for(host.dead_letters, what="the dead-lettered message", log=host.log)
    assert dead["message_id"] == "poison"
    assert dead["body"] == json.dumps({"fail_until": 99})
    assert dead["dead_letter_reason"] == "MaxDeliveryCountExceeded"
    assert dead["application_properties"]["DeadLetterReason"] == "MaxDeliveryCountExceeded"
    assert "failing on purpose at delivery 10" in dead["last_error"]
    assert dead["dead_letter_source"] == host.queue
    assert [r["delivery_count"] for r in host.records("record_message", "poison")] == list(range(1, 11))
    wait_for(lambda: host.message_count() == 0, what="the main queue to be empty", log=host.log)


def test_a_malformed_envelope_is_dead_lettered_at_once_without_reaching_the_function(
    start_host: StartHost,
) -> None:
    host = start_host()
    host.client(host.queue).send_message("this is not an envelope")

    (dead,) = wait_for(host.dead_letters, what="the dead-lettered message", log=host.log)
    assert dead["dead_letter_reason"] == "MalformedEnvelope"
    assert dead["body"] == "this is not an envelope"
    assert dead["delivery_count"] == 1
    assert host.records("record_message") == []


def test_a_long_running_function_keeps_its_lock_so_the_message_is_delivered_once(start_host: StartHost) -> None:
    host = start_host(SANDBOX_LOCK_DURATION_SECONDS="2")
    host.send(host.message("slow", body=json.dumps({"sleep": 5})))  # two and a half lock durations

    wait_for(lambda: host.records("record_message", "slow"), what="the delivery", log=host.log)
    wait_for(lambda: host.message_count() == 0, timeout=30, what="the completion", log=host.log)
    assert [r["delivery_count"] for r in host.records("record_message", "slow")] == [1]


def test_a_message_whose_host_died_is_redelivered_once_its_lock_expires(start_host: StartHost) -> None:
    first = start_host(SANDBOX_LOCK_DURATION_SECONDS="2")
    first.send(first.message("orphan", body=json.dumps({"sleep": 4})))
    wait_for(lambda: first.records("record_message", "orphan"), what="the first delivery", log=first.log)
    first.kill()

    second = start_host(SANDBOX_LOCK_DURATION_SECONDS="2")
    assert second.process is not None
    pid = second.process.pid
    redelivered = wait_for(
        lambda: [r for r in second.records("record_message", "orphan") if r["pid"] == pid],
        what="the redelivery",
        log=second.log,
    )
    assert redelivered[0]["delivery_count"] == 2


def test_no_more_messages_run_at_once_than_max_concurrent_calls_in_host_json(start_host: StartHost) -> None:
    host = start_host()  # the fixture app's host.json: maxConcurrentCalls = 3
    host.send(*(host.message(f"burst-{i}", body=json.dumps({"sleep": 1})) for i in range(9)))

    wait_for(lambda: len(host.records("record_message")) == 9, what="nine deliveries", log=host.log)
    peak = max(r["concurrent"] for r in host.records("record_message"))
    assert peak == 3


def test_a_scheduled_message_is_not_delivered_before_its_scheduled_time(start_host: StartHost) -> None:
    host = start_host()
    host.send(host.message("later", body="{}", delay_seconds=2))

    (record,) = wait_for(lambda: host.records("record_message", "later"), what="the delivery", log=host.log)
    scheduled = datetime.fromisoformat(record["scheduled_enqueue_time_utc"])
    assert record["at"] >= scheduled.timestamp() - 0.01  # Storage time has whole seconds; the delay rounds up
    assert record["enqueued_time_utc"] == record["scheduled_enqueue_time_utc"]
