"""Planning (shared/domain/plan.py): ``diff(desired, observed) -> Plan``, as tables of cases.

Each case starts from what ARM would report for a registry (``observed``), built from the spec with the
management tags of shared/domain/resources.py, and states which steps are ready, which wait, and whether
anything is still provisioning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from shared.domain.errors import PermanentError
from shared.domain.plan import Plan, diff
from shared.domain.resources import (
    CANCELED,
    FAILED,
    SUCCEEDED,
    Observed,
    ObservedAcr,
    ObservedGroup,
    ObservedReplica,
    ObservedStorage,
    registry_tags,
    storage_tags,
)
from shared.domain.spec import RegistrySpec, parse_spec


class K:
    """Step names (``{goal}_{kind}``). Bringing an existing resource back to the spec is the same ensure step
    as creating it: the kind's one comparison decides which write it needs."""

    ENSURE_GROUP = "ensure_group"
    DELETE_GROUP = "delete_group"
    ENSURE_STORAGE = UPDATE_STORAGE = "ensure_storage"
    DELETE_STORAGE = "delete_storage"
    ENSURE_ACR = UPDATE_ACR = "ensure_acr"
    DELETE_ACR = "delete_acr"
    ENSURE_REPLICA = "ensure_replica"
    DELETE_REPLICA = "delete_replica"


Step = tuple[str, str, int]

# Azure: "the SKU name cannot be updated to Standard_ZRS, Premium_LRS or Premium_ZRS, nor can accounts of
# those SKU names be updated to any other value" (shared/reference/arm-behavior.md section 2.3).
FROZEN_SKUS = ["Standard_ZRS", "Premium_LRS", "Premium_ZRS"]
CONVERTIBLE_SKUS = ["Standard_LRS", "Standard_GRS", "Standard_RAGRS"]


def spec(
    regions: list[str] | None = None,
    *,
    primary: str = "eastus",
    tags: dict[str, str] | None = None,
    storage: dict[str, dict[str, Any]] | None = None,
) -> RegistrySpec:
    """DemoRegistry1 with ``regions`` (primary first by default) and per-region storage_config."""
    storage = storage or {}
    entries = []
    for region in regions or ["eastus", "eastus2", "westus"]:
        entry: dict[str, Any] = {"location": region}
        if region in storage:
            entry["storage_config"] = storage[region]
        entries.append(entry)
    doc = {
        "name": "DemoRegistry1",
        "location": primary,
        "tags": tags or {"foo": "bar"},
        "replication_locations": entries,
    }
    return parse_spec(doc).spec


def converged(desired: RegistrySpec) -> Observed:
    """What ARM reports once every resource of ``desired`` exists, as regctl creates it."""
    name, tags = desired.name, desired.tags
    accounts = tuple(
        ObservedStorage(
            name=f"sa-{entry.location}-{index}",
            region=entry.location,
            index=index,
            sku=entry.storage.storage_account_type.value,
            hns=entry.storage.storage_account_hns,
            tags=storage_tags(name, tags, entry.location, index),
        )
        for entry in desired.replication_locations
        for index in range(entry.storage.replication_count)
    )
    return Observed(
        group=ObservedGroup(name="rg", location=desired.location, tags=registry_tags(name, tags)),
        storage=accounts,
        acr=ObservedAcr(name="acr", location=desired.location, sku="Premium", tags=registry_tags(name, tags)),
        replicas=tuple(ObservedReplica(name=r, location=r) for r in desired.regions if r != desired.location),
    )


def storage_steps(kind: str, desired: RegistrySpec) -> set[Step]:
    return {
        (kind, entry.location, index)
        for entry in desired.replication_locations
        for index in range(entry.storage.replication_count)
    }


def replica_steps(kind: str, desired: RegistrySpec) -> set[Step]:
    return {(kind, r, 0) for r in desired.regions if r != desired.location}


def steps(plan_part: tuple[Any, ...]) -> set[Step]:
    return {(s.name, s.region, s.index) for s in plan_part}


# Observed-state edits -------------------------------------------------------------------------------


def without_group(o: Observed) -> Observed:
    return dataclasses.replace(o, group=None)


def without_storage(o: Observed) -> Observed:
    return dataclasses.replace(o, storage=())


def without_acr(o: Observed) -> Observed:
    return dataclasses.replace(o, acr=None)


def without_replicas(o: Observed) -> Observed:
    return dataclasses.replace(o, replicas=())


