"""``Sandbox``: a whole sandbox (``python -m sandbox.up``) as a context manager, for pytest and benchmarks.

It runs ``up`` as a child process, on free ports unless told otherwise, with its own ``SANDBOX_DIR``, so a
test session never collides with ``make run``. ``info`` is the ``sandbox.json`` that ``up`` wrote. Output
of the services goes to ``<sandbox_dir>/logs``; ``logs()`` returns it for failure messages. ``identity``
is the Entra stand-in's part of ``sandbox.json``; ``token(...)`` and ``owner_token()`` mint bearer tokens
in-process with its signing key (what ``python -m sandbox token`` prints).

    with Sandbox(Path(tmp), time_scale=0.01) as sandbox:
        headers = {"Authorization": f"Bearer {sandbox.owner_token()}"}
        requests.post(sandbox.api + "/registries", headers=headers, ...)
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from sandbox.azurite_proc import stop_process_group
from sandbox.entra.offline import Minter, principal_for
from sandbox.entra.tokens import PrincipalType
from sandbox.processes import SANDBOX_JSON

REPO_ROOT = Path(__file__).resolve().parent.parent
#: ``blob-proxy`` serves the simulated storage accounts' blob endpoints; ``blob`` is Azurite's own port;
#: ``https`` is the API over TLS.
_PORT_NAMES = ("api", "https", "arm", "entra", "tickets", "blob", "queue", "table", "blob-proxy")


def free_port() -> int:
    """A port that was free a moment ago (the usual race applies; good enough for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sandbox:
    """Start and stop one sandbox; ``info`` once started."""

    def __init__(
        self,
        sandbox_dir: Path,
        *,
        time_scale: float | None = None,
        env: Mapping[str, str] | None = None,
        queues: Sequence[str] = (),
        app: str = "function_app",
        app_dir: Path | None = None,
        ports: Mapping[str, int] | None = None,
        startup_timeout: float = 120.0,
        host_instances: int = 1,
        azurite_memory: bool = False,
    ) -> None:
        self.sandbox_dir = sandbox_dir.resolve()
        self.time_scale = time_scale
        self.env = dict(env or {})
        self.queues = list(queues)
        self.app = app
        self.app_dir = (app_dir or REPO_ROOT).resolve()
        self.ports = {name: (ports or {}).get(name) or free_port() for name in _PORT_NAMES}
        self.startup_timeout = startup_timeout
        self.host_instances = host_instances
        self.azurite_memory = azurite_memory
        self.process: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}
        self._minter: Minter | None = None

    @property
    def api(self) -> str:
        return str(self.info["api"])

    @property
    def blob_endpoint(self) -> str:
        """``https://127.0.0.1:{port}`` of the storage accounts' blob endpoints (``{this}/{account}/``)."""
        return str(self.info["arm"]["blob_endpoint"])

    @property
    def ca_bundle(self) -> str:
        """The CA bundle that signs the ARM simulator's and the blob endpoints' certificates."""
        return str(self.info["arm"]["ca_bundle"])

    @property
    def api_https(self) -> str:
        """The same API over TLS (the CA bundle is ``arm_api["ca_bundle"]``)."""
        return str(self.info["api_https"])

    @property
    def arm_api(self) -> dict[str, Any]:
        """``sandbox.json``'s ``arm_api``: ``endpoint`` (the root azure-ai-ml takes as ``resource_manager``),
        ``ca_bundle`` and ``subscription_id``."""
        arm_api: dict[str, Any] = self.info["arm_api"]
        return arm_api

    @property
    def identity(self) -> dict[str, Any]:
        """``sandbox.json``'s ``identity``: issuer, jwks_uri, token_endpoint, audience, tenant_id, client..."""
        identity: dict[str, Any] = self.info["identity"]
        return identity

    def token(
        self,
        principal_id: str,
        *,
        name: str | None = None,
        type: PrincipalType | str | None = None,
        audience: str | None = None,
        roles: Sequence[str] = (),
        groups: Sequence[str] = (),
    ) -> str:
        """An access token of the Entra stand-in for that principal (``oid``), signed in-process. ``type``:
        ``User`` (the default, unless the id is a service principal the sandbox made), ``Group`` or
        ``ServicePrincipal``."""
        if self._minter is None or self._minter.identity != self.identity:
            self._minter = Minter(self.identity)
        principal = principal_for(principal_id, name=name, type=PrincipalType(type) if type else None)
        return self._minter.token(principal, audience=audience, roles=roles, groups=groups)

    def owner_token(self) -> str:
        """A token of the bootstrap owner (``REGCTL_BOOTSTRAP_OWNERS`` of the host)."""
        return self.token(str(self.identity["owner_principal_id"]))

    @property
    def log_dir(self) -> Path:
        return self.sandbox_dir / "logs"

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "sandbox.up"]
        for name in _PORT_NAMES:
            command += [f"--{name}-port", str(self.ports[name])]
        command += ["--app", self.app, "--app-dir", str(self.app_dir), "--log-dir", str(self.log_dir)]
        command += ["--startup-timeout", str(self.startup_timeout), "--host-instances", str(self.host_instances)]
        if self.time_scale is not None:
            command += ["--time-scale", str(self.time_scale)]
        if self.azurite_memory:
            command += ["--azurite-memory"]
        for key, value in self.env.items():
            command += ["--env", f"{key}={value}"]
        for queue in self.queues:
            command += ["--queue", queue]
        return command

    def start(self) -> dict[str, Any]:
        self.sandbox_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        env = {**os.environ, "SANDBOX_DIR": str(self.sandbox_dir)}
        env.pop("SANDBOX_AZURITE_MEMORY", None)  # ``azurite_memory`` decides, not the caller's environment
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        with (self.log_dir / "up.log").open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox up exited with {self.process.returncode}:\n{self.logs()}")
            info = self.read_info()
            if info and info.get("pids", {}).get("up") == self.process.pid:
                self.info = info
                return info
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"sandbox did not start within {self.startup_timeout} s:\n{self.logs()}")

    def read_info(self) -> dict[str, Any] | None:
        try:
            info = json.loads((self.sandbox_dir / SANDBOX_JSON).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return info if isinstance(info, dict) else None

    def run_function(self, name: str) -> int:
        """Run a timer function now, through the host's admin endpoint; the HTTP status (202)."""
        base = self.api.removesuffix("/api")
        request = urllib.request.Request(f"{base}/admin/functions/{name}", data=b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)

    def stop_azurite(self, timeout: float = 30.0) -> None:
        """A storage outage: ``up`` stops Azurite (SIGUSR1) and keeps it down until ``start_azurite``."""
        if self.azurite_memory:
            raise RuntimeError("Azurite keeps its data in memory in this sandbox: stopping it would lose it")
        self._signal_up(signal.SIGUSR1, lambda pid: pid is None, timeout, "Azurite to stop")

    def start_azurite(self, timeout: float = 60.0) -> None:
        """End the outage: ``up`` starts Azurite again on the same ports and data directory (SIGUSR2)."""
        self._signal_up(signal.SIGUSR2, lambda pid: isinstance(pid, int), timeout, "Azurite to start again")

    def _signal_up(self, signum: int, done: Callable[[object], bool], timeout: float, what: str) -> None:
        if self.process is None:
            raise RuntimeError("the sandbox is not running")
        self.process.send_signal(signum)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.read_info()
            if info is not None and done(info.get("pids", {}).get("azurite")):
                self.info = info
                return
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {what}:\n{self.logs()}")

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM ``up`` and wait for it to stop its services; SIGKILL the group if it hangs."""
        if self.process is None:
            return None
        stop_process_group(self.process, timeout)  # SIGTERM to `up` (alone in its group), then SIGKILL
        code = self.process.returncode
        self.process = None
        return code

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            text = path.read_text(encoding="utf-8", errors="replace")
            parts.append(f"--- {path.name} ---\n{text[-4000:]}")
        return "\n".join(parts)

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
