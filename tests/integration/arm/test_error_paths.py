"""Error paths not covered beside their resource: each answers the envelope with the chosen code."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from sandbox.arm.control import SandboxControl
from tests.integration.arm.helpers import (
    ACR_API,
    AUTHZ_API,
    RG_API,
    SLOW,
    STORAGE_API,
    TIME_SCALE,
    Clients,
    RawArm,
    unique,
)

pytestmark = pytest.mark.integration

ACCOUNT = {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}


@pytest.fixture
def group(raw: RawArm) -> str:
    name = f"rg-{uuid.uuid4().hex[:8]}"
    raw.request("PUT", f"/subscriptions/{raw.sub}/resourcegroups/{name}", api=RG_API, json={"location": "eastus"})
    return f"/subscriptions/{raw.sub}/resourceGroups/{name}"


def expect(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == code


def test_unsupported_methods_are_405(raw: RawArm, group: str) -> None:
    expect(raw.request("POST", group, api=RG_API), 405, "HttpMethodNotAllowed")
    expect(raw.request("DELETE", f"/subscriptions/{raw.sub}/resourcegroups", api=RG_API), 405, "HttpMethodNotAllowed")


def test_unknown_operations_are_404(raw: RawArm) -> None:
    expect(
        raw.request(
            "GET",
            f"/subscriptions/{raw.sub}/providers/Microsoft.Storage/locations/eastus/asyncoperations/x",
            api=STORAGE_API,
        ),
        404,
        "OperationNotFound",
    )
    expect(raw.request("GET", f"/subscriptions/{raw.sub}/operationresults/x", api=RG_API), 404, "OperationNotFound")


def test_providers_are_always_registered(raw: RawArm) -> None:
    response = raw.request("POST", f"/subscriptions/{raw.sub}/providers/Microsoft.Storage/register", api="2016-02-01")
    assert response.status_code == 200
    assert response.json()["registrationState"] == "Registered"


def test_a_group_needs_a_location(raw: RawArm) -> None:
    expect(
        raw.request("PUT", f"/subscriptions/{raw.sub}/resourcegroups/rg-noloc", api=RG_API, json={}),
        400,
        "LocationRequired",
    )


def test_storage_check_name_refuses_another_type(raw: RawArm) -> None:
    expect(
        raw.request(
            "POST",
            f"/subscriptions/{raw.sub}/providers/Microsoft.Storage/checkNameAvailability",
            api=STORAGE_API,
            json={"name": "abc123", "type": "Microsoft.Compute/virtualMachines"},
        ),
        400,
        "InvalidResourceType",
    )


def test_storage_kind_can_only_be_upgraded_to_storage_v2(raw: RawArm, group: str) -> None:
    path = f"{group}/providers/Microsoft.Storage/storageAccounts/{unique('st')}"
    put = raw.request("PUT", path, api=STORAGE_API, json={**ACCOUNT, "kind": "Storage"})
    assert raw.wait_until_done(put.headers["Location"]) == 200

    expect(
        raw.request("PATCH", path, api=STORAGE_API, json={"kind": "BlobStorage"}), 400, "AccountPropertyCannotBeUpdated"
    )
    assert raw.request("PATCH", path, api=STORAGE_API, json={"kind": "StorageV2"}).json()["kind"] == "StorageV2"


def test_hns_needs_a_storage_v2_or_block_blob_account(raw: RawArm, group: str) -> None:
    expect(
        raw.request(
            "PUT",
            f"{group}/providers/Microsoft.Storage/storageAccounts/{unique('st')}",
            api=STORAGE_API,
            json={**ACCOUNT, "kind": "Storage", "properties": {"isHnsEnabled": True}},
        ),
        400,
        "InvalidValuesForRequestParameters",
    )


def test_a_hidden_creating_account_is_404_until_done(raw: RawArm, control: SandboxControl, group: str) -> None:
    control.set_config(storage_visible_while_creating=False)
    control.set_latency(TIME_SCALE, durations={"storage_create": SLOW})
    path = f"{group}/providers/Microsoft.Storage/storageAccounts/{unique('st')}"
    put = raw.request("PUT", path, api=STORAGE_API, json=ACCOUNT)

    expect(raw.request("GET", path, api=STORAGE_API), 404, "ResourceNotFound")
    assert raw.wait_until_done(put.headers["Location"]) == 200
    assert raw.request("GET", path, api=STORAGE_API).status_code == 200


def test_registry_put_errors(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Basic"}}).result()

    with pytest.raises(HttpResponseError) as bad_sku:
        clients.acr.registries.begin_create(rg, unique("reg"), {"location": "eastus", "sku": {"name": "Gold"}})
    with pytest.raises(HttpResponseError) as bad_location:
        clients.acr.registries.begin_create(rg, unique("reg"), {"location": "mars", "sku": {"name": "Basic"}})
    with pytest.raises(ResourceExistsError) as moved:
        clients.acr.registries.begin_create(rg, name, {"location": "westus", "sku": {"name": "Basic"}})
    control.set_latency(TIME_SCALE, durations={"registry_delete": SLOW})
    deleting = clients.acr.registries.begin_delete(rg, name)
    with pytest.raises(ResourceExistsError) as busy:
        clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Standard"}})
    deleting.result()

    for err, code in (
        (bad_sku, "InvalidSku"),
        (bad_location, "LocationNotAvailableForResourceType"),
        (moved, "InvalidResourceLocation"),
        (busy, "OperationInProgress"),
    ):
        assert err.value.error is not None
        assert err.value.error.code == code


def test_a_replication_cannot_move(clients: Clients, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Premium"}}).result()
    clients.acr.replications.begin_create(rg, name, "westus", {"location": "westus"}).result()

    with pytest.raises(ResourceExistsError) as err:
        clients.acr.replications.begin_create(rg, name, "westus", {"location": "northeurope"})

    assert err.value.error is not None
    assert err.value.error.code == "InvalidResourceLocation"


def test_acr_monitors_can_omit_retry_after_like_the_recording(raw: RawArm, control: SandboxControl, group: str) -> None:
    control.set_config(acr_monitor_retry_after=False)
    put = raw.request(
        "PUT",
        f"{group}/providers/Microsoft.ContainerRegistry/registries/{unique('reg')}",
        api=ACR_API,
        json={"location": "eastus", "sku": {"name": "Basic"}},
    )
    assert put.status_code == 201
    assert "retry-after-ms" not in put.headers
    assert "Retry-After" not in put.headers


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({"principalId": "00000000-0000-0000-0000-000000000001"}, "InvalidRoleDefinitionId"),
        (
            {"roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/nope", "principalId": "x"},
            "InvalidRoleDefinitionId",
        ),
        (
            {
                "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{uuid.uuid4()}",
                "principalId": "x",
            },
            "InvalidPrincipalId",
        ),
    ],
)
def test_role_assignment_bodies_are_validated(raw: RawArm, group: str, properties: dict[str, str], code: str) -> None:
    response = raw.request(
        "PUT",
        f"{group}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}",
        api=AUTHZ_API,
        json={"properties": properties},
    )
    expect(response, 400, code)
