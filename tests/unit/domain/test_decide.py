"""The decision of each step, as a table: what a step does given the spec and what ARM shows."""

from __future__ import annotations

import pytest

from shared.domain.decide import StepContext, decide
from shared.domain.messages import Step
from shared.domain.naming import container_registry_name, storage_account_name
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
from shared.domain.work import Goal, Subject, Verb

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
    ("group missing is created", ("group", Goal.ENSURE), Observed(), Verb.CREATE),
    ("group as specified is a no-op", ("group", Goal.ENSURE), Observed(group=GROUP), Verb.NOOP),
    ("storage waits for its group", ("storage", Goal.ENSURE), Observed(), Verb.WAIT),
    ("missing storage is created", ("storage", Goal.ENSURE), Observed(group=GROUP), Verb.CREATE),
    (
        "creating storage is waited for",
        ("storage", Goal.ENSURE),
        Observed(group=GROUP, storage=(account("Creating"),)),
        Verb.WAIT,
    ),
    (
        "failed storage is created again",
        ("storage", Goal.ENSURE),
        Observed(group=GROUP, storage=(account("Failed"),)),
        Verb.CREATE,
    ),
    (
        "canceled storage is created again",
        ("storage", Goal.ENSURE),
        Observed(group=GROUP, storage=(account("Canceled"),)),
        Verb.CREATE,
    ),
    (
        "storage with another sku is updated",
        ("storage", Goal.ENSURE),
        Observed(group=GROUP, storage=(account(sku="Standard_GRS"),)),
        Verb.UPDATE,
    ),
    (
        "storage with other tags is updated",
        ("storage", Goal.ENSURE),
        Observed(group=GROUP, storage=(account(tags={"x": "y"}),)),
        Verb.UPDATE,
    ),
    (
        "storage as specified is a no-op",
        ("storage", Goal.ENSURE),
        Observed(group=GROUP, storage=(account(),)),
        Verb.NOOP,
    ),
    ("gone storage needs no delete", ("storage", Goal.DELETE), Observed(group=GROUP), Verb.NOOP),
    (
        "present storage is deleted",
        ("storage", Goal.DELETE),
        Observed(group=GROUP, storage=(account(),)),
        Verb.DELETE,
    ),
    ("missing acr is created", ("acr", Goal.ENSURE), Observed(group=GROUP), Verb.CREATE),
    ("acr as specified is a no-op", ("acr", Goal.ENSURE), Observed(group=GROUP, acr=ACR), Verb.NOOP),
    (
        "canceled acr is created again",
        ("acr", Goal.ENSURE),
        Observed(group=GROUP, acr=ObservedAcr("acr1", "eastus", "Premium", {}, "Canceled")),
        Verb.CREATE,
    ),
    (
        "acr downgraded by hand is updated",
        ("acr", Goal.ENSURE),
        Observed(group=GROUP, acr=ObservedAcr("acr1", "eastus", "Standard", ACR.tags)),
        Verb.UPDATE,
    ),
    ("replica waits for the acr", ("replica", Goal.ENSURE), Observed(group=GROUP), Verb.WAIT),
    (
        "replica waits for a creating acr",
        ("replica", Goal.ENSURE),
        Observed(group=GROUP, acr=ObservedAcr("acr1", "eastus", "Premium", {}, "Creating")),
        Verb.WAIT,
    ),
    ("missing replica is created", ("replica", Goal.ENSURE), Observed(group=GROUP, acr=ACR), Verb.CREATE),
    (
        "present replica is a no-op",
        ("replica", Goal.ENSURE),
        Observed(group=GROUP, acr=ACR, replicas=(ObservedReplica("westus", "westus"),)),
        Verb.NOOP,
    ),
    (
        "present replica is deleted",
        ("replica", Goal.DELETE),
        Observed(group=GROUP, acr=ACR, replicas=(ObservedReplica("westus", "westus"),)),
        Verb.DELETE,
    ),
    (
        "deleting replica is waited for",
        ("replica", Goal.DELETE),
        Observed(group=GROUP, acr=ACR, replicas=(ObservedReplica("westus", "westus", "Deleting"),)),
        Verb.WAIT,
    ),
    ("gone group needs no delete", ("group", Goal.DELETE), Observed(), Verb.NOOP),
    ("present group is deleted", ("group", Goal.DELETE), Observed(group=GROUP), Verb.DELETE),
]


@pytest.mark.parametrize(("kind", "observed", "verb"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_step_decision(kind, observed, verb):
    (name, goal) = kind
    region = "eastus" if name in ("group", "acr") else "westus"
    assert decide(StepContext(name, goal, Subject(region), SPEC, observed, "regctl-reg1")).verb is verb


def test_new_resources_take_the_name_of_the_current_fallback_attempt():
    storage = decide(
        StepContext("storage", Goal.ENSURE, Subject("westus"), SPEC, Observed(group=GROUP), "rg", name_attempt=2)
    )
    assert storage.name == storage_account_name("reg1", "westus", 0, 2)
    acr = decide(StepContext("acr", Goal.ENSURE, Subject("eastus"), SPEC, Observed(group=GROUP), "rg", name_attempt=1))
    assert acr.name == container_registry_name("reg1", 1)


def test_a_failed_resource_is_recreated_under_its_existing_name():
    action = decide(
        StepContext(
            "storage", Goal.ENSURE, Subject("westus"), SPEC, Observed(group=GROUP, storage=(account("Failed"),)), "rg"
        )
    )
    assert action.name == "acct"


def test_teardown_steps_need_no_spec_but_ensure_steps_do():
    assert decide(StepContext("group", Goal.DELETE, Subject("eastus"), None, Observed(group=GROUP))).verb is Verb.DELETE
    with pytest.raises(ValueError, match="needs the registry spec"):
        decide(StepContext("group", Goal.ENSURE, Subject("eastus"), None, Observed()))


def test_step_message_ids_differ_per_operation_so_a_sync_runs_its_steps_again():
    first = Step(registry="r", generation=1, operation_id="op1", kind="group", region="eastus")
    assert first.message_id != first.model_copy(update={"operation_id": "op2"}).message_id
