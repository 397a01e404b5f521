"""Issue 4 end to end: HTTP -> queue -> idempotent steps -> ARM, in the real sandbox."""

from __future__ import annotations

import uuid

import pytest
import yaml

from shared.domain.documents import load_yaml
from shared.domain.spec import parse_spec
from tests.integration.e2e.conftest import DATA, Env, start_env

pytestmark = pytest.mark.integration


def renamed(path: str, name: str) -> str:
    """A seed example under a fresh name, so tests share one sandbox without colliding."""
    document = yaml.safe_load((DATA / path).read_text())
    document["name"] = name
    return yaml.safe_dump(document)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def assert_provisioned_exactly(env: Env, body: str) -> None:
    """Every resource, SKU, HNS flag, location and tag of the spec, and nothing more."""
    spec = parse_spec(load_yaml(body)).spec
    group = f"regctl-{spec.key}"
    rg = env.arm.resources.resource_groups.get(group)
    assert rg.location == spec.location
    assert {k: v for k, v in (rg.tags or {}).items() if k in spec.tags} == spec.tags
    accounts = list(env.arm.storage.storage_accounts.list_by_resource_group(group))
    expected = sorted(
        (entry.location, index, entry.storage.storage_account_type.value, entry.storage.storage_account_hns)
        for entry in spec.replication_locations
        for index in range(entry.storage.replication_count)
    )
    actual = sorted(
        (a.location, int(a.tags["regctl-index"]), str(getattr(a.sku.name, "value", a.sku.name)), bool(a.is_hns_enabled))
        for a in accounts
    )
    assert actual == expected
    for account in accounts:
        assert {k: account.tags[k] for k in spec.tags} == spec.tags
        assert account.provisioning_state in ("Succeeded", getattr(account.provisioning_state, "value", None))
    registries = list(env.arm.acr.registries.list_by_resource_group(group))
    assert len(registries) == 1
    acr = registries[0]
    assert str(getattr(acr.sku.name, "value", acr.sku.name)) == "Premium" and acr.location == spec.location
    replicas = {r.location for r in env.arm.acr.replications.list(group, acr.name or "")}
    others = set(spec.regions) - {spec.location}
    assert replicas - {spec.location} == others


@pytest.mark.parametrize("seed", ["demo-registry-1.yml", "demo-registry-2.yml"])
def test_the_seed_examples_are_provisioned_exactly(clean: Env, seed: str):
    body = renamed(seed, unique("Seed"))
    response = clean.create(body)
    assert response.status_code == 202, response.text
    operation = clean.wait(response.headers["Location"])
    assert operation["status"] == "Succeeded", operation
    assert_provisioned_exactly(clean, body)
    registry = clean.api.get(f"/api/registries/{parse_spec(load_yaml(body)).spec.name}").json()
    assert registry["status"] == "Ready" and registry["observedGeneration"] == 1
    assert registry["drift"] == []


def test_an_invalid_spec_is_a_problem_and_nothing_is_stored_or_sent_to_arm(clean: Env):
    clean.arm.control.clear_requests()
    before = clean.api.get("/api/registries").json()["value"]
    response = clean.create("name: x!\nlocation: East US\nreplication_locations: []\n")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in response.json()["errors"]} == {"name", "location"}
    assert clean.api.get("/api/registries").json()["value"] == before
    # other tests' registries may still be re-observed (reads); nothing may be written
    assert [r for r in clean.arm.control.requests() if r["method"] != "GET"] == []


def test_an_idempotency_key_replay_returns_the_same_operation(clean: Env):
    body = renamed("demo-registry-1.yml", unique("Idem"))
    key = uuid.uuid4().hex
    first = clean.create(body, **{"Idempotency-Key": key})
    second = clean.create(body, **{"Idempotency-Key": key})
    assert first.status_code == second.status_code == 202
    assert first.headers["Location"] == second.headers["Location"]
    assert clean.wait(first.headers["Location"])["status"] == "Succeeded"


def test_throttling_and_server_errors_on_every_write_are_survived(clean: Env):
    clean.arm.control.set_faults(
        [
            {"method": "PUT", "status": 429, "retry_after": 1, "rate": 0.3},
            {"method": "PUT", "status": 503, "rate": 0.2},
            {"method": "GET", "status": 503, "rate": 0.1},
        ],
        seed=7,
    )
    body = renamed("demo-registry-1.yml", unique("Faulty"))
    response = clean.create(body)
    operation = clean.wait(response.headers["Location"], timeout=180)
    clean.arm.control.clear_faults()
    assert operation["status"] == "Succeeded", operation
    assert_provisioned_exactly(clean, body)


def test_a_long_running_operation_ending_failed_transiently_is_survived(clean: Env):
    clean.arm.control.set_faults(
        [
            {
                "method": "PUT",
                "resource_type": "Microsoft.ContainerRegistry/registries/replications",
                "lro_result": "Failed",
                "count": 1,
            }
        ]
    )
    body = renamed("demo-registry-1.yml", unique("LroFail"))
    operation = clean.wait(clean.create(body).headers["Location"], timeout=120)
    assert operation["status"] == "Succeeded", operation
    assert_provisioned_exactly(clean, body)


def test_a_permanent_arm_failure_fails_the_operation_with_the_reason(clean: Env):
    clean.arm.control.set_faults(
        [
            {
                "method": "PUT",
                "resource_type": "Microsoft.ContainerRegistry/registries/replications",
                "lro_result": "Failed",
                "error_code": "QuotaExceeded",
            }
        ]
    )
    body = renamed("demo-registry-1.yml", unique("Quota"))
    operation = clean.wait(clean.create(body).headers["Location"], timeout=120)
    assert operation["status"] == "Failed"
    assert operation["error"]["code"] == "QuotaExceeded"
    failed = [s for s in operation["steps"] if s["state"] == "Failed"]
    assert failed and failed[0]["step"].startswith("ensure_replica:") and "QuotaExceeded" in failed[0]["lastError"]


def test_every_message_delivered_twice_gives_the_same_state_with_minimum_writes(tmp_path):
    for env in start_env(tmp_path, SANDBOX_DELIVER_TWICE="1"):
        body = renamed("demo-registry-1.yml", "Twice1")
        env.arm.control.clear_requests()
        operation = env.wait(env.create(body).headers["Location"], timeout=120)
        assert operation["status"] == "Succeeded", operation
        assert_provisioned_exactly(env, body)
        writes = [r for r in env.arm.control.requests() if r["method"] in ("PUT", "PATCH", "POST", "DELETE")]
        # 1 group + 3 storage accounts + 1 ACR + 2 replicas: nothing written twice
        assert len(writes) == 7, writes
