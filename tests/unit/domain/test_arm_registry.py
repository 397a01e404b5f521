"""ARM registry bodies to specs, records to ARM resources, errors to ARM's envelope (pure)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from shared.domain.arm_errors import arm_error, arm_target
from shared.domain.arm_registry import (
    API_VERSIONS,
    check_api_version,
    regions_to_remove,
    spec_document,
    without_regions,
)
from shared.domain.arm_resource import ArmSite, operation_status, provisioning_state, registry_resource
from shared.domain.documents import load_yaml
from shared.domain.errors import Conflict, FieldError, Forbidden, InvalidSpec, NotFound, Unauthenticated
from shared.domain.records import OperationKind, OperationRecord, OperationStatus, RegistryRecord, RegistryStatus
from shared.domain.spec import parse_spec

DATA = Path(__file__).parent / "data"
SYSTEM_ACR = [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}]


def sdk_region(location: str, kind: str = "standard_lrs", hns: bool = False, count: int = 1) -> dict[str, Any]:
    """A region as azure-ai-ml 1.35's ``_to_rest_object`` sends it (lower-case storage type)."""
    account = {"systemCreatedStorageAccount": {"storageAccountHnsEnabled": hns, "storageAccountType": kind}}
    return {"acrDetails": SYSTEM_ACR, "location": location, "storageAccountDetails": [account] * count}


def sdk_body(*regions: dict[str, Any], location: str = "eastus", tags: dict[str, str] | None = None) -> dict[str, Any]:
    tags = {"foo": "bar"} if tags is None else tags
    return {
        "location": location,
        "identity": {"type": "SystemAssigned"},
        "tags": tags,
        "properties": {
            "regionDetails": list(regions) or [sdk_region("eastus"), sdk_region("eastus2"), sdk_region("westus")],
            "managedResourceGroupTags": tags,
        },
    }


def refused(body: dict[str, Any], current: dict[str, Any] | None = None) -> dict[str, str]:
    with pytest.raises(InvalidSpec) as caught:
        spec_document("DemoRegistry1", body, current)
    return {e.path: e.message for e in caught.value.errors}


def test_the_sdk_body_of_demo_registry_1_is_the_same_spec_as_its_yaml():
    from_arm = parse_spec(spec_document("DemoRegistry1", sdk_body())).spec
    from_yaml = parse_spec(load_yaml((DATA / "demo-registry-1.yml").read_text())).spec
    assert from_arm == from_yaml.model_copy(update={"description": None})


def test_identical_accounts_of_a_region_are_its_replication_count_and_types_are_case_insensitive():
    document = spec_document("R1", sdk_body(sdk_region("eastus", "standard_ragrs", hns=True, count=3)))
    assert document["replication_locations"] == [
        {
            "location": "eastus",
            "storage_config": {
                "storage_account_type": "standard_ragrs",
                "storage_account_hns": True,
                "replication_count": 3,
            },
        }
    ]
    spec = parse_spec(document).spec
    assert spec.region("eastus").storage.storage_account_type == "Standard_RAGRS"


def test_an_empty_storage_list_is_the_default_storage_as_the_sdk_sends_for_an_added_region():
    region = {"location": "eastus", "storageAccountDetails": [], "acrDetails": []}
    assert spec_document("R1", sdk_body(region))["replication_locations"] == [{"location": "eastus"}]


def test_what_a_get_returns_can_be_sent_back_with_put():
    record = RegistryRecord(key="r1", name="R1", spec=parse_spec(spec_document("R1", sdk_body())).spec.to_document())
    resource = registry_resource(record, SITE.at("https://host/api/arm"))
    assert parse_spec(spec_document("R1", resource, record.spec)).spec.to_document() == record.spec