def group_change(**changes: Any) -> Callable[[Observed], Observed]:
    def edit(o: Observed) -> Observed:
        assert o.group is not None
        return dataclasses.replace(o, group=dataclasses.replace(o.group, **changes))

    return edit


def acr_change(**changes: Any) -> Callable[[Observed], Observed]:
    def edit(o: Observed) -> Observed:
        assert o.acr is not None
        return dataclasses.replace(o, acr=dataclasses.replace(o.acr, **changes))

    return edit


def group_state(state: str) -> Callable[[Observed], Observed]:
    return group_change(state=state)


def acr_state(state: str) -> Callable[[Observed], Observed]:
    return acr_change(state=state)


def storage_state(region: str, state: str, index: int = 0) -> Callable[[Observed], Observed]:
    return storage_change(region, index, state=state)


def storage_change(region: str, index: int = 0, **changes: Any) -> Callable[[Observed], Observed]:
    def edit(o: Observed) -> Observed:
        accounts = tuple(
            dataclasses.replace(a, **changes) if (a.region, a.index) == (region, index) else a for a in o.storage
        )
        return dataclasses.replace(o, storage=accounts)

    return edit


def replica_state(region: str, state: str) -> Callable[[Observed], Observed]:
    def edit(o: Observed) -> Observed:
        replicas = tuple(dataclasses.replace(r, state=state) if r.location == region else r for r in o.replicas)
        return dataclasses.replace(o, replicas=replicas)

    return edit


def with_replica(region: str, state: str = SUCCEEDED) -> Callable[[Observed], Observed]:
    return lambda o: dataclasses.replace(o, replicas=(*o.replicas, ObservedReplica(region, region, state)))


def with_storage_account(region: str, index: int, state: str = SUCCEEDED) -> Callable[[Observed], Observed]:
    def edit(o: Observed) -> Observed:
        account = ObservedStorage(f"sa-{region}-{index}", region, index, "Standard_LRS", False, {}, state)
        return dataclasses.replace(o, storage=(*o.storage, account))

    return edit


def compose(*edits: Callable[[Observed], Observed]) -> Callable[[Observed], Observed]:
    def edit(o: Observed) -> Observed:
        for e in edits:
            o = e(o)
        return o

    return edit


DEMO = spec()
EMPTY = Observed()


# --- create, step by step ---------------------------------------------------------------------------


def test_create_from_nothing_starts_with_the_group_and_everything_else_waits():
    plan = diff(DEMO, EMPTY)

    assert steps(plan.ready) == {(K.ENSURE_GROUP, "eastus", 0)}
    assert steps(plan.waiting) == (
        storage_steps(K.ENSURE_STORAGE, DEMO) | {(K.ENSURE_ACR, "eastus", 0)} | replica_steps(K.ENSURE_REPLICA, DEMO)
    )
    assert plan.busy == ()
    assert not plan.done


def test_once_the_group_exists_storage_and_acr_are_ready_and_replicas_wait_for_the_acr():
    observed = without_acr(without_storage(without_replicas(converged(DEMO))))

    plan = diff(DEMO, observed)

    assert steps(plan.ready) == storage_steps(K.ENSURE_STORAGE, DEMO) | {(K.ENSURE_ACR, "eastus", 0)}
    assert steps(plan.waiting) == replica_steps(K.ENSURE_REPLICA, DEMO)


def test_once_the_acr_succeeded_replicas_are_ready():
    observed = without_replicas(converged(DEMO))

    plan = diff(DEMO, observed)

    assert steps(plan.ready) == replica_steps(K.ENSURE_REPLICA, DEMO)
    assert plan.waiting == ()


def test_a_converged_registry_is_done():
    plan = diff(DEMO, converged(DEMO))

    assert plan == Plan()
    assert plan.done


def test_replication_count_gives_one_storage_step_per_account():
    desired = spec(storage={"westus": {"replication_count": 3}})
    observed = without_storage(converged(desired))

    plan = diff(desired, observed)

    assert {(r, i) for k, r, i in steps(plan.ready) if k == K.ENSURE_STORAGE} == {
        ("eastus", 0),
        ("eastus2", 0),
        ("westus", 0),
        ("westus", 1),
        ("westus", 2),
    }


# --- busy resources: wait, never act on them ----------------------------------------------------------

