"""Batch triggers (``cardinality: many``): one call at a time, up to ``maxMessageBatchSize`` messages each,
settled together (the fixture's host.json sets a batch size of 4).

Messages meant to share a call are sent before the host starts: its first receive finds them all. (Sent to a
running host, even with one delay each, a receive can fall between two of them and split the batch.)"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import pytest

from tests.integration.host.support import FixtureHost, wait_for

pytestmark = pytest.mark.integration

StartHost = Callable[..., FixtureHost]


def _calls(host: FixtureHost) -> dict[str, list[dict[str, object]]]:
    calls: dict[str, list[dict[str, object]]] = {}
    for record in host.records("record_batch"):
        calls.setdefault(str(record["call"]), []).append(record)
    return calls


def test_a_batch_function_gets_lists_of_at_most_the_batch_size_one_call_at_a_time(start_host: StartHost) -> None:
    host = start_host(started=False)
    ids = [f"b{i}" for i in range(10)]
    host.send(*(host.message(i, queue=host.batch_queue, body=json.dumps({"sleep": 0.2})) for i in ids))
    host.start()

    wait_for(lambda: host.message_count(host.batch_queue) == 0, what="every message completed", log=host.log)
    records = host.records("record_batch")
    assert sorted(r["message_id"] for r in records) == ids  # each message once: all were completed
    assert all(r["is_service_bus_message"] and r["delivery_count"] == 1 for r in records)
    sizes = [len(members) for members in _calls(host).values()]
    assert max(sizes) == 4 and sum(sizes) == 10  # whole batches, never more than maxMessageBatchSize
    assert all(r["call_size"] == len(_calls(host)[str(r["call"])]) for r in records)
    assert {r["concurrent"] for r in records} == {1}  # one batch receive loop per function


def test_one_failing_message_abandons_its_whole_batch_and_every_message_comes_back(start_host: StartHost) -> None:
    host = start_host(started=False)
    bodies = {"ok-1": "{}", "bad": json.dumps({"fail_until": 1}), "ok-2": "{}"}
    host.send(*(host.message(i, queue=host.batch_queue, body=body) for i, body in bodies.items()))
    host.start()

    wait_for(lambda: host.message_count(host.batch_queue) == 0, what="the batch to succeed", log=host.log)
    counts = {i: [r["delivery_count"] for r in host.records("record_batch", i)] for i in bodies}
    assert counts == {"ok-1": [1, 2], "bad": [1, 2], "ok-2": [1, 2]}
    first, second = sorted(_calls(host).values(), key=lambda members: float(str(members[0]["at"])))
    assert len(first) == len(second) == 3


def test_a_batch_message_past_its_delivery_count_is_dead_lettered(start_host: StartHost) -> None:
    host = start_host(SANDBOX_MAX_DELIVERY_COUNT="2")
    host.send(host.message("poison", queue=host.batch_queue, body=json.dumps({"fail_until": 99})))

    (letter,) = wait_for(lambda: host.dead_letters(host.batch_queue), what="the dead letter", log=host.log)
    assert letter["message_id"] == "poison"
    assert letter["dead_letter_reason"] == "MaxDeliveryCountExceeded"
    assert "failing on purpose" in letter["last_error"]
    assert [r["delivery_count"] for r in host.records("record_batch", "poison")] == [1, 2]


def test_a_duplicate_message_id_in_a_batch_reaches_the_function_once(start_host: StartHost) -> None:
    host = start_host(started=False)
    host.send(
        *(
            host.message(i, queue=host.batch_queue, body=json.dumps({"copy": n}))
            for n, i in enumerate(["dup", "dup", "single"])
        )
    )
    host.start()

    wait_for(lambda: host.message_count(host.batch_queue) == 0, what="every message settled", log=host.log)
    assert Counter(r["message_id"] for r in host.records("record_batch")) == {"dup": 1, "single": 1}
    assert "duplicate dropped" in host.log()


def test_deliver_twice_hands_every_message_of_a_batch_to_the_function_again(start_host: StartHost) -> None:
    host = start_host(started=False, SANDBOX_DELIVER_TWICE="1")
    ids = ["t1", "t2", "t3"]
    host.send(*(host.message(i, queue=host.batch_queue, body="{}") for i in ids))
    host.start()

    wait_for(lambda: host.message_count(host.batch_queue) == 0, what="every message completed", log=host.log)
    assert {i: [r["delivery_count"] for r in host.records("record_batch", i)] for i in ids} == {i: [1, 2] for i in ids}
