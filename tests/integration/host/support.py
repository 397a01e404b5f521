"""A fixture-app host process on Azurite, and waiting helpers, for the sandbox host's tests."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient

from sandbox.azurite_proc import Azurite, stop_process_group
from sandbox.harness import free_port
from sandbox.host.queues import dead_letter_queue
from shared.adapters.storage_queue import StorageQueuePublisher
from shared.ports import OutboundMessage

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURE_APP = Path(__file__).resolve().parent / "fixture_app"
NEVER = "0 0 0 1 1 *"  # a schedule that does not fire during a test

T = TypeVar("T")


def wait_for(
    condition: Callable[[], T | None],
    *,
    timeout: float = 30.0,
    what: str = "condition",
    log: Callable[[], str] | None = None,
) -> T:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s, showing ``log()``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            text = log() if log is not None else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{text[-6000:]}")
        time.sleep(0.1)


class FixtureHost:
    """``python -m sandbox.host`` serving the fixture app, with queues of its own on Azurite."""

    def __init__(self, azurite: Azurite, workdir: Path, suffix: str, env: dict[str, str | None]) -> None:
        self.azurite = azurite
        self.workdir = workdir
        self.queue = f"fix-{suffix}"
        self.async_queue = f"fixa-{suffix}"
        self.batch_queue = f"fixb-{suffix}"
        self.port = free_port()
        self.env = env
        self.log_path = workdir / f"host-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        for name in (self.queue, self.async_queue, self.batch_queue):
            for queue in (name, dead_letter_queue(name)):
                with contextlib.suppress(ResourceExistsError):
                    self.client(queue).create_queue()

    def client(self, queue: str) -> QueueClient:
        return QueueClient.from_connection_string(self.azurite.connection_string, queue)

    def start(self, *, wait: bool = True) -> FixtureHost:
        env = {
            **os.environ,
            "QueueStorageConnection": self.azurite.connection_string,
            "FIXTURE_QUEUE": self.queue,
            "FIXTURE_ASYNC_QUEUE": self.async_queue,
            "FIXTURE_BATCH_QUEUE": self.batch_queue,
            "FIXTURE_TIMER_SCHEDULE": NEVER,
            "FIXTURE_RECORD_DIR": str(self.workdir),
            "SANDBOX_LOCK_DURATION_SECONDS": "2",
        }
        for key, value in self.env.items():  # None removes a setting
            if value is None:
                env.pop(key, None)
            else:
                env[key] = value
        command = [sys.executable, "-m", "sandbox.host", "--app-dir", str(FIXTURE_APP), "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if wait:
            wait_for(self._serving, timeout=30, what="the host to serve HTTP", log=self.log)
        return self

    def _serving(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"host exited with {self.process.returncode}\n{self.log()}")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            connection.request("GET", "/api/health")
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        stop_process_group(self.process, 40)
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def send(self, *messages: OutboundMessage) -> None:
        publisher = StorageQueuePublisher(self.azurite.connection_string)
        try:
            publisher.publish(messages)
        finally:
            publisher.close()

    def message(self, message_id: str, *, queue: str | None = None, **fields: Any) -> OutboundMessage:
        return OutboundMessage(queue=queue or self.queue, message_id=message_id, **fields)

    def records(self, function: str | None = None, message_id: str | None = None) -> list[dict[str, Any]]:
        path = self.workdir / "records.jsonl"
        if not path.exists():
            return []
        entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        return [
            e
            for e in entries
            if (function is None or e["function"] == function)
            and (message_id is None or e.get("message_id") == message_id)
        ]

    def dead_letters(self, queue: str | None = None) -> list[dict[str, Any]]:
        peeked = self.client(dead_letter_queue(queue or self.queue)).peek_messages(max_messages=32)
        return [json.loads(m.content) for m in peeked]

    def message_count(self, queue: str | None = None) -> int:
        """Messages in the queue, invisible (locked or scheduled) ones included."""
        return int(self.client(queue or self.queue).get_queue_properties().approximate_message_count or 0)
