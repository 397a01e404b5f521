"""The decision of each step, as a table: what a step does given the spec and what ARM shows."""

from __future__ import annotations

import pytest

from shared.domain.decide import StepContext, Verb, decide
from shared.domain.messages import Step
from shared.domain.naming import container_registry_name, storage_account_name
from shared.domain.plan import StepKind
from shared.domain.resources import (
    Observed,
    ObservedAcr,
    ObservedGroup,
    ObservedReplica,
    ObservedStorage,
    registry_tags,
    storage_tags,
)
from shared.domain.spec import parse_spec

SPEC = parse_spec(
    {
        "name": "Reg1",
        "location": "eastus",
        "tags": {"a": "b"},
        "replication_locations": [{"location": "eastus"}, {"location": "westus"}],
    }
).spec
GROUP = ObservedGroup("regctl-reg1", "eastus", registry_tags("Reg1", {"a": "b"}))
ACR = ObservedAcr("acr1", "eastus", "Premium", registry_tags("Reg1", {"a": "b"}))


def account(state="Succeeded", sku="Standard_LRS", tags=None):
    return ObservedStorage(
        "acct", "westus", 0, sku, False, tags or storage_tags("Reg1", {"a": "b"}, "westus", 0), state
    )


CASES = [
    # kind, observed, expected verb
    ("group missing is created", StepKind.ENSURE_GROUP, Observed(), Verb.ENSURE_GROUP),
    ("group as specified is a no-op", StepKind.ENSURE_GROUP, Observed(group=GROUP), Verb.NOOP),
    ("storage waits for its group", StepKind.ENSURE_STORAGE, Observed(), Verb.WAIT),
    ("missing storage is created", StepKind.ENSURE_STORAGE, Observed(group=GROUP), Verb.CREATE_STORAGE),
    (
        "creating storage is waited for",
        StepKind.ENSURE_STORAGE,
        Observed(group=GROUP, storage=(account("Creating"),)),
        Verb.WAIT,
    ),
    (
        "failed storage is created again",
        StepKind.ENSURE_STORAGE,
        Observed(group=GROUP, storage=(account("Failed"),)),
        Verb.CREATE_STORAGE,
    ),
    (
        "canceled storage is created again",
        StepKind.ENSURE_STORAGE,
        Observed(group=GROUP, storage=(account("Canceled"),)),
        Verb.CREATE_STORAGE,
    ),
    (
        "storage with another sku is updated",
        StepKind.ENSURE_STORAGE,
        Observed(group=GROUP, storage=(account(sku="Standard_GRS"),)),
        Verb.UPDATE_STORAGE,
    ),
    (
        "storage with other tags is updated",
        StepKind.UPDATE_STORAGE,
        Observed(group=GROUP, storage=(account(tags={"x": "y"}),)),
        Verb.UPDATE_STORAGE,
    ),
    (
        "storage as specified is a no-op",
        StepKind.ENSURE_STORAGE,
        Observed(group=GROUP, storage=(account(),)),
        Verb.NOOP,
    ),
    ("gone storage needs no delete", StepKind.DELETE_STORAGE, Observed(group=GROUP), Verb.NOOP),
    (
        "present storage is deleted",
        StepKind.DELETE_STORAGE,
        Observed(group=GROUP, storage=(account(),)),
        Verb.DELETE_STORAGE,
    ),
    ("missing acr is created", StepKind.ENSURE_ACR, Observed(group=GROUP), Verb.CREATE_ACR),
    ("acr as specified is a no-op", StepKind.ENSURE_ACR, Observed(group=GROUP, acr=ACR), Verb.NOOP),
    (
        "canceled acr is created again",
        StepKind.ENSURE_ACR,
        Observed(group=GROUP, acr=ObservedAcr("acr1", "eastus", "Premium", {}, "Canceled")),
        Verb.CREATE_ACR,
    ),
    (
        "acr downgraded by hand is updated",
        StepKind.UPDATE_ACR,
        Observed(group=GROUP, acr=ObservedAcr("acr1", "eastus", "Standard", ACR.tags)),
        Verb.UPDATE_ACR,
    ),
    ("replica waits for the acr", StepKind.ENSURE_REPLICA, Observed(group=GROUP), Verb.WAIT),
    (
        "replica waits for a creating acr",
        StepKind.ENSURE_REPLICA,
        Observed(group=GROUP, acr=ObservedAcr("acr1", "eastus", "Premium", {}, "Creating")),
        Verb.WAIT,
    ),
    ("missing replica is created", StepKind.ENSURE_REPLICA, Observed(group=GROUP, acr=ACR), Verb.CREATE_REPLICA),
    (
        "present replica is a no-op",
        StepKind.ENSURE_REPLICA,
        Observed(group=GROUP, acr=ACR, replicas=(ObservedReplica("westus", "westus"),)),
        Verb.NOOP,
    ),
    (
        "present replica is deleted",
        StepKind.DELETE_REPLICA,
        Observed(group=GROUP, acr=ACR, replicas=(ObservedReplica("westus", "westus"),)),
        Verb.DELETE_REPLICA,
    ),
    (
        "deleting replica is waited for",
        StepKind.DELETE_REPLICA,
        Observed(group=GROUP, acr=ACR, replicas=(ObservedReplica("westus", "westus", "Deleting"),)),
        Verb.WAIT,
    ),
    ("gone group needs no delete", StepKind.DELETE_GROUP, Observed(), Verb.NOOP),
    ("present group is deleted", StepKind.DELETE_GROUP, Observed(group=GROUP), Verb.DELETE_GROUP),
]


@pytest.mark.parametrize(("kind", "observed", "verb"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_step_decision(kind, observed, verb):
    assert decide(StepContext(kind, "westus", 0, SPEC, observed)).verb is verb


def test_new_resources_take_the_name_of_the_current_fallback_attempt():
    storage = decide(StepContext(StepKind.ENSURE_STORAGE, "westus", 0, SPEC, Observed(group=GROUP), name_attempt=2))
    assert storage.name == storage_account_name("reg1", "westus", 0, 2)
    acr = decide(StepContext(StepKind.ENSURE_ACR, "eastus", 0, SPEC, Observed(group=GROUP), name_attempt=1))
    assert acr.name == container_registry_name("reg1", 1)


def test_a_failed_resource_is_recreated_under_its_existing_name():
    action = decide(
        StepContext(StepKind.ENSURE_STORAGE, "westus", 0, SPEC, Observed(group=GROUP, storage=(account("Failed"),)))
    )
    assert action.name == "acct"


def test_teardown_steps_need_no_spec_but_ensure_steps_do():
    assert (
        decide(StepContext(StepKind.DELETE_GROUP, "eastus", 0, None, Observed(group=GROUP))).verb is Verb.DELETE_GROUP
    )
    with pytest.raises(ValueError, match="needs the registry spec"):
        decide(StepContext(StepKind.ENSURE_GROUP, "eastus", 0, None, Observed()))


def test_step_message_ids_differ_per_operation_so_a_sync_runs_its_steps_again():
    first = Step(registry="r", generation=1, operation_id="op1", kind=StepKind.ENSURE_GROUP, region="eastus")
    assert first.message_id != first.model_copy(update={"operation_id": "op2"}).message_id
