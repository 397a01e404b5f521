"""The HTTP API over fakes: status codes, problem+json, and nothing stored or enqueued on rejection."""

from __future__ import annotations

import asyncio
import json
import threading

import httpx
import pytest
import yaml
from fastapi.testclient import TestClient

from handlers.bodies import MAX_BODY_BYTES
from handlers.http_api import create_api
from shared.domain.commands import CreateRegistry
from shared.domain.errors import ConcurrentUpdate, RegctlError, TransientError
from shared.domain.messages import decode_message
from shared.domain.records import OperationStatus
from shared.services.registries import RegistryService
from tests.unit.services.fake_access import OWNER_TOKEN
from tests.unit.services.fakes import FakePublisher, FakeStore
from tests.unit.services.world import World

DEMO1_YAML = """\
name: DemoRegistry1
description: Basic registry with one primary region and two additional regions
tags: {foo: bar}
location: eastus
replication_locations:
  - location: eastus
  - location: eastus2
    storage_config: {storage_account_hns: false, storage_account_type: Standard_LRS}
  - location: westus
"""
YAML = {"Content-Type": "application/yaml"}
OWNER = {"Authorization": f"Bearer {OWNER_TOKEN}"}


class Api:
    def __init__(self) -> None:
        self.store = FakeStore()
        self.publisher = FakePublisher()
        self.world = World(store=self.store, publisher=self.publisher)
        service = self.world.api.service
        self.client = TestClient(create_api(lambda: service, lambda: {"store": True}, self.world.gate), headers=OWNER)

    def create(self, body: str = DEMO1_YAML, **headers: str):
        return self.client.post("/api/registries", content=body, headers={**YAML, **headers})


@pytest.fixture
def api() -> Api:
    return Api()


def test_create_answers_202_with_the_operation_location_and_enqueues_one_reconcile(api):
    response = api.create()
    assert response.status_code == 202
    location = response.headers["Location"]
    assert location.startswith("/api/operations/")
    operation = api.client.get(location).json()
    assert operation["status"] == "Accepted" and operation["registry"] == "DemoRegistry1"
    assert [decode_message(m.body).type for m in api.publisher.sent] == ["reconcile"]


def test_json_bodies_are_accepted_like_yaml(api):
    body = json.dumps(yaml.safe_load(DEMO1_YAML))
    response = api.client.post("/api/registries", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 202


def test_invalid_spec_is_a_problem_listing_each_field_and_stores_nothing(api):
    bad = DEMO1_YAML.replace("location: westus", "location: West US").replace("Standard_LRS", "Standard_XYZ")
    response = api.create(bad)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {
        "replication_locations[2].location",
        "replication_locations[1].storage_config.storage_account_type",
    }
    assert api.store.registries == {} and api.store.operations == {} and api.publisher.sent == []


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("a: [1, 2", "application/yaml", 422, "InvalidYaml"),
        ("[1, 2]", "application/json", 422, "InvalidDocument"),
        ("{", "application/json", 422, "InvalidJson"),
        ("name: x", "text/plain", 415, "UnsupportedMediaType"),
        ("x" * (MAX_BODY_BYTES + 1), "application/yaml", 413, "RequestTooLarge"),
    ],
)
def test_malformed_bodies_are_problems_and_store_nothing(api, body, content_type, status, code):
    response = api.client.post("/api/registries", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.json()["code"] == code
    assert api.store.registries == {} and api.publisher.sent == []


def test_idempotency_key_replay_returns_the_same_operation(api):
    first = api.create(**{"Idempotency-Key": "abc"})
    second = api.create(**{"Idempotency-Key": "abc"})
    assert first.headers["Location"] == second.headers["Location"]
    # the operation is still going, so its submit message is sent again under the same id: duplicate
    # detection drops it if the first went out (it starts the operation if the first send had failed)
    assert len({m.message_id for m in api.publisher.sent}) == 1


def test_creating_an_existing_name_with_another_spec_is_409_and_changes_nothing(api):
    api.create()
    other = DEMO1_YAML.replace("foo: bar", "foo: baz").replace("DemoRegistry1", "demoregistry1")
    response = api.create(other)
    assert response.status_code == 409 and response.json()["code"] == "RegistryExists"
    assert api.store.get_registry("demoregistry1").spec["tags"] == {"foo": "bar"}


def test_get_registry_is_case_insensitive_and_unknown_names_are_404_problems(api):
    api.create()
    assert api.client.get("/api/registries/DEMOREGISTRY1").json()["name"] == "DemoRegistry1"
    missing = api.client.get("/api/registries/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "RegistryNotFound"
    assert api.client.get("/api/operations/nope").status_code == 404


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (
            lambda y: y.replace("location: eastus\nreplication", "location: westus\nreplication"),
            "PrimaryLocationImmutable",
        ),
        (lambda y: y.replace("name: DemoRegistry1", "name: Other"), "NameImmutable"),
        (lambda y: y.replace("storage_account_hns: false", "storage_account_hns: true"), "StorageChangeNotAllowed"),
        (lambda y: y.replace("Standard_LRS", "Premium_LRS"), "StorageChangeNotAllowed"),
    ],
)
def test_forbidden_updates_are_409_and_change_nothing(api, change, code):
    api.create()
    before = api.store.get_registry("demoregistry1")
    response = api.client.put("/api/registries/DemoRegistry1", content=change(DEMO1_YAML), headers=YAML)
    assert response.status_code == 409 and response.json()["code"] == code
    after = api.store.get_registry("demoregistry1")
    assert after.generation == before.generation and after.spec == before.spec
    assert len(api.publisher.sent) == 1


