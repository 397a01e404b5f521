"""The asset routes over fakes: registration through a pending upload (202, then 200 for the same content,
409 for other content), problem+json for bad input with nothing stored, and Azure RBAC: a Reader lists
and downloads but registers nothing, a custom asset-writer role registers but cannot change the registry."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handlers.http_api import create_api
from shared.domain.access import Principal
from shared.domain.roles import READER
from tests.unit.handlers.test_access_api import ASSET_WRITER
from tests.unit.services.fake_access import OWNER_TOKEN
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World

BASE = "/api/registries/DemoRegistry1/models/clf/versions"
FILES = {"MLmodel": b"flavors: {}\n", "weights/a.bin": b"\x07" * 2048}


class Api:
    def __init__(self) -> None:
        self.world = World()
        self.app = create_api(
            lambda: self.world.api.service, lambda: {"store": True}, self.world.gate, assets=lambda: self.world.assets
        )
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}

    def person(self, role: str) -> dict[str, str]:
        principal = Principal(str(uuid.uuid4()), "someone@example.com")
        body = {"scope": "/registries/demoregistry1", "principalId": principal.id, "principalType": "User"}
        answer = self.client.put(
            f"/api/roleAssignments/{uuid.uuid4()}", json={**body, "roleDefinitionId": role}, headers=self.owner
        )
        assert answer.status_code in (200, 201), answer.text
        return {"Authorization": f"Bearer {self.world.authenticator.token_for(principal)}"}

    def upload(self, headers: dict[str, str], version: str = "1", files: dict[str, bytes] = FILES) -> Any:
        answer = self.client.post(f"{BASE}/{version}/startPendingUpload", headers=headers)
        if answer.status_code != 200:
            return answer
        blob_uri = answer.json()["blobReferenceForConsumption"]["blobUri"]
        endpoint, _, container = blob_uri.rpartition("/")
        for path, data in files.items():
            self.world.data.put(endpoint + "/", container, path, data)
        return blob_uri

    def register(self, headers: dict[str, str], content: str, version: str = "1", **extra: Any) -> Any:
        body = {"name": "clf", "version": version, "type": "custom_model", "path": content, **extra}
        return self.client.put(f"{BASE}/{version}", json=body, headers=headers)


@pytest.fixture
def api() -> Api:
    found = Api()
    assert found.client.post("/api/registries", json=DEMO1, headers=found.owner).status_code == 202
    found.world.drain()
    return found


def test_register_answers_202_with_the_operation_and_the_version_becomes_available(api):
    answer = api.register(api.owner, api.upload(api.owner))
    assert answer.status_code == 202
    assert answer.headers["Location"].startswith("/api/operations/demoregistry1.")
    assert answer.json()["status"] == "Creating"
    api.world.drain()
    shown = api.client.get(f"{BASE}/1", headers=api.owner).json()
    assert shown["id"] == "azureml://registries/DemoRegistry1/models/clf/versions/1"
    assert shown["status"] == "Available"
    assert shown["createdBy"]["name"] == "owner@example.com"
    assert {r: c["state"] for r, c in shown["replication"].items()} == {
        "eastus": "Replicated",
        "eastus2": "Replicated",
        "westus": "Replicated",
    }
    operation = api.client.get(answer.headers["Location"], headers=api.owner).json()
    assert operation["status"] == "Succeeded"
    assert {s["region"] for s in operation["steps"]} == {"eastus", "eastus2", "westus"}


def test_the_same_content_again_answers_200_and_other_content_409(api):
    assert api.register(api.owner, api.upload(api.owner)).status_code == 202
    api.world.drain()
    sent = len(api.world.publisher.sent)
    assert api.register(api.owner, api.upload(api.owner)).status_code == 200
    assert len(api.world.publisher.sent) == sent  # no new work
    other = api.register(api.owner, api.upload(api.owner, files={"MLmodel": b"other"}))
    assert other.status_code == 409
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["code"] == "AssetVersionImmutable"


@pytest.mark.parametrize(
    ("version", "extra", "field"),
    [
        ("1 2", {}, "version"),
        ("1", {"weights": "x"}, "weights"),  # not a model field: the wrong schema
        ("1", {"type": "sklearn"}, "type"),
        ("1", {"name": "bad name!"}, "name"),
    ],
)
def test_bad_documents_get_problem_json_naming_the_field_and_store_nothing(api, version, extra, field):
    content = api.upload(api.owner)
    body = {"name": "clf", "version": version, "path": content, **extra}
    answer = api.client.put(f"{BASE}/{version}", json=body, headers=api.owner)
    assert 400 <= answer.status_code < 500
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert api.world.asset_store.rows == {}


def test_a_path_with_dot_dot_or_files_that_disagree_with_the_upload_are_refused(api):
    content = api.upload(api.owner)
    assert api.register(api.owner, content + "/../elsewhere").status_code == 422
    wrong_size = [{"path": "MLmodel", "size": 1}, {"path": "weights/a.bin", "size": 2048}]
    answer = api.register(api.owner, content, files=wrong_size)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "files[MLmodel]"
    assert api.world.asset_store.rows == {}


def test_a_reader_lists_shows_and_downloads_but_cannot_register_change_or_delete(api):
    assert api.register(api.owner, api.upload(api.owner)).status_code == 202
    api.world.drain()
    reader = api.person(READER.id)
    assert api.client.get("/api/registries/DemoRegistry1/models", headers=reader).json()["value"][0]["name"] == "clf"
    assert api.client.get(f"{BASE}/1", headers=reader).status_code == 200
    granted = api.client.post(f"{BASE}/1/download?region=westus", headers=reader)
    assert granted.status_code == 200
    assert granted.json()["region"] == "westus"
    for answer in (
        api.client.post(f"{BASE}/2/startPendingUpload", headers=reader),
        api.client.patch(f"{BASE}/1", json={"isArchived": True}, headers=reader),
        api.client.delete(f"{BASE}/1", headers=reader),
    ):
        assert answer.status_code == 403
        assert "registries/assets/" in answer.json()["detail"]


def test_a_custom_asset_writer_registers_assets_but_cannot_change_the_registry(api):
    role_id = str(uuid.uuid4())
    created = api.client.put(f"/api/roleDefinitions/{role_id}", json=ASSET_WRITER, headers=api.owner)
    assert created.status_code in (200, 201), created.text
    writer = api.person(role_id)
    assert api.register(writer, api.upload(writer)).status_code == 202
    patched = api.client.patch(
        "/api/registries/DemoRegistry1",
        json={"tags": {"x": "y"}},
        headers={**writer, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 403
    assert "registries/write" in patched.json()["detail"]


def test_a_caller_without_read_on_the_registry_is_told_it_does_not_exist(api):
    stranger = {"Authorization": f"Bearer {api.world.authenticator.token_for(Principal(str(uuid.uuid4()), 'x'))}"}
    assert api.client.get("/api/registries/DemoRegistry1/models", headers=stranger).status_code == 404


def test_archive_hides_a_version_from_the_list_until_asked(api):
    assert api.register(api.owner, api.upload(api.owner)).status_code == 202
    api.world.drain()
    assert api.client.patch(f"{BASE}/1", json={"isArchived": True}, headers=api.owner).json()["isArchived"]
    assert api.client.get(BASE, headers=api.owner).json()["value"] == []
    listed = api.client.get(f"{BASE}?includeArchived=true", headers=api.owner).json()["value"]
    assert [v["version"] for v in listed] == ["1"]


def test_a_registration_listing_thousands_of_files_fits_the_body_limit_of_registrations(api):
    files = {f"shards/part-{i:05d}.bin": bytes([i % 256]) for i in range(2500)}
    content = api.upload(api.owner, files=files)
    claimed = [{"path": p, "size": len(d)} for p, d in files.items()]
    answer = api.register(api.owner, content, files=claimed)
    assert len(answer.request.content) > 64 * 1024  # over the limit of a registry spec
    assert answer.status_code == 202, answer.text
    assert answer.json()["fileCount"] == 2500
