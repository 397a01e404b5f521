"""The data-plane role assignments kind: a principal's grant on a registry becomes Storage Blob Data Reader or
Contributor on every storage account and AcrPull or AcrPush on the ACR, named deterministically, in the
principal's lane; revokes and upgrades delete only regctl's own assignments."""

from __future__ import annotations

import dataclasses

import pytest

from shared.domain.access import (
    ACR_PULL,
    ACR_PUSH,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    STORAGE_BLOB_DATA_READER,
    data_plane_assignment_name,
)
from shared.domain.decide import StepContext, decide
from shared.domain.drift import drift
from shared.domain.kinds.dataplane import KIND
from shared.domain.plan import diff
from shared.domain.resources import (
    Observed,
    ObservedAcr,
    ObservedGroup,
    ObservedReplica,
    ObservedRoleAssignment,
    ObservedStorage,
    registry_tags,
    storage_tags,
)
from shared.domain.spec import RegistrySpec, parse_spec
from shared.domain.work import Context, Goal, Grant, ResourceType, Subject, Verb

SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"
GROUP = "regctl-reg1"
ALICE = "4f1e2d3c-0000-4000-8000-00000000a11c"
BOB = "5b0b5b0b-0000-4000-8000-000000000b0b"
LANE = f"principal/{ALICE}"
READ = Grant(ALICE, "User", STORAGE_BLOB_DATA_READER, ACR_PULL)
WRITE = Grant(ALICE, "User", STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PUSH)


def spec() -> RegistrySpec:
    document = {
        "name": "Reg1",
        "location": "eastus",
        "replication_locations": [{"location": "eastus"}, {"location": "westus"}],
    }
    return parse_spec(document).spec


def storage_id(name: str) -> str:
    return f"{SUB}/resourceGroups/{GROUP}/providers/Microsoft.Storage/storageAccounts/{name}"


ACR_ID = f"{SUB}/resourceGroups/{GROUP}/providers/Microsoft.ContainerRegistry/registries/acr1"


def observed(regions: tuple[str, ...] = ("eastus", "westus"), *, acr: bool = True) -> Observed:
    tags = registry_tags("Reg1", {})
    accounts = tuple(
        ObservedStorage(
            f"sa{region}",
            region,
            0,
            "Standard_LRS",
            False,
            storage_tags("Reg1", {}, region, 0),
            id=storage_id(f"sa{region}"),
        )
        for region in regions
    )
    registry = ObservedAcr("acr1", "eastus", "Premium", tags, id=ACR_ID) if acr else None
    replicas = (ObservedReplica("westus", "westus"),) if acr else ()
    return Observed(ObservedGroup(GROUP, "eastus", tags), accounts, registry, replicas)


def regctls(scope: str, principal: str, role: str) -> ObservedRoleAssignment:
    """An assignment under regctl's deterministic name."""
    return ObservedRoleAssignment(data_plane_assignment_name(scope, principal, role), scope, principal, role)


def held(observation: Observed, *assignments: ObservedRoleAssignment) -> Observed:
    return dataclasses.replace(observation, role_assignments=assignments)


def everything_for(grant: Grant, observation: Observed | None = None) -> Observed:
    """``observation`` with all of ``grant``'s assignments in place, under regctl's names."""
    base = observation or observed()
    found = [regctls(a.id, grant.principal_id, grant.storage_role) for a in base.storage]
    if base.acr is not None:
        found.append(regctls(base.acr.id, grant.principal_id, grant.acr_role))
    return held(base, *found)


def keys(steps) -> set[str]:
    return {s.key for s in steps}


@pytest.mark.parametrize(
    ("grant", "storage", "acr"),
    [
        (READ, "storage-reader", "acr-pull"),
        (WRITE, "storage-contributor", "acr-push"),
    ],
)
def test_a_grant_wants_its_roles_on_every_storage_account_and_the_acr(grant, storage, acr):
    wants = KIND.desired(Context(spec(), observed(), GROUP, grants=(grant,)))
    assert set(wants) == {
        Subject("eastus", 0, LANE, storage),
        Subject("westus", 0, LANE, storage),
        Subject("eastus", 0, LANE, acr),
    }
    assert {w.role for w in wants.values()} == {grant.storage_role, grant.acr_role}
    assert all(s.lane == LANE for s in wants)


def test_no_grant_wants_nothing_and_costs_no_step():
    assert not any(s.kind == "dataplane" for s in diff(spec(), observed(), GROUP).ready)


