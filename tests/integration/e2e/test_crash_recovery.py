"""The functions host killed mid-provisioning (SIGKILL) is restarted and the registry still converges."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.integration.e2e.conftest import start_env
from tests.integration.e2e.test_provisioning import assert_provisioned_exactly, renamed

pytestmark = pytest.mark.integration


def host_pid(env) -> int:
    info = json.loads((env.sandbox.sandbox_dir / "sandbox.json").read_text())
    return int(info["pids"]["host"])


def wait_for_new_host(env, old_pid: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if host_pid(env) != old_pid and env.api.get("/api/health").status_code == 200:
                return
        except Exception:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the host was not restarted:\n{env.sandbox.logs()}")


def test_a_host_killed_twice_mid_run_is_restarted_and_the_registry_converges(tmp_path):
    for env in start_env(tmp_path, SANDBOX_LOCK_DURATION_SECONDS="3"):
        body = renamed("demo-registry-2.yml", "Crash1")
        response = env.create(body)
        assert response.status_code == 202
        for delay in (0.4, 1.2):
            time.sleep(delay)
            pid = host_pid(env)
            os.kill(pid, signal.SIGKILL)
            wait_for_new_host(env, pid)
        operation = env.wait(response.headers["Location"], timeout=180)
        assert operation["status"] == "Succeeded", operation
        assert_provisioned_exactly(env, body)