def test_update_bumps_the_generation_and_cancels_the_running_operation(api):
    first = api.create().json()["id"]
    changed = DEMO1_YAML.replace("foo: bar", "foo: baz")
    response = api.client.put("/api/registries/DemoRegistry1", content=changed, headers=YAML)
    assert response.status_code == 202
    record = api.store.get_registry("demoregistry1")
    assert record.generation == 2 and record.spec["tags"] == {"foo": "baz"}
    old = api.store.get_operation(first)
    assert old.status is OperationStatus.CANCELED and old.error_code == "Superseded"


def test_patch_is_a_json_merge_patch_on_the_stored_spec(api):
    api.create()
    patch = {"tags": {"team": "ml"}, "replication_locations": [{"location": "eastus"}, {"location": "westus"}]}
    response = api.client.patch(
        "/api/registries/DemoRegistry1", json=patch, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert response.status_code == 202
    spec = api.store.get_registry("demoregistry1").spec
    assert spec["tags"] == {"foo": "bar", "team": "ml"}
    assert [r["location"] for r in spec["replication_locations"]] == ["eastus", "westus"]
    assert spec["description"].startswith("Basic registry")


def test_delete_marks_the_registry_deleting_and_enqueues(api):
    api.create()
    response = api.client.delete("/api/registries/demoregistry1")
    assert response.status_code == 202
    assert api.store.get_registry("demoregistry1").deleting
    assert api.client.post("/api/registries", content=DEMO1_YAML, headers=YAML).status_code == 409


def test_sync_creates_an_operation_of_its_own(api):
    api.create()
    response = api.client.post("/api/registries/DemoRegistry1/sync")
    assert response.status_code == 202
    assert api.client.get(response.headers["Location"]).json()["kind"] == "sync"


def test_policy_is_validated_and_shown(api):
    api.create()
    assert (
        api.client.put("/api/registries/DemoRegistry1/policy", json={"reconcile_policy": "sometimes"}).status_code
        == 422
    )
    ok = api.client.put("/api/registries/DemoRegistry1/policy", json={"reconcile_policy": "observe"})
    assert ok.status_code == 200 and ok.json()["reconcilePolicy"] == "observe"


def test_openapi_and_docs_are_served(api):
    spec = api.client.get("/api/openapi.json").json()
    assert "/api/registries" in spec["paths"] and "/api/operations/{operation_id}" in spec["paths"]
    assert api.client.get("/api/docs").status_code == 200


def test_openapi_describes_the_spec_bodies_and_every_error_as_a_problem(api):
    spec = api.client.get("/api/openapi.json").json()
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    for path, method in (("/api/registries", "post"), ("/api/registries/{name}", "put")):
        content = paths[path][method]["requestBody"]["content"]
        assert set(content) == {"application/json", "application/yaml"}
        assert content["application/yaml"]["schema"] == {"$ref": "#/components/schemas/RegistrySpec"}
    assert set(paths["/api/registries/{name}"]["patch"]["requestBody"]["content"]) == {"application/merge-patch+json"}
    assert {"name", "location", "replication_locations"} <= set(schemas["RegistrySpec"]["properties"])
    assert "StorageConfig" in schemas  # the spec's nested models resolve inside the document
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")) and path != "/api/health":
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)
    assert paths["/api/registries"]["post"]["responses"]["202"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AcceptedOperation"
    }


