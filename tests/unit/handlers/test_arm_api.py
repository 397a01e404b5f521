"""The ARM-shaped surface over fakes: ARM's statuses, LRO links and error envelope; nothing stored on refusal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from handlers.arm_api import arm_router
from handlers.http_api import create_api
from shared.bootstrap import arm_site
from shared.domain.access import Principal
from shared.domain.messages import decode_message
from tests.unit.domain.test_arm_registry import sdk_body, sdk_region
from tests.unit.services.fake_access import OWNER_TOKEN
from tests.unit.services.world import World

BASE = "https://regctl.example"
API = "?api-version=2022-10-01-preview"


class Arm:
    def __init__(self, page_size: int = 100) -> None:
        self.world = World()
        self.site = arm_site(self.world.container.settings)
        self.sub = self.site.subscription_id
        service = self.world.api.service
        app = create_api(lambda: service, lambda: {"store": True}, self.world.gate, arm=lambda: self.site)
        if page_size != 100:  # the same routes again, first, with small pages
            app.router.routes[:0] = arm_router(lambda: service, self.world.gate, lambda: self.site, page_size).routes
        self.client = TestClient(app, base_url=BASE, headers={"Authorization": f"Bearer {OWNER_TOKEN}"})

    def path(self, name: str = "DemoRegistry1", group: str = "rg-a") -> str:
        return (
            f"/api/arm/subscriptions/{self.sub}/resourceGroups/{group}"
            f"/providers/Microsoft.MachineLearningServices/registries/{name}"
        )

    def put(self, body: dict[str, Any] | None = None, name: str = "DemoRegistry1", group: str = "rg-a", **kw: Any):
        return self.client.put(self.path(name, group) + API, json=body or sdk_body(), **kw)

    def follow(self, url: str) -> Any:
        return self.client.get(url.removeprefix(BASE))


@pytest.fixture
def arm() -> Arm:
    return Arm()


def test_put_creates_with_201_the_registry_body_and_absolute_lro_links(arm):
    response = arm.put()
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "DemoRegistry1" and body["properties"]["provisioningState"] == "Creating"
    assert body["id"] == arm.path().removeprefix("/api/arm")
    status_url = response.headers["Azure-AsyncOperation"]
    assert status_url.startswith(f"{BASE}/api/arm/subscriptions/{arm.sub}/providers/")
    assert "/locations/eastus/registryOperationsStatus/demoregistry1." in status_url
    assert response.headers["Location"].startswith(BASE + "/api/arm/") and response.headers["Retry-After"] == "1"
    status = arm.follow(status_url)
    assert status.json()["status"] == "InProgress" and status.headers["Retry-After"] == "1"
    assert arm.follow(response.headers["Location"]).status_code == 202
    assert arm.world.store.get_registry("demoregistry1").resource_group == "rg-a"


def test_a_repeated_put_is_the_same_operation_and_the_registry_is_there_once_it_succeeds(arm):
    first = arm.put()
    again = arm.put()
    assert again.status_code == 200
    assert again.headers["Azure-AsyncOperation"] == first.headers["Azure-AsyncOperation"]
    assert len({m.message_id for m in arm.world.publisher.sent}) == 1
    arm.world.drain()
    assert arm.follow(first.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    result = arm.follow(first.headers["Location"])
    assert result.status_code == 200 and result.json()["properties"]["provisioningState"] == "Succeeded"
    assert arm.client.get(arm.path() + API).json()["properties"]["provisioningState"] == "Succeeded"


@pytest.mark.parametrize(
    ("url_suffix", "body", "status", "code"),
    [
        ("?api-version=2020-01-01", None, 400, "InvalidApiVersionParameter"),
        ("", None, 400, "MissingApiVersionParameter"),
        (API, sdk_body(sdk_region("eastus"), sdk_region("mars")), 400, "InvalidRequestContent"),
        (API, {"location": "eastus"}, 400, "InvalidRequestContent"),
    ],
)
def test_refused_puts_answer_arms_envelope_and_store_nothing(arm, url_suffix, body, status, code):
    response = arm.client.put(arm.path() + url_suffix, json=body or sdk_body())
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == code
    assert arm.world.store.registries == {} and arm.world.publisher.sent == []


def test_another_subscription_is_not_found(arm):
    response = arm.client.get(arm.path().replace(arm.sub, "00000000-dead-beef-0000-000000000000") + API)
    assert response.status_code == 404 and response.json()["error"]["code"] == "SubscriptionNotFound"


def test_without_a_token_arm_says_authentication_failed_and_a_stranger_gets_authorization_failed(arm):
    owner = arm.client.headers.pop("Authorization")
    anonymous = arm.client.get(arm.path() + API)
    arm.client.headers["Authorization"] = owner
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "AuthenticationFailed"
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    stranger = arm.world.authenticator.token_for(Principal(str(uuid.uuid4()), "s@example.com"))
    refused = arm.put(headers={"Authorization": f"Bearer {stranger}"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "AuthorizationFailed"
    assert arm.world.store.registries == {}


def test_a_registry_is_found_only_in_its_group_and_a_name_is_unique_across_groups(arm):
    arm.put()
    assert arm.client.get(arm.path() + API).status_code == 200
    other = arm.client.get(arm.path(group="rg-b") + API)
    assert other.status_code == 404 and other.json()["error"]["code"] == "ResourceNotFound"
    taken = arm.put(group="rg-b")
    assert taken.status_code == 409 and taken.json()["error"]["details"][0]["code"] == "RegistryExists"


def test_lists_by_group_and_subscription_follow_next_links():
    arm = Arm(page_size=1)
    for name, group in (("R1", "rg-a"), ("R2", "rg-a"), ("R3", "rg-b")):
        assert arm.put(name=name, group=group).status_code == 201
    in_sub = f"/api/arm/subscriptions/{arm.sub}/providers/Microsoft.MachineLearningServices/registries{API}"
    names, url = [], in_sub
    while url:
        page = arm.follow(url).json()
        assert len(page["value"]) <= 1
        names += [r["name"] for r in page["value"]]
        url = page.get("nextLink")
    assert names == ["R1", "R2", "R3"]
    in_group = arm.path(group="rg-a").rsplit("/", 1)[0] + API
    first = arm.follow(in_group).json()
    assert [r["name"] for r in first["value"]] == ["R1"]
    assert first["nextLink"].startswith(BASE + "/api/arm/") and "$skipToken=r1" in first["nextLink"]
    assert [r["name"] for r in arm.follow(first["nextLink"]).json()["value"]] == ["R2"]


def test_registries_made_through_api_are_in_the_default_group(arm):
    document = {"name": "Plain", "location": "eastus", "replication_locations": [{"location": "eastus"}]}
    assert arm.client.post("/api/registries", json=document).status_code == 202
    assert arm.client.get(arm.path("Plain", arm.site.default_group) + API).status_code == 200


def test_delete_answers_202_with_links_then_204_once_gone(arm):
    arm.put()
    arm.world.drain()
    response = arm.client.delete(arm.path() + API)
    assert response.status_code == 202 and response.headers["Retry-After"] == "1"
    arm.world.drain()
    assert arm.follow(response.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"
    assert arm.follow(response.headers["Location"]).status_code == 204
    assert arm.client.delete(arm.path() + API).status_code == 204
    assert arm.client.get(arm.path() + API).status_code == 404


def test_remove_regions_takes_the_named_regions_out(arm):
    arm.put()
    arm.world.drain()
    body = {"location": "eastus", "properties": {"regionDetails": [{"location": "westus"}]}}
    response = arm.client.post(arm.path() + "/removeRegions" + API, json=body)
    assert response.status_code == 202
    arm.world.drain()
    assert arm.follow(response.headers["Location"]).status_code == 200
    regions = arm.client.get(arm.path() + API).json()["properties"]["regionDetails"]
    assert [r["location"] for r in regions] == ["eastus", "eastus2"]
    assert [decode_message(m.body).type for m in arm.world.publisher.sent] == []


def test_unserved_methods_and_paths_answer_arms_envelope(arm):
    patch = arm.client.patch(arm.path() + API, json={"tags": {}})
    assert patch.status_code == 405 and patch.json()["error"]["code"] == "MethodNotAllowed"
    unknown = arm.client.get(f"/api/arm/subscriptions/{arm.sub}/providers/Microsoft.Nothing/things{API}")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "NotFound"


def test_problem_json_stays_on_api_routes(arm):
    response = arm.client.get("/api/registries/nothing")
    assert response.headers["content-type"].startswith("application/problem+json")
