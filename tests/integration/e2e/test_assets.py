"""Assets on a running sandbox, with the CLI as a person types it: a model folder (one file of 300 MiB, so
the asynchronous copy runs) registered into a three-region registry and downloaded back byte-identical
from every region; a fourth region backfilled; a blob deleted by hand restored by the region sync; the
version deleted everywhere; an environment imported from an image; a data asset and a component."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_provisioning import renamed, unique

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
BIG = 300 * 1024 * 1024


def regctl(env: Env, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m regctl`` as the owner, trusting the sandbox's CA for the blob transfers."""
    environment = {k: v for k, v in os.environ.items() if k not in ("REGCTL_SCOPE",)}
    environment |= {
        "REGCTL_ENDPOINT": env.sandbox.api.removesuffix("/api"),
        "REGCTL_TOKEN": env.owner_token(),
        "REQUESTS_CA_BUNDLE": env.sandbox.ca_bundle,
    }
    return subprocess.run(
        [sys.executable, "-m", "regctl", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
    )


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(4 * 1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256(p) for p in sorted(root.rglob("*")) if p.is_file()}


def model_folder(tmp: Path) -> Path:
    folder = tmp / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors:\n  python_function: {loader_module: clf}\n", encoding="utf-8")
    (folder / "conda.yaml").write_text("dependencies: [python=3.11, scikit-learn]\n", encoding="utf-8")
    (folder / "weights" / "small.bin").write_bytes(os.urandom(3 * 1024 * 1024))
    with (folder / "weights" / "big.bin").open("wb") as handle:
        block = os.urandom(4 * 1024 * 1024)
        for i in range(BIG // len(block)):
            handle.write(block[:-8] + i.to_bytes(8, "big"))
    return folder


def version(env: Env, registry: str, kind: str, name: str, number: str) -> dict[str, Any]:
    answer = env.api.get(f"/api/registries/{registry}/{kind}/{name}/versions/{number}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def wait_replicated(
    env: Env, registry: str, kind: str, name: str, number: str, regions: set[str], timeout: float = 300
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        doc = version(env, registry, kind, name, number)
        states = {r: c["state"] for r, c in doc["replication"].items()}
        if set(states) == regions and set(states.values()) == {"Replicated"}:
            return doc
        if time.monotonic() > deadline:
            raise AssertionError(f"not replicated everywhere after {timeout}s: {states}\n{env.sandbox.logs()}")
        time.sleep(0.5)


def account_client(env: Env, registry: str, region: str) -> tuple[BlobServiceClient, str]:
    """The storage account holding ``region``'s copies, reached with its key as an operator would."""
    record = env.api.get(f"/api/registries/{registry}").json()
    account = next(a for a in record["resources"]["storage_accounts"] if a["region"] == region and a["index"] == 0)
    group = f"regctl-{registry.lower()}"
    key = env.arm.storage.storage_accounts.list_keys(group, account["name"])["keys"][0]["value"]  # models are Mappings
    client = BlobServiceClient(account["blob_endpoint"], credential=key, connection_verify=env.sandbox.ca_bundle)
    return client, account["name"]


def wait_for_blob(client: BlobServiceClient, name: str, timeout: float = 120) -> bytes:
    """The blob's content once it exists (a copy being restored)."""
    deadline = time.monotonic() + timeout
    blob = client.get_blob_client("assets", name)
    while not blob.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} not restored after {timeout}s")
        time.sleep(0.5)
    return bytes(blob.download_blob().readall())


def test_a_model_goes_to_every_region_is_backfilled_healed_and_deleted(clean: Env, tmp_path: Path):
    registry = unique("Assets")
    created = clean.create(renamed("demo-registry-1.yml", registry))
    assert clean.wait(created.headers["Location"])["status"] == "Succeeded"
    regions = {"eastus", "eastus2", "westus"}
    folder = model_folder(tmp_path)
    spec = tmp_path / "model.yml"
    spec.write_text("name: big-clf\nversion: '1'\ntype: mlflow_model\npath: model\ntags: {stage: dev}\n")

    made = regctl(clean, "model", "create", "--registry", registry, "-f", str(spec), "--wait")
    assert made.returncode == 0, made.stderr + made.stdout
    doc = wait_replicated(clean, registry, "models", "big-clf", "1", regions)
    assert doc["status"] == "Available" and doc["fileCount"] == 4
    assert doc["id"] == f"azureml://registries/{registry}/models/big-clf/versions/1"

    expected = tree(folder)
    for region in sorted(regions):
        target = tmp_path / f"down-{region}"
        got = regctl(
            clean,
            "model",
            "download",
            "--registry",
            registry,
            "-n",
            "big-clf",
            "-v",
            "1",
            "--region",
            region,
            "-d",
            str(target),
        )
        assert got.returncode == 0, got.stderr
        assert tree(target) == expected, region

    # a fourth region is backfilled with the version
    patched = clean.api.patch(
        f"/api/registries/{registry}",
        json={"replication_locations": [{"location": r} for r in ("eastus", "eastus2", "westus", "centralus")]},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 202, patched.text
    assert clean.wait(patched.headers["Location"], timeout=180)["status"] == "Succeeded"
    wait_replicated(clean, registry, "models", "big-clf", "1", regions | {"centralus"})
    client, _ = account_client(clean, registry, "centralus")
    small = client.get_blob_client("assets", "models/big-clf/1/weights/small.bin").download_blob().readall()
    assert hashlib.sha256(small).hexdigest() == expected["weights/small.bin"]

    # a blob deleted by hand is restored by the region sync
    client, _ = account_client(clean, registry, "westus")
    client.get_blob_client("assets", "models/big-clf/1/MLmodel").delete_blob()
    assert clean.sandbox.run_function("region_sync") == 202
    restored = wait_for_blob(client, "models/big-clf/1/MLmodel")
    assert hashlib.sha256(restored).hexdigest() == expected["MLmodel"]
    healed = wait_replicated(clean, registry, "models", "big-clf", "1", regions | {"centralus"})
    operation = clean.api.get(healed["operation"]).json()
    assert operation["kind"] == "replicate" and operation["status"] == "Succeeded"

    # deleting the version removes every copy
    gone = regctl(clean, "model", "delete", "--registry", registry, "-n", "big-clf", "-v", "1", "--yes", "--wait")
    assert gone.returncode == 0, gone.stderr
    for region in sorted(regions | {"centralus"}):
        client, name = account_client(clean, registry, region)
        left = [b.name for b in client.get_container_client("assets").list_blobs(name_starts_with="models/")]
        assert left == [], (region, name, left)
    assert clean.api.get(f"/api/registries/{registry}/models/big-clf/versions/1").status_code == 404


def test_an_environment_data_asset_and_component_are_registered(clean: Env, tmp_path: Path):
    registry = unique("Kinds")
    created = clean.create(renamed("demo-registry-1.yml", registry))
    assert clean.wait(created.headers["Location"])["status"] == "Succeeded"
    regions = {"eastus", "eastus2", "westus"}

    env_file = tmp_path / "env.yml"
    env_file.write_text(
        "name: sklearn-env\nversion: '2'\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest\n"
    )
    made = regctl(clean, "environment", "create", "--registry", registry, "-f", str(env_file), "--wait")
    assert made.returncode == 0, made.stderr + made.stdout
    doc = wait_replicated(clean, registry, "environments", "sklearn-env", "2", regions)
    assert doc["status"] == "Available"
    acr = clean.api.get(f"/api/registries/{registry}").json()["resources"]["container_registry"]["name"]
    assert "environments/sklearn-env:2" in clean.arm.control.images(acr)["images"]

    (tmp_path / "rows.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    data_file = tmp_path / "data.yml"
    data_file.write_text("name: rows\nversion: '1'\ntype: uri_file\npath: rows.csv\n")
    made = regctl(clean, "data", "create", "--registry", registry, "-f", str(data_file), "--wait", "-o", "json")
    assert made.returncode == 0, made.stderr
    assert wait_replicated(clean, registry, "data", "rows", "1", regions)["type"] == "uri_file"

    code = tmp_path / "src"
    code.mkdir()
    (code / "train.py").write_text("print('train')\n", encoding="utf-8")
    component = tmp_path / "component.yml"
    component.write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/commandComponent.schema.json\n"
        "name: train\nversion: '1'\ntype: command\ncode: src\n"
        "environment: azureml://registries/" + registry + "/environments/sklearn-env/versions/2\n"
        "command: python train.py\ninputs: {data: {type: uri_file}}\n"
    )
    made = regctl(clean, "component", "create", "--registry", registry, "-f", str(component), "--wait")
    assert made.returncode == 0, made.stderr
    doc = wait_replicated(clean, registry, "components", "train", "1", regions)
    assert doc["componentSpec"]["command"] == "python train.py"
    listed = json.loads(regctl(clean, "component", "list", "--registry", registry, "-o", "json").stdout)
    assert [c["name"] for c in listed["value"]] == ["train"]