def test_the_description_that_arm_cannot_carry_is_kept_from_the_stored_spec():
    current = parse_spec(load_yaml((DATA / "demo-registry-1.yml").read_text())).spec.to_document()
    assert spec_document("DemoRegistry1", sdk_body(), current)["description"] == current["description"]


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (
            lambda b: b["properties"]["regionDetails"][1].update(
                storageAccountDetails=[{"userCreatedStorageAccount": {"armResourceId": {"resourceId": "/x"}}}]
            ),
            "properties.regionDetails[1].storageAccountDetails[0].userCreatedStorageAccount",
            "bring-your-own storage accounts are not supported",
        ),
        (
            lambda b: b["properties"]["regionDetails"][0].update(
                acrDetails=[{"userCreatedAcrAccount": {"armResourceId": {"resourceId": "/x"}}}]
            ),
            "properties.regionDetails[0].acrDetails[0].userCreatedAcrAccount",
            "bring-your-own container registries",
        ),
        (
            lambda b: b["properties"]["regionDetails"][0].update(
                acrDetails=[{"systemCreatedAcrAccount": {"acrAccountSku": "Basic"}}]
            ),
            "properties.regionDetails[0].acrDetails[0].systemCreatedAcrAccount.acrAccountSku",
            "Premium",
        ),
        (lambda b: b.update(identity={"type": "UserAssigned"}), "identity.type", "SystemAssigned"),
        (
            lambda b: b["properties"].update(managedResourceGroupTags={"other": "x"}),
            "properties.managedResourceGroupTags",
            "must equal the registry's tags",
        ),
        (
            lambda b: b["properties"]["regionDetails"][0]["storageAccountDetails"].append(
                {"systemCreatedStorageAccount": {"storageAccountType": "premium_lrs"}}
            ),
            "properties.regionDetails[0].storageAccountDetails",
            "same storageAccountType",
        ),
        (lambda b: b["properties"]["regionDetails"].pop(0), "properties.regionDetails", "primary location"),
        (lambda b: b["properties"].update(replicas=2), "properties.replicas", "unknown property"),
        (lambda b: b.update(sku={"name": "P1"}), "sku", "no sku"),
        (lambda b: b.pop("properties"), "properties", "required"),
    ],
)
def test_what_regctl_cannot_honour_is_refused_at_its_arm_path(change, path, words):
    body = copy.deepcopy(sdk_body())
    change(body)
    errors = refused(body)
    assert path in errors and words in errors[path]


def test_a_put_cannot_remove_regions_but_remove_regions_can():
    current = parse_spec(spec_document("R1", sdk_body())).spec.to_document()
    errors = refused(sdk_body(sdk_region("eastus"), sdk_region("eastus2")), current)
    assert "westus" in errors["properties.regionDetails"] and "removeRegions" in errors["properties.regionDetails"]
    removed = regions_to_remove({"properties": {"regionDetails": [{"location": "WestUS"}]}})
    assert removed == ["westus"]
    assert [r["location"] for r in without_regions(current, removed)["replication_locations"]] == ["eastus", "eastus2"]


@pytest.mark.parametrize(
    ("regions", "words"), [(["eastus"], "primary location"), (["japaneast"], "not one of the registry's regions")]
)
def test_remove_regions_refuses_the_primary_and_regions_the_registry_lacks(regions, words):
    current = parse_spec(spec_document("R1", sdk_body())).spec.to_document()
    with pytest.raises(InvalidSpec) as caught:
        without_regions(current, regions)
    assert words in caught.value.errors[0].message


@pytest.mark.parametrize("version", API_VERSIONS)
def test_the_four_api_versions_are_served(version):
    assert check_api_version(version) == version


@pytest.mark.parametrize(
    ("version", "code"), [("2021-01-01", "InvalidApiVersionParameter"), (None, "MissingApiVersionParameter")]
)
def test_other_api_versions_get_arms_own_error_listing_the_supported_ones(version, code):
    with pytest.raises(InvalidSpec) as caught:
        check_api_version(version)
    status, body = arm_error(caught.value)
    assert status == 400 and body["error"]["code"] == code
    if version:
        assert all(v in body["error"]["message"] for v in API_VERSIONS)


@pytest.mark.parametrize(
    ("path", "arm"),
    [
        ("replication_locations[2].location", "properties.regionDetails[2].location"),
        (
            "replication_locations[1].storage_config.storage_account_type",
            "properties.regionDetails[1].storageAccountDetails[0].systemCreatedStorageAccount.storageAccountType",
        ),
        (
            "replication_locations[0].storage_config.replication_count",
            "properties.regionDetails[0].storageAccountDetails",
        ),
        ("public_network_access", "properties.publicNetworkAccess"),
        ("tags", "tags"),
        ("properties.regionDetails[0].location", "properties.regionDetails[0].location"),
    ],
)
def test_spec_field_paths_become_arm_paths(path, arm):
    assert arm_target(path) == arm


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (Unauthenticated("no token", code="AuthenticationRequired"), 401, "AuthenticationFailed"),
        (Unauthenticated("bad token"), 401, "InvalidAuthenticationToken"),
        (Forbidden("nope", code="AuthorizationFailed"), 403, "AuthorizationFailed"),
        (NotFound('registry "x" not found', code="RegistryNotFound"), 404, "ResourceNotFound"),
        (Conflict("immutable", code="PrimaryLocationImmutable"), 409, "Conflict"),
        (
            InvalidSpec("bad", [FieldError("replication_locations[0].location", "unknown")]),
            400,
            "InvalidRequestContent",
        ),
    ],
)
def test_request_errors_get_arms_status_and_code_with_regctls_own_in_details(error, status, code):
    got_status, body = arm_error(error)
    assert got_status == status and body["error"]["code"] == code
    if code != error.code:
        assert body["error"]["details"][0]["code"] == error.code


