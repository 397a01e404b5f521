"""Role assignments at any scope through AuthorizationManagementClient."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from sandbox.arm.control import SandboxControl
from tests.integration.arm.helpers import (
    CONTRIBUTOR_ROLE,
    READER_ROLE,
    Clients,
    new_guid,
    role_definition_id,
    statuses,
    unique,
)

pytestmark = pytest.mark.integration


def assignment(sub: str, principal: str, role: str = READER_ROLE) -> dict[str, object]:
    return {
        "properties": {
            "roleDefinitionId": role_definition_id(sub, role),
            "principalId": principal,
            "principalType": "ServicePrincipal",
        }
    }


def test_create_answers_201_then_200_for_the_same_assignment(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    sub = clients.subscription_id
    scope = f"/subscriptions/{sub}/resourceGroups/{rg}"
    name, principal = new_guid(), new_guid()

    first = clients.authz.role_assignments.create(scope, name, assignment(sub, principal))
    second = clients.authz.role_assignments.create(scope, name, assignment(sub, principal))

    assert first.name == second.name == name
    assert first.scope == scope
    assert first.principal_id == principal
    assert first.id == f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    assert statuses(control.requests(), "PUT", "/roleAssignments/") == [201, 200]


def test_the_same_principal_role_and_scope_under_another_name_is_role_assignment_exists(
    clients: Clients, rg: str
) -> None:
    sub = clients.subscription_id
    scope = f"/subscriptions/{sub}/resourceGroups/{rg}"
    principal = new_guid()
    clients.authz.role_assignments.create(scope, new_guid(), assignment(sub, principal))

    with pytest.raises(ResourceExistsError) as err:
        clients.authz.role_assignments.create(scope, new_guid(), assignment(sub, principal))

    assert err.value.error is not None
    assert err.value.error.code == "RoleAssignmentExists"


def test_reusing_a_name_for_another_principal_or_scope_is_not_permitted(clients: Clients, rg: str) -> None:
    sub = clients.subscription_id
    scope = f"/subscriptions/{sub}/resourceGroups/{rg}"
    name = new_guid()
    clients.authz.role_assignments.create(scope, name, assignment(sub, new_guid()))

    with pytest.raises(ResourceExistsError) as other_principal:
        clients.authz.role_assignments.create(scope, name, assignment(sub, new_guid()))
    with pytest.raises(ResourceExistsError) as other_scope:
        clients.authz.role_assignments.create(f"/subscriptions/{sub}", name, assignment(sub, new_guid()))

    for err in (other_principal, other_scope):
        assert err.value.error is not None
        assert err.value.error.code == "RoleAssignmentUpdateNotPermitted"


def test_the_name_must_be_a_guid(clients: Clients, rg: str) -> None:
    sub = clients.subscription_id
    with pytest.raises(HttpResponseError) as err:
        clients.authz.role_assignments.create(
            f"/subscriptions/{sub}/resourceGroups/{rg}", "not-a-guid", assignment(sub, new_guid())
        )
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "InvalidRoleAssignmentId"


def test_get_and_delete_answer_200_then_204(clients: Clients, control: SandboxControl, rg: str) -> None:
    sub = clients.subscription_id
    scope = f"/subscriptions/{sub}/resourceGroups/{rg}"
    name = new_guid()
    clients.authz.role_assignments.create(scope, name, assignment(sub, new_guid()))

    fetched = clients.authz.role_assignments.get(scope, name)
    deleted = clients.authz.role_assignments.delete(scope, name)
    again = clients.authz.role_assignments.delete(scope, name)

    assert fetched.name == name
    assert deleted is not None
    assert deleted.name == name
    assert again is None
    assert statuses(control.requests(), "DELETE", "/roleAssignments/") == [200, 204]
    with pytest.raises(ResourceNotFoundError) as err:
        clients.authz.role_assignments.get(scope, name)
    assert err.value.error is not None
    assert err.value.error.code == "RoleAssignmentNotFound"


def test_list_filters_at_scope_and_by_principal(clients: Clients, rg: str) -> None:
    sub = clients.subscription_id
    sub_scope = f"/subscriptions/{sub}"
    rg_scope = f"{sub_scope}/resourceGroups/{rg}"
    account = unique("st")
    clients.storage.storage_accounts.begin_create(
        rg, account, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}
    ).result()
    account_scope = f"{rg_scope}/providers/Microsoft.Storage/storageAccounts/{account}"
    alice, bob = new_guid(), new_guid()
    above = clients.authz.role_assignments.create(sub_scope, new_guid(), assignment(sub, alice)).name
    at = clients.authz.role_assignments.create(rg_scope, new_guid(), assignment(sub, bob)).name
    below = clients.authz.role_assignments.create(
        account_scope, new_guid(), assignment(sub, alice, CONTRIBUTOR_ROLE)
    ).name

    at_scope = {a.name for a in clients.authz.role_assignments.list_for_scope(rg_scope, filter="atScope()")}
    everything = {a.name for a in clients.authz.role_assignments.list_for_scope(rg_scope)}
    for_alice = {
        a.name for a in clients.authz.role_assignments.list_for_scope(rg_scope, filter=f"principalId eq '{alice}'")
    }
    alice_at_scope = {
        a.name
        for a in clients.authz.role_assignments.list_for_scope(rg_scope, filter=f"atScope() and assignedTo('{alice}')")
    }
    for_resource = {
        a.name
        for a in clients.authz.role_assignments.list_for_resource(rg, "Microsoft.Storage", "storageAccounts", account)
    }

    assert at_scope == {above, at}
    assert everything == {above, at, below}
    assert for_alice == {above, below}
    assert alice_at_scope == {above}
    assert for_resource == {above, at, below}


def test_an_unquoted_principal_filter_is_refused_as_azure_does(clients: Clients, rg: str) -> None:
    scope = f"/subscriptions/{clients.subscription_id}/resourceGroups/{rg}"
    with pytest.raises(HttpResponseError) as err:
        list(clients.authz.role_assignments.list_for_scope(scope, filter=f"principalId eq {new_guid()}"))
    assert err.value.status_code == 400


def test_assignments_on_a_missing_scope_are_not_found(clients: Clients, rg: str) -> None:
    sub = clients.subscription_id
    with pytest.raises(ResourceNotFoundError) as missing_group:
        clients.authz.role_assignments.create(
            f"/subscriptions/{sub}/resourceGroups/rg-missing", new_guid(), assignment(sub, new_guid())
        )
    with pytest.raises(ResourceNotFoundError) as missing_account:
        clients.authz.role_assignments.create(
            f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/nosuch1",
            new_guid(),
            assignment(sub, new_guid()),
        )
    assert missing_group.value.error is not None
    assert missing_group.value.error.code == "ResourceGroupNotFound"
    assert missing_account.value.error is not None
    assert missing_account.value.error.code == "ResourceNotFound"


def test_deleting_a_resource_removes_assignments_scoped_to_it(clients: Clients, rg: str) -> None:
    sub = clients.subscription_id
    account = unique("st")
    clients.storage.storage_accounts.begin_create(
        rg, account, {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}
    ).result()
    scope = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{account}"
    clients.authz.role_assignments.create(scope, new_guid(), assignment(sub, new_guid()))

    clients.storage.storage_accounts.delete(rg, account)

    assert list(clients.authz.role_assignments.list_for_subscription()) == []
