"""``python -m sandbox up``: Azurite, the ARM simulator and the functions host, supervised together.

Order: Azurite (one blob account per Azure region, for the simulator's storage accounts), the ARM
simulator (ready when it writes ``arm.json``), then what infra creates in Azure (the queues with their
dead-letter queues, the state tables), then the host with the app settings Azure would give it. When all
three answer, ``$SANDBOX_DIR/sandbox.json`` says where everything is.

The host is supervised as the Functions runtime supervises its worker: if it dies it is started again
after a short backoff. Azurite and the simulator stand for Azure services, so if one of them dies the
sandbox stops (exit 1) instead of pretending. SIGTERM or Ctrl-C stops all three, process groups and all,
and removes ``sandbox.json`` (its pids would be stale).

A storage outage on purpose (the reliability suite, ``Sandbox.stop_azurite``/``start_azurite``): SIGUSR1
stops Azurite (SIGTERM, so it saves its data) and leaves it down; SIGUSR2 starts it again on the same ports
and data directory. ``sandbox.json`` shows ``pids.azurite`` null while it is down. Only an Azurite death
that was not asked for stops the sandbox.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit

from azure.core.exceptions import ResourceExistsError
from azure.data.tables import TableServiceClient
from azure.storage.queue import QueueServiceClient

from sandbox.arm.azurite import accounts_env
from sandbox.azurite_proc import Azurite, AzuritePorts, stop_process_group
from sandbox.host.queues import dead_letter_queue
from shared.adapters.tables import TableStateStore
from shared.domain.regions import REGIONS
from shared.settings import Settings

logger = logging.getLogger("sandbox.up")

SANDBOX_JSON = "sandbox.json"
ARM_JSON = "arm.json"
STATIC_TOKEN = "sandbox"  # the simulator accepts any bearer token
_RESTART_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
_HEALTHY_AFTER_SECONDS = 60.0


class SandboxError(Exception):
    """The sandbox could not start."""


def host_ready(api_base: str) -> bool:
    """Readiness probe of the host: any HTTP answer from ``GET {api}/health`` counts for now."""
    parts = urlsplit(api_base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=2.0)
    try:
        connection.request("GET", parts.path.rstrip("/") + "/health")
        connection.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        connection.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox up", description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=int, default=7071)
    parser.add_argument("--arm-port", type=int, default=8443)
    parser.add_argument("--blob-port", type=int, default=10000)
    parser.add_argument("--queue-port", type=int, default=10001)
    parser.add_argument("--table-port", type=int, default=10002)
    parser.add_argument("--time-scale", type=float, help="passed to the ARM simulator")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="app setting for the host (repeatable)"
    )
    parser.add_argument("--queue", action="append", default=[], help="an extra queue to create (repeatable)")
    parser.add_argument("--app", default="function_app", help="function app module for the host")
    parser.add_argument("--app-dir", default=".", help="the function app's root directory")
    parser.add_argument("--log-dir", help="write each child's output to DIR/<name>.log instead of the console")
    parser.add_argument("--startup-timeout", type=float, default=90.0)
    return parser.parse_args(argv)


def parse_env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SandboxError(f"--env wants KEY=VALUE, not {pair!r}")
        result[key] = value
    return result


def _alias(field: str) -> str:
    alias = Settings.model_fields[field].validation_alias
    if not isinstance(alias, str):
        raise SandboxError(f"Settings.{field} has no single environment name")
    return alias


def host_environment(
    base: Mapping[str, str], *, arm: Mapping[str, Any], connection: str, overrides: Mapping[str, str]
) -> tuple[dict[str, str], Settings]:
    """The host's app settings, validated by the app's own Settings class.

    Settings that binding expressions name (queue names, schedules) are set explicitly from their
    defaults, as ``local.settings.json`` or the Function App's app settings would: the host resolves
    ``%NAME%`` from the environment only, not from Settings defaults.
    """
    env = dict(base)
    env.update(
        {
            _alias("message_transport"): "storagequeue",
            _alias("queue_storage_connection"): connection,
            _alias("state_storage_connection"): connection,
            _alias("subscription_id"): str(arm["subscription_id"]),
            _alias("arm_endpoint"): str(arm["endpoint"]),
            _alias("arm_ca_bundle"): str(arm["ca_bundle"]),
            _alias("arm_static_token"): STATIC_TOKEN,
        }
    )
    env.update(overrides)
    settings = Settings.model_validate(env)
    for field in (*queue_fields(), "region_sync_schedule"):
        env.setdefault(_alias(field), str(getattr(settings, field)))
    return env, settings


def queue_fields() -> list[str]:
    return [name for name in Settings.model_fields if name.endswith("_queue")]


def provision(connection: str, settings: Settings, extra_queues: Sequence[str] = ()) -> list[str]:
    """Create what infra creates in Azure: the queues, their dead-letter queues, the state tables."""
    queues = [str(getattr(settings, field)) for field in queue_fields()] + list(extra_queues)
    service = QueueServiceClient.from_connection_string(connection)
    for name in [*queues, *(dead_letter_queue(q) for q in queues)]:
        with contextlib.suppress(ResourceExistsError):
            service.create_queue(name)
    tables = TableServiceClient.from_connection_string(connection)
    for table in TableStateStore(tables, settings.table_prefix).table_names():
        tables.create_table_if_not_exists(table)
    return queues


def write_json_atomically(path: Path, document: Mapping[str, Any]) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clear_stale_info(sandbox_dir: Path) -> None:
    """Remove a ``sandbox.json`` left by a sandbox that is gone; refuse if its processes still run."""
    info_path = sandbox_dir / SANDBOX_JSON
    try:
        pids = json.loads(info_path.read_text(encoding="utf-8")).get("pids", {})
    except FileNotFoundError:
        return
    except ValueError:
        pids = {}
    running = {name: pid for name, pid in pids.items() if _alive(pid)}
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


def _read_arm_json(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    args = parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: stopping the sandbox", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    supervisor = Supervisor(args, stop)
    signal.signal(signal.SIGUSR1, lambda signum, frame: supervisor.want_azurite(False))
    signal.signal(signal.SIGUSR2, lambda signum, frame: supervisor.want_azurite(True))
    try:
        return supervisor.run()
    except SandboxError as exc:
        if stop.is_set():  # asked to stop while starting: not a failure
            logger.info("%s", exc)
            return 0
        logger.error("%s", exc)
        return 1


class Supervisor:
    """Starts the three pieces, writes sandbox.json, restarts the host, and stops everything."""

    def __init__(self, args: argparse.Namespace, stop: threading.Event) -> None:
        self.args = args
        self.stop = stop
        self.sandbox_dir = Path(os.environ.get("SANDBOX_DIR", ".sandbox")).resolve()
        self.api = f"http://127.0.0.1:{args.api_port}/api"
        self.azurite: Azurite | None = None
        self.arm: Child | None = None
        self.host: Child | None = None
        self.info: dict[str, Any] = {}
        self._logs: list[IO[bytes]] = []
        self._azurite_wanted = True  # SIGUSR1 / SIGUSR2 (want_azurite); applied by the supervise loop
        self._azurite_up = True

    def want_azurite(self, up: bool) -> None:
        """Signal handler side: only record the wish; ``_supervise`` stops or starts Azurite."""
        self._azurite_wanted = up

    def _log(self, name: str) -> IO[bytes] | None:
        if not self.args.log_dir:
            return None
        directory = Path(self.args.log_dir)
        directory.mkdir(parents=True, exist_ok=True)
        handle = (directory / f"{name}.log").open("ab")
        self._logs.append(handle)
        return handle

    def run(self) -> int:
        self.sandbox_dir.mkdir(parents=True, exist_ok=True)
        clear_stale_info(self.sandbox_dir)
        try:
            self._start_all()
            return self._supervise()
        finally:
            self._stop_all()

    def _start_all(self) -> None:
        args, timeout = self.args, self.args.startup_timeout
        ports = AzuritePorts(args.blob_port, args.queue_port, args.table_port)
        self.azurite = Azurite(
            self.sandbox_dir / "azurite", ports, accounts=accounts_env(REGIONS), log=self._log("azurite")
        )
        self.azurite.start(timeout)
        arm_json = self.sandbox_dir / ARM_JSON
        arm_json.unlink(missing_ok=True)
        child_env = {**os.environ, "SANDBOX_DIR": str(self.sandbox_dir)}
        arm_argv = [sys.executable, "-m", "sandbox", "arm", "--port", str(args.arm_port)]
        arm_argv += ["--azurite-blob-endpoint", self.azurite.blob_endpoint]
        if args.time_scale is not None:
            arm_argv += ["--time-scale", str(args.time_scale)]
        self.arm = Child("arm", arm_argv, child_env, self._log("arm"))
        self.arm.start()
        wait_until(lambda: self._check_alive() and _read_arm_json(arm_json) is not None, timeout, self.stop, "ARM")
        arm = _read_arm_json(arm_json) or {}
        connection = self.azurite.connection_string
        host_env, settings = host_environment(
            child_env, arm=arm, connection=connection, overrides=parse_env_pairs(args.env)
        )
        provision(connection, settings, args.queue)
        host_argv = [sys.executable, "-m", "sandbox.host", "--app", args.app, "--app-dir", args.app_dir]
        host_argv += ["--port", str(args.api_port)]
        self.host = Child("host", host_argv, host_env, self._log("host"))
        self.host.start()
        wait_until(lambda: self._check_alive() and host_ready(self.api), timeout, self.stop, "the host")
        self.info = {
            "api": self.api,
            "arm": {key: arm.get(key) for key in ("endpoint", "ca_bundle", "subscription_id")},
            "azurite": {
                "blob": self.azurite.blob_endpoint,
                "queue": self.azurite.queue_endpoint,
                "table": self.azurite.table_endpoint,
                "connection_string": connection,
            },
            "pids": {},
        }
        self._write_info()
        logger.info("sandbox ready: api %s, details in %s", self.api, self.sandbox_dir / SANDBOX_JSON)

    def _check_alive(self) -> bool:
        """Raise if a service died while starting; restarting the host is only for after startup."""
        for child in (self.arm, self.host):
            if child is not None and child.exit_code() is not None:
                raise SandboxError(f"{child.name} exited with code {child.exit_code()} while starting")
        if self.azurite is not None and not self.azurite.alive():
            raise SandboxError("azurite exited while starting")
        return True

    def _write_info(self) -> None:
        assert self.azurite is not None and self.arm is not None and self.host is not None
        self.info["pids"] = {"host": self.host.pid, "arm": self.arm.pid, "azurite": self.azurite.pid, "up": os.getpid()}
        write_json_atomically(self.sandbox_dir / SANDBOX_JSON, self.info)

    def _supervise(self) -> int:
        assert self.azurite is not None and self.arm is not None and self.host is not None
        failures = 0
        while not self.stop.wait(0.5):
            self._apply_azurite_wish()
            if (self._azurite_up and not self.azurite.alive()) or self.arm.exit_code() is not None:
                logger.error("azurite or the ARM simulator died; stopping the sandbox")
                return 1
            code = self.host.exit_code()
            if code is None:
                continue
            failures = 0 if time.monotonic() - self.host.started_at > _HEALTHY_AFTER_SECONDS else failures
            delay = _RESTART_BACKOFF[min(failures, len(_RESTART_BACKOFF) - 1)]
            failures += 1
            logger.warning("host exited with code %s; restarting it in %.0f s", code, delay)
            if self.stop.wait(delay):
                break
            self.host.start()
            try:  # a host that dies again is left to the next round of this loop
                wait_until(self._host_settled, self.args.startup_timeout, self.stop, "the restarted host")
            except SandboxError as exc:
                logger.warning("%s", exc)
                continue
            if self.host.exit_code() is not None:
                continue
            self._write_info()
            logger.info("host restarted pid=%s", self.host.pid)
        return 0

    def _apply_azurite_wish(self) -> None:
        """Stop Azurite (SIGUSR1) or start it again on the same ports and data directory (SIGUSR2)."""
        assert self.azurite is not None
        wanted = self._azurite_wanted
        if wanted == self._azurite_up:
            return
        if wanted:
            self.azurite.start(self.args.startup_timeout)
            logger.info("azurite started again pid=%s", self.azurite.pid)
        else:
            self.azurite.stop(timeout=10)
            logger.warning("azurite stopped on request (SIGUSR1); SIGUSR2 starts it again")
        self._azurite_up = wanted
        self._write_info()

    def _host_settled(self) -> bool:
        """The restarted host answers, or died again."""
        assert self.host is not None
        return self.host.exit_code() is not None or host_ready(self.api)

    def _stop_all(self) -> None:
        (self.sandbox_dir / SANDBOX_JSON).unlink(missing_ok=True)
        if self.host is not None:
            self.host.stop(timeout=45)  # the host's own grace period is 30 s
        if self.arm is not None:
            self.arm.stop(timeout=10)
        if self.azurite is not None:
            self.azurite.stop(timeout=10)
        for handle in self._logs:
            handle.close()
        logger.info("sandbox stopped")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
