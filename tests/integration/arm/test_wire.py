"""Wire details the SDK hides, checked with plain HTTPS."""

from __future__ import annotations

import time
import uuid

import pytest

from sandbox.arm.control import SandboxControl
from tests.integration.arm.helpers import ACR_API, AUTHZ_API, RG_API, STORAGE_API, RawArm, unique

pytestmark = pytest.mark.integration

ACCOUNT = {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}


@pytest.fixture
def group(raw: RawArm) -> str:
    name = f"rg-{uuid.uuid4().hex[:8]}"
    assert (
        raw.request(
            "PUT", f"/subscriptions/{raw.sub}/resourcegroups/{name}", api=RG_API, json={"location": "eastus"}
        ).status_code
        == 201
    )
    return f"/subscriptions/{raw.sub}/resourceGroups/{name}"


def test_a_request_without_a_bearer_token_is_401_in_the_envelope(raw: RawArm) -> None:
    raw.session.headers.pop("Authorization")
    missing = raw.request("GET", f"/subscriptions/{raw.sub}/resourcegroups", api=RG_API)
    malformed = raw.request(
        "GET", f"/subscriptions/{raw.sub}/resourcegroups", api=RG_API, headers={"Authorization": "Bearer "}
    )

    assert missing.status_code == 401
    assert missing.headers["Content-Type"].startswith("application/json")
    assert missing.json() == {
        "error": {
            "code": "AuthenticationFailed",
            "message": "Authentication failed. The 'Authorization' header is missing.",
        }
    }
    assert "Retry-After" not in missing.headers
    assert malformed.status_code == 401
    assert malformed.json()["error"]["code"] == "AuthenticationFailedInvalidHeader"


def test_a_request_without_api_version_is_400(raw: RawArm) -> None:
    response = raw.request("GET", f"/subscriptions/{raw.sub}/resourcegroups", api=None)

    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "MissingApiVersionParameter",
        "message": "The api-version query parameter (?api-version=) is required for all requests.",
    }


def test_every_response_carries_a_request_id_and_the_rate_limit_header_of_its_kind(raw: RawArm, group: str) -> None:
    read = raw.request("GET", group, api=RG_API)
    write = raw.request("PATCH", group, api=RG_API, json={"tags": {}})
    delete = raw.request("DELETE", f"{group}/providers/Microsoft.Storage/storageAccounts/nothere1", api=STORAGE_API)
    error = raw.request("GET", f"{group}/providers/Microsoft.Storage/storageAccounts/nothere1", api=STORAGE_API)

    for response, kind in ((read, "reads"), (write, "writes"), (delete, "deletes"), (error, "reads")):
        assert uuid.UUID(response.headers["x-ms-request-id"])
        assert int(response.headers[f"x-ms-ratelimit-remaining-subscription-{kind}"]) > 0
    assert delete.status_code == 204
    assert error.status_code == 404


def test_paths_are_case_insensitive(raw: RawArm, group: str) -> None:
    upper = group.upper().replace("SUBSCRIPTIONS", "SubScriptions")
    assert raw.request("GET", upper, api=RG_API).status_code == 200


def test_unknown_routes_and_bad_subscriptions_are_enveloped_errors(raw: RawArm) -> None:
    unknown = raw.request("GET", f"/subscriptions/{raw.sub}/providers/Microsoft.Nope/things", api="2024-01-01")
    bad_sub = raw.request("GET", "/subscriptions/not-a-guid/resourcegroups", api=RG_API)

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "InvalidResourceType"
    assert bad_sub.status_code == 400
    assert bad_sub.json()["error"]["code"] == "InvalidSubscriptionId"


def test_storage_create_is_202_with_an_empty_body_and_an_absolute_location(raw: RawArm, group: str) -> None:
    put = raw.request(
        "PUT", f"{group}/providers/Microsoft.Storage/storageAccounts/{unique('st')}", api=STORAGE_API, json=ACCOUNT
    )

    location = put.headers["Location"]
    assert put.status_code == 202
    assert put.content == b""
    assert location.startswith(
        f"{raw.endpoint}/subscriptions/{raw.sub}/providers/Microsoft.Storage/locations/eastus/asyncoperations/"
    )
    assert "monitor=true" in location
    assert f"api-version={STORAGE_API}" in location
    first = raw.get_absolute(location)
    assert first.status_code in (200, 202)
    if first.status_code == 202:
        assert first.content == b""
        assert first.headers["Location"] == location
    assert raw.wait_until_done(location) == 200
    final = raw.get_absolute(location).json()
    assert final["properties"]["provisioningState"] == "Succeeded"
    assert "keys" not in final["properties"]


def test_scaled_runs_send_retry_after_ms_and_real_time_sends_whole_seconds(
    raw: RawArm, control: SandboxControl, group: str
) -> None:
    scaled = raw.request(
        "PUT", f"{group}/providers/Microsoft.Storage/storageAccounts/{unique('st')}", api=STORAGE_API, json=ACCOUNT
    )
    control.set_latency(1.0)
    real = raw.request(
        "PUT", f"{group}/providers/Microsoft.Storage/storageAccounts/{unique('st')}", api=STORAGE_API, json=ACCOUNT
    )

    assert "Retry-After" not in scaled.headers
    assert int(scaled.headers["retry-after-ms"]) >= 1
    assert real.headers["Retry-After"] == "17"
    assert "retry-after-ms" not in real.headers


