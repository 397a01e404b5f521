# mypy: disable-error-code="call-overload,union-attr"
# The SDK operations accept JSON dicts at run time but only type their model/IO overloads, and their
# models type every property Optional; both are noise in tests that assert on real responses.
"""Injected faults: what the SDK sees and how it recovers."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from sandbox.arm.control import ControlError, FaultRule, SandboxControl
from tests.integration.arm.helpers import Clients, RawArm, statuses, unique

pytestmark = pytest.mark.integration

STORAGE = "Microsoft.Storage/storageAccounts"
REGISTRIES = "Microsoft.ContainerRegistry/registries"
REPLICATIONS = "Microsoft.ContainerRegistry/registries/replications"
GROUPS = "Microsoft.Resources/resourceGroups"


def account_params() -> dict[str, Any]:
    return {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}


def test_a_429_with_retry_after_is_retried_by_the_sdk(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_faults([{"method": "GET", "resource_type": GROUPS, "status": 429, "retry_after": 1, "count": 1}])

    group = clients.resources.resource_groups.get(rg)

    assert group.name == rg
    assert statuses(control.requests(), "GET", f"/resourcegroups/{rg}") == [429, 200]


def test_retry_after_is_what_makes_the_sdk_retry_a_patch(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, account_params()).result()
    control.set_faults([{"method": "PATCH", "resource_type": STORAGE, "status": 429, "retry_after": 1, "count": 1}])
    clients.storage.storage_accounts.update(rg, name, {"tags": {"a": "1"}})
    control.set_faults([{"method": "PATCH", "resource_type": STORAGE, "status": 429, "retry_after": 0, "count": 1}])

    with pytest.raises(HttpResponseError) as err:
        clients.storage.storage_accounts.update(rg, name, {"tags": {"b": "2"}})

    assert statuses(control.requests(), "PATCH", f"/storageAccounts/{name}") == [429, 200, 429]
    assert err.value.status_code == 429
    assert err.value.error is not None
    assert err.value.error.code == "TooManyRequests"


def test_server_errors_on_put_are_retried_until_the_count_is_used_up(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    control.set_faults([{"method": "PUT", "resource_type": STORAGE, "status": 503, "count": 2, "retry_after": 0}])
    name = unique("st")

    account = clients.storage.storage_accounts.begin_create(rg, name, account_params()).result()

    assert account.provisioning_state == "Succeeded"
    assert statuses(control.requests(), "PUT", f"/storageAccounts/{name}") == [503, 503, 202]
    assert control.faults()[0]["hits"] == 2


def test_a_fault_with_a_count_stops_after_that_many_hits(raw: RawArm, control: SandboxControl) -> None:
    control.set_faults([{"status": 500, "count": 2}])
    path = f"/subscriptions/{raw.sub}/resourcegroups"

    codes = [raw.request("GET", path, api="2025-04-01").status_code for _ in range(4)]

    assert codes == [500, 500, 200, 200]


def test_a_dropped_connection_is_retried_by_the_sdk(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("st")
    control.set_faults([{"method": "PUT", "resource_type": STORAGE, "status": 0, "count": 1}])
    created = clients.storage.storage_accounts.begin_create(rg, name, account_params()).result()
    control.set_faults([{"method": "GET", "resource_type": STORAGE, "status": 0, "count": 1}])

    fetched = clients.storage.storage_accounts.get_properties(rg, name)

    assert created.name == fetched.name == name
    log = control.requests()
    assert statuses(log, "PUT", f"/storageAccounts/{name}") == [0, 202]
    assert statuses(log, "GET", f"/storageAccounts/{name}?") == [0, 200]


def test_faults_apply_to_lro_monitors_of_the_operation_type(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_faults([{"method": "GET", "resource_type": STORAGE, "status": 500, "count": 1, "retry_after": 0}])
    name = unique("st")

    account = clients.storage.storage_accounts.begin_create(rg, name, account_params()).result()

    monitor = [r["status"] for r in control.requests() if "/asyncoperations/" in r["path"]]
    assert monitor[0] == 500
    assert monitor[-1] == 200
    assert account.provisioning_state == "Succeeded"


def test_rate_draws_come_from_the_seed(raw: RawArm, control: SandboxControl) -> None:
    rule: FaultRule = {"method": "GET", "status": 503, "rate": 0.5}
    path = f"/subscriptions/{raw.sub}/resourcegroups"

    control.set_faults([rule], seed=7)
    first = [raw.request("GET", path, api="2025-04-01").status_code for _ in range(20)]
    control.set_faults([rule], seed=7)
    second = [raw.request("GET", path, api="2025-04-01").status_code for _ in range(20)]

    assert first == second
    assert set(first) == {200, 503}


def test_the_control_surface_is_never_faulted(control: SandboxControl) -> None:
    control.set_faults([{"status": 503}, {"status": 0}])

    assert control.health() is True
    assert control.requests() == []


def test_lro_result_failed_ends_a_registry_create_failed(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_faults([{"method": "PUT", "resource_type": REGISTRIES, "lro_result": "Failed", "count": 1}])
    name = unique("reg")

    with pytest.raises(HttpResponseError) as err:
        clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Premium"}}).result()
    failed = clients.acr.registries.get(rg, name)
    retried = clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Premium"}}).result()

    assert err.value.error is not None
    assert err.value.error.code == "InternalServerError"
    assert failed.properties.provisioning_state == "Failed"
    assert retried.properties.provisioning_state == "Succeeded"


def test_lro_result_with_an_error_code_fails_a_storage_create_with_that_code(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    control.set_faults([{"resource_type": STORAGE, "lro_result": "Failed", "error_code": "QuotaExceeded"}])
    name = unique("st")

    with pytest.raises(HttpResponseError) as err:
        clients.storage.storage_accounts.begin_create(rg, name, account_params()).result()

    assert err.value.error is not None
    assert err.value.error.code == "QuotaExceeded"
    assert clients.storage.storage_accounts.check_name_availability({"name": name}).name_available is True


def test_a_transient_storage_create_failure_surfaces_after_the_sdk_retries_the_monitor(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    control.set_faults([{"resource_type": STORAGE, "lro_result": "Failed", "count": 1}])
    name = unique("st")

    with pytest.raises(HttpResponseError) as err:
        clients.storage.storage_accounts.begin_create(rg, name, account_params()).result()

    assert err.value.status_code == 500
    assert err.value.error is not None
    assert err.value.error.code == "InternalServerError"


def test_lro_result_failed_leaves_a_replication_failed(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Premium"}}).result()
    control.set_faults([{"resource_type": REPLICATIONS, "lro_result": "Failed", "error_code": "QuotaExceeded"}])

    with pytest.raises(HttpResponseError) as err:
        clients.acr.replications.begin_create(rg, name, "westus", {"location": "westus"}).result()

    assert err.value.error is not None
    assert err.value.error.code == "QuotaExceeded"
    assert clients.acr.replications.get(rg, name, "westus").properties.provisioning_state == "Failed"


def test_lro_result_failed_on_delete_keeps_the_registry(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Basic"}}).result()
    control.set_faults([{"method": "DELETE", "lro_result": "Failed", "error_code": "RegistryDeleteFailed"}])

    with pytest.raises(HttpResponseError) as err:
        clients.acr.registries.begin_delete(rg, name).result()

    assert err.value.error is not None
    assert err.value.error.code == "RegistryDeleteFailed"
    assert clients.acr.registries.get(rg, name).properties.provisioning_state == "Failed"


def test_lro_result_canceled_raises_for_an_import(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, {"location": "eastus", "sku": {"name": "Basic"}}).result()
    control.set_faults([{"method": "POST", "lro_result": "Canceled"}])

    with pytest.raises(HttpResponseError) as err:
        clients.acr.registries.begin_import_image(
            rg, name, {"source": {"sourceImage": "library/alpine:3"}, "targetTags": ["alpine:3"]}
        ).result()

    assert err.value.error is not None
    assert err.value.error.code == "OperationCanceled"
    assert control.images(name)["images"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"rules": [{"method": "GET"}]}, "exactly one of 'status' or 'lro_result'"),
        ({"rules": [{"status": 200}]}, "status must be"),
        ({"rules": [{"status": 500, "rate": 2}]}, "rate must be"),
        ({"rules": [{"status": 500, "count": 0}]}, "count must be"),
        ({"rules": [{"status": 500, "colour": "red"}]}, "unknown keys"),
        ({"rules": [{"lro_result": "Exploded"}]}, "lro_result must be"),
        ({"rules": [{"status": 500, "resource_type": "storageAccounts"}]}, "resource_type must be"),
        ({"rules": "all"}, "rules must be a list"),
    ],
)
def test_invalid_fault_rules_are_refused_with_a_clear_message(
    control: SandboxControl, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(ControlError) as err:
        control._call("PUT", "faults", body)
    assert "400" in str(err.value)
    assert message in str(err.value)
