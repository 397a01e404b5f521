"""What the web console needs from the API: a validate route that stores nothing, the region catalog, the
caller's own permissions, and ``/console`` (static files, sign-in settings, the app's own routes)."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from handlers.auth import PUBLIC, ROUTE_ACTIONS, api_routes
from handlers.console_site import ConsoleConfig
from handlers.http_api import create_api
from shared.domain.access import Principal
from shared.domain.regions import REGIONS
from shared.domain.roles import READER
from tests.unit.services.fake_access import OWNER_TOKEN
from tests.unit.services.world import World

DEMO = {"name": "DemoRegistry1", "location": "eastus", "replication_locations": [{"location": "eastus"}]}
CONFIG = ConsoleConfig(
    "11111111-1111-1111-1111-111111111111", "https://login.example/tenant", ["api://regctl/.default"]
)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "index-abc.js").write_text("console.log('plain')")
    (tmp_path / "assets" / "index-abc.js.gz").write_bytes(gzip.compress(b"console.log('zipped')"))
    return tmp_path


class Api:
    def __init__(self, site: Path) -> None:
        self.world = World()
        self.app = create_api(
            lambda: self.world.api.service,
            lambda: {"store": True},
            self.world.gate,
            console=lambda: CONFIG,
            console_dir=site,
        )
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}

    def person(self) -> tuple[Principal, dict[str, str]]:
        principal = Principal(str(uuid.uuid4()), "someone@example.com")
        return principal, {"Authorization": f"Bearer {self.world.authenticator.token_for(principal)}"}

    def grant(self, principal: Principal, role: str, scope: str) -> None:
        body = {"scope": scope, "principalId": principal.id, "principalType": "User", "roleDefinitionId": role}
        answer = self.client.put(f"/api/roleAssignments/{uuid.uuid4()}", json=body, headers=self.owner)
        assert answer.status_code == 201, answer.text


@pytest.fixture
def api(site: Path) -> Api:
    return Api(site)


def test_console_routes_are_public_and_the_new_api_routes_declare_actions(api):
    served = api_routes(api.app.routes)
    assert {("GET", "/console"), ("GET", "/console/config.json"), ("GET", "/console/{path:path}")} <= served
    assert {p for _, p in served if p.startswith("/console")} <= PUBLIC
    for route in (("POST", "/api/registries/validate"), ("GET", "/api/regions"), ("GET", "/api/permissions")):
        assert route in served and route in ROUTE_ACTIONS


def test_validate_answers_the_normalised_spec_and_stores_nothing(api):
    document = {**DEMO, "location": "EastUS", "replication_locations": [{"location": "westus"}]}
    answer = api.client.post("/api/registries/validate", json=document, headers=api.owner)
    assert answer.status_code == 200
    body = answer.json()
    assert body["spec"]["location"] == "eastus"
    assert [r["location"] for r in body["spec"]["replication_locations"]] == ["eastus", "westus"]
    assert body["warnings"] and "primary region" in body["warnings"][0]
    assert api.world.store.list_registries() == []
    assert api.client.get("/api/registries/DemoRegistry1", headers=api.owner).status_code == 404


def test_validate_lists_field_errors_with_their_paths(api):
    document = {"name": "x", "location": "nowhere", "replication_locations": [{"location": "eastus"}]}
    answer = api.client.post(
        "/api/registries/validate",
        content="name: x\nlocation: nowhere\n",
        headers={**api.owner, "Content-Type": "application/yaml"},
    )
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"name", "location", "replication_locations"} <= fields
    assert api.client.post("/api/registries/validate", json=document).status_code == 401


def test_regions_list_arm_names_with_display_names(api):
    answer = api.client.get("/api/regions", headers=api.owner)
    assert answer.status_code == 200
    regions = answer.json()["value"]
    assert {"name": "eastus2", "displayName": "East US 2"} in regions
    assert len(regions) == len(REGIONS)


def test_permissions_are_the_callers_own_roles_over_the_scope(api):
    assert api.client.post("/api/registries", json=DEMO, headers=api.owner).status_code == 202
    reader, headers = api.person()
    api.grant(reader, READER.id, "/registries/demoregistry1")

    on_registry = api.client.get("/api/permissions", params={"scope": "/registries/DemoRegistry1"}, headers=headers)
    assert on_registry.status_code == 200
    assert on_registry.json() == {"value": [{"actions": ["*/read"], "notActions": []}]}
    at_root = api.client.get("/api/permissions", headers=headers)
    assert at_root.status_code == 403
    assert "Microsoft.MachineLearningServices/registries/read" in at_root.json()["detail"]
    owner = api.client.get("/api/permissions", params={"scope": "/"}, headers=api.owner).json()["value"]
    assert owner == [{"actions": ["*"], "notActions": []}]
    _, stranger = api.person()
    hidden = api.client.get("/api/permissions", params={"scope": "/registries/DemoRegistry1"}, headers=stranger)
    assert hidden.status_code == 404


def test_the_console_is_served_with_its_sign_in_settings(api):
    assert api.client.get("/console/config.json").json() == {
        "clientId": CONFIG.client_id,
        "authority": CONFIG.authority,
        "scopes": CONFIG.scopes,
    }
    moved = api.client.get("/console", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/console/"
    index = api.client.get("/console/")
    assert index.status_code == 200 and "<title>console</title>" in index.text
    assert index.headers["cache-control"] == "no-cache"
    app_routes = ("/console/registries/DemoRegistry1", "/console/operations/abc", "/console/create")
    for app_route in (*app_routes, "/console/operations/demoregistry1.0123abcd"):  # an operation id has a dot
        assert api.client.get(app_route).text == index.text


def test_hashed_assets_are_cached_and_sent_gzipped_to_who_accepts_it(api):
    zipped = api.client.get("/console/assets/index-abc.js", headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.text == "console.log('zipped')"  # the client undid the gzip
    assert zipped.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert zipped.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    plain = api.client.get("/console/assets/index-abc.js", headers={"Accept-Encoding": "identity"})
    assert plain.text == "console.log('plain')" and "content-encoding" not in plain.headers


@pytest.mark.parametrize(
    "path", ["/console/assets/missing.js", "/console/favicon.ico", "/console/..%2f..%2fpyproject.toml"]
)
def test_missing_files_and_paths_outside_the_build_are_404(api, path):
    assert api.client.get(path).status_code == 404
