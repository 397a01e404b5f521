"""Every message delivered twice (``SANDBOX_DELIVER_TWICE=1``): the second delivery of each, possibly late
and on another worker, must change nothing, and no ARM resource may be written twice."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.chaos.workload import Workload, first_phase, second_phase
from tests.integration.e2e.conftest import start_env

pytestmark = pytest.mark.integration

#: The least ARM writes of the standard workload, by method and resource type:
#: creates of ChaosUpdated (3 regions), ChaosDeleted (2), ChaosA (3), ChaosB (2 regions, 3 accounts), ChaosC (1);
#: the update (group tags PUT, 2 accounts and the ACR PATCHed, 2 accounts and a replica added, a replica and an
#: account removed); the delete (a replica, 2 accounts, the ACR, the group).
MINIMUM_WRITES = Counter(
    {
        ("PUT", "resourceGroups"): 5 + 1,
        ("PUT", "storageAccounts"): 3 + 2 + 3 + 3 + 1 + 2,
        ("PUT", "registries"): 5,
        ("PUT", "replications"): 2 + 1 + 2 + 1 + 0 + 1,
        ("PATCH", "storageAccounts"): 2,
        ("PATCH", "registries"): 1,
        ("DELETE", "replications"): 1 + 1,
        ("DELETE", "storageAccounts"): 1 + 2,
        ("DELETE", "registries"): 1,
        ("DELETE", "resourceGroups"): 1,
    }
)


def resource_type(path: str) -> str:
    """The type of the resource a write names: ``.../storageAccounts/{name}`` -> ``storageAccounts``."""
    kind = path.split("?", maxsplit=1)[0].rstrip("/").split("/")[-2]
    return "resourceGroups" if kind.lower() == "resourcegroups" else kind


def test_every_message_delivered_twice_converges_exactly_with_no_arm_write_repeated(tmp_path):
    for env in start_env(tmp_path, SANDBOX_DELIVER_TWICE="1"):
        env.arm.control.clear_requests()
        workload = Workload(env)
        workload.wait_succeeded(first_phase(workload), timeout=90)
        second_phase(workload)
        workload.assert_converged()
        writes = Counter(
            (r["method"], resource_type(r["path"]))
            for r in env.arm.control.requests()
            if r["method"] in ("PUT", "PATCH", "POST", "DELETE")
        )
        assert writes == MINIMUM_WRITES