def test_a_new_grant_plans_a_create_per_resource_in_the_principals_lane():
    plan = diff(spec(), observed(), GROUP, grants=(READ,)).for_lane(LANE)
    assert keys(plan.ready) == {
        f"ensure_dataplane:{LANE}:storage-reader:eastus:0",
        f"ensure_dataplane:{LANE}:storage-reader:westus:0",
        f"ensure_dataplane:{LANE}:acr-pull:eastus:0",
    }
    registry_lane = diff(spec(), observed(), GROUP, grants=(READ,)).for_lane("registry")
    assert not any(s.kind == "dataplane" for s in registry_lane.ready)


def test_the_create_is_a_put_of_a_deterministically_named_assignment_on_the_resource():
    context = StepContext(
        "dataplane",
        Goal.ENSURE,
        Subject("westus", 0, LANE, "storage-reader"),
        spec(),
        observed(),
        GROUP,
        grants=(READ,),
    )
    action = decide(context)
    assert action.verb is Verb.CREATE
    assert action.ref is not None and action.ref.type is ResourceType.ROLE_ASSIGNMENT
    assert action.ref.group == GROUP
    assert action.ref.parent == "providers/Microsoft.Storage/storageAccounts/sawestus"
    assert action.ref.name == data_plane_assignment_name(storage_id("sawestus"), ALICE, STORAGE_BLOB_DATA_READER)
    assert action.body == {
        "properties": {"roleDefinitionId": STORAGE_BLOB_DATA_READER, "principalId": ALICE, "principalType": "User"}
    }
    acr = decide(dataclasses.replace(context, subject=Subject("eastus", 0, LANE, "acr-pull")))
    assert acr.ref is not None and acr.ref.parent == "providers/Microsoft.ContainerRegistry/registries/acr1"
    assert acr.ref.name == data_plane_assignment_name(ACR_ID, ALICE, ACR_PULL)


def test_a_resource_not_there_yet_is_not_wanted_yet():
    plan = diff(spec(), observed(("eastus",), acr=False), GROUP, grants=(READ,))
    assert keys(s for s in plan.ready + plan.waiting if s.kind == "dataplane") == {
        f"ensure_dataplane:{LANE}:storage-reader:eastus:0"
    }


def test_an_account_still_provisioning_makes_the_step_wait():
    base = observed()
    creating = dataclasses.replace(base, storage=(dataclasses.replace(base.storage[1], state="Creating"),))
    context = StepContext(
        "dataplane", Goal.ENSURE, Subject("westus", 0, LANE, "storage-reader"), spec(), creating, GROUP, grants=(READ,)
    )
    assert decide(context).verb is Verb.WAIT


def test_assignments_in_place_are_done_and_no_drift():
    done = everything_for(READ)
    assert diff(spec(), done, GROUP, grants=(READ,)).for_lane(LANE).done
    assert drift(spec(), done, grants=(READ,)) == []
    context = StepContext(
        "dataplane", Goal.ENSURE, Subject("eastus", 0, LANE, "acr-pull"), spec(), done, GROUP, grants=(READ,)
    )
    assert decide(context).verb is Verb.NOOP


def test_scopes_and_principals_compare_case_insensitively():
    done = everything_for(READ)
    shouted = tuple(
        dataclasses.replace(a, scope=a.scope.upper(), principal_id=a.principal_id.upper())
        for a in done.role_assignments
    )
    assert diff(spec(), held(done, *shouted), GROUP, grants=(READ,)).for_lane(LANE).done


