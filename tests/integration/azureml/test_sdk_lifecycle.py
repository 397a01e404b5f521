"""azure-ai-ml's ``MLClient.registries`` against regctl: load, create, get, list at both scopes, add a region,
delete; what ARM holds afterwards is checked with the azure-mgmt clients against the ARM simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from azure.ai.ml import load_registry
from azure.ai.ml.entities import Registry, RegistryRegionDetails, SystemCreatedStorageAccount
from azure.core.exceptions import ResourceNotFoundError

from tests.integration.azureml.sdk import DATA, SEED_YAMLS, ml_client
from tests.integration.e2e.conftest import Env, start_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from start_env(tmp_path_factory.mktemp("azureml-lifecycle"))


def storage_regions(env: Env, registry: str) -> dict[str, int]:
    """Storage accounts per region in the registry's managed resource group, as ARM lists them."""
    counts: dict[str, int] = {}
    for account in env.arm.storage.storage_accounts.list_by_resource_group(f"regctl-{registry.lower()}"):
        counts[account.location] = counts.get(account.location, 0) + 1
    return counts


def replica_regions(env: Env, registry: str) -> set[str]:
    group = f"regctl-{registry.lower()}"
    (acr,) = env.arm.acr.registries.list_by_resource_group(group)
    assert acr.name is not None
    return {r.location for r in env.arm.acr.replications.list(group, acr.name)}


@pytest.mark.parametrize("file", SEED_YAMLS)
def test_load_registry_reads_every_registry_yaml_of_the_source_document(file):
    registry = load_registry(DATA / file)
    assert registry.location == "eastus"
    assert [r.location for r in registry.replication_locations] == ["eastus", "eastus2", "westus"]


def test_the_sdk_creates_gets_lists_updates_and_deletes_registries(env):
    ml_a = ml_client(env.sandbox, "rg-a")
    ml_b = ml_client(env.sandbox, "rg-b")

    first = ml_a.registries.begin_create(load_registry(DATA / "demo-registry-1.yml")).result()
    assert isinstance(first, Registry) and first.name == "DemoRegistry1"
    assert [r.location for r in first.replication_locations] == ["eastus", "eastus2", "westus"]
    assert storage_regions(env, "DemoRegistry1") == {"eastus": 1, "eastus2": 1, "westus": 1}
    assert replica_regions(env, "DemoRegistry1") >= {"eastus2", "westus"}

    second = ml_b.registries.begin_create(load_registry(DATA / "demo-registry-2.yml")).result()
    assert second.name == "DemoRegistry2"
    assert storage_regions(env, "DemoRegistry2") == {"eastus": 1, "eastus2": 1, "westus": 1}

    got = ml_a.registries.get("DemoRegistry1")
    assert got.id.endswith("/resourceGroups/rg-a/providers/Microsoft.MachineLearningServices/registries/DemoRegistry1")
    assert got.tags == {"foo": "bar"} and got.public_network_access == "Enabled"
    storage = got.replication_locations[0].storage_config
    assert isinstance(storage, SystemCreatedStorageAccount)
    assert storage.arm_resource_id.startswith(f"/subscriptions/{env.sandbox.arm_api['subscription_id']}/")

    assert [r.name for r in ml_a.registries.list()] == ["DemoRegistry1"]
    assert [r.name for r in ml_b.registries.list()] == ["DemoRegistry2"]
    assert sorted(r.name for r in ml_a.registries.list(scope="subscription")) == ["DemoRegistry1", "DemoRegistry2"]

    got.replication_locations.append(RegistryRegionDetails(location="westus2"))
    updated = ml_a.registries.begin_create(got).result()
    assert [r.location for r in updated.replication_locations] == ["eastus", "eastus2", "westus", "westus2"]
    assert storage_regions(env, "DemoRegistry1") == {"eastus": 1, "eastus2": 1, "westus": 1, "westus2": 1}
    assert "westus2" in replica_regions(env, "DemoRegistry1")

    assert ml_a.registries.begin_delete(name="DemoRegistry1").result() is None
    with pytest.raises(ResourceNotFoundError):
        ml_a.registries.get("DemoRegistry1")
    assert not env.arm.resources.resource_groups.check_existence("regctl-demoregistry1")
    assert [r.name for r in ml_a.registries.list(scope="subscription")] == ["DemoRegistry2"]
