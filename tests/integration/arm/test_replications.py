# mypy: disable-error-code="call-overload,union-attr"
# The SDK operations accept JSON dicts at run time but only type their model/IO overloads, and their
# models type every property Optional; both are noise in tests that assert on real responses.
"""Registry geo-replications, including the implicit home replica."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from sandbox.arm.control import SandboxControl
from tests.integration.arm.helpers import Clients, statuses, unique

pytestmark = pytest.mark.integration


@pytest.fixture
def premium(clients: Clients, rg: str) -> str:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Premium"}}).result()
    return name


def test_create_answers_201_then_polls_creating_until_succeeded(
    clients: Clients, control: SandboxControl, rg: str, premium: str
) -> None:
    control.clear_requests()

    replica = clients.acr.replications.begin_create(
        rg, premium, "westeurope", {"location": "westeurope", "tags": {"k": "v"}}
    ).result()

    assert replica.name == "westeurope"
    assert replica.location == "westeurope"
    assert replica.properties.provisioning_state == "Succeeded"
    assert replica.properties.status.display_status == "Ready"
    log = control.requests()
    assert statuses(log, "PUT", "/replications/") == [201]
    assert all(r["status"] == 200 for r in log if "/operationStatuses/replications-" in r["path"])
    assert log[-1]["path"].split("?")[0].endswith(f"/registries/{premium}/replications/westeurope")


def test_no_replica_is_listed_before_the_first_geo_replica(clients: Clients, rg: str, premium: str) -> None:
    assert list(clients.acr.replications.list(rg, premium)) == []


def test_the_home_replica_appears_with_the_first_geo_replica(clients: Clients, rg: str, premium: str) -> None:
    clients.acr.replications.begin_create(rg, premium, "westus", {"location": "westus"}).result()

    listed = {r.name: r for r in clients.acr.replications.list(rg, premium)}

    assert set(listed) == {"eastus", "westus"}
    home = listed["eastus"]
    assert home.location == "eastus"
    assert home.system_data.created_by_type == "Application"
    assert listed["westus"].system_data.created_by_type == "User"
    assert clients.acr.replications.get(rg, premium, "EastUS").name == "eastus"


def test_home_replica_is_listed_always_when_configured(
    clients: Clients, control: SandboxControl, rg: str, premium: str
) -> None:
    control.set_config(home_replica="always")

    assert [r.name for r in clients.acr.replications.list(rg, premium)] == ["eastus"]


def test_a_replication_in_the_home_location_is_accepted(clients: Clients, rg: str, premium: str) -> None:
    home = clients.acr.replications.begin_create(rg, premium, "eastus", {"location": "eastus"}).result()
    again = clients.acr.replications.begin_create(rg, premium, "eastus", {"location": "eastus"}).result()

    assert home.properties.provisioning_state == "Succeeded"
    assert again.name == "eastus"
    assert [r.name for r in clients.acr.replications.list(rg, premium)] == ["eastus"]


def test_the_home_replica_cannot_be_deleted(clients: Clients, rg: str, premium: str) -> None:
    clients.acr.replications.begin_create(rg, premium, "westus", {"location": "westus"}).result()

    with pytest.raises(HttpResponseError) as err:
        clients.acr.replications.begin_delete(rg, premium, "eastus")

    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "HomeReplicationCannotBeDeleted"


def test_delete_polls_the_location_until_done(clients: Clients, control: SandboxControl, rg: str, premium: str) -> None:
    clients.acr.replications.begin_create(rg, premium, "westus", {"location": "westus"}).result()

    clients.acr.replications.begin_delete(rg, premium, "westus").result()
    clients.acr.replications.begin_delete(rg, premium, "westus").result()

    log = control.requests()
    assert statuses(log, "DELETE", "/replications/westus") == [202, 204]
    monitor = [r["status"] for r in log if "/operationResults/replications-" in r["path"]]
    assert monitor[-1] == 204
    assert [r.name for r in clients.acr.replications.list(rg, premium)] == ["eastus"]


def test_replications_need_a_premium_registry(clients: Clients, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Standard"}}).result()

    with pytest.raises(HttpResponseError) as err:
        clients.acr.replications.begin_create(rg, name, "westus", {"location": "westus"})

    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "RegistrySkuNotSupported"


def test_one_replication_per_location(clients: Clients, rg: str, premium: str) -> None:
    clients.acr.replications.begin_create(rg, premium, "westus", {"location": "westus"}).result()

    with pytest.raises(ResourceExistsError) as err:
        clients.acr.replications.begin_create(rg, premium, "westcopy", {"location": "westus"})

    assert err.value.error is not None
    assert err.value.error.code == "ReplicationAlreadyExists"


def test_invalid_replication_requests_are_refused(clients: Clients, rg: str, premium: str) -> None:
    with pytest.raises(HttpResponseError) as bad_name:
        clients.acr.replications.begin_create(rg, premium, "w-us", {"location": "westus"})
    with pytest.raises(HttpResponseError) as bad_location:
        clients.acr.replications.begin_create(rg, premium, "nowhere", {"location": "nowhere"})

    assert bad_name.value.error is not None
    assert bad_name.value.error.code == "InvalidResourceName"
    assert bad_location.value.error is not None
    assert bad_location.value.error.code == "LocationNotAvailableForResourceType"


def test_replications_of_a_missing_registry_are_parent_not_found(clients: Clients, rg: str) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        clients.acr.replications.get(rg, "nosuchregistry", "westus")
    assert err.value.error is not None
    assert err.value.error.code == "ParentResourceNotFound"


def test_patch_updates_replication_tags(clients: Clients, rg: str, premium: str) -> None:
    clients.acr.replications.begin_create(rg, premium, "westus", {"location": "westus", "tags": {"a": "1"}}).result()

    updated = clients.acr.replications.begin_update(rg, premium, "westus", {"tags": {"b": "2"}}).result()

    assert updated.tags == {"b": "2"}
