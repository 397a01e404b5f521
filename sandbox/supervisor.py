"""Process supervision for ``python -m sandbox up`` (``sandbox/up.py`` describes the whole): the ``Supervisor``
starts Azurite, the stand-ins and the host instances in order, writes ``sandbox.json``, restarts a host
instance that died (after a growing backoff), stops and starts Azurite on request, and stops everything.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from sandbox.arm.azurite import DEFAULT_POOL_SIZE, accounts_env
from sandbox.arm.certs import ServerCerts, make_certs
from sandbox.azurite_proc import Azurite, AzuritePorts, answers_http
from sandbox.entra import config as entra_config
from sandbox.infra import host_environment, parse_env_pairs, provision
from sandbox.processes import (
    SANDBOX_JSON,
    Child,
    SandboxError,
    clear_stale_info,
    wait_until,
    write_json_atomically,
)
from sandbox.tickets.server import TICKETS_JSON

logger = logging.getLogger("sandbox.up")

ARM_JSON = "arm.json"
API_CA_BUNDLE = "api-ca.pem"
_RESTART_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
_HEALTHY_AFTER_SECONDS = 60.0


def host_ready(api_base: str) -> bool:
    """Readiness probe of the host: any HTTP answer from ``GET {api}/health`` counts for now."""
    parts = urlsplit(api_base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    return answers_http(host, port, parts.path.rstrip("/") + "/health", timeout=2.0)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return info if isinstance(info, dict) else None


@dataclass
class HostInstance:
    """One functions host process and its restart state."""

    child: Child
    failures: int = 0  # deaths in a row, each soon after a start
    restart_at: float | None = None  # monotonic time of the pending restart
    announce: bool = False  # restarted; sandbox.json gets its pid once the API answers


class Supervisor:
    """Starts the pieces, writes sandbox.json, restarts the host, and stops everything."""

    def __init__(self, args: argparse.Namespace, stop: threading.Event) -> None:
        self.args = args
        self.stop = stop
        self.sandbox_dir = Path(os.environ.get("SANDBOX_DIR", ".sandbox")).resolve()
        self.api = f"http://127.0.0.1:{args.api_port}/api"
        self.api_https = f"https://127.0.0.1:{args.https_port}/api"
        self.api_certs: ServerCerts | None = None
        self.azurite: Azurite | None = None
        self.arm: Child | None = None
        self.entra: Child | None = None
        self.tickets: Child | None = None
        self.hosts: list[HostInstance] = []
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
            self.sandbox_dir / "azurite",
            ports,
            accounts=accounts_env(DEFAULT_POOL_SIZE),
            log=self._log("azurite"),
            in_memory=args.azurite_memory,
        )
        self.azurite.start(timeout)
        arm_json = self.sandbox_dir / ARM_JSON
        arm_json.unlink(missing_ok=True)
        child_env = {**os.environ, "SANDBOX_DIR": str(self.sandbox_dir)}
        # the Event Grid stand-in's queues: Azurite's connection, in the environment (never on a command line)
        arm_env = {**child_env, "SANDBOX_EVENTS_CONNECTION": self.azurite.connection_string}
        arm_argv = [sys.executable, "-m", "sandbox", "arm", "--port", str(args.arm_port)]
        arm_argv += ["--azurite-blob-endpoint", self.azurite.blob_endpoint, "--blob-port", str(args.blob_proxy_port)]
        arm_argv += ["--blob-pool-size", str(DEFAULT_POOL_SIZE)]
        if args.time_scale is not None:
            arm_argv += ["--time-scale", str(args.time_scale)]
        self.arm = Child("arm", arm_argv, arm_env, self._log("arm"))
        self.arm.start()
        entra_json = self.sandbox_dir / entra_config.ENTRA_JSON
        entra_json.unlink(missing_ok=True)
        entra_argv = [sys.executable, "-m", "sandbox", "entra", "--port", str(args.entra_port)]
        self.entra = Child("entra", entra_argv, child_env, self._log("entra"))
        self.entra.start()
        tickets_json = self.sandbox_dir / TICKETS_JSON
        tickets_json.unlink(missing_ok=True)
        tickets_argv = [sys.executable, "-m", "sandbox", "tickets", "--port", str(args.tickets_port)]
        tickets_argv += ["--hook-url", f"{self.api}/hooks"]
        if args.time_scale is not None:
            tickets_argv += ["--time-scale", str(args.time_scale)]
        self.tickets = Child("tickets", tickets_argv, child_env, self._log("tickets"))
        self.tickets.start()
        wait_until(lambda: self._check_alive() and _read_json(arm_json) is not None, timeout, self.stop, "ARM")
        wait_until(
            lambda: self._check_alive() and _read_json(entra_json) is not None, timeout, self.stop, "the Entra stand-in"
        )
        wait_until(
            lambda: self._check_alive() and _read_json(tickets_json) is not None,
            timeout,
            self.stop,
            "the ticketing simulator",
        )
        arm = _read_json(arm_json) or {}
        ticketing = {key: value for key, value in (_read_json(tickets_json) or {}).items() if key != "pid"}
        identity = {key: value for key, value in (_read_json(entra_json) or {}).items() if key != "pid"}
        connection = self.azurite.connection_string
        host_env, settings = host_environment(
            child_env,
            arm=arm,
            connection=connection,
            overrides=parse_env_pairs(args.env),
            identity=identity,
            ticketing=ticketing,
        )
        provision(connection, settings, args.queue)
        host_argv = [sys.executable, "-m", "sandbox.host", "--app", args.app, "--app-dir", args.app_dir]
        host_argv += ["--port", str(args.api_port), "--instances", str(args.host_instances)]
        # The host also serves HTTPS, as a Function App does, for clients that send bearer tokens over TLS only
        # (azure-core's). Its key stays (private directory) while the sandbox runs: restarted hosts load it again.
        self.api_certs = make_certs(
            self.sandbox_dir, bundle_name=API_CA_BUNDLE, organization="regctl sandbox functions host"
        )
        host_argv += ["--https-port", str(args.https_port)]
        host_argv += ["--tls-cert", str(self.api_certs.cert_chain), "--tls-key", str(self.api_certs.key)]
        log = self._log("host")  # one log for every instance, as the Functions host's log stream
        for index in range(args.host_instances):
            name = "host" if index == 0 else f"host{index}"
            self.hosts.append(HostInstance(Child(name, [*host_argv, "--instance", str(index)], host_env, log)))
        for instance in self.hosts:
            instance.child.start()
        wait_until(lambda: self._check_alive() and host_ready(self.api), timeout, self.stop, "the host")
        self.info = {
            "api": self.api,
            "api_https": self.api_https,
            "arm_api": {  # the Azure-compatible surface: what azure-ai-ml takes as its resource_manager
                "endpoint": self.api_https + "/arm",
                "ca_bundle": str(self.api_certs.ca_bundle),
                "subscription_id": settings.subscription_id,
            },
            "arm": {key: arm.get(key) for key in ("endpoint", "blob_endpoint", "ca_bundle", "subscription_id")},
            "identity": identity,
            "ticketing": ticketing,
            "azurite": {
                "blob": self.azurite.blob_endpoint,
                "queue": self.azurite.queue_endpoint,
                "table": self.azurite.table_endpoint,
                "connection_string": connection,
                "persistence": "memory" if args.azurite_memory else "disk",
            },
            "pids": {},
        }
        self._write_info()
        logger.info("sandbox ready: api %s, details in %s", self.api, self.sandbox_dir / SANDBOX_JSON)

    def _check_alive(self) -> bool:
        """Raise if a service died while starting; restarting the host is only for after startup."""
        for child in (self.arm, self.entra, self.tickets, *(instance.child for instance in self.hosts)):
            if child is not None and child.exit_code() is not None:
                raise SandboxError(f"{child.name} exited with code {child.exit_code()} while starting")
        if self.azurite is not None and not self.azurite.alive():
            raise SandboxError("azurite exited while starting")
        return True

    def _write_info(self) -> None:
        """``pids``: ``host`` is the first host instance, ``host1``... the others."""
        assert self.azurite is not None and self.arm is not None and self.entra is not None
        assert self.tickets is not None
        hosts = {instance.child.name: instance.child.pid for instance in self.hosts}
        services = {"arm": self.arm.pid, "entra": self.entra.pid, "tickets": self.tickets.pid}
        services["azurite"] = self.azurite.pid
        self.info["pids"] = {**hosts, **services, "up": os.getpid()}
        write_json_atomically(self.sandbox_dir / SANDBOX_JSON, self.info)

    def _supervise(self) -> int:
        assert self.azurite is not None and self.arm is not None and self.entra is not None
        stand_ins = [self.arm, self.entra, *([self.tickets] if self.tickets is not None else [])]
        while not self.stop.wait(0.5):
            self._apply_azurite_wish()
            stand_ins_died = any(child.exit_code() is not None for child in stand_ins)
            if (self._azurite_up and not self.azurite.alive()) or stand_ins_died:
                logger.error("azurite, the ARM simulator or the Entra stand-in died; stopping the sandbox")
                return 1
            for instance in self.hosts:
                self._tend(instance)
        return 0

    def _tend(self, instance: HostInstance) -> None:
        """Restart a host instance that died, after a backoff that grows while it keeps dying young;
        the other instances go on serving meanwhile. ``sandbox.json`` names the new pid once the API
        answers (with several instances, any of them may be the one answering)."""
        child, now = instance.child, time.monotonic()
        if instance.announce and child.exit_code() is None:
            if host_ready(self.api):  # with one instance: the restarted one answers
                instance.announce = False
                self._write_info()
                logger.info("%s restarted pid=%s", child.name, child.pid)
            return
        instance.announce = False
        if instance.restart_at is None:
            code = child.exit_code()
            if code is None:
                return
            if now - child.started_at > _HEALTHY_AFTER_SECONDS:
                instance.failures = 0
            delay = _RESTART_BACKOFF[min(instance.failures, len(_RESTART_BACKOFF) - 1)]
            instance.failures += 1
            instance.restart_at = now + delay
            logger.warning("%s exited with code %s; restarting it in %.0f s", child.name, code, delay)
            return
        if now < instance.restart_at:
            return
        instance.restart_at = None
        child.start()
        instance.announce = True

    def _apply_azurite_wish(self) -> None:
        """Stop Azurite (SIGUSR1) or start it again on the same ports and data directory (SIGUSR2)."""
        assert self.azurite is not None
        wanted = self._azurite_wanted
        if wanted == self._azurite_up:
            return
        if not wanted and self.azurite.in_memory:
            logger.error("azurite keeps its data in memory (--azurite-memory): not stopping it, it would lose it")
            self._azurite_wanted = True
            return
        if wanted:
            self.azurite.start(self.args.startup_timeout)
            logger.info("azurite started again pid=%s", self.azurite.pid)
        else:
            self.azurite.stop(timeout=10)
            logger.warning("azurite stopped on request (SIGUSR1); SIGUSR2 starts it again")
        self._azurite_up = wanted
        self._write_info()

    def _stop_all(self) -> None:
        (self.sandbox_dir / SANDBOX_JSON).unlink(missing_ok=True)
        stoppers = [  # in parallel: each instance drains its invocations (its grace period is 30 s)
            threading.Thread(target=instance.child.stop, args=(45,), name=f"stop-{instance.child.name}")
            for instance in self.hosts
        ]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        for stand_in in (self.arm, self.entra, self.tickets):
            if stand_in is not None:
                stand_in.stop(timeout=10)
        if self.azurite is not None:
            self.azurite.stop(timeout=10)
        if self.api_certs is not None:
            self.api_certs.forget_key()
        for handle in self._logs:
            handle.close()
        logger.info("sandbox stopped")