BUSY_CASES = [
    pytest.param(
        compose(without_acr, without_storage, group_state("Deleting")),
        set(),
        storage_steps(K.ENSURE_STORAGE, DEMO) | {(K.ENSURE_ACR, "eastus", 0)},
        id="group-busy-without-storage-or-acr",
    ),
    pytest.param(storage_state("eastus2", "Creating"), set(), set(), id="storage-creating"),
    pytest.param(storage_state("westus", "ResolvingDNS"), set(), set(), id="storage-resolving-dns"),
    pytest.param(acr_state("Updating"), set(), set(), id="acr-updating"),
    pytest.param(replica_state("westus", "Creating"), set(), set(), id="replica-creating"),
]


@pytest.mark.parametrize(("edit", "ready", "waiting"), BUSY_CASES)
def test_busy_resources_are_reported_busy(edit, ready, waiting):
    plan = diff(DEMO, edit(converged(DEMO)))

    assert steps(plan.ready) == ready
    assert steps(plan.waiting) == waiting
    assert len(plan.busy) == 1
    assert not plan.done


def test_a_busy_acr_holds_back_missing_replicas():
    observed = acr_state("Creating")(without_replicas(converged(DEMO)))

    plan = diff(DEMO, observed)

    assert plan.ready == ()
    assert steps(plan.waiting) == replica_steps(K.ENSURE_REPLICA, DEMO)
    assert plan.busy == ("container registry acr",)


def test_a_busy_group_whose_tags_differ_is_left_alone_until_it_settles():
    observed = group_state("Deleting")(converged(DEMO))
    observed = group_change(tags={})(observed)

    plan = diff(DEMO, observed)

    assert plan.ready == ()
    assert plan.busy == ("resource group rg",)


# --- failed or canceled resources are ensured again --------------------------------------------------


@pytest.mark.parametrize("state", [FAILED, CANCELED])
@pytest.mark.parametrize(
    ("edit", "ready"),
    [
        (group_state, {(K.ENSURE_GROUP, "eastus", 0)}),
        (lambda s: storage_state("eastus2", s), {(K.ENSURE_STORAGE, "eastus2", 0)}),
        (acr_state, {(K.ENSURE_ACR, "eastus", 0)}),
        (lambda s: replica_state("westus", s), {(K.ENSURE_REPLICA, "westus", 0)}),
    ],
    ids=["group", "storage", "acr", "replica"],
)
def test_failed_or_canceled_resources_are_ensured_again(state, edit, ready):
    plan = diff(DEMO, edit(state)(converged(DEMO)))

    assert steps(plan.ready) == ready
    assert plan.waiting == ()
    assert all(s.reason == "failed" for s in plan.ready)


def test_a_failed_group_holds_back_missing_storage_and_acr():
    observed = group_state(FAILED)(without_acr(without_storage(converged(DEMO))))

    plan = diff(DEMO, observed)

    assert steps(plan.ready) == {(K.ENSURE_GROUP, "eastus", 0)}
    assert steps(plan.waiting) == storage_steps(K.ENSURE_STORAGE, DEMO) | {(K.ENSURE_ACR, "eastus", 0)}


def test_a_failed_acr_holds_back_missing_replicas():
    observed = acr_state(FAILED)(without_replicas(converged(DEMO)))

    plan = diff(DEMO, observed)

    assert steps(plan.ready) == {(K.ENSURE_ACR, "eastus", 0)}
    assert steps(plan.waiting) == replica_steps(K.ENSURE_REPLICA, DEMO)


def test_a_non_premium_acr_is_updated_and_replicas_wait_for_it():
    observed = without_replicas(converged(DEMO))
    observed = acr_change(sku="Standard")(observed)

    plan = diff(DEMO, observed)

    assert steps(plan.ready) == {(K.UPDATE_ACR, "eastus", 0)}
    assert steps(plan.waiting) == replica_steps(K.ENSURE_REPLICA, DEMO)


# --- spec changes on a converged registry --------------------------------------------------------------