def test_the_documented_problem_schema_matches_what_is_answered(api):
    body = api.create(DEMO1_YAML.replace("eastus2", "East US 2")).json()
    required = api.client.get("/api/openapi.json").json()["components"]["schemas"]["Problem"]["required"]
    assert set(required) <= set(body) and body["errors"][0]["field"].startswith("replication_locations")


def test_health_reports_each_check(api):
    assert api.client.get("/api/health").json() == {"status": "ok", "checks": {"store": True}}


class BlockingService(RegistryService):
    """A service whose writes block (as Azure SDK calls do) until the test releases them."""

    def __init__(self) -> None:
        world = World()
        super().__init__(world.store, world.container.dispatcher, world.lifecycle, world.access)
        self.world = world
        self.entered = threading.Event()
        self.release = threading.Event()

    def _hold(self) -> None:
        self.entered.set()
        assert self.release.wait(3), "the test never released the write"

    def create(self, command):
        self._hold()
        return super().create(command)

    def replace(self, command):
        self._hold()
        return super().replace(command)

    def patch(self, command):
        self._hold()
        return super().patch(command)


@pytest.mark.parametrize(
    ("method", "path", "content_type"),
    [
        ("POST", "/api/registries", "application/yaml"),
        ("PUT", "/api/registries/DemoRegistry1", "application/yaml"),
        ("PATCH", "/api/registries/DemoRegistry1", "application/merge-patch+json"),
    ],
)
def test_a_blocking_write_does_not_hold_up_the_event_loop(method: str, path: str, content_type: str):
    """While one write waits on storage, the same event loop still answers other requests."""
    service = BlockingService()
    RegistryService.create(service, CreateRegistry.from_document(yaml.safe_load(DEMO1_YAML)))  # not held
    app = create_api(lambda: service, lambda: {"store": True}, service.world.gate)
    body = DEMO1_YAML if content_type == "application/yaml" else json.dumps({"tags": {"v": "2"}})

    async def scenario() -> tuple[int, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            write = asyncio.create_task(
                client.request(method, path, content=body, headers={"Content-Type": content_type, **OWNER})
            )
            while not service.entered.is_set():
                await asyncio.sleep(0.01)
            health = await asyncio.wait_for(client.get("/api/health"), timeout=5)
            service.release.set()
            return health.status_code, (await write).status_code

    assert asyncio.run(scenario()) == (200, 202)


class FailingStore(FakeStore):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    def create_registry(self, registry, operation):
        raise self.error


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TransientError("the state store is unavailable", code="StoreUnavailable"), 503),
        (ConcurrentUpdate("kept losing the race"), 503),
        (RegctlError("the state store answered 400", code="StoreError"), 500),  # not known to be an outage
        (TransientError("queue unavailable", code="QueueUnavailable"), 503),
        (ValueError("a bug"), 500),
    ],
)
def test_a_dependency_outage_is_a_503_to_retry_and_a_bug_a_500(error: Exception, status: int):
    store = FailingStore(error)
    publisher = FakePublisher()
    world = World(store=store, publisher=publisher)
    service = world.api.service
    client = TestClient(
        create_api(lambda: service, lambda: {"store": True}, world.gate), raise_server_exceptions=False, headers=OWNER
    )
    response = client.post("/api/registries", content=DEMO1_YAML, headers=YAML)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert ("Retry-After" in response.headers) is (status == 503)
    assert publisher.sent == [] and store.registries == {}


def test_a_request_traceparent_reaches_the_operation_and_its_first_message(api):
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = api.create(traceparent=traceparent)
    assert response.status_code == 202
    [sent] = api.publisher.sent
    assert sent.application_properties["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    operation = api.store.get_operation(response.json()["id"])
    assert (operation.traceparent or "").split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
