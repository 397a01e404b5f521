"""azure-ai-ml's error paths against regctl: each refusal reaches the SDK as ``HttpResponseError`` or
``ResourceNotFoundError`` carrying regctl's ARM code and message, and nothing is stored."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from azure.ai.ml import load_registry
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.integration.azureml.sdk import DATA, ml_client
from tests.integration.e2e.conftest import Env, start_env

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from start_env(tmp_path_factory.mktemp("azureml-errors"))


def registries(env: Env) -> list[str]:
    return [r["name"] for r in env.api.get("/api/registries").json()["value"]]


def test_an_invalid_region_is_refused_with_the_field_and_regctls_message(env, tmp_path):
    file = tmp_path / "registry.yml"
    file.write_text((DATA / "demo-registry-1.yml").read_text().replace("location: westus", "location: mars"))
    with pytest.raises(HttpResponseError) as refused:
        ml_client(env.sandbox, "rg-e").registries.begin_create(load_registry(file))
    assert refused.value.status_code == 400
    assert refused.value.error is not None
    assert refused.value.error.code == "InvalidRequestContent"
    assert refused.value.error.target == "properties.regionDetails[2].location"
    assert 'unknown Azure region "mars"' in str(refused.value.error.message)
    assert "DemoRegistry1" not in registries(env)


def test_changing_the_primary_region_is_refused_and_the_registry_keeps_it(env):
    ml = ml_client(env.sandbox, "rg-e")
    ml.registries.begin_create(load_registry(DATA / "demo-registry-2.yml")).result()
    moved = ml.registries.get("DemoRegistry2")
    moved.location = "eastus2"
    with pytest.raises(HttpResponseError) as refused:
        ml.registries.begin_create(moved)
    assert refused.value.status_code == 409
    assert refused.value.error is not None and refused.value.error.code == "Conflict"
    assert "the primary region is immutable" in str(refused.value.error.message)
    assert refused.value.error.details[0].code == "PrimaryLocationImmutable"
    assert ml.registries.get("DemoRegistry2").location == "eastus"


def test_a_caller_without_registries_write_gets_403_authorization_failed(env):
    stranger = env.sandbox.token(str(uuid.uuid4()), name="stranger@example.com")
    ml = ml_client(env.sandbox, "rg-e", token=stranger)
    with pytest.raises(HttpResponseError) as refused:
        ml.registries.begin_create(load_registry(DATA / "demo-registry-1.yml"))
    assert refused.value.status_code == 403
    assert refused.value.error is not None and refused.value.error.code == "AuthorizationFailed"
    assert "Microsoft.MachineLearningServices/registries/write" in str(refused.value.error.message)
    assert "DemoRegistry1" not in registries(env)


def test_an_unknown_registry_is_resource_not_found(env):
    with pytest.raises(ResourceNotFoundError) as missing:
        ml_client(env.sandbox, "rg-e").registries.get("NoSuchRegistry")
    assert missing.value.error is not None and missing.value.error.code == "ResourceNotFound"
    assert "registries/NoSuchRegistry' under resource group 'rg-e' was not found" in str(missing.value.error.message)