CHANGE_CASES = [
    pytest.param(
        spec(["eastus", "eastus2"]),
        spec(["eastus", "eastus2", "westus"]),
        {(K.ENSURE_STORAGE, "westus", 0), (K.ENSURE_REPLICA, "westus", 0)},
        id="region-added",
    ),
    pytest.param(
        spec(["eastus", "eastus2", "westus"]),
        spec(["eastus", "eastus2"]),
        {(K.DELETE_STORAGE, "westus", 0), (K.DELETE_REPLICA, "westus", 0)},
        id="region-removed",
    ),
    pytest.param(
        spec(storage={"westus": {"replication_count": 3}}),
        spec(storage={"westus": {"replication_count": 1}}),
        {(K.DELETE_STORAGE, "westus", 1), (K.DELETE_STORAGE, "westus", 2)},
        id="replication-count-lowered",
    ),
    pytest.param(
        spec(storage={"westus": {"replication_count": 1}}),
        spec(storage={"westus": {"replication_count": 2}}),
        {(K.ENSURE_STORAGE, "westus", 1)},
        id="replication-count-raised",
    ),
    pytest.param(
        spec(tags={"foo": "bar"}),
        spec(tags={"foo": "baz"}),
        {(K.ENSURE_GROUP, "eastus", 0), (K.UPDATE_ACR, "eastus", 0)} | storage_steps(K.UPDATE_STORAGE, DEMO),
        id="tags-changed",
    ),
    pytest.param(
        spec(storage={"eastus2": {"storage_account_hns": True}}),
        spec(storage={"eastus2": {"storage_account_hns": True}}),
        set(),
        id="hns-unchanged",
    ),
]


@pytest.mark.parametrize(("before", "after", "ready"), CHANGE_CASES)
def test_spec_changes_plan_the_difference(before, after, ready):
    plan = diff(after, converged(before))

    assert steps(plan.ready) == ready
    assert plan.waiting == ()


@pytest.mark.parametrize("old", CONVERTIBLE_SKUS)
@pytest.mark.parametrize("new", CONVERTIBLE_SKUS)
def test_storage_sku_changes_azure_allows_are_updates(old, new):
    before = spec(storage={"westus": {"storage_account_type": old}})
    after = spec(storage={"westus": {"storage_account_type": new}})

    plan = diff(after, converged(before))

    expected = set() if old == new else {(K.UPDATE_STORAGE, "westus", 0)}
    assert steps(plan.ready) == expected
    assert all(s.reason == "sku differs" for s in plan.ready)


@pytest.mark.parametrize(
    ("old", "new"),
    [(old, new) for old in FROZEN_SKUS for new in CONVERTIBLE_SKUS]
    + [(old, new) for old in CONVERTIBLE_SKUS for new in FROZEN_SKUS]
    + [("Standard_ZRS", "Premium_ZRS"), ("Premium_LRS", "Premium_ZRS")],
)
def test_storage_sku_changes_azure_forbids_are_permanent_errors_naming_the_field(old, new):
    before = spec(storage={"westus": {"storage_account_type": old}})
    after = spec(storage={"westus": {"storage_account_type": new}})

    with pytest.raises(PermanentError) as caught:
        diff(after, converged(before))

    assert caught.value.code == "StorageChangeNotAllowed"
    assert caught.value.field == "replication_locations[2].storage_config.storage_account_type"


@pytest.mark.parametrize(("old", "new"), [(False, True), (True, False)])
def test_an_hns_flip_is_a_permanent_error_naming_the_field(old, new):
    before = spec(storage={"eastus2": {"storage_account_hns": old}})
    after = spec(storage={"eastus2": {"storage_account_hns": new}})

    with pytest.raises(PermanentError) as caught:
        diff(after, converged(before))

    assert caught.value.code == "StorageChangeNotAllowed"
    assert caught.value.field == "replication_locations[1].storage_config.storage_account_hns"


def test_every_forbidden_storage_change_is_named_in_the_message():
    before = spec(
        storage={"eastus2": {"storage_account_hns": False}, "westus": {"storage_account_type": "Premium_LRS"}}
    )
    after = spec(storage={"eastus2": {"storage_account_hns": True}, "westus": {"storage_account_type": "Standard_LRS"}})

    with pytest.raises(PermanentError) as caught:
        diff(after, converged(before))

    assert "replication_locations[1].storage_config.storage_account_hns" in caught.value.message
    assert "replication_locations[2].storage_config.storage_account_type" in caught.value.message


@pytest.mark.parametrize(
    "observed",
    [
        converged(spec(primary="eastus")),
        without_group(converged(spec(primary="eastus"))),
        without_acr(converged(spec(primary="eastus"))),
    ],
    ids=["group-and-acr", "acr-only", "group-only"],
)
def test_a_primary_region_change_is_primary_location_immutable(observed):
    moved = spec(["westus", "eastus", "eastus2"], primary="westus")

    with pytest.raises(PermanentError) as caught:
        diff(moved, observed)

    assert caught.value.code == "PrimaryLocationImmutable"
    assert caught.value.field == "location"


