"""The simulator's bodies carry every key of the documented Azure response to the same request.

Raw HTTPS, not the SDK: the SDK models drop keys they do not know, and the point is what is on the
wire. The documented shapes and requests are in ``documented.py``, each with its spec example.
"""

from __future__ import annotations

import copy
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.integration.arm.documented import (
    PREMIUM_ONLY_REGISTRY_KEYS,
    RA_GRS_SECONDARY_ENDPOINT_KEYS,
    REGISTRY_CREATE_REQUEST,
    REGISTRY_GET_KEYS,
    REPLICATION_CREATE_REQUEST,
    REPLICATION_GET_KEYS,
    RESOURCE_GROUP_CREATE_REQUEST,
    RESOURCE_GROUP_KEYS,
    ROLE_ASSIGNMENT_KEYS,
    ROLE_ASSIGNMENT_PRINCIPAL,
    ROLE_DEFINITION_GUID,
    STORAGE_CREATE_KEYS,
    STORAGE_CREATE_REQUEST,
    STORAGE_GET_EXPANDED_KEYS,
    STORAGE_UPDATE_KEYS,
    STORAGE_UPDATE_REQUEST,
    missing_keys,
)
from tests.integration.arm.helpers import ACR_API, AUTHZ_API, RG_API, STORAGE_API, RawArm, new_guid, unique

pytestmark = pytest.mark.integration

EXPAND_GEO = {"$expand": "geoReplicationStats"}


@pytest.fixture
def group(raw: RawArm) -> str:
    """A fresh resource group, created with the documented request; its ARM path."""
    path = f"/subscriptions/{raw.sub}/resourceGroups/rg-{uuid.uuid4().hex[:8]}"
    assert raw.request("PUT", path, api=RG_API, json=RESOURCE_GROUP_CREATE_REQUEST).status_code == 201
    return path


def account_path(group: str, name: str) -> str:
    return f"{group}/providers/Microsoft.Storage/storageAccounts/{name}"


