"""ARM misbehaving: 20 % of requests fail (429, 503, dropped connections, long-running operations that end
Failed with a transient code) on every method and resource type; separately, a permanent failure.

Fault draws come from the simulator's seeded RNG, so a run is reproducible up to the order in which
concurrent requests reach it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.arm.control import FaultRule
from tests.chaos.workload import (
    RESOURCE_TYPES,
    Workload,
    first_phase,
    region,
    second_phase,
    spec_document,
)
from tests.integration.e2e.conftest import Env, start_env

pytestmark = pytest.mark.integration

SEED = 6
STATUS_FAULTS = (429, 503, 0)  # 0: the connection is dropped before the request is processed
RATE = 1 - 0.8 ** (1 / len(STATUS_FAULTS))  # three rules tried in turn: 20 % of requests fail
TRANSIENT_LRO_CODES = ("InternalServerError", "ServerBusy", "OperationTimedOut")
LRO_RATE = 1 - 0.8 ** (1 / len(TRANSIENT_LRO_CODES))
#: (method, resource type) pairs that start a long-running operation in the simulator.
LRO_STARTS = (
    ("PUT", "Microsoft.Storage/storageAccounts"),
    ("PUT", "Microsoft.ContainerRegistry/registries"),
    ("PUT", "Microsoft.ContainerRegistry/registries/replications"),
    ("DELETE", "Microsoft.Resources/resourceGroups"),
    ("DELETE", "Microsoft.ContainerRegistry/registries"),
    ("DELETE", "Microsoft.ContainerRegistry/registries/replications"),
)
#: What the workload makes regctl send, by method; POST (listKeys, checkNameAvailability) is never needed to
#: provision, and resource groups and replications are never PATCHed (group tags are PUT).
EXERCISED: dict[str, tuple[str, ...]] = {
    "GET": RESOURCE_TYPES,
    "PUT": RESOURCE_TYPES,
    "DELETE": RESOURCE_TYPES,
    "PATCH": ("Microsoft.Storage/storageAccounts", "Microsoft.ContainerRegistry/registries"),
}


def coverage_rules() -> list[FaultRule]:
    """One sure fault for every method and resource type the workload uses, the kinds taking turns so that each
    method meets each kind, and the first long-running operation of every kind Failed: every combination is
    exercised instead of left to chance, without stacking several sure faults on one request."""
    rules: list[FaultRule] = []
    for method, types in EXERCISED.items():
        turns = max(len(types), len(STATUS_FAULTS))
        pairs = zip(itertools.islice(itertools.cycle(types), turns), itertools.cycle(STATUS_FAULTS))
        rules += [{"method": method, "resource_type": t, "status": s, "count": 1, "retry_after": 1} for t, s in pairs]
    rules += [
        {"method": m, "resource_type": t, "lro_result": "Failed", "error_code": code, "count": 1}
        for (m, t), code in zip(LRO_STARTS, itertools.cycle(TRANSIENT_LRO_CODES))
    ]
    return rules


def random_rules() -> list[FaultRule]:
    """20 % of all requests (any method, any type) fail, and 20 % of long-running operations end Failed."""
    rules: list[FaultRule] = [{"status": s, "rate": RATE, "retry_after": 1} for s in STATUS_FAULTS]
    return rules + [{"lro_result": "Failed", "error_code": code, "rate": LRO_RATE} for code in TRANSIENT_LRO_CODES]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    yield from start_env(tmp_path)


def test_twenty_percent_arm_faults_on_every_method_and_type_still_converge_exactly(env: Env):
    workload = Workload(env)
    workload.wait_succeeded(first_phase(workload), timeout=60)  # the registries to update and delete
    coverage = coverage_rules()
    env.arm.control.set_faults(coverage + random_rules(), seed=SEED)
    second_phase(workload)  # creates, an update and a delete at once, under faults
    workload.wait(workload.accepted, timeout=180)
    rules = env.arm.control.faults()
    env.arm.control.clear_faults()
    workload.assert_converged()

    assert [r["hits"] for r in rules[: len(coverage)]] == [1] * len(coverage), rules[: len(coverage)]
    # hundreds of requests meet the random status rules; the few operations that start may miss a random
    # LRO rule (the sure ones above fail the first of every kind)
    random_status = [r for r in rules[len(coverage) :] if r["status"] is not None]
    assert all(r["hits"] > 0 for r in random_status), random_status
    hit_kinds = {(r["method"], r["status"]) for r in rules[: len(coverage)] if r["status"] is not None}
    assert hit_kinds == {(m, s) for m in EXERCISED for s in STATUS_FAULTS}


def test_a_permanent_failure_fails_only_its_operation_with_the_reason_and_a_sync_recovers_it(env: Env):
    # Only the multi-region registry has geo-replicas, so the rule can only hit one of its two replicas.
    env.arm.control.set_faults(
        [
            {
                "method": "PUT",
                "resource_type": "Microsoft.ContainerRegistry/registries/replications",
                "lro_result": "Failed",
                "error_code": "QuotaExceeded",
                "count": 1,
            }
        ]
    )
    workload = Workload(env)
    doomed = workload.create(
        spec_document("ChaosQuota", "eastus", [region("eastus"), region("westus"), region("eastus2")])
    )
    others = [
        workload.create(spec_document(f"ChaosSingle{i}", location, [region(location)]))
        for i, location in enumerate(("westus", "northeurope", "westeurope"))
    ]
    outcome = workload.wait([doomed, *others], timeout=120)

    failed = outcome[doomed.what]
    assert failed["status"] == "Failed", failed
    assert failed["error"]["code"] == "QuotaExceeded", failed
    failed_steps = [s for s in failed["steps"] if s["state"] == "Failed"]
    assert len(failed_steps) == 1, failed["steps"]
    assert failed_steps[0]["step"].startswith("ensure_replica:") and "QuotaExceeded" in failed_steps[0]["lastError"]
    assert all(outcome[o.what]["status"] == "Succeeded" for o in others), outcome
    registry = env.api.get("/api/registries/ChaosQuota").json()
    assert registry["status"] == "Failed", registry

    # the cause fixed (the rule was used up), a sync reconciles from what exists
    workload.wait_succeeded([workload.sync("ChaosQuota")], timeout=60)
    workload.assert_converged(except_=[doomed.location])
