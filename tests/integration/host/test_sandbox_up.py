"""``python -m sandbox up``: provisioning, sandbox.json, host supervision, and a clean stop."""

from __future__ import annotations

import json
import os
import signal
import ssl
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueServiceClient

from sandbox.harness import Sandbox
from shared.adapters.storage_queue import StorageQueuePublisher
from shared.ports import OutboundMessage
from tests.integration.host.support import FIXTURE_APP, NEVER, wait_for

pytestmark = pytest.mark.integration


def _sandbox(directory: Path) -> Sandbox:
    return Sandbox(
        directory,
        time_scale=0.01,
        app_dir=FIXTURE_APP,
        env={
            "FIXTURE_QUEUE": "fixture-up",
            "FIXTURE_ASYNC_QUEUE": "fixture-up-async",
            "FIXTURE_BATCH_QUEUE": "fixture-up-batch",
            "FIXTURE_TIMER_SCHEDULE": NEVER,
            "FIXTURE_RECORD_DIR": str(directory),
        },
        queues=["fixture-up", "fixture-up-async", "fixture-up-batch"],
    )


def _group_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)  # every child runs in a process group of its own, led by itself
    except ProcessLookupError:
        return True
    return False


def _answers(url: str, ca_bundle: str | None = None) -> bool:
    context = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else None
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return bool(response.status)
    except OSError:
        return False


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sandbox = _sandbox(tmp_path_factory.mktemp("sandbox-up"))
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def test_up_provisions_like_infra_and_writes_where_everything_is(running: Sandbox) -> None:
    info = json.loads((running.sandbox_dir / "sandbox.json").read_text(encoding="utf-8"))

    assert info["api"] == f"http://127.0.0.1:{running.ports['api']}/api"
    assert set(info["arm"]) == {"endpoint", "blob_endpoint", "ca_bundle", "subscription_id"}
    assert info["arm"]["blob_endpoint"] == f"https://127.0.0.1:{running.ports['blob-proxy']}"
    assert Path(info["arm"]["ca_bundle"]).is_file()
    assert set(info["azurite"]) == {"blob", "queue", "table", "connection_string", "persistence"}
    assert info["azurite"]["persistence"] == "disk"
    assert any((running.sandbox_dir / "azurite").iterdir())  # Azurite's data, kept across restarts
    assert set(info["pids"]) >= {"host", "arm", "azurite"}
    connection = info["azurite"]["connection_string"]
    queues = {q.name for q in QueueServiceClient.from_connection_string(connection).list_queues()}
    assert {"regctl-reconcile", "regctl-reconcile-deadletter", "regctl-steps", "regctl-steps-deadletter"} <= queues
    tables = {t.name for t in TableServiceClient.from_connection_string(connection).list_tables()}
    assert {"regctlRegistries", "regctlSteps"} <= tables
    assert _answers(info["api"] + "/health")
    assert info["api_https"] == f"https://127.0.0.1:{running.ports['https']}/api"
    assert info["arm_api"] == {
        "endpoint": info["api_https"] + "/arm",
        "ca_bundle": str(running.sandbox_dir / "api-ca.pem"),
        "subscription_id": info["arm"]["subscription_id"],
    }
    assert _answers(info["api_https"] + "/health", info["arm_api"]["ca_bundle"])  # TLS, trusted by that CA


def test_the_host_gets_the_app_settings_and_delivers_queue_messages(running: Sandbox) -> None:
    publisher = StorageQueuePublisher(running.info["azurite"]["connection_string"])
    publisher.publish([OutboundMessage(queue="fixture-up", message_id="through-up", body="{}")])
    publisher.close()
    records = running.sandbox_dir / "records.jsonl"

    wait_for(lambda: records.exists() and "through-up" in records.read_text(), what="the delivery")


def test_the_supervisor_restarts_a_host_killed_with_sigkill(running: Sandbox) -> None:
    killed = running.info["pids"]["host"]
    os.kill(killed, signal.SIGKILL)

    def restarted() -> dict[str, Any] | None:
        info = running.read_info()
        return info if info and info["pids"]["host"] != killed else None

    info = wait_for(restarted, timeout=60, what="a restarted host in sandbox.json", log=running.logs)
    assert _answers(info["api"] + "/health")
    assert _answers(info["api_https"] + "/health", info["arm_api"]["ca_bundle"])  # the restarted host has its key
    assert "host exited with code -9; restarting it" in (running.log_dir / "up.log").read_text()


def test_sigterm_stops_every_process_of_the_sandbox_and_removes_sandbox_json(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path)
    pids = dict(sandbox.start()["pids"])

    assert sandbox.stop() == 0

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_group_gone(pid) for pid in pids.values()):
        time.sleep(0.1)
    assert all(_group_gone(pid) for pid in pids.values()), pids
    assert not (tmp_path / "sandbox.json").exists()