def test_registry_create_is_201_with_an_absolute_azure_async_operation_that_always_answers_200(
    raw: RawArm, group: str
) -> None:
    name = unique("reg")
    put = raw.request(
        "PUT",
        f"{group}/providers/Microsoft.ContainerRegistry/registries/{name}",
        api=ACR_API,
        json={"location": "eastus", "sku": {"name": "Premium"}},
    )

    monitor = put.headers["Azure-AsyncOperation"]
    assert put.status_code == 201
    assert put.json()["properties"]["provisioningState"] == "Creating"
    assert monitor.startswith(
        f"{raw.endpoint}{group}/providers/Microsoft.ContainerRegistry/registries/{name}/operationStatuses/registries-"
    )
    seen = set()
    for _ in range(500):
        status = raw.get_absolute(monitor)
        assert status.status_code == 200
        seen.add(status.json()["status"])
        if status.json()["status"] != "Creating":
            break
        time.sleep(0.01)
    assert seen <= {"Creating", "Succeeded"}
    assert "Succeeded" in seen


def test_delete_of_a_registry_is_202_with_location_then_200_with_an_empty_body(raw: RawArm, group: str) -> None:
    name = unique("reg")
    path = f"{group}/providers/Microsoft.ContainerRegistry/registries/{name}"
    created = raw.request("PUT", path, api=ACR_API, json={"location": "westus", "sku": {"name": "Basic"}})
    for _ in range(1000):
        if raw.get_absolute(created.headers["Azure-AsyncOperation"]).json()["status"] != "Creating":
            break
        time.sleep(0.01)

    delete = raw.request("DELETE", path, api=ACR_API)

    assert delete.status_code == 202
    assert delete.content == b""
    assert delete.headers["Location"].startswith(
        f"{raw.endpoint}/subscriptions/{raw.sub}/providers/Microsoft.ContainerRegistry/locations/westus/operationResults/registries-"
    )
    assert raw.wait_until_done(delete.headers["Location"]) == 200
    assert raw.get_absolute(delete.headers["Location"]).content == b""


def test_resource_group_delete_monitor_is_absolute_and_ends_200(raw: RawArm, group: str) -> None:
    delete = raw.request("DELETE", group, api=RG_API)

    assert delete.status_code == 202
    assert delete.headers["Location"].startswith(f"{raw.endpoint}/subscriptions/{raw.sub}/operationresults/")
    assert raw.wait_until_done(delete.headers["Location"]) == 200


def test_non_retryable_errors_never_carry_retry_after(raw: RawArm, group: str) -> None:
    name = unique("st")
    raw.request("PUT", f"{group}/providers/Microsoft.Storage/storageAccounts/{name}", api=STORAGE_API, json=ACCOUNT)
    conflict = raw.request(
        "PUT",
        f"{group}/providers/Microsoft.Storage/storageAccounts/{name}",
        api=STORAGE_API,
        json={**ACCOUNT, "location": "westus"},
    )
    invalid = raw.request(
        "PUT", f"{group}/providers/Microsoft.Storage/storageAccounts/BAD", api=STORAGE_API, json=ACCOUNT
    )

    for response, status in ((conflict, 409), (invalid, 400)):
        assert response.status_code == status
        assert "Retry-After" not in response.headers
        assert set(response.json()) == {"error"}
        assert {"code", "message"} <= set(response.json()["error"])


def test_invalid_json_is_invalid_request_content(raw: RawArm, group: str) -> None:
    response = raw.request(
        "PUT",
        f"{group}/providers/Microsoft.Storage/storageAccounts/{unique('st')}",
        api=STORAGE_API,
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContent"


def test_check_name_availability_without_type_is_accepted(raw: RawArm) -> None:
    response = raw.request(
        "POST",
        f"/subscriptions/{raw.sub}/providers/Microsoft.Storage/checkNameAvailability",
        api=STORAGE_API,
        json={"name": unique("st")},
    )
    assert response.status_code == 200
    assert response.json() == {"nameAvailable": True}


def test_role_assignment_ids_and_the_client_request_id_round_trip(raw: RawArm, group: str) -> None:
    name = str(uuid.uuid4())
    response = raw.request(
        "PUT",
        f"{group}/providers/Microsoft.Authorization/roleAssignments/{name}",
        api=AUTHZ_API,
        json={
            "properties": {
                "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{uuid.uuid4()}",
                "principalId": str(uuid.uuid4()),
            }
        },
        headers={"x-ms-client-request-id": "abc-123"},
    )

    assert response.status_code == 201
    assert response.headers["x-ms-client-request-id"] == "abc-123"
    assert response.json()["id"] == f"{group}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert response.json()["type"] == "Microsoft.Authorization/roleAssignments"


def test_every_arm_request_is_logged_in_order_with_its_query(raw: RawArm, control: SandboxControl, group: str) -> None:
    control.clear_requests()
    raw.request("GET", group, api=RG_API)
    raw.request("GET", f"{group}/providers/Microsoft.Storage/storageAccounts", api=STORAGE_API, params={"$top": "5"})
    raw.session.headers.pop("Authorization")
    raw.request("GET", group, api=RG_API)

    log = control.requests()

    assert [(r["method"], r["status"]) for r in log] == [("GET", 200), ("GET", 200), ("GET", 401)]
    assert log[0]["path"] == f"{group}?api-version={RG_API}"
    assert "%24top=5" in log[1]["path"] or "$top=5" in log[1]["path"]
    assert [r["op"] for r in log] == ["read", "read", "read"]
