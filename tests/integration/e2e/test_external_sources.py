# mypy: disable-error-code="call-overload,union-attr"
# The management SDKs accept JSON dicts at run time but type only their model/IO overloads, and type every
# property of their models Optional.
"""Rules watching sources outside regctl, on a running sandbox whose Event Grid subscriptions deliver to
the host's own events queue (``EVENTS_QUEUE_RESOURCE_ID`` names it):

- a team's build ACR: rule made, regctl subscribes to it; an image pushed there (``POST
  /_sandbox/acr/{registry}/push``, the stand-in of ``docker push``) arrives as ``ImagePushed`` and becomes an
  environment version of ``prod``, its image imported into prod's ACR from the build ACR by digest;
  with Event Grid delivering every event three times and out of order (``"service": "eventgrid"`` faults),
  three pushes make exactly three versions;
- a team's storage account: an ``asset.yml`` written last into a folder under the watched prefix arrives
  as ``BlobCreated`` and registers the folder it describes, downloadable byte-identical from every region.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.storage.blob import BlobServiceClient

from sandbox.arm.control import FaultRule
from tests.integration.e2e.conftest import Env, start_env
from tests.integration.e2e.test_assets import regctl, tree, wait_replicated
from tests.integration.e2e.test_eventgrid_standin import API, arm
from tests.integration.e2e.test_promotion import EVENTS_QUEUE, registry
from tests.integration.e2e.test_provisioning import unique

pytestmark = pytest.mark.integration
REGIONS = ("eastus", "westus")


QUEUE_ID = f"/subscriptions/0/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/n/queues/{EVENTS_QUEUE}"


@pytest.fixture(scope="module")
def sources_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from start_env(tmp_path_factory.mktemp("sources"), EVENTS_QUEUE_RESOURCE_ID=QUEUE_ID)


@pytest.fixture(scope="module")
def prod(sources_env: Env) -> str:
    """The target registry, in two regions."""
    name = unique("prod")
    registry(sources_env, name, *REGIONS)
    return name


def team_group(env: Env, name: str) -> str:
    env.arm.resources.resource_groups.create_or_update(name, {"location": "eastus"})
    return name


def build_acr(env: Env, group: str, name: str) -> str:
    poller = env.arm.acr.registries.begin_create(group, name, {"location": "eastus", "sku": {"name": "Premium"}})
    return str(poller.result().id)


def drop_account(env: Env, group: str, name: str) -> tuple[str, BlobServiceClient]:
    body = {"location": "eastus", "kind": "StorageV2", "sku": {"name": "Standard_LRS"}}
    account = env.arm.storage.storage_accounts.begin_create(group, name, body).result()
    key = env.arm.storage.storage_accounts.list_keys(group, name)["keys"][0]["value"]
    client = BlobServiceClient(
        str(account.primary_endpoints.blob), credential=key, connection_verify=env.sandbox.ca_bundle
    )
    return str(account.id), client


def put_rule(env: Env, name: str, source: dict[str, str], target: str) -> None:
    made = env.api.put(f"/api/promotionRules/{name}", json={"source": source, "target": {"registry": target}})
    assert made.status_code == 200, made.text


def wait_subscribed(env: Env, source_id: str, timeout: float = 120) -> None:
    """Until the system topic on ``source_id`` has a subscription delivering to the events queue."""
    group = source_id.split("/")[4]
    topics = f"/subscriptions/{env.sandbox.info['arm']['subscription_id']}/resourceGroups/{group}"
    topics += "/providers/Microsoft.EventGrid/systemTopics"
    deadline = time.monotonic() + timeout
    with arm(env) as client:
        while True:
            for topic in client.get(topics, params={"api-version": API}).json().get("value", []):
                if topic["properties"]["source"].lower() != source_id.lower():
                    continue
                subs = client.get(f"{topic['id']}/eventSubscriptions", params={"api-version": API}).json()["value"]
                if any(
                    s["properties"]["destination"]["properties"]["resourceId"] == QUEUE_ID
                    and s["properties"]["provisioningState"] == "Succeeded"
                    for s in subs
                ):
                    return
            assert time.monotonic() < deadline, f"no subscription on {source_id}\n{env.sandbox.logs()}"
            time.sleep(0.5)


def environments(env: Env, registry_name: str, name: str) -> list[dict[str, Any]]:
    answer = env.api.get(f"/api/registries/{registry_name}/environments/{name}/versions")
    return list(answer.json()["value"]) if answer.status_code == 200 else []


def wait_environments(
    env: Env, registry_name: str, name: str, count: int, timeout: float = 180
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while len(found := environments(env, registry_name, name)) < count or any(
        v["status"] != "Available" for v in found
    ):
        assert time.monotonic() < deadline, f"{found}\n{env.sandbox.logs()}"
        time.sleep(0.5)
    return found


def test_an_image_pushed_to_a_build_acr_becomes_an_environment_version_even_delivered_thrice_out_of_order(
    sources_env: Env, prod: str
):
    env = sources_env
    acr_id = build_acr(env, team_group(env, "team-build"), "teambuild")
    put_rule(env, "images", {"acr": acr_id, "repository": "fraud/*"}, prod)
    wait_subscribed(env, acr_id)

    pushed = env.arm.control.push_image("teambuild", "fraud/scorer", "1.4")
    env.arm.control.push_image("teambuild", "other/tool", "1")  # outside the rule's repositories
    [version] = wait_environments(env, prod, "scorer", 1)
    assert version["version"] == "1.4"
    doc = wait_replicated(env, prod, "environments", "scorer", "1.4", set(REGIONS))
    assert doc["image"] == "teambuild.azurecr.io/fraud/scorer:1.4"
    assert doc["properties"]["imageDigest"] == pushed["digest"]
    prod_acr = env.api.get(f"/api/registries/{prod}").json()["resources"]["container_registry"]["name"]
    images = env.arm.control.images(prod_acr)
    assert "environments/scorer" in str(images), images
    assert environments(env, prod, "tool") == []

    # Event Grid delivers at least once, in no promised order: every event three times, shuffled
    env.arm.control.set_faults(
        [FaultRule(service="eventgrid", event_type="Microsoft.ContainerRegistry.ImagePushed", duplicate=2, reorder=9)]
    )
    try:
        for tag in ("2.0", "2.1", "2.2"):
            env.arm.control.push_image("teambuild", "fraud/scorer", tag)
        found = wait_environments(env, prod, "scorer", 4)
        time.sleep(3)  # any late duplicate would make a fifth version or a second promotion by now
        assert sorted(v["version"] for v in environments(env, prod, "scorer")) == ["1.4", "2.0", "2.1", "2.2"], found
    finally:
        env.arm.control.clear_faults()
    made = env.api.get("/api/promotions", params={"rule": "images"}).json()["value"]
    assert sorted(p["target"].rsplit("/", 1)[-1] for p in made) == ["1.4", "2.0", "2.1", "2.2"]
    assert {p["status"] for p in made} == {"Succeeded"}


def test_an_asset_yml_written_last_into_a_watched_prefix_registers_its_folder_in_every_region(
    sources_env: Env, prod: str, tmp_path: Path
):
    env = sources_env
    account_id, blobs = drop_account(env, team_group(env, "team-data"), unique("teamdrop").lower()[:20])
    put_rule(env, "drops", {"storage": account_id, "container": "drops", "prefix": "models/"}, prod)
    wait_subscribed(env, account_id)

    container = blobs.create_container("drops")
    files = {"model/MLmodel": b"flavors: {}\n", "model/weights.bin": os.urandom(3 * 1024 * 1024)}
    for path, data in files.items():
        container.upload_blob(f"models/churn/{path}", data)
    manifest = (
        "$schema: https://azuremlschemas.azureedge.net/latest/model.schema.json\n"
        "name: churn\nversion: 3\ntype: custom_model\npath: ./model\ntags: {team: data}\n"
    )
    container.upload_blob("models/churn/asset.yml", manifest.encode())

    deadline = time.monotonic() + 120
    while env.api.get(f"/api/registries/{prod}/models/churn/versions/3").status_code == 404:
        assert time.monotonic() < deadline, env.sandbox.logs()
        time.sleep(0.5)
    doc = wait_replicated(env, prod, "models", "churn", "3", set(REGIONS), timeout=180)
    assert doc["properties"]["promotedFrom"].endswith("/drops/models/churn/asset.yml")
    assert doc["tags"] == {"team": "data"}
    for region in REGIONS:
        out = tmp_path / region
        done = regctl(
            env, "model", "download", "--registry", prod, "-n", "churn", "-v", "3", "--region", region, "-d", str(out)
        )
        assert done.returncode == 0, done.stderr
        got = tree(out)
        assert got == {p.removeprefix("model/"): hashlib.sha256(d).hexdigest() for p, d in files.items()}, got
