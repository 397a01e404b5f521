"""Promotion on a running sandbox, by events alone: two rules chain dev (two regions) -> staging -> prod (three
regions); the model is downloaded byte-identical from every region of every registry, with lineage on each
hop; every event delivered three times more (new message ids, so only the handler's own deduplication stands)
makes no new promotion. Malformed and foreign events are dead-lettered with their reasons, never retried."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from azure.storage.queue import QueueClient

from shared.adapters.storage_queue import StorageQueuePublisher
from shared.ports import OutboundMessage
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_assets import regctl, tree, wait_replicated
from tests.integration.e2e.test_provisioning import unique

pytestmark = pytest.mark.integration
EVENTS_QUEUE = "regctl-events"


def registry(env: Env, name: str, *regions: str) -> None:
    body = json.dumps(
        {"name": name, "location": regions[0], "replication_locations": [{"location": r} for r in regions]}
    )
    created = env.api.post("/api/registries", content=body, headers={"Content-Type": "application/json"})
    assert created.status_code == 202, created.text
    assert env.wait(created.headers["Location"], timeout=180)["status"] == "Succeeded"
    # the accounts' endpoints, as an observation recorded them: the creating reconcile may have recorded the
    # accounts before ARM showed their endpoints, so one sync observes them again
    synced = env.api.post(f"/api/registries/{name}/sync")
    assert synced.status_code == 202, synced.text
    assert env.wait(synced.headers["Location"], timeout=180)["status"] == "Succeeded"
    deadline = time.monotonic() + 60
    while {a["region"] for a in storage_accounts(env, name) if a.get("blob_endpoint")} != set(regions):
        assert time.monotonic() < deadline, env.api.get(f"/api/registries/{name}").text
        time.sleep(0.5)


def storage_accounts(env: Env, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = env.api.get(f"/api/registries/{name}").json()["resources"].get("storage_accounts", [])
    return found


def rule(env: Env, name: str, source: str, target: str) -> None:
    made = env.api.put(
        f"/api/promotionRules/{name}", json={"source": {"registry": source}, "target": {"registry": target}}
    )
    assert made.status_code == 200, made.text


def promotions(env: Env, rule_name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = env.api.get("/api/promotions", params={"rule": rule_name}).json()["value"]
    return found


def wait_promoted(env: Env, registry: str) -> None:
    """Until the promotion registered fraud 1 in ``registry`` (the event announcing its source is on its way)."""
    deadline = time.monotonic() + 120
    while env.api.get(f"/api/registries/{registry}/models/fraud/versions/1").status_code == 404:
        assert time.monotonic() < deadline, env.sandbox.logs()
        time.sleep(0.5)


def test_two_rules_chain_a_model_through_three_registries_by_events_alone(env: Env, tmp_path: Path):
    dev, staging, prod = unique("dev"), unique("staging"), unique("prod")
    registry(env, dev, "eastus", "eastus2")
    registry(env, staging, "westus")
    registry(env, prod, "centralus", "westus2", "northeurope")
    rule(env, f"{dev}-up", dev, staging)
    rule(env, f"{staging}-up", staging, prod)

    folder = tmp_path / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    (folder / "weights" / "w.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    spec = tmp_path / "model.yml"
    spec.write_text("name: fraud\nversion: '1'\npath: model\n", encoding="utf-8")
    made = regctl(env, "model", "create", "--registry", dev, "-f", str(spec), "--wait")
    assert made.returncode == 0, made.stderr + made.stdout

    wait_replicated(env, dev, "models", "fraud", "1", {"eastus", "eastus2"})
    wait_promoted(env, staging)
    wait_replicated(env, staging, "models", "fraud", "1", {"westus"})
    wait_promoted(env, prod)
    prod_doc = wait_replicated(env, prod, "models", "fraud", "1", {"centralus", "westus2", "northeurope"})
    staging_doc = env.api.get(f"/api/registries/{staging}/models/fraud/versions/1").json()
    assert staging_doc["properties"]["promotedFrom"] == f"azureml://registries/{dev}/models/fraud/versions/1"
    assert prod_doc["properties"]["promotedFrom"] == f"azureml://registries/{staging}/models/fraud/versions/1"
    assert prod_doc["properties"]["promotionRule"] == f"{staging}-up" and prod_doc["properties"]["promotionEvent"]

    expected = tree(folder)
    for name, regions in (
        (dev, ("eastus", "eastus2")),
        (staging, ("westus",)),
        (prod, ("centralus", "westus2", "northeurope")),
    ):
        for region in regions:
            target = tmp_path / f"down-{name}-{region}"
            got = regctl(
                env,
                "model",
                "download",
                "--registry",
                name,
                "-n",
                "fraud",
                "-v",
                "1",
                "--region",
                region,
                "-d",
                str(target),
            )
            assert got.returncode == 0, got.stderr
            assert tree(target) == expected, (name, region)

    for hop in (f"{dev}-up", f"{staging}-up"):
        deadline = time.monotonic() + 60
        while [p["status"] for p in promotions(env, hop)] != ["Succeeded"]:
            assert time.monotonic() < deadline, promotions(env, hop)
            time.sleep(0.5)

    # every event again, three times, under new message ids (past Service Bus duplicate detection), in reverse
    connection = env.sandbox.info["azurite"]["connection_string"]
    publisher = StorageQueuePublisher(connection)
    available = [
        {
            "id": p["event"],
            "eventType": "Regctl.Registries.AssetVersionAvailable",
            "subject": subject,
            "eventTime": "2026-01-01T00:00:00Z",
            "data": {},
            "dataVersion": "1.0",
        }
        for p, subject in (
            (promotions(env, f"{staging}-up")[0], f"/registries/{staging}/models/fraud/versions/1"),
            (promotions(env, f"{dev}-up")[0], f"/registries/{dev}/models/fraud/versions/1"),
        )
    ]
    publisher.publish(
        [OutboundMessage(EVENTS_QUEUE, f"again-{i}-{e['id']}", json.dumps(e)) for i in range(3) for e in available]
    )
    drain(env)
    assert len(promotions(env, f"{dev}-up")) == 1 and len(promotions(env, f"{staging}-up")) == 1
    versions = env.api.get(f"/api/registries/{prod}/models/fraud/versions").json()["value"]
    assert [v["version"] for v in versions] == ["1"]


def drain(env: Env) -> None:
    """Until the events queue is empty (visible or in flight: the approximate count holds both)."""
    queue = QueueClient.from_connection_string(env.sandbox.info["azurite"]["connection_string"], EVENTS_QUEUE)
    deadline = time.monotonic() + 60
    while queue.get_queue_properties().approximate_message_count:
        assert time.monotonic() < deadline, env.sandbox.logs()
        time.sleep(0.5)


def test_malformed_and_foreign_events_are_dead_lettered_with_their_reason_and_never_retried(env: Env):
    tag = unique("bad")
    grid = {"id": f"{tag}-e", "subject": "/x", "eventTime": "2026-01-01T00:00:00Z", "data": {}, "dataVersion": "1"}
    bad = {
        "not-json": ("this is not an event", "not JSON"),
        "no-schema": (json.dumps({"hello": "world"}), "neither Event Grid schema (eventType) nor CloudEvents 1.0"),
        "two-events": (json.dumps([grid, grid]), "a message carries one event, this one 2"),
        "cloudevents-0.3": (
            json.dumps({"specversion": "0.3", "id": "x", "type": "t", "source": "s"}),
            "CloudEvents specversion '0.3' is not 1.0",
        ),
        "foreign": (
            json.dumps({**grid, "id": f"{tag}-foreign", "eventType": "Contoso.Build.Finished"}),
            "foreign event type Contoso.Build.Finished",
        ),
        "no-asset-subject": (
            json.dumps({**grid, "id": f"{tag}-subject", "eventType": "Regctl.Registries.AssetVersionAvailable"}),
            "not an asset subject: /x",
        ),
    }
    publisher = StorageQueuePublisher(env.sandbox.info["azurite"]["connection_string"])
    publisher.publish([OutboundMessage(EVENTS_QUEUE, f"{tag}-{key}", body) for key, (body, _) in bad.items()])
    deadline = time.monotonic() + 60
    while True:
        dead = {d["messageId"]: d for d in env.api.get("/api/events/deadLetters").json()["value"]}
        if all(f"{tag}-{key}" in dead for key in bad):
            break
        assert time.monotonic() < deadline, (sorted(dead), env.sandbox.logs())
        time.sleep(0.5)
    drain(env)  # completed, not left to be delivered again
    for key, (body, reason) in bad.items():
        assert dead[f"{tag}-{key}"]["reason"].startswith(reason), (key, dead[f"{tag}-{key}"])
        assert dead[f"{tag}-{key}"]["body"] == body