# --- drift ------------------------------------------------------------------------------------------

DRIFT_CASES = [
    pytest.param(
        group_change(tags={"foo": "bar"}),
        {(K.ENSURE_GROUP, "eastus", 0)},
        id="group-tags",
    ),
    pytest.param(storage_change("westus", tags={}), {(K.UPDATE_STORAGE, "westus", 0)}, id="storage-tags"),
    pytest.param(
        acr_change(tags={}),
        {(K.UPDATE_ACR, "eastus", 0)},
        id="acr-tags",
    ),
    pytest.param(storage_change("eastus", sku="Standard_GRS"), {(K.UPDATE_STORAGE, "eastus", 0)}, id="storage-sku"),
    pytest.param(with_replica("northeurope"), {(K.DELETE_REPLICA, "northeurope", 0)}, id="unknown-replica"),
    pytest.param(with_storage_account("northeurope", 0), {(K.DELETE_STORAGE, "northeurope", 0)}, id="unknown-storage"),
    pytest.param(with_replica("eastus"), set(), id="home-replica-kept"),
    pytest.param(
        compose(without_replicas, with_replica("eastus")),
        replica_steps(K.ENSURE_REPLICA, DEMO),
        id="home-replica-not-counted",
    ),
]


@pytest.mark.parametrize(("edit", "ready"), DRIFT_CASES)
def test_drift_is_planned_back_to_the_spec(edit, ready):
    plan = diff(DEMO, edit(converged(DEMO)))

    assert steps(plan.ready) == ready
    assert plan.waiting == ()


def test_extra_resources_that_are_busy_are_waited_for_not_deleted():
    observed = compose(with_replica("northeurope", "Creating"), with_storage_account("northeurope", 0, "Creating"))(
        converged(DEMO)
    )

    plan = diff(DEMO, observed)

    assert plan.ready == ()
    assert len(plan.busy) == 2


def test_steps_carry_a_reason():
    plan = diff(DEMO, EMPTY)

    assert {s.reason for s in plan.ready + plan.waiting} == {"missing"}


# --- teardown -----------------------------------------------------------------------------------------


def test_teardown_deletes_replicas_and_storage_first_and_holds_back_the_acr_and_group():
    plan = diff(None, converged(DEMO))

    assert steps(plan.ready) == replica_steps(K.DELETE_REPLICA, DEMO) | storage_steps(K.DELETE_STORAGE, DEMO)
    assert steps(plan.waiting) == {(K.DELETE_ACR, "eastus", 0), (K.DELETE_GROUP, "eastus", 0)}


def test_teardown_deletes_the_acr_once_its_replicas_are_gone():
    plan = diff(None, without_replicas(converged(DEMO)))

    assert steps(plan.ready) == {(K.DELETE_ACR, "eastus", 0)} | storage_steps(K.DELETE_STORAGE, DEMO)
    assert steps(plan.waiting) == {(K.DELETE_GROUP, "eastus", 0)}


def test_teardown_deletes_the_group_once_it_is_empty():
    plan = diff(None, Observed(group=converged(DEMO).group))

    assert steps(plan.ready) == {(K.DELETE_GROUP, "eastus", 0)}
    assert plan.waiting == ()


def test_teardown_never_deletes_the_home_replica():
    observed = with_replica("eastus")(converged(DEMO))

    plan = diff(None, observed)

    assert (K.DELETE_REPLICA, "eastus", 0) not in steps(plan.ready) | steps(plan.waiting)
    assert (K.DELETE_ACR, "eastus", 0) in steps(plan.waiting)


def test_teardown_waits_for_busy_resources():
    observed = compose(replica_state("westus", "Deleting"), storage_state("eastus", "Creating"))(converged(DEMO))

    plan = diff(None, observed)

    assert (K.DELETE_REPLICA, "westus", 0) not in steps(plan.ready)
    assert (K.DELETE_STORAGE, "eastus", 0) not in steps(plan.ready)
    assert len(plan.busy) == 2
    assert (K.DELETE_GROUP, "eastus", 0) in steps(plan.waiting)


def test_teardown_of_nothing_is_done():
    assert diff(None, EMPTY).done
