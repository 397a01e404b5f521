"""Azurite (the Azure Storage emulator, pinned in package.json) as a child process.

One process serves blob, queue and table on configurable ports, keeping its data under a directory of its
own (``$SANDBOX_DIR/azurite`` for ``python -m sandbox up``) so state survives a restart of the sandbox.
``in_memory`` keeps it in memory instead (``--inMemoryPersistence``): nothing survives a restart, but
nothing is written either. On disk, Azurite's LokiJS stores serialise each whole database to a file every
5 s on Node's one thread, a stall that grows with the data (docs/performance.md measures it); Azure
Storage has no such pause, so benchmarks of the request path run Azurite in memory.
``accounts`` becomes ``AZURITE_ACCOUNTS``: with it set Azurite knows only those accounts, so the value
must include ``devstoreaccount1`` (``sandbox.arm.azurite.accounts_env`` does). The connection string is
the emulator's well-known, public one; it is still never logged, like any connection string.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)

ACCOUNT = "devstoreaccount1"
#: Azurite's documented default account key (public; identical in every Azurite install).
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
_SCRIPT = Path("node_modules") / "azurite" / "dist" / "src" / "azurite.js"


class AzuriteError(Exception):
    """Azurite could not be found or did not come up."""


@dataclass(frozen=True)
class AzuritePorts:
    blob: int = 10000
    queue: int = 10001
    table: int = 10002


def find_script() -> Path:
    """``azurite.js`` from the repository's node_modules (or the working directory's)."""
    for root in (Path(__file__).resolve().parent.parent, Path.cwd()):
        candidate = root / _SCRIPT
        if candidate.is_file():
            return candidate
    raise AzuriteError("Azurite is not installed: run `make setup` (npm ci) first")


class Azurite:
    """Start, probe and stop one Azurite process (and its process group)."""

    def __init__(
        self,
        location: Path,
        ports: AzuritePorts = AzuritePorts(),
        *,
        accounts: str | None = None,
        host: str = "127.0.0.1",
        log: IO[bytes] | None = None,
        debug_log: Path | None = None,
        in_memory: bool = False,
    ) -> None:
        self.location = location
        self.in_memory = in_memory
        self.ports = ports
        self.host = host
        self._accounts = accounts
        self._log = log
        self._debug_log = debug_log
        self._process: subprocess.Popen[bytes] | None = None

    # --- endpoints ----------------------------------------------------------------------------------

    @property
    def blob_endpoint(self) -> str:
        """Service base URL; accounts are path segments under it (``/devstoreaccount1``)."""
        return f"http://{self.host}:{self.ports.blob}"

    @property
    def queue_endpoint(self) -> str:
        return f"http://{self.host}:{self.ports.queue}"

    @property
    def table_endpoint(self) -> str:
        return f"http://{self.host}:{self.ports.table}"

    @property
    def connection_string(self) -> str:
        """devstoreaccount1 on these ports; hand it to clients, never to a log."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint}/{ACCOUNT};"
            f"QueueEndpoint={self.queue_endpoint}/{ACCOUNT};"
            f"TableEndpoint={self.table_endpoint}/{ACCOUNT};"
        )

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # --- lifecycle ----------------------------------------------------------------------------------

    def command(self) -> list[str]:
        node = shutil.which("node")
        if node is None:
            raise AzuriteError("node is not on PATH; Azurite needs Node.js")
        command = [
            node,
            str(find_script()),
            *(["--inMemoryPersistence"] if self.in_memory else ["--location", str(self.location)]),
            "--blobHost",
            self.host,
            "--blobPort",
            str(self.ports.blob),
            "--queueHost",
            self.host,
            "--queuePort",
            str(self.ports.queue),
            "--tableHost",
            self.host,
            "--tablePort",
            str(self.ports.table),
            "--skipApiVersionCheck",  # the pinned SDKs may speak a newer API version than Azurite knows
            "--loose",
            "--disableTelemetry",
        ]
        command += ["--debug", str(self._debug_log)] if self._debug_log else ["--silent"]
        return command

    def start(self, timeout: float = 30.0) -> None:
        """Launch Azurite in a process group of its own and wait until all three services answer."""
        if self._process is not None:
            raise AzuriteError("Azurite is already started")
        self.location.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.pop("AZURITE_ACCOUNTS", None)
        if self._accounts:
            env["AZURITE_ACCOUNTS"] = self._accounts
        self._process = subprocess.Popen(
            self.command(),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log is not None else None,
            start_new_session=True,
        )
        logger.info(
            "azurite pid=%d blob=%d queue=%d table=%d",
            self._process.pid,
            self.ports.blob,
            self.ports.queue,
            self.ports.table,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise AzuriteError(f"Azurite exited with code {self._process.returncode} while starting")
            if self.ready():
                return
            time.sleep(0.1)
        self.stop()
        raise AzuriteError(f"Azurite did not answer within {timeout} s")

    def ready(self) -> bool:
        """True when blob, queue and table each answer HTTP (any status)."""
        return all(answers_http(self.host, port) for port in (self.ports.blob, self.ports.queue, self.ports.table))

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL what is left after ``timeout``."""
        if self._process is None:
            return
        stop_process_group(self._process, timeout)
        self._process = None
        logger.info("azurite stopped")


def stop_process_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop a child started with ``start_new_session=True`` and everything it started.

    SIGTERM to the group, a bounded wait for the leader, then SIGKILL to whatever is left of the group.
    The leader is reaped only after that, so its pid (the group id) cannot be reused by an unrelated
    process while we still signal it.
    """
    if process.returncode is not None:
        return  # already reaped: its pid may belong to someone else by now
    _signal_group(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not _exited(process.pid):
        time.sleep(0.05)
    _signal_group(process.pid, signal.SIGKILL)  # grandchildren, or a leader that ignored SIGTERM
    process.wait()


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _exited(pid: int) -> bool:
    """True once ``pid`` has exited, without reaping it (it stays a zombie until ``wait``)."""
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def answers_http(host: str, port: int, path: str = "/", timeout: float = 1.0) -> bool:
    """Whether ``GET path`` on ``host:port`` gets any HTTP answer (a readiness probe)."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()
