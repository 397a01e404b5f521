# mypy: disable-error-code="call-overload,union-attr"
# The SDK operations accept JSON dicts at run time but only type their model/IO overloads, and their
# models type every property Optional; both are noise in tests that assert on real responses.
"""Container registries and importImage through ContainerRegistryManagementClient."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from sandbox.arm.control import SandboxControl
from sandbox.arm.launcher import ArmEndpoint
from tests.integration.arm.helpers import Clients, make_clients, new_guid, statuses, unique

pytestmark = pytest.mark.integration


def registry(sku: str = "Premium", location: str = "eastus", **extra: Any) -> dict[str, Any]:
    return {"location": location, "sku": {"name": sku}, **extra}


def import_body(source: str = "library/hello-world:latest", **extra: Any) -> dict[str, Any]:
    return {"source": {"registryUri": "docker.io", "sourceImage": source}, **extra}


def test_create_answers_201_with_azure_async_operation_then_the_sdk_gets_the_registry(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    name = "MyRegistry" + unique("")[:6]

    created = clients.acr.registries.begin_create(rg, name, registry(tags={"a": "b"})).result()

    assert created.name == name
    assert created.properties.provisioning_state == "Succeeded"
    assert created.properties.login_server == f"{name.lower()}.azurecr.io"
    assert created.tags == {"a": "b"}
    log = control.requests()
    assert statuses(log, "PUT", "/registries/") == [201]
    monitor = [r for r in log if "/operationStatuses/registries-" in r["path"]]
    assert monitor
    assert all(r["status"] == 200 for r in monitor)
    final = log[-1]
    assert final["method"] == "GET"
    assert final["path"].split("?")[0].endswith(f"/registries/{name}")


def test_put_of_an_unchanged_registry_answers_200(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, registry()).result()

    again = clients.acr.registries.begin_create(rg, name, registry()).result()

    assert again.properties.provisioning_state == "Succeeded"
    assert statuses(control.requests(), "PUT", "/registries/") == [201, 200]


def test_get_and_list_by_group_and_subscription(clients: Clients, rg: str) -> None:
    names = {unique("reg") for _ in range(2)}
    for name in names:
        clients.acr.registries.begin_create(rg, name, registry(sku="Basic")).result()

    fetched = clients.acr.registries.get(rg, next(iter(names)).upper())
    by_group = {r.name for r in clients.acr.registries.list_by_resource_group(rg)}
    by_sub = {r.name for r in clients.acr.registries.list()}

    assert fetched.name in names
    assert by_group == names
    assert names <= by_sub


def test_get_of_a_missing_registry_is_not_found(clients: Clients, rg: str) -> None:
    with pytest.raises(ResourceNotFoundError) as err:
        clients.acr.registries.get(rg, "nosuchregistry")
    assert err.value.error is not None
    assert err.value.error.code == "ResourceNotFound"


@pytest.mark.parametrize("name", ["abcd", "has-dash1", "x" * 51])
def test_invalid_registry_names_are_refused(clients: Clients, rg: str, name: str) -> None:
    check = clients.acr.registries.check_name_availability(
        {"name": name, "type": "Microsoft.ContainerRegistry/registries"}
    )
    with pytest.raises(HttpResponseError) as err:
        clients.acr.registries.begin_create(rg, name, registry())

    assert check.name_available is False
    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "InvalidResourceName"


def test_registry_names_are_globally_unique_case_insensitively(arm: ArmEndpoint, clients: Clients, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, registry()).result()
    other = make_clients(arm, new_guid())
    other.resources.resource_groups.create_or_update("rg-x", {"location": "eastus"})

    check = clients.acr.registries.check_name_availability({"name": name.upper()})
    with pytest.raises(ResourceExistsError) as err:
        other.acr.registries.begin_create("rg-x", name.upper(), registry())

    assert check.name_available is False
    assert check.reason == "AlreadyExists"
    assert err.value.error is not None
    assert err.value.error.code == "AlreadyInUse"


def test_registry_names_taken_by_someone_else_are_refused(clients: Clients, control: SandboxControl, rg: str) -> None:
    control.set_taken_names(acr=["contoso"])

    check = clients.acr.registries.check_name_availability({"name": "Contoso"})
    with pytest.raises(ResourceExistsError):
        clients.acr.registries.begin_create(rg, "Contoso", registry())

    assert check.name_available is False


def test_patch_updates_sku_and_tags(clients: Clients, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, registry(sku="Basic", tags={"a": "1"})).result()

    updated = clients.acr.registries.begin_update(rg, name, {"sku": {"name": "Premium"}, "tags": {"b": "2"}}).result()

    assert updated.sku.name == "Premium"
    assert updated.tags == {"b": "2"}


def test_downgrading_a_premium_registry_with_geo_replicas_is_refused(clients: Clients, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, registry()).result()
    clients.acr.replications.begin_create(rg, name, "westus", {"location": "westus"}).result()

    with pytest.raises(HttpResponseError) as err:
        clients.acr.registries.begin_update(rg, name, {"sku": {"name": "Standard"}}).result()

    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "SkuDowngradeNotAllowed"


def test_delete_is_202_with_location_and_removes_replications(
    clients: Clients, control: SandboxControl, rg: str
) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, registry()).result()
    clients.acr.replications.begin_create(rg, name, "westus", {"location": "westus"}).result()

    clients.acr.registries.begin_delete(rg, name).result()
    clients.acr.registries.begin_delete(rg, name).result()

    log = control.requests()
    assert statuses(log, "DELETE", f"/registries/{name}") == [202, 204]
    monitor = [r["status"] for r in log if "/operationResults/registries-" in r["path"]]
    assert monitor[-1] == 200
    assert set(monitor[:-1]) <= {202}
    with pytest.raises(ResourceNotFoundError):
        clients.acr.registries.get(rg, name)
    assert clients.acr.registries.check_name_availability({"name": name}).name_available is True


def test_import_image_records_the_target_tags(clients: Clients, control: SandboxControl, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, registry()).result()

    result = clients.acr.registries.begin_import_image(
        rg, name, import_body() | {"targetTags": ["models/hello:1", "models/hello:latest"]}
    ).result()
    clients.acr.registries.begin_import_image(rg, name, import_body("library/busybox:1.36")).result()

    assert result is None
    assert control.images(name)["images"] == ["library/busybox:1.36", "models/hello:1", "models/hello:latest"]
    assert statuses(control.requests(), "POST", "/importImage") == [202, 202]


def test_import_image_without_force_fails_when_the_tag_exists(clients: Clients, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, registry()).result()
    body = import_body() | {"targetTags": ["app:1"]}
    clients.acr.registries.begin_import_image(rg, name, body).result()

    with pytest.raises(HttpResponseError) as err:
        clients.acr.registries.begin_import_image(rg, name, body).result()
    forced = clients.acr.registries.begin_import_image(rg, name, body | {"mode": "Force"}).result()

    assert err.value.error is not None
    assert err.value.error.code == "TagAlreadyExists"
    assert forced is None


def test_import_image_requires_a_source_image(clients: Clients, rg: str) -> None:
    name = unique("reg")
    clients.acr.registries.begin_create(rg, name, registry()).result()

    with pytest.raises(HttpResponseError) as err:
        clients.acr.registries.begin_import_image(rg, name, {"source": {"registryUri": "docker.io"}})

    assert err.value.status_code == 400
    assert err.value.error is not None
    assert err.value.error.code == "InvalidRequestContent"


def test_import_into_a_missing_registry_is_not_found(clients: Clients, rg: str) -> None:
    with pytest.raises(ResourceNotFoundError):
        clients.acr.registries.begin_import_image(rg, "nosuchregistry", import_body())
