"""The production ARM gateway against the ARM simulator: the real SDK clients, LRO continuations, errors."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from sandbox.arm.control import SandboxControl
from sandbox.arm.launcher import ArmEndpoint, SimulatorProcess
from shared.adapters.arm import AzureArmGateway, build_clients
from shared.adapters.credentials import StaticTokenCredential
from shared.domain.errors import PermanentError, TransientError
from shared.domain.resources import Part, storage_tags
from shared.domain.work import ResourceRef, ResourceType
from shared.ports import LroState

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmEndpoint]:
    with SimulatorProcess(time_scale=0.01, sandbox_dir=tmp_path_factory.mktemp("arm")) as endpoint:
        yield endpoint


@pytest.fixture
def control(arm: ArmEndpoint) -> Iterator[SandboxControl]:
    with SandboxControl(arm.endpoint, arm.ca_bundle) as ctl:
        ctl.reset()
        yield ctl


@pytest.fixture
def gateway(arm: ArmEndpoint, control: SandboxControl) -> AzureArmGateway:
    clients = build_clients(StaticTokenCredential("test-token"), arm.subscription_id, arm.endpoint, arm.ca_bundle)
    return AzureArmGateway(clients, max_writes_in_flight=4)


def finish(gateway: AzureArmGateway, state: LroState, deadline: float = 30.0) -> int:
    """Poll a started operation to its end the way steps do (one status request per call); returns polls."""
    polls = 0
    end = time.monotonic() + deadline
    while not state.done:
        assert time.monotonic() < end, "the operation did not finish"
        assert state.continuation is not None
        time.sleep(min(state.retry_after or 0.05, 0.2))
        state = gateway.poll(state.continuation)
        polls += 1
    return polls


class Writes:
    """The gateway's generic writes, spelled per resource as the kinds of work spell them."""

    def __init__(self, gateway: AzureArmGateway) -> None:
        self.gateway = gateway

    def ensure_group(self, name: str, location: str, tags: dict[str, str]) -> LroState:
        return self.gateway.put(ResourceRef(ResourceType.GROUP, name, name), {"location": location, "tags": tags})

    def delete_group(self, name: str) -> LroState:
        return self.gateway.delete(ResourceRef(ResourceType.GROUP, name, name))

    def create_storage(
        self, group: str, name: str, *, location: str, sku: str, hns: bool, tags: dict[str, str]
    ) -> LroState:
        body = {
            "location": location,
            "kind": "StorageV2",
            "sku": {"name": sku},
            "tags": tags,
            "properties": {"isHnsEnabled": hns, "supportsHttpsTrafficOnly": True, "minimumTlsVersion": "TLS1_2"},
        }
        return self.gateway.put(ResourceRef(ResourceType.STORAGE, group, name), body)

    def update_storage(self, group: str, name: str, sku: str, tags: dict[str, str]) -> LroState:
        return self.gateway.patch(ResourceRef(ResourceType.STORAGE, group, name), {"sku": {"name": sku}, "tags": tags})

    def delete_storage(self, group: str, name: str) -> LroState:
        return self.gateway.delete(ResourceRef(ResourceType.STORAGE, group, name))

    def create_acr(self, group: str, name: str, location: str, tags: dict[str, str]) -> LroState:
        body = {"location": location, "sku": {"name": "Premium"}, "tags": tags, "properties": {}}
        return self.gateway.put(ResourceRef(ResourceType.ACR, group, name), body)

    def delete_acr(self, group: str, name: str) -> LroState:
        return self.gateway.delete(ResourceRef(ResourceType.ACR, group, name))

    def create_replica(self, group: str, acr: str, location: str, tags: dict[str, str]) -> LroState:
        body = {"location": location, "tags": tags, "properties": {"regionEndpointEnabled": True}}
        return self.gateway.put(ResourceRef(ResourceType.REPLICA, group, location, acr), body)

    def delete_replica(self, group: str, acr: str, location: str) -> LroState:
        return self.gateway.delete(ResourceRef(ResourceType.REPLICA, group, location, acr))


def registry_name() -> str:
    return "reg" + uuid.uuid4().hex[:8]


def test_a_registry_is_built_and_observed_through_the_gateway(gateway: AzureArmGateway):
    reg = registry_name()
    group = f"regctl-{reg}"
    Writes(gateway).ensure_group(group, "eastus", {"regctl-registry": reg})
    assert gateway.observe(reg, group).group is not None
    storage = Writes(gateway).create_storage(
        group, f"{reg}st0", location="westus", sku="Standard_LRS", hns=True, tags=storage_tags(reg, {}, "westus", 0)
    )
    assert not storage.done, "storage create answers 202 and is polled"
    finish(gateway, storage)
    finish(gateway, Writes(gateway).create_acr(group, f"{reg}acr", "eastus", {"regctl-registry": reg}))
    finish(gateway, Writes(gateway).create_replica(group, f"{reg}acr", "westus", {"regctl-registry": reg}))
    observed = gateway.observe(reg, group)
    assert [(s.region, s.index, s.sku, s.hns, s.state) for s in observed.storage] == [
        ("westus", 0, "Standard_LRS", True, "Succeeded")
    ]
    assert observed.acr is not None and observed.acr.sku == "Premium" and observed.acr.location == "eastus"
    assert {r.location for r in observed.replicas} >= {"westus"}
    assert gateway.observe_all()[reg] == observed


