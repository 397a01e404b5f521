"""Azurite (queues and tables: the state store and the message broker) stopped mid-run and started again on
the same ports and data directory, through the sandbox's outage hook (``Sandbox.stop_azurite``).

During an outage the API answers 5xx (the client retries with the same Idempotency-Key), functions fail and
their messages are redelivered once their locks expire; nothing accepted may be lost.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.chaos.workload import Workload, first_phase, region, second_phase, spec_document
from tests.integration.e2e.conftest import start_env

pytestmark = pytest.mark.integration


def test_azurite_restarted_mid_run_loses_no_operation_and_everything_converges_exactly(tmp_path):
    for env in start_env(tmp_path, SANDBOX_LOCK_DURATION_SECONDS="3"):
        workload = Workload(env)
        workload.wait_succeeded(first_phase(workload), timeout=60)
        second_phase(workload)  # creates, an update and a delete in flight when storage goes down
        env.sandbox.stop_azurite()
        # a create sent while storage is down is answered 5xx, retried, and accepted once storage is back
        late = threading.Thread(
            target=workload.create, args=(spec_document("ChaosDuringOutage", "westus", [region("westus")]),)
        )
        late.start()
        time.sleep(2.0)  # the outage lasts this long
        env.sandbox.start_azurite()
        late.join()
        workload.assert_converged()
