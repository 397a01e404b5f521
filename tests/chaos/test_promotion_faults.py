"""Promotion by events under faults, on one sandbox, each case with an exact count of target versions.

A source registry (two regions) and one target registry per case, each fed by its own rule (a name glob):

- every event delivered three times, under new message ids (past Service Bus duplicate detection, so only
  the handler's own deduplication and the promotions' keys stand), in a shuffled order: one version each;
- 20 % of blob requests failing (500, 503, dropped connections) while the sources register and promote;
- the functions host killed (SIGKILL) while promotions run;
- a rule whose creator loses ``assets/write`` on the target mid-way: what was promoted stays, the next
  promotion ends ``Failed`` with ``AuthorizationFailed``, shown on the rule, and copies nothing.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from shared.adapters.storage_queue import StorageQueuePublisher
from shared.ports import OutboundMessage
from tests.chaos.test_asset_faults import register, upload
from tests.chaos.test_host_crashes import kill_host
from tests.integration.e2e.conftest import Env, start_env
from tests.integration.e2e.test_promotion import EVENTS_QUEUE, drain, promotions, registry
from tests.integration.e2e.test_provisioning import unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]  # several phases, each a sandbox workload
SOURCE_REGIONS = ("eastus", "eastus2")
TARGET_REGIONS = ("westus", "centralus")


def rule(env: Env, name: str, source: str, target: str, glob: str, **headers: str) -> None:
    body = {"source": {"registry": source}, "filter": {"name": glob}, "target": {"registry": target}}
    made = env.api.put(f"/api/promotionRules/{name}", json=body, headers=headers)
    assert made.status_code == 200, made.text


def register_all(env: Env, source: str, names: list[str]) -> None:
    uploads = {name: upload(env, source, name)[0] for name in names}
    with ThreadPoolExecutor(max_workers=6) as pool:
        for done in [pool.submit(register, env, source, name, uploads[name]) for name in names]:
            done.result()


def listed(env: Env, registry_name: str) -> dict[str, dict[str, Any]]:
    """Every model version of a registry by name (every model here has version 1 only)."""
    models = env.api.get(f"/api/registries/{registry_name}/models").json()["value"]
    found: dict[str, dict[str, Any]] = {}
    for model in models:
        versions = env.api.get(f"/api/registries/{registry_name}/models/{model['name']}/versions").json()["value"]
        assert [v["version"] for v in versions] == ["1"], (model["name"], versions)
        found[model["name"]] = env.api.get(f"/api/registries/{registry_name}/models/{model['name']}/versions/1").json()
    return found


def wait_settled(env: Env, rule_name: str, count: int, timeout: float = 240) -> list[dict[str, Any]]:
    """Until ``count`` promotions of the rule ended (none still running or pending)."""
    deadline = time.monotonic() + timeout
    while True:
        found = promotions(env, rule_name)
        if len(found) >= count and all(p["status"] in ("Succeeded", "Failed", "Rejected") for p in found):
            return found
        assert time.monotonic() < deadline, ([(p["source"], p["status"]) for p in found], env.sandbox.logs())
        time.sleep(1.0)


def assert_promoted_exactly(env: Env, rule_name: str, source: str, target: str, names: list[str]) -> None:
    settled = wait_settled(env, rule_name, len(names))
    drain(env)  # every redelivery handled: nothing can add a promotion after this
    settled = promotions(env, rule_name)
    assert sorted(p["source"] for p in settled) == sorted(
        f"azureml://registries/{source}/models/{n}/versions/1" for n in names
    )
    assert {p["status"] for p in settled} == {"Succeeded"}, settled
    found = listed(env, target)
    assert sorted(found) == sorted(names)
    for name, doc in found.items():
        assert doc["status"] == "Available", (name, doc)
        assert {r: c["state"] for r, c in doc["replication"].items()} == dict.fromkeys(TARGET_REGIONS, "Replicated")
        assert doc["properties"]["promotedFrom"] == f"azureml://registries/{source}/models/{name}/versions/1"
        assert doc["properties"]["promotionRule"] == rule_name


def wait_available(env: Env, registry_name: str, names: list[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while True:
        found = listed(env, registry_name)
        if sorted(found) == sorted(names) and all(d["status"] == "Available" for d in found.values()):
            return
        assert time.monotonic() < deadline, {n: d["status"] for n, d in found.items()}
        time.sleep(1.0)


def redeliver_three_times_shuffled(env: Env, source: str, names: list[str]) -> None:
    events = [
        {
            "id": f"replay-{source}-{name}",
            "eventType": "Regctl.Registries.AssetVersionAvailable",
            "subject": f"/registries/{source}/models/{name}/versions/1",
            "eventTime": "2026-01-01T00:00:00Z",
            "data": {},
            "dataVersion": "1.0",
        }
        for name in names
    ]
    messages = [OutboundMessage(EVENTS_QUEUE, f"{e['id']}-{i}", json.dumps(e)) for i in range(3) for e in events]
    random.Random(13).shuffle(messages)
    StorageQueuePublisher(env.sandbox.info["azurite"]["connection_string"]).publish(messages)


def person(env: Env, *scopes: str) -> tuple[dict[str, str], dict[str, str]]:
    """A new principal with Contributor on each scope: its token header and its assignment ids by scope."""
    principal, assignments = str(uuid.uuid4()), {}
    for scope in scopes:
        assignments[scope] = str(uuid.uuid4())
        body = {"scope": scope, "principalId": principal, "principalType": "User", "roleDefinitionId": "Contributor"}
        granted = env.api.put(f"/api/roleAssignments/{assignments[scope]}", json=body)
        assert granted.status_code == 201, granted.text
    return {"Authorization": f"Bearer {env.sandbox.token(principal, name='rule-creator@example.com')}"}, assignments


def test_promotions_under_redelivery_blob_faults_a_killed_host_and_a_revoked_creator_are_exact(tmp_path):
    for env in start_env(tmp_path, SANDBOX_LOCK_DURATION_SECONDS="3", MAX_STEP_ATTEMPTS="12"):
        source = unique("src")
        targets = {case: unique(case) for case in ("dup", "fault", "kill", "right")}
        with ThreadPoolExecutor(max_workers=5) as pool:
            made = [pool.submit(registry, env, source, *SOURCE_REGIONS)]
            made += [pool.submit(registry, env, t, *TARGET_REGIONS) for t in targets.values()]
            for future in made:
                future.result()

        # every event three times, out of order: the versions exist before the rule, the events come after
        dup = [f"d{i}" for i in range(4)]
        register_all(env, source, dup)
        wait_available(env, source, dup)
        rule(env, "dup", source, targets["dup"], "d*")
        redeliver_three_times_shuffled(env, source, dup)
        assert_promoted_exactly(env, "dup", source, targets["dup"], dup)

        # 20 % blob faults while the sources register and their promotions copy
        rule(env, "fault", source, targets["fault"], "f*")
        faulty = [f"f{i}" for i in range(6)]
        uploads = {name: upload(env, source, name)[0] for name in faulty}
        env.arm.control.set_faults(
            [
                {"service": "blob", "operation": "any", "status": 503, "rate": 0.1},
                {"service": "blob", "operation": "any", "status": 500, "rate": 0.05},
                {"service": "blob", "operation": "any", "status": 0, "rate": 0.05},
            ],
            seed=13,
        )
        with ThreadPoolExecutor(max_workers=6) as pool:
            for done in [pool.submit(register, env, source, n, uploads[n]) for n in faulty]:
                done.result()
        wait_settled(env, "fault", len(faulty))
        env.arm.control.clear_faults()
        assert_promoted_exactly(env, "fault", source, targets["fault"], faulty)

        # the host killed while promotions run
        rule(env, "kill", source, targets["kill"], "k*")
        killed = [f"k{i}" for i in range(6)]
        register_all(env, source, killed)
        deadline = time.monotonic() + 120
        while not any(p["status"] == "Running" for p in promotions(env, "kill")):
            assert time.monotonic() < deadline, env.sandbox.logs()
            time.sleep(0.2)
        kill_host(env, after=0.3)
        assert_promoted_exactly(env, "kill", source, targets["kill"], killed)

        # the rule's creator loses assets/write on the target after the first promotion
        right = f"/registries/{targets['right']}"
        creator, assignments = person(env, f"/registries/{source}", right)
        rule(env, "right", source, targets["right"], "r*", **creator)
        register_all(env, source, ["r0"])
        assert_promoted_exactly(env, "right", source, targets["right"], ["r0"])
        revoked = env.api.delete(f"/api/roleAssignments/{assignments[right]}")
        assert revoked.status_code == 200, revoked.text
        register_all(env, source, ["r1"])
        settled = wait_settled(env, "right", 2)
        drain(env)
        statuses = {p["source"].split("/")[-3]: (p["status"], p.get("error")) for p in promotions(env, "right")}
        assert statuses["r0"][0] == "Succeeded" and statuses["r1"][0] == "Failed", settled
        assert statuses["r1"][1]["code"] == "AuthorizationFailed", statuses
        assert env.api.get("/api/promotionRules/right").json()["lastError"]["code"] == "AuthorizationFailed"
        assert sorted(listed(env, targets["right"])) == ["r0"]
