"""Timer triggers, the admin endpoint, failing fast on bad settings, and graceful shutdown."""

from __future__ import annotations

import itertools
import json
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from tests.integration.host.support import FixtureHost, wait_for

pytestmark = pytest.mark.integration

StartHost = Callable[..., FixtureHost]


def test_a_timer_fires_on_its_seconds_first_ncrontab_schedule(start_host: StartHost) -> None:
    host = start_host(FIXTURE_TIMER_SCHEDULE="*/2 * * * * *")

    wait_for(lambda: len(host.records("tick")) >= 2, what="two ticks", log=host.log)
    ticks = host.records("tick")[:2]
    nexts = [datetime.fromisoformat(t["schedule_status"]["Next"]) for t in ticks]
    assert all(moment.second % 2 == 0 and moment.microsecond == 0 for moment in nexts)
    assert [b - a for a, b in itertools.pairwise(nexts)] == [timedelta(seconds=2)]
    assert not any(t["past_due"] for t in ticks)


def test_run_on_startup_fires_at_start_and_the_admin_endpoint_fires_a_timer_now(start_host: StartHost) -> None:
    host = start_host()
    wait_for(lambda: host.records("yearly"), what="the run at startup", log=host.log)

    request = urllib.request.Request(f"http://127.0.0.1:{host.port}/admin/functions/yearly", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 202

    wait_for(lambda: len(host.records("yearly")) == 2, what="the admin run", log=host.log)
    with urllib.request.urlopen(f"http://127.0.0.1:{host.port}/admin/functions", timeout=5) as response:
        names = {f["name"] for f in json.loads(response.read())}
    assert names == {"record_message", "record_message_async", "record_batch", "tick", "yearly"}


def test_an_unresolvable_binding_expression_stops_the_host_before_it_serves(start_host: StartHost) -> None:
    host = start_host(wait=False, FIXTURE_ASYNC_QUEUE=None)

    assert host.wait_exit() == 2
    assert "'%FIXTURE_ASYNC_QUEUE%' does not resolve to a value" in host.log()


def test_sigterm_lets_a_running_invocation_finish_and_complete_before_exit(start_host: StartHost) -> None:
    host = start_host()
    host.send(host.message("in-flight", body=json.dumps({"sleep": 2})))
    wait_for(lambda: host.records("record_message", "in-flight"), what="the delivery", log=host.log)

    host.terminate()

    assert host.wait_exit(timeout=40) == 0
    assert host.message_count() == 0  # completed, not abandoned
    assert len(host.records("record_message", "in-flight")) == 1
