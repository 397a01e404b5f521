"""azure-ai-ml's registry data plane against regctl: ``MLClient(registry_name=...)`` discovers a regctl
registry, creates a model from a local folder and a data asset from a file, gets, lists and downloads them
(byte-identical); the copies are verified in every region by regctl's ledger, and the model is the same
asset ``/api`` (and ``regctl model create``) shows."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.ai.ml.entities import Data, Model
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.integration.azureml.sdk import registry_client
from tests.integration.e2e.conftest import Env, start_env
from tests.integration.e2e.test_assets import regctl
from tests.integration.e2e.test_provisioning import renamed

pytestmark = pytest.mark.integration
REGIONS = {"eastus", "eastus2", "westus"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from start_env(tmp_path_factory.mktemp("azureml-assets"))


@pytest.fixture(scope="module")
def registry(env: Env) -> str:
    created = env.create(renamed("demo-registry-1.yml", "SdkAssets"))
    assert created.status_code == 202, created.text
    assert env.wait(created.headers["Location"], timeout=180)["status"] == "Succeeded"
    return "SdkAssets"


@pytest.fixture(autouse=True)
def blob_ca(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's blob clients do not take ``connection_verify``: they trust ``REQUESTS_CA_BUNDLE``."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", env.sandbox.ca_bundle)


def tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file()
    }


def ledger(env: Env, registry: str, kind: str, name: str, version: str) -> dict[str, Any]:
    answer = env.api.get(f"/api/registries/{registry}/{kind}/{name}/versions/{version}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_a_model_from_a_local_folder_is_created_got_listed_and_downloaded(env, registry, tmp_path):
    folder = tmp_path / "clf"
    (folder / "weights").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    (folder / "weights" / "w.bin").write_bytes(os.urandom(256 * 1024))
    ml = registry_client(env.sandbox, registry)

    made = ml.models.create_or_update(
        Model(
            path=str(folder), name="clf", version="1", type="custom_model", description="a classifier", tags={"t": "1"}
        )
    )
    assert made.name == "clf" and made.version == "1" and made.description == "a classifier"
    assert made.id == f"azureml://registries/{registry}/models/clf/versions/1"

    doc = ledger(env, registry, "models", "clf", "1")
    assert doc["status"] == "Available" and doc["type"] == "custom_model" and doc["fileCount"] == 2
    assert {region: copy["state"] for region, copy in doc["replication"].items()} == dict.fromkeys(
        REGIONS, "Replicated"
    )
    assert doc["tags"] == {"t": "1"}

    got = ml.models.get("clf", "1")
    assert got.type == "custom_model" and got.tags == {"t": "1"} and got.path
    assert [m.name for m in ml.models.list()] == ["clf"]
    assert [m.version for m in ml.models.list(name="clf")] == ["1"]

    ml.models.download("clf", "1", download_path=str(tmp_path / "down"))
    files = [p for p in (tmp_path / "down").rglob("MLmodel")]
    assert len(files) == 1
    assert tree(files[0].parent) == tree(folder)

    # the same content again is the same version (no new work); other content is refused, as /api does
    again = ml.models.create_or_update(Model(path=str(folder), name="clf", version="1", type="custom_model"))
    assert again.version == "1"
    (folder / "weights" / "w.bin").write_bytes(os.urandom(1024))
    with pytest.raises(HttpResponseError) as refused:
        ml.models.create_or_update(Model(path=str(folder), name="clf", version="1", type="custom_model"))
    assert refused.value.status_code == 409
    assert refused.value.error is not None and refused.value.error.details[0].code == "AssetVersionImmutable"


def test_a_data_asset_from_a_file_is_created_got_and_replicated(env, registry, tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b\n1,2\n", encoding="utf-8")
    ml = registry_client(env.sandbox, registry)

    made = ml.data.create_or_update(Data(path=str(rows), name="rows", version="3", type="uri_file"))
    assert made.name == "rows" and made.version == "3" and made.type == "uri_file"
    assert made.path.endswith("/data/rows/3/rows.csv")

    doc = ledger(env, registry, "data", "rows", "3")
    assert doc["type"] == "uri_file" and doc["fileCount"] == 1 and doc["bytes"] == rows.stat().st_size
    assert {region: copy["state"] for region, copy in doc["replication"].items()} == dict.fromkeys(
        REGIONS, "Replicated"
    )
    assert ml.data.get("rows", "3").path == made.path
    assert [d.name for d in ml.data.list()] == ["rows"]


def test_a_missing_version_is_resource_not_found_and_a_reader_cannot_upload(env, registry, tmp_path):
    ml = registry_client(env.sandbox, registry)
    with pytest.raises(ResourceNotFoundError):
        ml.models.get("absent", "1")
    reader = env.sandbox.token("a2f7f3a4-0000-4000-8000-000000000001", name="reader@example.com")
    assigned = env.api.put(
        "/api/roleAssignments/5d3bba7c-93e3-44b8-a7e6-6fb0d0b0a001",
        json={
            "scope": f"/registries/{registry.lower()}",
            "principalId": "a2f7f3a4-0000-4000-8000-000000000001",
            "principalType": "User",
            "roleDefinitionId": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        },
    )
    assert assigned.status_code in (200, 201), assigned.text
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "f.txt").write_text("x", encoding="utf-8")
    as_reader = registry_client(env.sandbox, registry, token=reader)
    with pytest.raises(HttpResponseError) as refused:
        as_reader.models.create_or_update(Model(path=str(folder), name="nope", version="1"))
    assert refused.value.status_code == 403
    assert refused.value.error is not None and refused.value.error.code == "AuthorizationFailed"


def test_a_model_made_with_regctl_model_create_is_the_same_asset_through_the_sdk(env, registry, tmp_path):
    folder = tmp_path / "cli"
    folder.mkdir()
    (folder / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    (folder / "w.bin").write_bytes(os.urandom(64 * 1024))
    spec = tmp_path / "model.yml"
    spec.write_text("name: cli-clf\nversion: '2'\ntype: custom_model\npath: cli\ndescription: from the CLI\n")
    made = regctl(env, "model", "create", "--registry", registry, "-f", str(spec), "--wait")
    assert made.returncode == 0, made.stderr + made.stdout

    ml = registry_client(env.sandbox, registry)
    got = ml.models.get("cli-clf", "2")
    assert got.id == f"azureml://registries/{registry}/models/cli-clf/versions/2"
    assert got.description == "from the CLI" and got.type == "custom_model"
    ml.models.download("cli-clf", "2", download_path=str(tmp_path / "down"))
    (found,) = (tmp_path / "down").rglob("MLmodel")
    assert tree(found.parent) == tree(folder)