def test_field_errors_name_the_arm_target_and_lead_the_message():
    _, body = arm_error(InvalidSpec("invalid", [FieldError("replication_locations[2].location", 'unknown "mars"')]))
    assert body["error"]["target"] == "properties.regionDetails[2].location"
    assert body["error"]["message"].endswith('properties.regionDetails[2].location: unknown "mars"')


SITE = ArmSite(subscription_id="sub-1", default_group="regctl", group_prefix="regctl-", tenant_id="tenant-1")


def test_a_registry_resource_names_every_account_with_its_arm_id_and_the_path_group():
    spec = parse_spec(spec_document("R1", sdk_body(sdk_region("eastus", count=2), sdk_region("westus")))).spec
    record = RegistryRecord(key="r1", name="R1", spec=spec.to_document(), resource_group="rg-a")
    record.resources = {"storage_accounts": [{"name": "observed0", "region": "eastus", "index": 0}]}
    resource = registry_resource(record, SITE.at("https://host/api/arm/"))
    assert (
        resource["id"]
        == "/subscriptions/sub-1/resourceGroups/rg-a/providers/Microsoft.MachineLearningServices/registries/R1"
    )
    eastus = resource["properties"]["regionDetails"][0]["storageAccountDetails"]
    ids = [a["systemCreatedStorageAccount"]["armResourceId"]["resourceId"] for a in eastus]
    assert ids[0].endswith("/resourceGroups/regctl-r1/providers/Microsoft.Storage/storageAccounts/observed0")
    assert len(set(ids)) == 2
    assert resource["properties"]["managedResourceGroup"] == {
        "resourceId": "/subscriptions/sub-1/resourceGroups/regctl-r1"
    }
    assert (
        resource["properties"]["discoveryUrl"] == "https://host/api/arm/registrymanagement/v1.0/registries/R1/discovery"
    )
    assert resource["identity"]["tenantId"] == "tenant-1" and resource["identity"]["type"] == "SystemAssigned"


@pytest.mark.parametrize(
    ("status", "observed", "deleting", "state"),
    [
        (RegistryStatus.PROVISIONING, 0, False, "Creating"),
        (RegistryStatus.PROVISIONING, 1, False, "Updating"),
        (RegistryStatus.READY, 1, False, "Succeeded"),
        (RegistryStatus.FAILED, 1, False, "Failed"),
        (RegistryStatus.DELETING, 1, True, "Deleting"),
    ],
)
def test_provisioning_state_follows_the_registry_status(status, observed, deleting, state):
    record = RegistryRecord(key="r", name="r", spec={}, status=status, observed_generation=observed, deleting=deleting)
    assert provisioning_state(record) == state


@pytest.mark.parametrize(
    ("status", "arm", "ends"),
    [
        (OperationStatus.ACCEPTED, "InProgress", False),
        (OperationStatus.RUNNING, "InProgress", False),
        (OperationStatus.SUCCEEDED, "Succeeded", True),
        (OperationStatus.FAILED, "Failed", True),
        (OperationStatus.CANCELED, "Canceled", True),
    ],
)
def test_the_operation_status_resource_has_arms_shape(status, arm, ends):
    operation = OperationRecord(id="r1." + "0" * 32, registry="r1", kind=OperationKind.CREATE, generation=1)
    operation.status = status
    if status is OperationStatus.FAILED:
        operation.error_code, operation.error_message = "StorageFailed", "the account could not be made"
    doc = operation_status(operation, "/status/path")
    assert doc["status"] == arm and doc["name"] == operation.id and doc["id"] == "/status/path"
    assert ("endTime" in doc) is ends
    assert ("error" in doc) is (status in (OperationStatus.FAILED, OperationStatus.CANCELED))
    if status is OperationStatus.FAILED:
        assert doc["error"] == {"code": "StorageFailed", "message": "the account could not be made"}
