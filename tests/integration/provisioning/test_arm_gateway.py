"""The production ARM gateway against the ARM simulator: the real SDK clients, LRO continuations, errors."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterator

import pytest

from sandbox.arm.control import SandboxControl
from sandbox.arm.launcher import ArmEndpoint, SimulatorProcess
from shared.adapters.arm import AzureArmGateway, build_clients
from shared.adapters.credentials import StaticTokenCredential
from shared.domain.access import ACR_PULL, STORAGE_BLOB_DATA_READER
from shared.domain.decide import StepContext, decide
from shared.domain.errors import PermanentError, TransientError
from shared.domain.resources import ALL_PARTS, Observed, ObservedRoleAssignment, Part, storage_tags
from shared.domain.spec import parse_spec
from shared.domain.work import Action, Goal, Grant, ResourceRef, ResourceType, Subject, Verb
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


# -- data-plane role assignments ---------------------------------------------------------------------

PRINCIPAL = "4f1e2d3c-0000-4000-8000-00000000a11c"
ACCESS_PARTS = frozenset({Part.ROLE_ASSIGNMENTS, Part.STORAGE, Part.ACR})


def built(gateway: AzureArmGateway) -> tuple[str, str, Observed]:
    """A registry with one storage account and its ACR: (registry, group, its observation)."""
    reg = registry_name()
    group = f"regctl-{reg}"
    writes = Writes(gateway)
    writes.ensure_group(group, "eastus", {"regctl-registry": reg})
    tags = storage_tags(reg, {}, "eastus", 0)
    finish(
        gateway, writes.create_storage(group, f"{reg}st0", location="eastus", sku="Standard_LRS", hns=False, tags=tags)
    )
    finish(gateway, writes.create_acr(group, f"{reg}acr", "eastus", {"regctl-registry": reg}))
    return reg, group, gateway.observe(reg, group, ACCESS_PARTS)


def granted_action(reg: str, group: str, observed: Observed, target: str, goal: Goal = Goal.ENSURE) -> Action:
    """What the data-plane kind decides for the principal's ``target`` subject (the domain's own wire body)."""
    spec = parse_spec({"name": reg, "location": "eastus", "replication_locations": [{"location": "eastus"}]}).spec
    grants = (Grant(PRINCIPAL, "User", STORAGE_BLOB_DATA_READER, ACR_PULL),) if goal is Goal.ENSURE else ()
    subject = Subject("eastus", 0, f"principal/{PRINCIPAL}", target)
    return decide(StepContext("dataplane", goal, subject, spec, observed, group, grants=grants))


def test_a_data_plane_role_assignment_is_put_observed_and_deleted_through_the_gateway(
    gateway: AzureArmGateway, control: SandboxControl
):
    reg, group, observed = built(gateway)
    account = observed.storage[0]
    assert account.id.lower().endswith(f"/resourcegroups/{group}/providers/microsoft.storage/storageaccounts/{reg}st0")
    action = granted_action(reg, group, observed, "storage-reader")
    assert action.verb is Verb.CREATE and action.ref is not None
    control.clear_requests()

    assert gateway.put(action.ref, action.body).done
    assert gateway.put(action.ref, action.body).done  # the same again: 200
    assert [(r["method"], r["status"]) for r in control.requests()] == [("PUT", 201), ("PUT", 200)]
    control.clear_requests()
    seen = gateway.observe(reg, group, ACCESS_PARTS)
    assert len(control.requests()) == 3  # storage, registries, role assignments: one LIST each
    expected = ObservedRoleAssignment(action.ref.name, account.id, PRINCIPAL, STORAGE_BLOB_DATA_READER)
    assert [dataclasses.replace(a, scope=a.scope.lower()) for a in seen.role_assignments] == [
        dataclasses.replace(expected, scope=expected.scope.lower())
    ]
    assert gateway.observe_all(ALL_PARTS | {Part.ROLE_ASSIGNMENTS})[reg].role_assignments == seen.role_assignments
    assert granted_action(reg, group, seen, "storage-reader").verb is Verb.NOOP

    delete = granted_action(reg, group, seen, "storage-reader", Goal.DELETE)
    assert delete.verb is Verb.DELETE and delete.ref is not None
    control.clear_requests()
    assert gateway.delete(delete.ref).done
    assert gateway.delete(delete.ref).done  # already gone: 204
    assert [(r["method"], r["status"]) for r in control.requests()] == [("DELETE", 200), ("DELETE", 204)]
    assert gateway.observe(reg, group, ACCESS_PARTS).role_assignments == ()


def test_only_data_plane_roles_on_the_registrys_own_resources_are_observed(gateway: AzureArmGateway):
    reg, group, observed = built(gateway)
    acr = granted_action(reg, group, observed, "acr-pull")
    assert acr.ref is not None
    gateway.put(acr.ref, acr.body)
    reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7"  # the control-plane Reader role: not a data-plane one
    other_role = ResourceRef(ResourceType.ROLE_ASSIGNMENT, group, str(uuid.uuid4()), acr.ref.parent)
    gateway.put(other_role, {"properties": {"roleDefinitionId": reader, "principalId": PRINCIPAL}})
    other, other_group, _ = built(gateway)
    elsewhere = granted_action(other, other_group, gateway.observe(other, other_group, ACCESS_PARTS), "acr-pull")
    assert elsewhere.ref is not None
    gateway.put(elsewhere.ref, elsewhere.body)

    seen = gateway.observe(reg, group, ACCESS_PARTS)
    assert [(a.name, a.role_definition_id) for a in seen.role_assignments] == [(acr.ref.name, ACR_PULL)]
    everything = gateway.observe_all(ALL_PARTS | {Part.ROLE_ASSIGNMENTS})
    assert [a.name for a in everything[reg].role_assignments] == [acr.ref.name]
    assert [a.name for a in everything[other].role_assignments] == [elsewhere.ref.name]
    assert gateway.observe_all()[reg].role_assignments == ()  # not asked for: not read


def test_role_assignment_exists_under_another_name_counts_as_done(gateway: AzureArmGateway, control: SandboxControl):
    reg, group, observed = built(gateway)
    action = granted_action(reg, group, observed, "storage-reader")
    assert action.ref is not None
    hand_made = dataclasses.replace(action.ref, name=str(uuid.uuid4()))
    assert gateway.put(hand_made, action.body).done
    control.clear_requests()

    assert gateway.put(action.ref, action.body).done
    assert [(r["method"], r["status"]) for r in control.requests()] == [("PUT", 409)]
    seen = gateway.observe(reg, group, ACCESS_PARTS)
    assert [a.name for a in seen.role_assignments] == [hand_made.name]
    assert granted_action(reg, group, seen, "storage-reader").verb is Verb.NOOP  # it stands in for regctl's


def test_an_assignment_on_a_missing_account_is_a_transient_error_and_its_delete_is_done(gateway: AzureArmGateway):
    reg, group, observed = built(gateway)
    action = granted_action(reg, group, observed, "storage-reader")
    assert action.ref is not None
    Writes(gateway).delete_storage(group, f"{reg}st0")
    with pytest.raises(TransientError):
        gateway.put(action.ref, action.body)
    assert gateway.delete(action.ref).done


def test_role_assignments_of_a_missing_group_observe_as_nothing(gateway: AzureArmGateway):
    assert gateway.observe("nothing", "regctl-nothing", frozenset({Part.ROLE_ASSIGNMENTS})).empty