def test_a_step_observation_reads_only_its_parts(gateway: AzureArmGateway, control: SandboxControl):
    reg = registry_name()
    group = f"regctl-{reg}"
    control.clear_requests()
    assert gateway.observe(reg, group, frozenset({Part.STORAGE})).empty  # ResourceGroupNotFound: no group
    assert [(r["method"], r["status"]) for r in control.requests()] == [("GET", 404)]

    Writes(gateway).ensure_group(group, "eastus", {"regctl-registry": reg})
    finish(gateway, Writes(gateway).create_acr(group, f"{reg}acr", "eastus", {"regctl-registry": reg}))
    control.clear_requests()
    storage_only = gateway.observe(reg, group, frozenset({Part.STORAGE}))
    assert storage_only.group is not None and storage_only.acr is None and storage_only.storage == ()
    replicas = gateway.observe(reg, group, frozenset({Part.ACR, Part.REPLICAS}))
    assert replicas.acr is not None and replicas.acr.name == f"{reg}acr"
    paths = [r["path"].split("?")[0] for r in control.requests()]
    assert len(paths) == 3 and paths[0].endswith("/storageAccounts")
    assert paths[1].endswith("/registries") and paths[2].endswith("/replications")


def test_each_poll_is_one_status_request_and_the_end_needs_no_final_get(
    gateway: AzureArmGateway, control: SandboxControl
):
    reg = registry_name()
    group = f"regctl-{reg}"
    Writes(gateway).ensure_group(group, "eastus", {"regctl-registry": reg})
    finish(gateway, Writes(gateway).create_acr(group, f"{reg}acr", "eastus", {"regctl-registry": reg}))
    control.clear_requests()
    polls = finish(gateway, Writes(gateway).create_replica(group, f"{reg}acr", "westus", {"regctl-registry": reg}))
    requests = [(r["method"], r["path"].split("?")[0]) for r in control.requests()]
    assert requests[0][0] == "PUT"
    assert polls >= 2 and len(requests) == 1 + polls  # one status request per poll, nothing else
    assert all("/operationStatuses/" in path for _, path in requests[1:])


def test_storage_update_and_teardown_through_the_gateway(gateway: AzureArmGateway):
    reg = registry_name()
    group = f"regctl-{reg}"
    Writes(gateway).ensure_group(group, "eastus", {"regctl-registry": reg})
    tags = storage_tags(reg, {}, "eastus", 0)
    finish(
        gateway,
        Writes(gateway).create_storage(group, f"{reg}st0", location="eastus", sku="Standard_LRS", hns=False, tags=tags),
    )
    Writes(gateway).update_storage(group, f"{reg}st0", "Standard_GRS", tags)
    assert gateway.observe(reg, group).storage[0].sku == "Standard_GRS"
    finish(gateway, Writes(gateway).create_acr(group, f"{reg}acr", "eastus", {"regctl-registry": reg}))
    finish(gateway, Writes(gateway).create_replica(group, f"{reg}acr", "westus", {"regctl-registry": reg}))
    finish(gateway, Writes(gateway).delete_replica(group, f"{reg}acr", "westus"))
    finish(gateway, Writes(gateway).delete_acr(group, f"{reg}acr"))
    Writes(gateway).delete_storage(group, f"{reg}st0")
    finish(gateway, Writes(gateway).delete_group(group))
    assert gateway.observe(reg, group).empty


def test_a_storage_name_taken_elsewhere_is_a_permanent_name_taken_error(gateway, control):
    """``NameTaken``, a ``PermanentError``: the step walks the naming sequence instead of failing."""
    control.set_taken_names(storage=["takenname01"])
    Writes(gateway).ensure_group("regctl-taken", "eastus", {})
    with pytest.raises(PermanentError) as caught:
        Writes(gateway).create_storage(
            "regctl-taken", "takenname01", location="eastus", sku="Standard_LRS", hns=False, tags={}
        )
    assert caught.value.code == "StorageAccountAlreadyTaken"


def test_an_operation_ending_failed_raises_the_classified_error_on_poll(gateway, control):
    control.set_faults(
        [
            {
                "method": "PUT",
                "resource_type": "Microsoft.ContainerRegistry/registries",
                "lro_result": "Failed",
                "error_code": "QuotaExceeded",
                "count": 1,
            }
        ]
    )
    Writes(gateway).ensure_group("regctl-quota", "eastus", {})
    with pytest.raises(PermanentError) as caught:
        finish(gateway, Writes(gateway).create_acr("regctl-quota", "quotaacr01", "eastus", {}))
    assert caught.value.code == "QuotaExceeded"


def test_an_operation_ending_failed_transiently_is_a_transient_error(gateway, control):
    control.set_faults(
        [{"method": "PUT", "resource_type": "Microsoft.Storage/storageAccounts", "lro_result": "Failed", "count": 1}]
    )
    Writes(gateway).ensure_group("regctl-flaky", "eastus", {})
    with pytest.raises(TransientError) as caught:
        finish(
            gateway,
            Writes(gateway).create_storage(
                "regctl-flaky", "flakyacct01", location="eastus", sku="Standard_LRS", hns=False, tags={}
            ),
        )
    assert caught.value.code == "InternalServerError"


def test_throttling_is_absorbed_by_the_sdk_retry_honouring_retry_after(gateway, control):
    control.set_faults(
        [
            {
                "method": "PUT",
                "resource_type": "Microsoft.Resources/resourceGroups",
                "status": 429,
                "retry_after": 1,
                "count": 1,
            }
        ]
    )
    Writes(gateway).ensure_group("regctl-throttled", "eastus", {})
    puts = [r for r in control.requests() if r["method"] == "PUT"]
    assert [r["status"] for r in puts] == [429, 201]


def test_persistent_server_errors_surface_as_transient_with_the_code(gateway, control):
    control.set_faults([{"method": "GET", "resource_type": "Microsoft.Resources/resourceGroups", "status": 503}])
    with pytest.raises(TransientError):
        gateway.observe("nothing", "regctl-nothing")
