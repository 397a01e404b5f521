"""Start ``python -m sandbox arm`` as a subprocess and wait until it listens (tests, benchmarks).

The child gets its own ``SANDBOX_DIR`` and ``--port 0``; the launcher reads the real endpoint from the
``arm.json`` the child writes once it accepts connections. Output goes to ``arm.log`` in that directory
(shown when the start fails). ``stop`` sends SIGTERM, then SIGKILL after a grace period, so no
process is left behind.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class ArmEndpoint:
    endpoint: str
    ca_bundle: str
    subscription_id: str
    sandbox_dir: Path
    #: ``https://host:port`` of the blob proxy; a storage account's blob endpoint is ``{this}/{name}/``.
    blob_endpoint: str = ""


class SimulatorProcess:
    """``with SimulatorProcess(time_scale=0.01) as arm: ...`` yields an ``ArmEndpoint``."""

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        sandbox_dir: Path | None = None,
        port: int = 0,
        extra_args: tuple[str, ...] = (),
        startup_timeout: float = 30.0,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.time_scale = time_scale
        self._own_dir = sandbox_dir is None
        self.sandbox_dir = sandbox_dir or Path(tempfile.mkdtemp(prefix="regctl-arm-"))
        self.port = port
        self.extra_args = extra_args
        self.startup_timeout = startup_timeout
        #: Added to the child's environment (secrets go here, not in ``extra_args``, which a failure shows).
        self.extra_env = dict(extra_env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    def start(self) -> ArmEndpoint:
        self.sandbox_dir.mkdir(parents=True, exist_ok=True)
        arm_json = self.sandbox_dir / "arm.json"
        arm_json.unlink(missing_ok=True)
        env = {**os.environ, **self.extra_env}
        env["SANDBOX_DIR"] = str(self.sandbox_dir)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        log_path = self.sandbox_dir / "arm.log"
        log_file = log_path.open("wb")
        self._log = log_file
        cmd = [
            sys.executable,
            "-m",
            "sandbox",
            "arm",
            "--port",
            str(self.port),
            "--time-scale",
            repr(self.time_scale),
            "--blob-port",
            "0",
            *self.extra_args,
        ]
        self.process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                info = json.loads(arm_json.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                time.sleep(0.02)
                continue
            return ArmEndpoint(
                info["endpoint"], info["ca_bundle"], info["subscription_id"], self.sandbox_dir, info["blob_endpoint"]
            )
        self.stop()
        output = log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RuntimeError(f"the ARM simulator did not start ({' '.join(cmd)}):\n{output}")

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.process = None
        log_file = self._log
        if log_file is not None:
            log_file.close()
            self._log = None

    def __enter__(self) -> ArmEndpoint:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