def create_account(raw: RawArm, group: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """PUT an account, follow its Location monitor to the end; its path and the final body."""
    path = account_path(group, unique("st"))
    put = raw.request("PUT", path, api=STORAGE_API, json=body)
    assert put.status_code == 202, put.text
    for _ in range(1000):
        done = raw.get_absolute(put.headers["Location"])
        if done.status_code != 202:
            assert done.status_code == 200, done.text
            return path, done.json()
        time.sleep(0.01)
    raise AssertionError("the storage create never finished")


def get(raw: RawArm, path: str, api: str, **params: str) -> dict[str, Any]:
    response = raw.request("GET", path, api=api, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def account(sku: str, location: str = "eastus", **properties: Any) -> dict[str, Any]:
    return {"sku": {"name": sku}, "kind": "StorageV2", "location": location, "properties": properties}


def parse_time(value: str) -> datetime:
    """An ARM timestamp (``2024-01-02T03:04:05.1234567Z`` or whole seconds) as an aware datetime."""
    head, _, fraction = value.rstrip("Z").partition(".")
    parsed = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return parsed + timedelta(microseconds=int((fraction + "000000")[:6])) if fraction else parsed


# Storage accounts ---------------------------------------------------------------------------------


def test_storage_create_answer_and_get_carry_every_documented_key(raw: RawArm, group: str) -> None:
    path, created = create_account(raw, group, STORAGE_CREATE_REQUEST)
    fetched = get(raw, path, STORAGE_API)

    assert missing_keys(STORAGE_CREATE_KEYS, created) == []
    assert missing_keys(STORAGE_CREATE_KEYS, fetched) == []
    assert fetched["extendedLocation"] == STORAGE_CREATE_REQUEST["extendedLocation"]
    assert fetched == created


def test_storage_get_with_expand_carries_every_documented_key(raw: RawArm, group: str) -> None:
    # The documented account has resource access rules; the update example's request sends them.
    body = copy.deepcopy(STORAGE_CREATE_REQUEST)
    body["properties"]["networkAcls"] = STORAGE_UPDATE_REQUEST["properties"]["networkAcls"]
    path, _ = create_account(raw, group, body)

    before = datetime.now(UTC).replace(microsecond=0)
    expanded = get(raw, path, STORAGE_API, **EXPAND_GEO)
    after = datetime.now(UTC)

    assert missing_keys(STORAGE_GET_EXPANDED_KEYS, expanded) == []
    stats = expanded["properties"]["geoReplicationStats"]
    assert stats["status"] == "Live"
    assert stats["canFailover"] is True
    assert stats["postPlannedFailoverRedundancy"] == "Standard_GRS"
    assert before <= parse_time(stats["lastSyncTime"]) <= after
    acls = expanded["properties"]["networkAcls"]
    assert acls["resourceAccessRules"] == body["properties"]["networkAcls"]["resourceAccessRules"]


def test_geo_replication_stats_appear_only_when_expanded(raw: RawArm, group: str) -> None:
    path, created = create_account(raw, group, account("Standard_RAGRS"))

    plain = get(raw, path, STORAGE_API)
    listed = get(raw, f"{group}/providers/Microsoft.Storage/storageAccounts", STORAGE_API)["value"]
    expanded = get(raw, path, STORAGE_API, **EXPAND_GEO)

    assert "geoReplicationStats" not in created["properties"]
    assert "geoReplicationStats" not in plain["properties"]
    assert all("geoReplicationStats" not in item["properties"] for item in listed)
    assert expanded["properties"]["geoReplicationStats"]["status"] == "Live"


def test_a_put_of_an_expanded_get_body_stores_none_of_its_read_only_keys(raw: RawArm, group: str) -> None:
    path, _ = create_account(raw, group, account("Standard_GRS"))
    expanded = get(raw, path, STORAGE_API, **EXPAND_GEO)

    again = raw.request("PUT", path, api=STORAGE_API, json=expanded)

    assert again.status_code == 200, again.text
    assert "geoReplicationStats" not in again.json()["properties"]
    assert "geoReplicationStats" not in get(raw, path, STORAGE_API)["properties"]


def test_a_locally_redundant_account_has_no_secondary_even_expanded(raw: RawArm, group: str) -> None:
    path, _ = create_account(raw, group, account("Standard_LRS"))

    expanded = get(raw, path, STORAGE_API, **EXPAND_GEO)["properties"]

    for key in ("secondaryLocation", "statusOfSecondary", "secondaryEndpoints", "geoReplicationStats"):
        assert key not in expanded


@pytest.mark.parametrize(
    ("primary", "secondary"),
    [
        # Azure's pairs (Microsoft Learn, "Azure regions list"), including the one-way ones.
        ("eastus", "westus"),
        ("westus", "eastus"),
        ("westus3", "eastus"),
        ("northeurope", "westeurope"),
        ("brazilsouth", "southcentralus"),
        ("southcentralus", "northcentralus"),
        ("westindia", "southindia"),
        ("southindia", "centralindia"),
    ],
)
def test_the_secondary_region_is_azures_pair(raw: RawArm, group: str, primary: str, secondary: str) -> None:
    _, created = create_account(raw, group, account("Standard_GRS", primary))

    props = created["properties"]
    assert props["primaryLocation"] == primary
    assert props["secondaryLocation"] == secondary
    assert props["statusOfSecondary"] == "available"
    assert "secondaryEndpoints" not in props  # GRS: the secondary is not readable


@pytest.mark.parametrize("sku", ["Standard_RAGRS", "Standard_RAGZRS"])
def test_read_access_accounts_have_the_documented_secondary_endpoints(raw: RawArm, group: str, sku: str) -> None:
    _, created = create_account(raw, group, account(sku))

    endpoints = created["properties"]["secondaryEndpoints"]
    assert missing_keys(RA_GRS_SECONDARY_ENDPOINT_KEYS, endpoints) == []
    assert endpoints["blob"].endswith("-secondary/")  # the proxy of Azurite's read-only secondary
    assert created["properties"]["secondaryLocation"] == "westus"


def test_a_geo_redundant_sku_in_a_region_without_a_pair_is_refused(raw: RawArm, group: str) -> None:
    path = account_path(group, unique("st"))

    response = raw.request("PUT", path, api=STORAGE_API, json=account("Standard_GRS", "polandcentral"))

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "AccountTypeNotSupportedInLocation"


def test_routing_endpoints_are_published_only_when_asked(raw: RawArm, group: str) -> None:
    routing = {"routingChoice": "InternetRouting", "publishMicrosoftEndpoints": False, "publishInternetEndpoints": True}
    _, plain = create_account(raw, group, account("Standard_LRS"))
    _, internet = create_account(raw, group, account("Standard_LRS", routingPreference=routing))

    assert "microsoftEndpoints" not in plain["properties"]["primaryEndpoints"]
    assert "internetEndpoints" not in plain["properties"]["primaryEndpoints"]
    endpoints = internet["properties"]["primaryEndpoints"]
    assert "microsoftEndpoints" not in endpoints
    assert set(endpoints["internetEndpoints"]) == {"blob", "dfs", "file", "web"}
    assert (
        endpoints["internetEndpoints"]["file"] == f"https://{internet['name']}-internetrouting.file.core.windows.net/"
    )


def test_every_enabled_encryption_service_has_its_last_enabled_time(raw: RawArm, group: str) -> None:
    queue = {"services": {"queue": {"keyType": "Account", "enabled": True}}}
    path, created = create_account(raw, group, account("Standard_LRS", encryption=queue))
    time.sleep(0.01)
    table = {"properties": {"encryption": {"services": {"table": {"keyType": "Account", "enabled": True}}}}}

    patched = raw.request("PATCH", path, api=STORAGE_API, json=table).json()

    services = patched["properties"]["encryption"]["services"]
    assert set(services) == {"blob", "file", "queue", "table"}
    assert all(s["enabled"] is True for s in services.values())
    created_at = parse_time(created["properties"]["creationTime"])
    assert parse_time(services["blob"]["lastEnabledTime"]) == created_at
    assert parse_time(services["queue"]["lastEnabledTime"]) == created_at
    assert parse_time(services["table"]["lastEnabledTime"]) > created_at


def test_patch_answers_the_full_account_with_every_documented_key(raw: RawArm, group: str) -> None:
    path, _ = create_account(
        raw, group, account("Standard_GRS", isHnsEnabled=True) | {"tags": {"key1": "value1", "key2": "value2"}}
    )

    patched = raw.request("PATCH", path, api=STORAGE_API, json=STORAGE_UPDATE_REQUEST)
    fetched = get(raw, path, STORAGE_API)

    assert patched.status_code == 200
    assert missing_keys(STORAGE_UPDATE_KEYS, patched.json()) == []
    assert patched.json() == fetched


def test_patch_of_part_of_network_acls_keeps_the_rest(raw: RawArm, group: str) -> None:
    rule = {"value": "203.0.113.7", "action": "Allow"}
    path, _ = create_account(
        raw, group, account("Standard_LRS", networkAcls={"defaultAction": "Deny", "ipRules": [rule]})
    )

    patched = raw.request("PATCH", path, api=STORAGE_API, json={"properties": {"networkAcls": {"bypass": "None"}}})

    acls = patched.json()["properties"]["networkAcls"]
    assert acls == {"bypass": "None", "defaultAction": "Deny", "ipRules": [rule], "virtualNetworkRules": []}


# Container registries and replications ------------------------------------------------------------


def registry_path(group: str, name: str) -> str:
    return f"{group}/providers/Microsoft.ContainerRegistry/registries/{name}"


def create_registry(raw: RawArm, group: str, body: dict[str, Any]) -> str:
    path = registry_path(group, unique("reg"))
    put = raw.request("PUT", path, api=ACR_API, json=body)
    assert put.status_code == 201, put.text
    wait_async(raw, put.headers["Azure-AsyncOperation"])
    return path


def wait_async(raw: RawArm, monitor: str) -> None:
    for _ in range(1000):
        status = raw.get_absolute(monitor).json()["status"]
        if status != "Creating":
            assert status == "Succeeded"
            return
        time.sleep(0.01)
    raise AssertionError(f"{monitor} still running")


def test_a_premium_registry_carries_every_documented_key(raw: RawArm, group: str) -> None:
    path = create_registry(raw, group, REGISTRY_CREATE_REQUEST | {"sku": {"name": "Premium"}})

    body = get(raw, path, ACR_API)

    assert missing_keys(REGISTRY_GET_KEYS, body) == []
    assert body["properties"]["networkRuleSet"] == {"defaultAction": "Allow", "ipRules": []}
    assert body["properties"]["status"]["displayStatus"] == "Ready"


def test_a_standard_registry_carries_every_documented_key_but_premium_network_rules(raw: RawArm, group: str) -> None:
    path = create_registry(raw, group, REGISTRY_CREATE_REQUEST)

    body = get(raw, path, ACR_API)

    assert missing_keys(REGISTRY_GET_KEYS, body, exclude=PREMIUM_ONLY_REGISTRY_KEYS) == []
    assert "networkRuleSet" not in body["properties"]


def test_registry_status_follows_the_create(raw: RawArm, group: str) -> None:
    path = registry_path(group, unique("reg"))

    put = raw.request("PUT", path, api=ACR_API, json=REGISTRY_CREATE_REQUEST)
    wait_async(raw, put.headers["Azure-AsyncOperation"])
    done = get(raw, path, ACR_API)["properties"]["status"]

    creating = put.json()["properties"]["status"]
    assert (creating["displayStatus"], creating["message"]) == ("Provisioning", "The registry is provisioning.")
    assert (done["displayStatus"], done["message"]) == ("Ready", "The registry is ready.")
    assert parse_time(done["timestamp"]) >= parse_time(creating["timestamp"])


def test_retention_policy_last_updated_time_moves_when_the_policy_changes(raw: RawArm, group: str) -> None:
    path = create_registry(raw, group, REGISTRY_CREATE_REQUEST | {"sku": {"name": "Premium"}})
    first = get(raw, path, ACR_API)["properties"]["policies"]["retentionPolicy"]
    time.sleep(0.01)

    tagged = raw.request("PATCH", path, api=ACR_API, json={"tags": {"k": "v"}}).json()
    changed = raw.request(
        "PATCH",
        path,
        api=ACR_API,
        json={"properties": {"policies": {"retentionPolicy": {"days": 30, "status": "enabled"}}}},
    ).json()

    assert tagged["properties"]["policies"]["retentionPolicy"] == first
    policies = changed["properties"]["policies"]
    assert policies["retentionPolicy"]["days"] == 30
    assert parse_time(policies["retentionPolicy"]["lastUpdatedTime"]) > parse_time(first["lastUpdatedTime"])
    assert policies["quarantinePolicy"] == {"status": "disabled"}  # the other policies stay


def test_a_replication_carries_every_documented_key(raw: RawArm, group: str) -> None:
    registry = create_registry(raw, group, REGISTRY_CREATE_REQUEST | {"sku": {"name": "Premium"}})
    path = f"{registry}/replications/myReplication"

    put = raw.request("PUT", path, api=ACR_API, json=REPLICATION_CREATE_REQUEST)
    wait_async(raw, put.headers["Azure-AsyncOperation"])
    body = get(raw, path, ACR_API)

    assert put.status_code == 201
    assert missing_keys(REPLICATION_GET_KEYS, put.json()) == []
    assert put.json()["properties"]["status"]["displayStatus"] == "Provisioning"
    assert missing_keys(REPLICATION_GET_KEYS, body) == []
    status = body["properties"]["status"]
    assert (status["displayStatus"], status["message"]) == ("Ready", "The replication is ready.")


# Resource groups and role assignments -------------------------------------------------------------


def test_a_resource_group_carries_every_documented_key(raw: RawArm, group: str) -> None:
    assert missing_keys(RESOURCE_GROUP_KEYS, get(raw, group, RG_API)) == []


def test_a_role_assignment_carries_every_documented_key(raw: RawArm, group: str) -> None:
    scope, _ = create_account(raw, group, account("Standard_LRS"))
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{new_guid()}"
    role = f"/subscriptions/{raw.sub}/providers/Microsoft.Authorization/roleDefinitions/{ROLE_DEFINITION_GUID}"
    request = {
        "properties": {"roleDefinitionId": role, "principalId": ROLE_ASSIGNMENT_PRINCIPAL, "principalType": "User"}
    }

    created = raw.request("PUT", path, api=AUTHZ_API, json=request)
    fetched = get(raw, path, AUTHZ_API)

    assert created.status_code == 201
    assert missing_keys(ROLE_ASSIGNMENT_KEYS, created.json()) == []
    assert missing_keys(ROLE_ASSIGNMENT_KEYS, fetched) == []
