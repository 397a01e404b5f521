# mypy: disable-error-code="call-overload,union-attr"
# The SDK operations accept JSON dicts at run time but only type their model/IO overloads, and their
# models type every property Optional; both are noise in tests that assert on real responses.
"""Storage accounts through StorageManagementClient."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from sandbox.arm.control import SandboxControl
from sandbox.arm.launcher import ArmEndpoint
from tests.integration.arm.helpers import SLOW, TIME_SCALE, Clients, make_clients, new_guid, statuses, unique

pytestmark = pytest.mark.integration


def params(location: str = "eastus", sku: str = "Standard_LRS", **extra: Any) -> dict[str, Any]:
    return {"sku": {"name": sku}, "kind": "StorageV2", "location": location, **extra}


def test_create_polls_the_location_monitor_and_returns_the_account(
    arm: ArmEndpoint, clients: Clients, control: SandboxControl, rg: str
) -> None:
    name = unique("st")
    account = clients.storage.storage_accounts.begin_create(
        rg, name, params(properties={"isHnsEnabled": True}, tags={"env": "dev"})
    ).result()

    assert account.name == name
    assert account.provisioning_state == "Succeeded"
    assert account.is_hns_enabled is True
    assert account.tags == {"env": "dev"}
    assert account.primary_endpoints.blob == f"{arm.blob_endpoint}/{name}/"
    log = control.requests()
    assert statuses(log, "PUT", "/storageAccounts/") == [202]
    assert "/providers/Microsoft.Storage/locations/eastus/asyncoperations/" in log[-1]["path"]
    assert "monitor=true" in log[-1]["path"]
    assert log[-1]["status"] == 200


def test_get_while_creating_shows_creating_then_succeeded(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_latency(TIME_SCALE, durations={"storage_create": SLOW})
    name = unique("st")
    poller = clients.storage.storage_accounts.begin_create(rg, name, params())

    during = clients.storage.storage_accounts.get_properties(rg, name)
    done = poller.result()

    assert during.provisioning_state == "Creating"
    assert during.primary_endpoints is None
    assert done.provisioning_state == "Succeeded"


def test_a_retried_put_joins_the_running_create(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("st")
    first = clients.storage.storage_accounts.begin_create(rg, name, params())
    second = clients.storage.storage_accounts.begin_create(rg, name, params())

    assert first.result().name == second.result().name == name
    assert statuses(control.requests(), "PUT", "/storageAccounts/") == [202, 202]


def test_put_on_an_existing_account_answers_200_and_updates_allowed_properties(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params()).result()

    same = clients.storage.storage_accounts.begin_create(rg, name, params()).result()
    changed = clients.storage.storage_accounts.begin_create(rg, name, params(sku="Standard_GRS")).result()

    assert same.sku.name == "Standard_LRS"
    assert changed.sku.name == "Standard_GRS"
    assert statuses(control.requests(), "PUT", "/storageAccounts/") == [202, 200, 200]


def test_list_by_group_and_by_subscription(clients: Clients, rg: str) -> None:
    names = {unique("st") for _ in range(3)}
    for name in names:
        clients.storage.storage_accounts.begin_create(rg, name, params()).result()

    by_group = {a.name for a in clients.storage.storage_accounts.list_by_resource_group(rg)}
    by_sub = {a.name for a in clients.storage.storage_accounts.list()}

    assert by_group == names
    assert names <= by_sub


def test_list_keys_returns_two_distinct_keys_of_the_account(clients: Clients, rg: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params(location="westeurope")).result()

    keys = clients.storage.storage_accounts.list_keys(rg, name).as_dict()["keys"]
    again = clients.storage.storage_accounts.list_keys(rg, name).as_dict()["keys"]

    assert [k["keyName"] for k in keys] == ["key1", "key2"]
    assert len(base64.b64decode(keys[0]["value"], validate=True)) == 64
    assert keys[0]["value"] != keys[1]["value"]
    assert keys == again


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Standard_LRS", "Standard_GRS"),
        ("Standard_GRS", "Standard_RAGRS"),
        ("Standard_RAGRS", "Standard_LRS"),
        ("Standard_GZRS", "Standard_RAGZRS"),
    ],
)
def test_patch_allows_redundancy_moves_within_a_family(clients: Clients, rg: str, old: str, new: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params(sku=old)).result()

    updated = clients.storage.storage_accounts.update(rg, name, {"sku": {"name": new}, "tags": {"t": "1"}})

    assert updated.sku.name == new
    assert updated.tags == {"t": "1"}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Standard_LRS", "Standard_ZRS"),
        ("Standard_ZRS", "Standard_LRS"),
        ("Standard_LRS", "Premium_LRS"),
        ("Premium_LRS", "Standard_LRS"),
        ("Standard_LRS", "Standard_GZRS"),
    ],
)
def test_patch_refuses_other_sku_conversions(clients: Clients, rg: str, old: str, new: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params(sku=old)).result()

    with pytest.raises(HttpResponseError) as err:
        clients.storage.storage_accounts.update(rg, name, {"sku": {"name": new}})

    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "StorageAccountTypeConversionNotAllowed"


def test_changing_an_immutable_property_is_refused(clients: Clients, rg: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params(properties={"isHnsEnabled": False})).result()

    with pytest.raises(HttpResponseError) as by_put:
        clients.storage.storage_accounts.begin_create(rg, name, params(properties={"isHnsEnabled": True})).result()
    with pytest.raises(HttpResponseError) as by_patch:
        clients.storage.storage_accounts.update(rg, name, {"location": "westus"})

    for err in (by_put, by_patch):
        assert err.value.status_code == 400
        assert err.value.error is not None
        assert err.value.error.code == "AccountPropertyCannotBeUpdated"


def test_tags_are_replaced_wholesale_by_patch(clients: Clients, rg: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params(tags={"a": "1", "b": "2"})).result()

    updated = clients.storage.storage_accounts.update(rg, name, {"tags": {"c": "3"}})

    assert updated.tags == {"c": "3"}


def test_delete_is_synchronous_and_answers_204_when_absent(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params()).result()

    clients.storage.storage_accounts.delete(rg, name)
    clients.storage.storage_accounts.delete(rg, name)

    assert statuses(control.requests(), "DELETE", "/storageAccounts/") == [200, 204]
    with pytest.raises(ResourceNotFoundError) as err:
        clients.storage.storage_accounts.get_properties(rg, name)
    assert err.value.error is not None
    assert err.value.error.code == "ResourceNotFound"


@pytest.mark.parametrize("name", ["ab", "UPPERCASE1", "has-dash1", "a" * 25])
def test_invalid_names_are_refused_on_put_and_by_check_name(clients: Clients, rg: str, name: str) -> None:
    check = clients.storage.storage_accounts.check_name_availability(
        {"name": name, "type": "Microsoft.Storage/storageAccounts"}
    )
    with pytest.raises(HttpResponseError) as err:
        clients.storage.storage_accounts.begin_create(rg, name, params())

    assert check.name_available is False
    assert check.reason == "AccountNameInvalid"
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "AccountNameInvalid"


def test_check_name_reports_available_and_already_exists(clients: Clients, rg: str) -> None:
    name = unique("st")
    before = clients.storage.storage_accounts.check_name_availability({"name": name})
    clients.storage.storage_accounts.begin_create(rg, name, params()).result()
    after = clients.storage.storage_accounts.check_name_availability(
        {"name": name, "type": "Microsoft.Storage/storageAccounts"}
    )

    assert before.name_available is True
    assert before.reason is None
    assert after.name_available is False
    assert after.reason == "AlreadyExists"
    assert after.message == f"The storage account named {name} is already taken."


def test_names_are_unique_across_subscriptions(arm: ArmEndpoint, clients: Clients, rg: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params()).result()
    other = make_clients(arm, new_guid())
    other.resources.resource_groups.create_or_update("rg-other", {"location": "eastus"})

    with pytest.raises(ResourceExistsError) as err:
        other.storage.storage_accounts.begin_create("rg-other", name, params())

    assert err.value.error is not None
    assert err.value.error.code == "StorageAccountAlreadyTaken"


def test_same_name_in_another_group_of_the_subscription_is_a_conflict(clients: Clients, rg: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, params()).result()
    clients.resources.resource_groups.create_or_update("rg-second", {"location": "eastus"})

    with pytest.raises(ResourceExistsError) as same_location:
        clients.storage.storage_accounts.begin_create("rg-second", name, params())
    with pytest.raises(ResourceExistsError) as other_location:
        clients.storage.storage_accounts.begin_create("rg-second", name, params(location="westus"))
    with pytest.raises(ResourceExistsError) as moved:
        clients.storage.storage_accounts.begin_create(rg, name, params(location="westus"))

    assert same_location.value.error is not None
    assert same_location.value.error.code == "StorageAccountInAnotherResourceGroup"
    assert other_location.value.error is not None
    assert other_location.value.error.code == "StorageAccountAlreadyExists"
    assert moved.value.error is not None
    assert moved.value.error.code == "InvalidResourceLocation"


def test_names_taken_by_someone_else_are_refused(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_taken_names(storage=["takenelsewhere1"])

    check = clients.storage.storage_accounts.check_name_availability({"name": "takenelsewhere1"})
    with pytest.raises(ResourceExistsError) as err:
        clients.storage.storage_accounts.begin_create(rg, "takenelsewhere1", params())

    assert check.name_available is False
    assert err.value.error is not None
    assert err.value.error.code == "StorageAccountAlreadyTaken"


def test_the_per_region_account_quota_is_enforced(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_config(storage_account_quota=2)
    for _ in range(2):
        clients.storage.storage_accounts.begin_create(rg, unique("st"), params()).result()

    with pytest.raises(ResourceExistsError) as err:
        clients.storage.storage_accounts.begin_create(rg, unique("st"), params())
    elsewhere = clients.storage.storage_accounts.begin_create(rg, unique("st"), params(location="westus")).result()

    assert err.value.error is not None
    assert err.value.error.code == "MaxStorageAccountsCountPerSubscriptionExceeded"
    assert elsewhere.provisioning_state == "Succeeded"


def test_invalid_sku_kind_and_location_are_refused(clients: Clients, rg: str) -> None:
    cases = [
        (params(sku="Standard_XYZ"), "InvalidAccountType"),
        ({**params(), "kind": "Nonsense"}, "InvalidValuesForRequestParameters"),
        ({**params(), "kind": "BlockBlobStorage"}, "InvalidValuesForRequestParameters"),
        (params(location="atlantis"), "LocationNotAvailableForResourceType"),
    ]
    for body, code in cases:
        with pytest.raises(HttpResponseError) as err:
            clients.storage.storage_accounts.begin_create(rg, unique("st"), body)
        assert err.value.status_code == 400
        assert err.value.error is not None
        assert err.value.error.code == code


def test_operations_on_an_account_being_created_are_refused(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_latency(TIME_SCALE, durations={"storage_create": SLOW})
    name = unique("st")
    poller = clients.storage.storage_accounts.begin_create(rg, name, params())

    with pytest.raises(ResourceExistsError) as keys:
        clients.storage.storage_accounts.list_keys(rg, name)
    with pytest.raises(ResourceExistsError) as delete:
        clients.storage.storage_accounts.delete(rg, name)

    assert keys.value.error is not None
    assert keys.value.error.code == "StorageAccountIsNotProvisioned"
    assert delete.value.error is not None
    assert delete.value.error.code == "StorageAccountInCreating"
    poller.result()


def test_patch_of_a_missing_account_is_not_found(clients: Clients, rg: str) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        clients.storage.storage_accounts.update(rg, "nosuchaccount1", {"tags": {}})
    assert err.value.error is not None
    assert err.value.error.code == "StorageAccountNotFound"
