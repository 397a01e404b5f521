"""Child processes of ``python -m sandbox up``: start, supervise and stop them, and the sandbox.json helpers."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from sandbox.azurite_proc import stop_process_group

logger = logging.getLogger("sandbox.up")

SANDBOX_JSON = "sandbox.json"


class SandboxError(Exception):
    """The sandbox could not start."""


def write_json_atomically(path: Path, document: Mapping[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_if_ours(path: Path, info: Mapping[str, object]) -> None:
    """Remove ``path`` (a server's info file) if it still says what this server wrote there."""
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if current == info:
        path.unlink(missing_ok=True)


def clear_stale_info(sandbox_dir: Path) -> None:
    """Remove a ``sandbox.json`` left by a sandbox that is gone; refuse if its processes still run."""
    info_path = sandbox_dir / SANDBOX_JSON
    try:
        pids = json.loads(info_path.read_text(encoding="utf-8")).get("pids", {})
    except FileNotFoundError:
        return
    except ValueError:
        pids = {}
    running = {name: pid for name, pid in pids.items() if alive(pid)}
    if running:
        raise SandboxError(f"a sandbox is already running from {sandbox_dir} (pids {running}); stop it first")
    info_path.unlink(missing_ok=True)


class Child:
    """A supervised child process in a process group of its own (so stopping it stops its children)."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log: IO[bytes] | None) -> None:
        self.name, self._argv, self._env, self._log = name, argv, dict(env), log
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> int:
        self.process = subprocess.Popen(
            self._argv,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log is not None else None,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        logger.info("%s started pid=%d", self.name, self.process.pid)
        return self.process.pid

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process is not None else None

    def stop(self, timeout: float) -> None:
        if self.process is not None:
            stop_process_group(self.process, timeout)
            logger.info("%s stopped", self.name)


def wait_until(predicate: Callable[[], bool], timeout: float, stop: threading.Event, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if stop.is_set():
            raise SandboxError(f"stopped while waiting for {what}")
        if time.monotonic() > deadline:
            raise SandboxError(f"{what} not ready within {timeout} s")
        stop.wait(0.1)
