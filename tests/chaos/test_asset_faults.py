"""Assets under faults: 20 versions registered at once while 20 % of blob requests fail (500, 503, dropped
connections) and the functions host is killed mid-copy. Every version ends Available with every region
Replicated and byte-identical; nothing under the final names is partial or stray; no operation is stuck."""

from __future__ import annotations

import base64
import hashlib
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings

from tests.chaos.test_host_crashes import kill_host
from tests.integration.e2e.conftest import Env, start_env
from tests.integration.e2e.test_provisioning import renamed, unique

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]  # several phases, each a sandbox workload
VERSIONS = 20
REGIONS = ("eastus", "eastus2", "westus")


def md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def upload(env: Env, registry: str, name: str) -> tuple[str, dict[str, bytes]]:
    files = {f"part-{i}.bin": os.urandom(64 * 1024 + i) for i in range(3)}
    answer = env.api.post(f"/api/registries/{registry}/models/{name}/versions/1/startPendingUpload")
    answer.raise_for_status()
    reference = answer.json()["blobReferenceForConsumption"]
    container = ContainerClient.from_container_url(
        reference["credential"]["sasUri"], connection_verify=env.sandbox.ca_bundle
    )
    for path, data in files.items():
        settings = ContentSettings(content_md5=bytearray(base64.b64decode(md5(data))))
        container.upload_blob(path, data, overwrite=True, content_settings=settings)
    return str(reference["blobUri"]), files


def register(env: Env, registry: str, name: str, content: str) -> None:
    """PUT the version, again while the API answers 5xx (its LIST of the upload met a fault) or nothing."""
    body = {"name": name, "version": "1", "path": content}
    for _ in range(30):
        try:
            answer = env.api.put(f"/api/registries/{registry}/models/{name}/versions/1", json=body)
        except httpx.HTTPError:
            time.sleep(0.5)
            continue
        if answer.status_code in (200, 202):
            return
        assert answer.status_code >= 500, answer.text
        time.sleep(0.3)
    raise AssertionError(f"{name} never registered")


def versions(env: Env, registry: str) -> dict[str, dict[str, Any]]:
    listed = env.api.get(f"/api/registries/{registry}/models").json()["value"]
    return {
        item["name"]: env.api.get(f"/api/registries/{registry}/models/{item['name']}/versions/1").json()
        for item in listed
    }


def wait_all_available(env: Env, registry: str, timeout: float = 180) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = versions(env, registry)
        done = [
            doc
            for doc in found.values()
            if doc["status"] == "Available" and {c["state"] for c in doc["replication"].values()} == {"Replicated"}
        ]
        if len(found) == VERSIONS and len(done) == VERSIONS:
            return found
        if time.monotonic() > deadline:
            states = {
                n: (d["status"], d.get("error"), {r: c["state"] for r, c in d["replication"].items()})
                for n, d in found.items()
                if d["status"] != "Available"
            }
            raise AssertionError(f"not all available after {timeout}s: {states}")
        time.sleep(1.0)


def test_twenty_registrations_under_blob_faults_and_a_killed_host_all_end_replicated_and_whole(tmp_path):
    for env in start_env(tmp_path, SANDBOX_LOCK_DURATION_SECONDS="3", MAX_STEP_ATTEMPTS="12"):
        registry = unique("Chaos")
        created = env.create(renamed("demo-registry-1.yml", registry))
        assert env.wait(created.headers["Location"])["status"] == "Succeeded"
        names = [f"m{i:02d}" for i in range(VERSIONS)]
        uploads = {name: upload(env, registry, name) for name in names}
        env.arm.control.set_faults(
            [
                {"service": "blob", "operation": "any", "status": 503, "rate": 0.1},
                {"service": "blob", "operation": "any", "status": 500, "rate": 0.05},
                {"service": "blob", "operation": "any", "status": 0, "rate": 0.05},
            ],
            seed=12,
        )
        with ThreadPoolExecutor(max_workers=8) as pool:
            registering = [pool.submit(register, env, registry, n, uploads[n][0]) for n in names]
            kill_host(env, after=1.5)
            for future in registering:
                future.result()
        found = wait_all_available(env, registry)
        env.arm.control.clear_faults()

        record = env.api.get(f"/api/registries/{registry}").json()
        group = f"regctl-{registry.lower()}"
        for account in record["resources"]["storage_accounts"]:
            key = env.arm.storage.storage_accounts.list_keys(group, account["name"])["keys"][0]["value"]
            client = BlobServiceClient(
                account["blob_endpoint"], credential=key, connection_verify=env.sandbox.ca_bundle
            )
            blobs = list(client.get_container_client("assets").list_blobs(name_starts_with="models/"))
            expected = {f"models/{n}/1/{p}": data for n in names for p, data in uploads[n][1].items()}
            assert sorted(b.name for b in blobs) == sorted(expected), account["region"]  # nothing partial or stray
            for blob in blobs:
                assert blob.copy is None or blob.copy.status in (None, "success"), blob.name
                data = client.get_blob_client("assets", blob.name).download_blob().readall()
                assert data == expected[blob.name], (account["region"], blob.name)
        for name, doc in found.items():  # no operation stuck: each ends Succeeded (it ends just after the ledger)
            assert env.wait(doc["operation"], timeout=60)["status"] == "Succeeded", name
            assert set(doc["replication"]) == set(REGIONS)
