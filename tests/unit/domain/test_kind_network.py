"""The public_network_access kind: the spec's setting reaches every storage account and the ACR, and a
change made by hand is drift that the loop heals. The kind of work used as the example in
docs/architecture.md, "Adding a kind of work"."""

from __future__ import annotations

import dataclasses

from shared.domain.decide import StepContext, decide
from shared.domain.drift import drift
from shared.domain.kinds.network import KIND
from shared.domain.plan import diff
from shared.domain.resources import (
    Observed,
    ObservedAcr,
    ObservedGroup,
    ObservedReplica,
    ObservedStorage,
    registry_tags,
    storage_tags,
)
from shared.domain.spec import RegistrySpec, parse_spec
from shared.domain.work import Goal, ResourceType, Subject, Verb


def spec(access: str | None = None) -> RegistrySpec:
    document = {
        "name": "Reg1",
        "location": "eastus",
        "replication_locations": [{"location": "eastus"}, {"location": "westus"}],
    }
    if access is not None:
        document["public_network_access"] = access
    return parse_spec(document).spec


def observed(storage_access: str | None = None, acr_access: str | None = None) -> Observed:
    tags = registry_tags("Reg1", {})
    accounts = tuple(
        ObservedStorage(
            f"sa{region}",
            region,
            0,
            "Standard_LRS",
            False,
            storage_tags("Reg1", {}, region, 0),
            properties={"publicNetworkAccess": storage_access} if storage_access else {},
        )
        for region in ("eastus", "westus")
    )
    acr = ObservedAcr(
        "acr1", "eastus", "Premium", tags, properties={"publicNetworkAccess": acr_access} if acr_access else {}
    )
    return Observed(ObservedGroup("rg", "eastus", tags), accounts, acr, (ObservedReplica("westus", "westus"),))


def names(plan_part) -> set[str]:
    return {s.key for s in plan_part}


def test_an_unset_value_is_azures_default_enabled_so_a_default_spec_needs_nothing():
    assert diff(spec(), observed(), "rg").ready == ()
    assert drift(spec(), observed()) == []


def test_disabled_in_the_spec_patches_every_storage_account_and_the_acr():
    plan = diff(spec("Disabled"), observed(), "rg")
    assert names(plan.ready) == {
        "ensure_network:storage:eastus:0",
        "ensure_network:storage:westus:0",
        "ensure_network:acr:eastus:0",
    }
    assert all(s.reason == "public_network_access differs" for s in plan.ready)


def test_the_decision_is_a_patch_of_public_network_access_on_the_right_resource():
    context = StepContext(
        "network", Goal.ENSURE, Subject("westus", 0, "", "storage"), spec("Disabled"), observed(), "rg"
    )
    action = decide(context)
    assert action.verb is Verb.UPDATE
    assert action.ref is not None and action.ref.type is ResourceType.STORAGE and action.ref.name == "sawestus"
    assert action.body == {"properties": {"publicNetworkAccess": "Disabled"}}
    acr = decide(dataclasses.replace(context, subject=Subject("eastus", 0, "", "acr")))
    assert acr.ref is not None and acr.ref.type is ResourceType.ACR and acr.ref.name == "acr1"


def test_a_resource_already_as_specified_is_a_noop():
    context = StepContext(
        "network",
        Goal.ENSURE,
        Subject("eastus", 0, "", "acr"),
        spec("Disabled"),
        observed("Disabled", "Disabled"),
        "rg",
    )
    assert decide(context).verb is Verb.NOOP


def test_re_enabled_by_hand_is_drift_field_by_field():
    found = drift(spec("Disabled"), observed("Disabled", "Enabled"))
    assert [d.to_dict() for d in found] == [
        {"resource": "container registry", "field": "public_network_access", "desired": "Disabled", "actual": "Enabled"}
    ]


def test_it_creates_and_deletes_nothing_itself():
    bare = dataclasses.replace(observed(), storage=(), acr=None)
    plan = diff(spec("Disabled"), bare, "rg")
    assert not any(s.kind == KIND.name for s in plan.ready + plan.waiting)
    assert diff(None, observed("Enabled", "Enabled"), "rg").ready  # teardown: only the owning kinds act
    assert not any(s.kind == KIND.name for s in diff(None, observed(), "rg").ready)