def _records(sandbox: Sandbox, function: str) -> list[dict[str, Any]]:
    path = sandbox.sandbox_dir / "records.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [entry for entry in map(json.loads, lines) if entry["function"] == function]


def _pid_answering(api: str) -> int:
    with urllib.request.urlopen(api + "/whoami", timeout=5) as response:  # a new connection each time
        return int(json.loads(response.read())["pid"])


def test_two_host_instances_share_the_port_and_the_queues_and_fire_each_timer_once(tmp_path: Path) -> None:
    """``--host-instances 2``: like two instances of a scaled-out Function App. Both answer HTTP on the one
    port and both take queue messages; a timer fires on its schedule in one of them only (the Functions
    host's singleton lock), and the admin endpoint fires it in whichever answers. One instance killed is
    restarted while the other goes on serving."""
    sandbox = _sandbox(tmp_path)
    sandbox.env["FIXTURE_TIMER_SCHEDULE"] = "* * * * * *"  # every second
    sandbox.host_instances = 2
    info = sandbox.start()
    try:
        hosts = {info["pids"]["host"], info["pids"]["host1"]}
        assert len(hosts) == 2 and None not in hosts
        seen: set[int] = set()

        def both_answered() -> bool:  # the sandbox is ready once one answers; the other may start later
            seen.update(_pid_answering(info["api"]) for _ in range(10))
            return seen == hosts

        wait_for(both_answered, what="both instances answering", log=sandbox.logs)

        publisher = StorageQueuePublisher(info["azurite"]["connection_string"])
        held = '{"sleep": 0.2}'  # each instance takes 3 at a time (maxConcurrentCalls): both get some
        publisher.publish([OutboundMessage(queue="fixture-up", message_id=f"m{i}", body=held) for i in range(30)])
        publisher.close()
        wait_for(lambda: len(_records(sandbox, "record_message")) >= 30, what="30 deliveries", log=sandbox.logs)
        assert {r["pid"] for r in _records(sandbox, "record_message")} == hosts

        wait_for(lambda: len(_records(sandbox, "tick")) >= 4, what="four ticks", log=sandbox.logs)
        ticks = _records(sandbox, "tick")
        assert {t["pid"] for t in ticks} == {info["pids"]["host"]}
        occurrences = [t["schedule_status"]["Next"] for t in ticks]
        assert len(occurrences) == len(set(occurrences))  # each occurrence fired once
        assert len(_records(sandbox, "yearly")) == 1  # run_on_startup: in the instance holding the schedule

        os.kill(info["pids"]["host1"], signal.SIGKILL)
        up_log = sandbox.log_dir / "up.log"
        wait_for(lambda: "host1 exited with code -9" in up_log.read_text(), what="host1 reaped", log=sandbox.logs)
        answered = {_pid_answering(info["api"]) for _ in range(10)}  # the other instance still serves
        assert answered == {info["pids"]["host"]}

        def restarted() -> dict[str, Any] | None:
            now = sandbox.read_info()
            return now if now and now["pids"]["host1"] not in (None, info["pids"]["host1"]) else None

        after = wait_for(restarted, timeout=60, what="host1 restarted", log=sandbox.logs)
        assert after["pids"]["host"] == info["pids"]["host"]
        wait_for(
            lambda: after["pids"]["host1"] in {_pid_answering(info["api"]) for _ in range(20)},
            what="the restarted instance answering",
            log=sandbox.logs,
        )
    finally:
        sandbox.stop()


def test_azurite_in_memory_serves_writes_nothing_to_disk_and_refuses_an_outage(tmp_path: Path) -> None:
    """``--azurite-memory`` (benchmarks): the same services, no data directory, and no storage outage on
    request, since stopping Azurite would lose every table and queue."""
    sandbox = _sandbox(tmp_path)
    sandbox.azurite_memory = True
    info = sandbox.start()
    try:
        assert info["azurite"]["persistence"] == "memory"
        publisher = StorageQueuePublisher(info["azurite"]["connection_string"])
        publisher.publish([OutboundMessage(queue="fixture-up", message_id="in-memory", body="{}")])
        publisher.close()
        wait_for(lambda: _records(sandbox, "record_message"), what="a delivery", log=sandbox.logs)
        data = sandbox.sandbox_dir / "azurite"
        assert not data.exists() or not any(data.iterdir())

        with pytest.raises(RuntimeError, match="in memory"):
            sandbox.stop_azurite()
        azurite = info["pids"]["azurite"]
        os.kill(info["pids"]["up"], signal.SIGUSR1)  # the outage signal, sent anyway: refused
        up_log = sandbox.log_dir / "up.log"
        wait_for(lambda: "not stopping it" in up_log.read_text(), what="the refusal logged", log=sandbox.logs)
        now = sandbox.read_info()
        assert now is not None and now["pids"]["azurite"] == azurite
        os.kill(azurite, 0)  # still running
    finally:
        sandbox.stop()
