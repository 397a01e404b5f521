# mypy: disable-error-code="call-overload, arg-type"
"""Issue 5 end to end: update, delete, region sync and drift healing, policies, concurrency, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_provisioning import assert_provisioned_exactly, renamed, unique

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def created(env: Env, prefix: str, seed: str = "demo-registry-1.yml") -> tuple[str, dict[str, Any]]:
    name = unique(prefix)
    body = renamed(seed, name)
    operation = env.wait(env.create(body).headers["Location"])
    assert operation["status"] == "Succeeded", operation
    return name, yaml.safe_load(body)


def put(env: Env, name: str, document: dict[str, Any]) -> dict[str, Any]:
    response = env.api.put(
        f"/api/registries/{name}", content=yaml.safe_dump(document), headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 202, response.text
    return env.wait(response.headers["Location"])


def group(name: str) -> str:
    return f"regctl-{name.lower()}"


def acr_name(env: Env, name: str) -> str:
    return next(iter(env.arm.acr.registries.list_by_resource_group(group(name)))).name or ""


def test_regions_added_and_removed_and_tags_changed_converge_exactly(clean: Env):
    name, document = created(clean, "Upd")
    document["tags"] = {"foo": "baz", "team": "ml"}
    document["replication_locations"] = [{"location": "eastus"}, {"location": "westus"}, {"location": "northeurope"}]
    assert put(clean, name, document)["status"] == "Succeeded"
    assert_provisioned_exactly(clean, yaml.safe_dump(document))
    registry = clean.api.get(f"/api/registries/{name}").json()
    assert registry["generation"] == registry["observedGeneration"] == 2


def test_forbidden_changes_answer_409_naming_the_field_and_change_nothing(clean: Env):
    name, document = created(clean, "Forbid")
    moved = {**document, "location": "westus"}
    response = clean.api.put(
        f"/api/registries/{name}", content=yaml.safe_dump(moved), headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 409 and response.json()["code"] == "PrimaryLocationImmutable"
    flipped = json.loads(json.dumps(document))
    flipped["replication_locations"][1]["storage_config"] = {"storage_account_hns": True}
    response = clean.api.put(
        f"/api/registries/{name}", content=yaml.safe_dump(flipped), headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 409 and "storage_account_hns" in response.json()["detail"]
    assert clean.api.get(f"/api/registries/{name}").json()["generation"] == 1


def test_delete_tears_down_everything_and_leaves_the_operation_readable(clean: Env):
    name, _ = created(clean, "Del")
    response = clean.api.delete(f"/api/registries/{name}")
    operation = clean.wait(response.headers["Location"])
    assert operation["status"] == "Succeeded"
    assert clean.api.get(f"/api/registries/{name}").status_code == 404
    assert not clean.arm.resources.resource_groups.check_existence(group(name))
    assert clean.api.get(response.headers["Location"]).json()["kind"] == "delete"


def test_region_sync_heals_drift_made_directly_through_arm(clean: Env):
    name, document = created(clean, "Drift")
    rg, acr = group(name), acr_name(clean, name)
    clean.arm.acr.replications.begin_delete(rg, acr, "westus").result()
    account = next(a for a in clean.arm.storage.storage_accounts.list_by_resource_group(rg) if a.location == "eastus2")
    clean.arm.storage.storage_accounts.update(rg, account.name, {"sku": {"name": "Standard_GRS"}, "tags": account.tags})
    clean.arm.acr.replications.begin_create(rg, acr, "japaneast", {"location": "japaneast"}).result()
    assert clean.sandbox.run_function("region_sync") == 202
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        registry = clean.api.get(f"/api/registries/{name}").json()
        operation = clean.api.get(registry["operation"]).json()
        if operation["kind"] == "sync" and operation["status"] == "Succeeded":
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"drift was not healed: {registry}")
    assert_provisioned_exactly(clean, yaml.safe_dump(document))
    assert clean.api.get(f"/api/registries/{name}").json()["drift"] == []


def test_observe_policy_reports_drift_field_by_field_and_changes_nothing(clean: Env):
    name, _ = created(clean, "Obs")
    assert clean.api.put(f"/api/registries/{name}/policy", json={"reconcile_policy": "observe"}).status_code == 200
    rg, acr = group(name), acr_name(clean, name)
    clean.arm.acr.replications.begin_delete(rg, acr, "eastus2").result()
    operation = clean.wait(clean.api.post(f"/api/registries/{name}/sync").headers["Location"])
    assert operation["status"] == "Succeeded"
    drift = clean.api.get(f"/api/registries/{name}").json()["drift"]
    assert {"resource": "replica eastus2", "field": "exists", "desired": "present", "actual": "missing"} in drift
    assert "eastus2" not in {r.location for r in clean.arm.acr.replications.list(rg, acr)}


def test_two_updates_in_flight_converge_to_the_newest_spec(clean: Env):
    name, document = created(clean, "Two")
    first = {**document, "tags": {"v": "1"}}
    second = {**document, "tags": {"v": "2"}}
    responses = [
        clean.api.put(
            f"/api/registries/{name}", content=yaml.safe_dump(d), headers={"Content-Type": "application/yaml"}
        )
        for d in (first, second)
    ]
    older, newer = (clean.wait(r.headers["Location"]) for r in responses)
    assert older["status"] == "Canceled" and newer["status"] == "Succeeded"
    assert_provisioned_exactly(clean, yaml.safe_dump(second))


def test_a_delete_during_a_create_wins_cleanly(clean: Env):
    name = unique("Race")
    create = clean.create(renamed("demo-registry-1.yml", name))
    time.sleep(0.5)
    delete = clean.api.delete(f"/api/registries/{name}")
    assert delete.status_code == 202
    assert clean.wait(delete.headers["Location"], timeout=120)["status"] == "Succeeded"
    assert clean.api.get(create.headers["Location"]).json()["status"] == "Canceled"
    assert not clean.arm.resources.resource_groups.check_existence(group(name))
    assert not [
        a for a in clean.arm.storage.storage_accounts.list() if (a.tags or {}).get("regctl-registry") == name.lower()
    ]


def test_the_cli_drives_a_running_sandbox(clean: Env, tmp_path: Path):
    name = unique("Cli")
    spec = tmp_path / "registry.yml"
    spec.write_text(renamed("demo-registry-1.yml", name))
    environment = {
        **os.environ,
        "REGCTL_ENDPOINT": clean.sandbox.api.removesuffix("/api"),
        "REGCTL_TOKEN": clean.owner_token(),  # the bootstrap owner's, as `python -m sandbox token --owner` prints
    }

    def regctl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "regctl", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            cwd=ROOT,
        )

    created_run = regctl("registry", "create", "--file", str(spec), "--wait", "--interval", "0.2", "-o", "json")
    assert created_run.returncode == 0, created_run.stderr
    assert json.loads(created_run.stdout)["status"] == "Succeeded"
    shown = regctl("registry", "show", name, "-o", "yaml")
    assert shown.returncode == 0 and yaml.safe_load(shown.stdout)["status"] == "Ready"
    assert name in regctl("registry", "list").stdout
    deleted = regctl("registry", "delete", name, "--yes", "--wait", "--interval", "0.2")
    assert deleted.returncode == 0, deleted.stderr
    missing = regctl("registry", "show", name)
    assert missing.returncode == 2 and "RegistryNotFound" in missing.stderr
