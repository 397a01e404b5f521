# mypy: disable-error-code="call-overload,union-attr"
# The SDK operations accept JSON dicts at run time but only type their model/IO overloads, and their
# models type every property Optional; both are noise in tests that assert on real responses.
"""Resource groups through ResourceManagementClient."""

from __future__ import annotations

import uuid

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from sandbox.arm.control import SandboxControl
from tests.integration.arm.helpers import SLOW, TIME_SCALE, Clients, new_guid, role_definition_id, unique

pytestmark = pytest.mark.integration


def test_create_then_update_keeps_the_group_and_replaces_tags(clients: Clients, control: SandboxControl) -> None:
    name = f"rg-{uuid.uuid4().hex[:6]}"
    created = clients.resources.resource_groups.create_or_update(name, {"location": "westus", "tags": {"a": "1"}})
    updated = clients.resources.resource_groups.create_or_update(name, {"location": "westus", "tags": {"b": "2"}})

    assert created.properties.provisioning_state == "Succeeded"
    assert updated.tags == {"b": "2"}
    statuses = [r["status"] for r in control.requests() if r["method"] == "PUT"]
    assert statuses == [201, 200]


def test_group_names_are_case_insensitive_and_keep_their_first_casing(clients: Clients) -> None:
    clients.resources.resource_groups.create_or_update("MyGroup-1", {"location": "eastus"})

    fetched = clients.resources.resource_groups.get("mygroup-1")

    assert fetched.name == "MyGroup-1"
    assert fetched.id.endswith("/resourceGroups/MyGroup-1")


def test_changing_the_location_of_a_group_is_a_conflict(clients: Clients, rg: str) -> None:
    with pytest.raises(ResourceExistsError) as err:
        clients.resources.resource_groups.create_or_update(rg, {"location": "westus"})
    assert err.value.error is not None
    assert err.value.error.code == "InvalidResourceGroupLocation"


def test_unknown_location_is_refused(clients: Clients) -> None:
    with pytest.raises(HttpResponseError) as err:
        clients.resources.resource_groups.create_or_update("rg-nowhere", {"location": "atlantis"})
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "LocationNotAvailableForResourceGroup"


def test_invalid_group_name_is_refused(clients: Clients) -> None:
    with pytest.raises(HttpResponseError) as err:
        clients.resources.resource_groups.create_or_update("bad*name", {"location": "eastus"})
    assert err.value.error is not None
    assert err.value.error.code == "InvalidResourceGroup"


def test_check_existence_answers_true_and_false(clients: Clients, rg: str) -> None:
    assert clients.resources.resource_groups.check_existence(rg) is True
    assert clients.resources.resource_groups.check_existence("rg-never-made") is False


def test_get_of_a_missing_group_raises_not_found_with_arm_code(clients: Clients) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        clients.resources.resource_groups.get("rg-missing")
    assert err.value.error is not None
    assert err.value.error.code == "ResourceGroupNotFound"
    assert err.value.error.message == "Resource group 'rg-missing' could not be found."


def test_list_pages_through_next_link(clients: Clients, control: SandboxControl) -> None:
    control.set_config(page_size=2)
    names = {f"rg-page-{i}" for i in range(5)}
    for name in names:
        clients.resources.resource_groups.create_or_update(name, {"location": "eastus"})

    listed = {g.name for g in clients.resources.resource_groups.list()}

    assert listed == names
    list_calls = [r for r in control.requests() if r["method"] == "GET" and "resourcegroups?" in r["path"]]
    assert len(list_calls) == 3


def test_patch_replaces_tags_wholesale(clients: Clients, rg: str) -> None:
    clients.resources.resource_groups.update(rg, {"tags": {"x": "1", "y": "2"}})
    patched = clients.resources.resource_groups.update(rg, {"tags": {"z": "3"}})
    assert patched.tags == {"z": "3"}


def test_delete_is_a_long_running_operation_that_deletes_what_the_group_holds(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    sub = clients.subscription_id
    account = unique("st")
    registry = unique("reg")
    clients.storage.storage_accounts.begin_create(
        rg, account, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}
    ).result()
    clients.acr.registries.begin_create(rg, registry, {"location": "eastus", "sku": {"name": "Premium"}}).result()
    clients.acr.replications.begin_create(rg, registry, "westus", {"location": "westus"}).result()
    scope = f"/subscriptions/{sub}/resourceGroups/{rg}"
    clients.authz.role_assignments.create(
        scope, new_guid(), {"properties": {"roleDefinitionId": role_definition_id(sub), "principalId": new_guid()}}
    )

    clients.resources.resource_groups.begin_delete(rg).result()

    assert clients.resources.resource_groups.check_existence(rg) is False
    assert clients.storage.storage_accounts.check_name_availability({"name": account}).name_available is True
    assert clients.acr.registries.check_name_availability({"name": registry}).name_available is True
    assert list(clients.authz.role_assignments.list_for_subscription()) == []
    polls = [r for r in control.requests() if "/operationresults/" in r["path"]]
    assert [p["status"] for p in polls][-1] == 200
    assert all(p["status"] == 202 for p in polls[:-1])


def test_a_group_being_deleted_refuses_new_resources(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_latency(TIME_SCALE, durations={"resource_group_delete": SLOW})
    poller = clients.resources.resource_groups.begin_delete(rg)

    state = clients.resources.resource_groups.get(rg).properties.provisioning_state
    with pytest.raises(ResourceExistsError) as err:
        clients.storage.storage_accounts.begin_create(
            rg, unique("st"), {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}
        )

    assert state == "Deleting"
    assert err.value.error is not None
    assert err.value.error.code == "ResourceGroupBeingDeleted"
    poller.result()


def test_deleting_a_missing_group_raises_not_found(clients: Clients) -> None:
    with pytest.raises(ResourceNotFoundError):
        clients.resources.resource_groups.begin_delete("rg-not-there").result()


def test_children_of_a_missing_group_get_resource_group_not_found(clients: Clients) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        clients.storage.storage_accounts.get_properties("rg-absent", "whatever1")
    assert err.value.error is not None
    assert err.value.error.code == "ResourceGroupNotFound"
