"""public_network_access through the loop: a Disabled registry's storage accounts and ACR are Disabled
in ARM, and one re-enabled by hand is healed by the region sync."""

from __future__ import annotations

from dataclasses import replace

from shared.domain.records import OperationStatus
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World

PRIVATE = {**DEMO1, "public_network_access": "Disabled"}


def access(world: World) -> set[object]:
    values = {a.properties.get("publicNetworkAccess") for a in world.arm.storage.values()}
    return values | {world.arm.acr.properties.get("publicNetworkAccess")}


def test_a_disabled_registry_is_disabled_on_every_storage_account_and_the_acr():
    world = World()
    accepted = world.api.create(PRIVATE)
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert access(world) == {"Disabled"} and len(world.arm.storage) == 3
    assert world.store.get_registry("demoregistry1").drift == []


def test_access_re_enabled_by_hand_is_drift_that_the_region_sync_heals():
    world = World()
    world.api.create(PRIVATE)
    world.drain()
    name = next(iter(world.arm.storage))
    account = world.arm.storage[name]
    world.arm.storage[name] = replace(account, properties={**account.properties, "publicNetworkAccess": "Enabled"})
    report = world.region_sync.run()
    assert report.healing == ["demoregistry1"]
    drift = world.store.get_registry("demoregistry1").drift
    assert [(d["field"], d["desired"], d["actual"]) for d in drift] == [
        ("public_network_access", "Disabled", "Enabled")
    ]
    world.drain()
    assert access(world) == {"Disabled"}
    assert world.store.get_registry("demoregistry1").drift == []


def test_a_default_registry_writes_nothing_for_network_access():
    world = World()
    world.api.create(DEMO1)
    world.drain()
    assert not [w for w in world.arm.writes if w.startswith(("update-storage", "update-acr"))]
