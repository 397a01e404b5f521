"""The functions host killed with SIGKILL mid-run, several times; the supervisor restarts it.

Invocations in flight die with it: their messages come back when their locks expire (3 s here), steps
resume from their records (a running ARM operation is polled, not started again).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.chaos.workload import Workload, first_phase, second_phase
from tests.integration.e2e.conftest import Env, start_env
from tests.integration.e2e.test_crash_recovery import host_pid, wait_for_new_host

pytestmark = pytest.mark.integration


def kill_host(env: Env, after: float) -> None:
    time.sleep(after)  # let it get into the middle of the work
    pid = host_pid(env)
    os.kill(pid, signal.SIGKILL)
    wait_for_new_host(env, pid)


def test_the_host_killed_three_times_mid_run_is_restarted_and_everything_converges_exactly(tmp_path):
    """Also: every operation's OperationFinished is heard by its consumer, whatever moment a kill hit (between
    a terminal status write and its send, the outbox relay, every 5 s here, sends it)."""
    for env in start_env(tmp_path, SANDBOX_LOCK_DURATION_SECONDS="3", OUTBOX_RELAY_SCHEDULE="*/5 * * * * *"):
        workload = Workload(env)
        created = first_phase(workload)
        kill_host(env, after=0.8)
        workload.wait_succeeded(created, timeout=90)
        second_phase(workload)
        kill_host(env, after=0.5)
        kill_host(env, after=1.5)
        workload.assert_converged()
        workload.assert_every_finish_heard()
