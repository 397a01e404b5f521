"""Duplicate detection (requiresDuplicateDetection) and the SANDBOX_DELIVER_TWICE chaos knob."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.host.support import FixtureHost, wait_for

pytestmark = pytest.mark.integration

StartHost = Callable[..., FixtureHost]


def test_a_second_enqueue_of_the_same_message_id_is_dropped(start_host: StartHost) -> None:
    host = start_host()
    host.send(host.message("same-id", body='{"copy": 1}'))
    wait_for(lambda: host.records("record_message", "same-id"), what="the first delivery", log=host.log)

    host.send(host.message("same-id", body='{"copy": 2}'), host.message("other-id", body="{}"))

    wait_for(lambda: host.records("record_message", "other-id"), what="the next message", log=host.log)
    wait_for(lambda: host.message_count() == 0, what="the duplicate to be dropped", log=host.log)
    assert [r["body"] for r in host.records("record_message", "same-id")] == ['{"copy": 1}']
    assert "duplicate dropped" in host.log()


def test_duplicate_detection_remembers_accepted_ids_across_a_host_restart(start_host: StartHost) -> None:
    first = start_host()
    first.send(first.message("across-restart", body="{}"))
    wait_for(lambda: first.records("record_message", "across-restart"), what="the delivery", log=first.log)
    wait_for(lambda: first.message_count() == 0, what="the completion", log=first.log)
    first.terminate()
    assert first.wait_exit() == 0

    second = start_host()
    second.send(second.message("across-restart", body="{}"))

    wait_for(lambda: second.message_count() == 0, what="the duplicate to be dropped", log=second.log)
    assert len(second.records("record_message", "across-restart")) == 1
    assert "duplicate dropped" in second.log()


def test_deliver_twice_hands_each_message_to_the_function_again_as_a_redelivery(start_host: StartHost) -> None:
    host = start_host(SANDBOX_DELIVER_TWICE="1")
    host.send(host.message("twice", body="{}"))

    wait_for(lambda: host.message_count() == 0, what="the message to be completed", log=host.log)
    deliveries = host.records("record_message", "twice")
    assert [r["delivery_count"] for r in deliveries] == [1, 2]
    assert deliveries[0]["message_id"] == deliveries[1]["message_id"]