def test_a_revoke_deletes_only_regctls_own_assignments():
    hand_made = ObservedRoleAssignment(
        "11111111-2222-4333-8444-555555555555", storage_id("saeastus"), BOB, STORAGE_BLOB_DATA_READER
    )
    other_role = ObservedRoleAssignment(
        "66666666-2222-4333-8444-555555555555", storage_id("saeastus"), ALICE, "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    )
    after_revoke = held(everything_for(READ), *everything_for(READ).role_assignments, hand_made, other_role)
    plan = diff(spec(), after_revoke, GROUP, grants=())
    assert keys(s for s in plan.ready if s.kind == "dataplane") == {
        f"delete_dataplane:{LANE}:storage-reader:eastus:0",
        f"delete_dataplane:{LANE}:storage-reader:westus:0",
        f"delete_dataplane:{LANE}:acr-pull:eastus:0",
    }
    context = StepContext(
        "dataplane", Goal.DELETE, Subject("westus", 0, LANE, "storage-reader"), spec(), after_revoke, GROUP
    )
    action = decide(context)
    assert action.verb is Verb.DELETE and action.ref is not None
    assert action.ref.type is ResourceType.ROLE_ASSIGNMENT
    assert action.ref.name == data_plane_assignment_name(storage_id("sawestus"), ALICE, STORAGE_BLOB_DATA_READER)
    assert action.ref.parent == "providers/Microsoft.Storage/storageAccounts/sawestus"


def test_a_hand_made_assignment_of_the_same_access_stands_in_while_granted_and_is_left_alone_after():
    """ARM refuses a second assignment of the same principal, role and scope (``RoleAssignmentExists``,
    counted as done): the hand-made one satisfies the grant, so the loop converges instead of creating
    again and again; once the grant goes, it is not regctl's to delete."""
    base = everything_for(READ)
    hand_made = ObservedRoleAssignment(
        "11111111-2222-4333-8444-555555555555", storage_id("saeastus"), ALICE, STORAGE_BLOB_DATA_READER
    )
    mine = tuple(a for a in base.role_assignments if a.scope != storage_id("saeastus"))
    observation = held(base, *mine, hand_made)
    assert diff(spec(), observation, GROUP, grants=(READ,)).for_lane(LANE).done
    assert drift(spec(), observation, grants=(READ,)) == []
    revoked = diff(spec(), observation, GROUP, grants=())
    assert f"delete_dataplane:{LANE}:storage-reader:eastus:0" not in keys(revoked.ready)
    assert len([s for s in revoked.ready if s.kind == "dataplane"]) == 2


def test_an_upgrade_from_reader_to_contributor_creates_the_new_roles_and_deletes_the_old():
    plan = diff(spec(), everything_for(READ), GROUP, grants=(WRITE,)).for_lane(LANE)
    assert keys(plan.ready) == {
        f"ensure_dataplane:{LANE}:storage-contributor:eastus:0",
        f"ensure_dataplane:{LANE}:storage-contributor:westus:0",
        f"ensure_dataplane:{LANE}:acr-push:eastus:0",
        f"delete_dataplane:{LANE}:storage-reader:eastus:0",
        f"delete_dataplane:{LANE}:storage-reader:westus:0",
        f"delete_dataplane:{LANE}:acr-pull:eastus:0",
    }


def test_in_an_upgrade_the_old_role_is_kept_until_the_new_one_is_there():
    """Never without access in between: the delete of the reader role waits for the contributor role."""
    old = Subject("westus", 0, LANE, "storage-reader")
    before = StepContext("dataplane", Goal.DELETE, old, spec(), everything_for(READ), GROUP, grants=(WRITE,))
    assert decide(before).verb is Verb.WAIT
    contributor = regctls(storage_id("sawestus"), ALICE, STORAGE_BLOB_DATA_CONTRIBUTOR)
    both = everything_for(READ)
    after = dataclasses.replace(before, observed=held(both, *both.role_assignments, contributor))
    assert decide(after).verb is Verb.DELETE
    revoke = dataclasses.replace(before, grants=())  # a plain revoke has no replacement to wait for
    assert decide(revoke).verb is Verb.DELETE


def test_an_assignment_removed_by_hand_is_drift_and_missing():
    base = everything_for(READ)
    removed = held(base, *(a for a in base.role_assignments if a.scope != storage_id("sawestus")))
    assert [d.to_dict() for d in drift(spec(), removed, grants=(READ,))] == [
        {
            "resource": f"access {ALICE} reader on storage westus[0]",
            "field": "exists",
            "desired": "present",
            "actual": "missing",
        }
    ]
    plan = diff(spec(), removed, GROUP, grants=(READ,)).for_lane(LANE)
    assert keys(plan.ready) == {f"ensure_dataplane:{LANE}:storage-reader:westus:0"}


def test_two_principals_have_separate_lanes():
    bob = Grant(BOB, "ServicePrincipal", STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PUSH)
    plan = diff(spec(), everything_for(READ), GROUP, grants=(READ, bob))
    assert plan.for_lane(LANE).done
    assert len(plan.for_lane(f"principal/{BOB}").ready) == 3


def test_deleting_the_registry_plans_no_step_of_this_kind_the_group_takes_them():
    plan = diff(None, everything_for(READ), GROUP, grants=(READ,))
    assert plan.ready and not any(s.kind == "dataplane" for s in plan.ready + plan.waiting)


def test_labels_name_the_principal_the_role_and_the_resource():
    assert (
        KIND.label(Subject("westus", 1, LANE, "storage-contributor"))
        == f"access {ALICE} contributor on storage westus[1]"
    )
    assert KIND.label(Subject("eastus", 0, LANE, "acr-pull")) == f"access {ALICE} pull on container registry"
