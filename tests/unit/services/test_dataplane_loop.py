"""Data-plane role assignments through the loop: a principal's operation (its own lane) puts its storage and
ACR roles on every region's resources; the registry lane starts that operation itself whenever a principal's
roles are missing (a registry just created, a region just added, an assignment removed by hand, found by
the region sync); a revoke removes regctl's own and leaves anyone else's; deleting the registry needs no
step of its own."""

from __future__ import annotations

from shared.domain.access import (
    ACR_PULL,
    ACR_PUSH,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    STORAGE_BLOB_DATA_READER,
    data_plane_assignment_name,
)
from shared.domain.records import OperationKind, OperationRecord, OperationStatus, RegistryRecord
from shared.domain.resources import ObservedRoleAssignment
from shared.domain.work import Grant
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World

ALICE = "4f1e2d3c-0000-4000-8000-00000000a11c"
BOB = "5b0b5b0b-0000-4000-8000-000000000b0b"
LANE = f"principal/{ALICE}"
READ = Grant(ALICE, "User", STORAGE_BLOB_DATA_READER, ACR_PULL)
WRITE = Grant(ALICE, "User", STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PUSH)
WITH_CENTRALUS = {**DEMO1, "replication_locations": [*DEMO1["replication_locations"], {"location": "centralus"}]}


class Grants:
    """A GrantSource the test sets by hand (in production, the access service)."""

    def __init__(self, *grants: Grant) -> None:
        self.grants = grants

    def grants_for(self, registry: str) -> tuple[Grant, ...]:
        return self.grants


def registry(world: World) -> RegistryRecord:
    found = world.store.get_registry("demoregistry1")
    assert found is not None
    return found


def granted_world(*grants: Grant) -> tuple[World, Grants]:
    source = Grants(*grants)
    world = World(grants=source)
    world.api.create(DEMO1)
    world.drain()
    return world, source


def run_lane(world: World, lane: str = LANE) -> OperationRecord:
    """Start the principal's operation (as the access service does) and run the loop until it is quiet."""
    started = world.lifecycle.start(registry(world), OperationKind.SYNC, lane)
    world.drain()
    operation = world.store.get_operation(started.id)
    assert operation is not None
    return operation


def held(world: World) -> set[tuple[str, str, str]]:
    """(resource name, principal, role) of every role assignment in the fake ARM."""
    return {
        (a.scope.rsplit("/", 1)[-1], a.principal_id, a.role_definition_id) for a in world.arm.role_assignments.values()
    }


def expected(world: World, grant: Grant) -> set[tuple[str, str, str]]:
    found = {(name, grant.principal_id, grant.storage_role) for name in world.arm.storage}
    assert world.arm.acr is not None
    return found | {(world.arm.acr.name, grant.principal_id, grant.acr_role)}


def lane_operations(world: World, lane: str = LANE) -> list[OperationRecord]:
    return [o for o in world.store.operations.values() if o.lane == lane]


def test_a_principals_operation_assigns_reader_and_pull_on_every_storage_account_and_the_acr():
    world, _ = granted_world(READ)
    # the registry lane converged, found the principal's roles missing and started its lane's operation
    [started] = lane_operations(world)
    assert started.status is OperationStatus.SUCCEEDED and started.kind is OperationKind.GRANT
    assert len(world.arm.storage) == 3
    assert held(world) == expected(world, READ)
    operation = run_lane(world)
    assert operation.status is OperationStatus.SUCCEEDED
    assert held(world) == expected(world, READ)
    for assignment in world.arm.role_assignments.values():
        assert assignment.name == data_plane_assignment_name(
            assignment.scope, assignment.principal_id, assignment.role_definition_id
        )
    steps = world.store.list_steps("demoregistry1", LANE, started.id)
    assert len(steps) == 4 and {s.kind for s in steps} == {"dataplane"}


def test_the_operation_again_writes_nothing():
    world, _ = granted_world(READ)
    run_lane(world)
    writes = len(world.arm.writes)
    assert run_lane(world).status is OperationStatus.SUCCEEDED
    assert len(world.arm.writes) == writes


def test_a_new_region_gets_the_assignment_when_the_update_converges():
    world, _ = granted_world(READ)
    accepted = world.api.replace("DemoRegistry1", WITH_CENTRALUS)
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert len(world.arm.storage) == 4
    assert held(world) == expected(world, READ) and len(held(world)) == 5
    assert len(lane_operations(world)) == 2  # the create's and the update's, each started by the registry lane


def test_a_revoke_deletes_regctls_assignments_and_leaves_a_hand_made_one():
    world, grants = granted_world(READ)
    run_lane(world)
    account = next(iter(world.arm.storage.values()))
    hand_made = ObservedRoleAssignment(
        "11111111-2222-4333-8444-555555555555", account.id, BOB, STORAGE_BLOB_DATA_READER
    )
    world.arm.role_assignments[hand_made.name] = hand_made
    grants.grants = ()
    assert run_lane(world).status is OperationStatus.SUCCEEDED
    assert list(world.arm.role_assignments.values()) == [hand_made]
    assert len([w for w in world.arm.writes if w.startswith("delete-role:")]) == 4


def test_an_upgrade_to_write_access_replaces_the_roles():
    world, grants = granted_world(READ)
    run_lane(world)
    grants.grants = (WRITE,)
    assert run_lane(world).status is OperationStatus.SUCCEEDED
    assert held(world) == expected(world, WRITE)


def test_the_same_access_made_by_hand_satisfies_the_grant_and_survives_its_revoke():
    world, grants = granted_world()
    account = next(iter(world.arm.storage.values()))
    hand_made = ObservedRoleAssignment(
        "11111111-2222-4333-8444-555555555555", account.id, ALICE, STORAGE_BLOB_DATA_READER
    )
    world.arm.role_assignments[hand_made.name] = hand_made
    grants.grants = (READ,)
    assert run_lane(world).status is OperationStatus.SUCCEEDED
    assert held(world) == expected(world, READ)
    assert len([w for w in world.arm.writes if w.startswith("role:")]) == 3  # none on that account
    grants.grants = ()
    assert run_lane(world).status is OperationStatus.SUCCEEDED
    assert list(world.arm.role_assignments.values()) == [hand_made]


def test_an_assignment_removed_by_hand_is_drift_and_the_principals_operation_restores_it():
    world, _ = granted_world(READ)
    run_lane(world)
    name = next(iter(world.arm.role_assignments))
    del world.arm.role_assignments[name]
    report = world.region_sync.run()
    drift = registry(world).drift
    assert [(d["field"], d["desired"], d["actual"]) for d in drift] == [("exists", "present", "missing")]
    assert drift[0]["resource"].startswith(f"access {ALICE} ")
    assert report.healing == ["demoregistry1"]  # the region sync started the principal's operation
    world.drain()
    assert held(world) == expected(world, READ)


def test_deleting_the_registry_needs_no_step_of_this_kind():
    world, _ = granted_world(READ)
    run_lane(world)
    accepted = world.api.delete("DemoRegistry1")
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert world.arm.group is None and world.arm.role_assignments == {}
    assert not [w for w in world.arm.writes if w.startswith("delete-role:")]


def test_two_principals_work_in_lanes_of_their_own():
    bob = Grant(BOB, "ServicePrincipal", STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PUSH)
    world, _ = granted_world(READ, bob)
    assert [o.status for o in lane_operations(world)] == [OperationStatus.SUCCEEDED]
    assert [o.status for o in lane_operations(world, f"principal/{BOB}")] == [OperationStatus.SUCCEEDED]
    assert held(world) == expected(world, READ) | expected(world, bob)
