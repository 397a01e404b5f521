"""Identity and access through the HTTP API over fakes: 401 without a valid identity, Azure RBAC on every
route (404 for what the caller may not see, 403 naming action and scope), role definitions and
assignments in ARM's shapes, who asked, and the activity log."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handlers.auth import PUBLIC, ROUTE_ACTIONS, api_routes
from handlers.http_api import create_api
from shared.bootstrap import arm_site
from shared.domain.access import Principal
from shared.domain.roles import AZUREML_REGISTRY_USER, CONTRIBUTOR, OWNER, READER
from tests.unit.services.fake_access import OWNER_ID, OWNER_TOKEN
from tests.unit.services.world import World

DEMO = {"name": "DemoRegistry1", "location": "eastus", "replication_locations": [{"location": "eastus"}]}
OTHER = {"name": "Other", "location": "eastus", "replication_locations": [{"location": "eastus"}]}
ASSET_WRITER = {
    "roleName": "Registry asset writer",
    "description": "create and use assets without managing registries",
    "actions": [
        "Microsoft.MachineLearningServices/registries/read",
        "Microsoft.MachineLearningServices/registries/assets/*",
    ],
    "notActions": [],
    "assignableScopes": ["/"],
}


class Api:
    def __init__(self) -> None:
        self.world = World()
        site = arm_site(self.world.container.settings)
        self.app = create_api(
            lambda: self.world.api.service, lambda: {"store": True}, self.world.gate, arm=lambda: site
        )
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.owner = {"Authorization": f"Bearer {OWNER_TOKEN}"}

    def as_(self, principal: Principal) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.world.authenticator.token_for(principal)}"}

    def person(self, name: str) -> tuple[Principal, dict[str, str]]:
        principal = Principal(str(uuid.uuid4()), f"{name}@example.com")
        return principal, self.as_(principal)

    def grant(self, principal: Principal, role: str, scope: str = "/registries/demoregistry1") -> Any:
        body = {"scope": scope, "principalId": principal.id, "principalType": "User", "roleDefinitionId": role}
        return self.client.put(f"/api/roleAssignments/{uuid.uuid4()}", json=body, headers=self.owner)

    def create(self, document: dict[str, Any], headers: dict[str, str]) -> Any:
        return self.client.post("/api/registries", json=document, headers=headers)


@pytest.fixture
def api() -> Api:
    found = Api()
    assert found.create(DEMO, found.owner).status_code == 202
    assert found.create(OTHER, found.owner).status_code == 202
    return found


def test_every_route_declares_its_action_or_is_public(api):
    declared = api_routes(api.app.routes)
    assert len(declared) > len(ROUTE_ACTIONS) // 2  # the walk found the routes
    undeclared = {(m, p) for m, p in declared if p not in PUBLIC and (m, p) not in ROUTE_ACTIONS}
    assert undeclared == set()
    assert set(ROUTE_ACTIONS) <= declared  # nothing declared for a route that does not exist


@pytest.mark.parametrize(
    ("headers", "code", "challenge"),
    [
        ({}, "AuthenticationRequired", 'Bearer realm="regctl"'),
        (
            {"Authorization": "Bearer forged"},
            "InvalidAuthenticationToken",
            'Bearer realm="regctl", error="invalid_token"',
        ),
        (
            {"Authorization": "Basic b3duZXI6cHc="},
            "InvalidAuthenticationToken",
            'Bearer realm="regctl", error="invalid_token"',
        ),
    ],
)
def test_no_valid_identity_is_401_with_a_bearer_challenge_and_stores_nothing(api, headers, code, challenge):
    before = (dict(api.world.store.registries), len(api.world.publisher.sent))
    for method, path in [
        ("GET", "/api/registries"),
        ("POST", "/api/registries"),
        ("DELETE", "/api/registries/DemoRegistry1"),
    ]:
        response = api.client.request(method, path, json=DEMO, headers=headers)
        assert response.status_code == 401, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == challenge
        assert response.json()["code"] == code
    assert (dict(api.world.store.registries), len(api.world.publisher.sent)) == before


def test_health_and_the_api_documents_need_no_identity(api):
    for path in ("/api/health", "/api/openapi.json", "/api/docs"):
        assert api.client.get(path).status_code == 200, path


def test_a_caller_with_no_role_sees_nothing_and_every_registry_is_404(api):
    _, nobody = api.person("nobody")
    assert api.client.get("/api/registries", headers=nobody).json() == {"value": []}
    for method, path in [
        ("GET", "/api/registries/DemoRegistry1"),
        ("PUT", "/api/registries/DemoRegistry1/policy"),
        ("DELETE", "/api/registries/DemoRegistry1"),
        ("POST", "/api/registries/DemoRegistry1/sync"),
    ]:
        response = api.client.request(method, path, json={"reconcile_policy": "observe"}, headers=nobody)
        assert response.status_code == 404 and response.json()["code"] == "RegistryNotFound", (method, path)
    operation = api.world.store.get_registry("demoregistry1").operation_id
    assert api.client.get(f"/api/operations/{operation}", headers=nobody).status_code == 404


def test_a_reader_reads_but_may_not_write_and_is_told_the_action_and_scope(api):
    reader, headers = api.person("reader")
    assert api.grant(reader, READER.role_name).status_code == 201
    assert [r["name"] for r in api.client.get("/api/registries", headers=headers).json()["value"]] == ["DemoRegistry1"]
    assert api.client.get("/api/registries/DemoRegistry1", headers=headers).status_code == 200
    assert api.client.get("/api/registries/Other", headers=headers).status_code == 404  # not in its scope
    response = api.client.post("/api/registries/DemoRegistry1/sync", headers=headers)
    assert response.status_code == 403
    problem = response.json()
    assert problem["code"] == "AuthorizationFailed"
    assert "Microsoft.MachineLearningServices/registries/write" in problem["detail"]
    assert "/registries/demoregistry1" in problem["detail"] and reader.id in problem["detail"]
    assert api.client.delete("/api/registries/DemoRegistry1", headers=headers).status_code == 403
    assert api.create({**DEMO, "name": "Third"}, headers).status_code == 403


@pytest.mark.parametrize(
    ("role", "can_create", "can_delete", "can_grant"),
    [
        (READER.role_name, False, False, False),
        (AZUREML_REGISTRY_USER.role_name, False, False, False),
        ("Registry asset writer", False, False, False),
        (CONTRIBUTOR.role_name, True, True, False),
        (OWNER.role_name, True, True, True),
    ],
)
def test_the_personas_at_the_root_scope(api, role, can_create, can_delete, can_grant):
    if role == "Registry asset writer":
        assert (
            api.client.put(f"/api/roleDefinitions/{uuid.uuid4()}", json=ASSET_WRITER, headers=api.owner).status_code
            == 201
        )
    person, headers = api.person(role.replace(" ", "-").lower())
    assert api.grant(person, role, scope="/").status_code == 201
    assert len(api.client.get("/api/registries", headers=headers).json()["value"]) == 2
    assert (api.create({**DEMO, "name": f"New{uuid.uuid4().hex[:6]}"}, headers).status_code == 202) is can_create
    assert (api.client.delete("/api/registries/Other", headers=headers).status_code == 202) is can_delete
    other, _ = api.person("other")
    body = {"scope": "/", "principalId": other.id, "principalType": "User", "roleDefinitionId": "Reader"}
    granted = api.client.put(f"/api/roleAssignments/{uuid.uuid4()}", json=body, headers=headers)
    assert (granted.status_code == 201) is can_grant, granted.json()


def test_role_assignments_follow_arms_rules(api):
    principal, _ = api.person("someone")
    name = str(uuid.uuid4())
    body = {
        "scope": "/registries/DemoRegistry1",
        "principalId": principal.id,
        "principalType": "User",
        "roleDefinitionId": READER.id,
    }
    created = api.client.put(f"/api/roleAssignments/{name}", json=body, headers=api.owner)
    assert created.status_code == 201
    document = created.json()
    assert document["name"] == name and document["type"] == "Microsoft.Authorization/roleAssignments"
    assert (
        document["properties"]["roleDefinitionId"] == f"/providers/Microsoft.Authorization/roleDefinitions/{READER.id}"
    )
    assert document["properties"]["scope"] == "/registries/demoregistry1"
    assert document["properties"]["createdBy"]["id"] == OWNER_ID
    assert api.client.put(f"/api/roleAssignments/{name}", json=body, headers=api.owner).status_code == 200
    other_role = {**body, "roleDefinitionId": CONTRIBUTOR.id}
    refused = api.client.put(f"/api/roleAssignments/{name}", json=other_role, headers=api.owner)
    assert refused.status_code == 409 and refused.json()["code"] == "RoleAssignmentUpdateNotPermitted"
    twin = api.client.put(f"/api/roleAssignments/{uuid.uuid4()}", json=body, headers=api.owner)
    assert twin.status_code == 409 and twin.json()["code"] == "RoleAssignmentExists"
    listed = api.client.get("/api/roleAssignments", params={"scope": "/registries/demoregistry1"}, headers=api.owner)
    assert [a["name"] for a in listed.json()["value"]] == [name]
    by_principal = api.client.get("/api/roleAssignments", params={"principalId": principal.id}, headers=api.owner)
    assert [a["name"] for a in by_principal.json()["value"]] == [name]
    assert api.client.delete(f"/api/roleAssignments/{name}", headers=api.owner).status_code == 200
    assert api.client.delete(f"/api/roleAssignments/{name}", headers=api.owner).status_code == 204


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scope": "/teams/x", "principalId": str(uuid.uuid4()), "roleDefinitionId": "Reader"}, "scope"),
        ({"scope": "/", "principalId": "not-a-guid", "roleDefinitionId": "Reader"}, "principalId"),
        ({"scope": "/", "principalId": str(uuid.uuid4()), "roleDefinitionId": "Wizard"}, "roleDefinitionId"),
        (
            {"scope": "/", "principalId": str(uuid.uuid4()), "principalType": "Robot", "roleDefinitionId": "Reader"},
            "principalType",
        ),
    ],
)
def test_an_invalid_assignment_names_the_field_and_stores_nothing(api, body, field):
    before = dict(api.world.access_store.assignments)
    response = api.client.put(f"/api/roleAssignments/{uuid.uuid4()}", json=body, headers=api.owner)
    assert 400 <= response.status_code < 500
    problem = response.json()
    assert any(e["field"] == field for e in problem.get("errors", [])), problem
    assert api.world.access_store.assignments == before


def test_custom_roles_are_defined_listed_and_refuse_deletion_while_assigned(api):
    role_id = str(uuid.uuid4())
    created = api.client.put(f"/api/roleDefinitions/{role_id}", json=ASSET_WRITER, headers=api.owner)
    assert created.status_code == 201 and created.json()["properties"]["type"] == "CustomRole"
    assert api.client.put(f"/api/roleDefinitions/{role_id}", json=ASSET_WRITER, headers=api.owner).status_code == 200
    names = {
        d["properties"]["roleName"] for d in api.client.get("/api/roleDefinitions", headers=api.owner).json()["value"]
    }
    assert {"Reader", "Contributor", "Owner", "AzureML Registry User", "Registry asset writer"} <= names
    user, _ = api.person("writer")
    assert api.grant(user, role_id).status_code == 201
    refused = api.client.delete(f"/api/roleDefinitions/{role_id}", headers=api.owner)
    assert refused.status_code == 409 and refused.json()["code"] == "RoleDefinitionInUse"
    builtin = api.client.delete(f"/api/roleDefinitions/{READER.id}", headers=api.owner)
    assert builtin.status_code == 409


def test_a_change_of_access_takes_effect_for_the_next_request(api):
    person, headers = api.person("later")
    assert api.client.get("/api/registries/DemoRegistry1", headers=headers).status_code == 404
    granted = api.grant(person, READER.role_name).json()
    assert api.client.get("/api/registries/DemoRegistry1", headers=headers).status_code == 200
    api.client.delete(f"/api/roleAssignments/{granted['name']}", headers=api.owner)
    assert api.client.get("/api/registries/DemoRegistry1", headers=headers).status_code == 404


def test_operations_say_who_asked_and_the_activity_log_keeps_accepted_writes(api):
    contributor, headers = api.person("contrib")
    api.grant(contributor, CONTRIBUTOR.role_name)
    accepted = api.client.post("/api/registries/DemoRegistry1/sync", headers=headers)
    assert accepted.status_code == 202
    operation = api.client.get(accepted.headers["Location"], headers=headers).json()
    assert operation["requestedBy"] == {"id": contributor.id, "name": contributor.name, "type": "User"}
    log = api.client.get("/api/activity", params={"registry": "DemoRegistry1"}, headers=api.owner).json()["value"]
    sync = next(e for e in log if e["operation"] == accepted.headers["Location"])
    assert sync["principal"]["id"] == contributor.id and sync["action"].endswith("registries/write")
    assert sync["scope"] == "/registries/demoregistry1" and sync["result"] == "Accepted"
    grants = [e for e in log if e["action"] == "Microsoft.Authorization/roleAssignments/write"]
    assert grants and grants[0]["principal"]["id"] == OWNER_ID
    _, nobody = api.person("nobody")
    assert api.client.get("/api/activity", params={"registry": "DemoRegistry1"}, headers=nobody).status_code == 404
