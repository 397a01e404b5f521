"""``python -m sandbox up``: provisioning, sandbox.json, host supervision, and a clean stop."""

from __future__ import annotations

import json
import os
import signal
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
            "FIXTURE_TIMER_SCHEDULE": NEVER,
            "FIXTURE_RECORD_DIR": str(directory),
        },
        queues=["fixture-up", "fixture-up-async"],
    )


def _group_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)  # every child runs in a process group of its own, led by itself
    except ProcessLookupError:
        return True
    return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
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
    assert set(info["arm"]) == {"endpoint", "ca_bundle", "subscription_id"}
    assert Path(info["arm"]["ca_bundle"]).is_file()
    assert set(info["azurite"]) == {"blob", "queue", "table", "connection_string"}
    assert set(info["pids"]) >= {"host", "arm", "azurite"}
    connection = info["azurite"]["connection_string"]
    queues = {q.name for q in QueueServiceClient.from_connection_string(connection).list_queues()}
    assert {"regctl-reconcile", "regctl-reconcile-deadletter", "regctl-steps", "regctl-steps-deadletter"} <= queues
    tables = {t.name for t in TableServiceClient.from_connection_string(connection).list_tables()}
    assert {"regctlRegistries", "regctlSteps"} <= tables
    assert _answers(info["api"] + "/health")


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
