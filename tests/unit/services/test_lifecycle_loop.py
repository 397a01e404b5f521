"""Update, delete, sync, drift and reconcile policies through the loop over in-memory fakes."""

from __future__ import annotations

from dataclasses import replace

from shared.domain.messages import Step, decode_message
from shared.domain.records import OperationStatus, ReconcilePolicy
from shared.domain.resources import ALL_PARTS
from tests.unit.services.fakes import FakeArm
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World


def created(arm: FakeArm | None = None) -> World:
    world = World(arm)
    world.api.create(DEMO1)
    world.drain()
    return world


def status(world: World, operation_id: str) -> OperationStatus:
    return world.store.get_operation(operation_id).status


def test_removing_a_region_deletes_its_storage_and_replica():
    world = created()
    spec = {**DEMO1, "replication_locations": [{"location": "eastus"}, {"location": "eastus2"}]}
    accepted = world.api.replace("DemoRegistry1", spec)
    world.drain()
    assert status(world, accepted.operation.id) is OperationStatus.SUCCEEDED
    assert {s.region for s in world.arm.storage.values()} == {"eastus", "eastus2"}
    assert set(world.arm.replicas) == {"eastus2"}


def test_adding_a_region_and_an_allowed_sku_change_converge():
    world = created()
    spec = {
        **DEMO1,
        "replication_locations": [
            *DEMO1["replication_locations"][:2],
            {"location": "westus", "storage_config": {"storage_account_type": "Standard_GRS"}},
            {"location": "northeurope"},
        ],
    }
    world.api.replace("DemoRegistry1", spec)
    world.drain()
    westus = [s for s in world.arm.storage.values() if s.region == "westus"]
    assert [s.sku for s in westus] == ["Standard_GRS"]
    assert "northeurope" in world.arm.replicas


def test_delete_tears_everything_down_and_the_registry_is_gone_but_its_operation_stays():
    world = created()
    accepted = world.api.delete("DemoRegistry1")
    world.drain()
    assert world.arm.group is None and not world.arm.storage and world.arm.acr is None and not world.arm.replicas
    assert world.store.get_registry("demoregistry1") is None
    assert status(world, accepted.operation.id) is OperationStatus.SUCCEEDED
    deletes = [w.split(":")[0] for w in world.arm.writes if w.startswith("delete")]
    assert deletes.index("delete-replica") < deletes.index("delete-acr") < deletes.index("delete-group")


def test_sync_heals_drift_made_by_hand():
    world = created()
    world.arm.replicas.pop("westus")
    name = next(n for n, s in world.arm.storage.items() if s.region == "eastus2")
    world.arm.storage[name] = replace(world.arm.storage[name], sku="Standard_GRS")
    world.arm.replicas["japaneast"] = replace(world.arm.replicas["eastus2"], name="japaneast", location="japaneast")
    accepted = world.api.sync("DemoRegistry1")
    world.drain()
    assert status(world, accepted.operation.id) is OperationStatus.SUCCEEDED
    assert set(world.arm.replicas) == {"eastus2", "westus"}
    assert world.arm.storage[name].sku == "Standard_LRS"


def test_observe_policy_reports_drift_field_by_field_and_changes_nothing():
    world = created()
    world.api.set_policy("DemoRegistry1", ReconcilePolicy.OBSERVE)
    world.arm.replicas.pop("westus")
    writes = len(world.arm.writes)
    world.api.sync("DemoRegistry1")
    world.drain()
    assert len(world.arm.writes) == writes
    drift = world.store.get_registry("demoregistry1").drift
    assert {"resource": "replica westus", "field": "exists", "desired": "present", "actual": "missing"} in drift


def test_a_late_poll_of_the_finished_create_does_not_act_under_the_sync_that_followed():
    """Found by CI: the create Succeeded (a reconcile saw everything ready) while its last replica step still
    had a poll queued; a sync under the observe policy was accepted, a replica was deleted by hand, and the
    late poll of the create, at the same generation, recreated it."""
    world = created()
    create_operation = world.store.get_registry("demoregistry1").operation_id
    world.api.set_policy("DemoRegistry1", ReconcilePolicy.OBSERVE)
    world.arm.replicas.pop("westus")
    writes = len(world.arm.writes)
    accepted = world.api.sync("DemoRegistry1")
    late = Step(
        registry="demoregistry1",
        generation=1,
        operation_id=create_operation,
        kind="replica",
        region="westus",
        attempt=2,
    )
    world.deliver(late)
    world.drain()
    assert len(world.arm.writes) == writes and "westus" not in world.arm.replicas
    assert status(world, accepted.operation.id) is OperationStatus.SUCCEEDED
    drift = world.store.get_registry("demoregistry1").drift
    assert {"resource": "replica westus", "field": "exists", "desired": "present", "actual": "missing"} in drift


def test_skip_policy_does_not_observe():
    class CountingArm(FakeArm):
        observed = 0

        def observe(self, registry, resource_group, parts=ALL_PARTS):
            CountingArm.observed += 1
            return super().observe(registry, resource_group, parts)

    world = created(CountingArm())
    world.api.set_policy("DemoRegistry1", ReconcilePolicy.SKIP)
    before = CountingArm.observed
    accepted = world.api.sync("DemoRegistry1")
    world.drain()
    assert CountingArm.observed == before
    assert status(world, accepted.operation.id) is OperationStatus.SUCCEEDED


def test_two_updates_in_flight_converge_to_the_newest_spec():
    world = created()
    first = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"v": "1"}})
    second = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"v": "2"}})
    world.drain()
    assert status(world, first.operation.id) is OperationStatus.CANCELED
    assert status(world, second.operation.id) is OperationStatus.SUCCEEDED
    assert all(s.tags["v"] == "2" for s in world.arm.storage.values())


def test_an_update_during_a_create_works():
    world = World()
    world.api.create(DEMO1)
    for _ in range(3):
        out = world.publisher.sent.pop(0)
        world.deliver(decode_message(out.body))
    update = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"foo": "baz"}})
    world.drain()
    assert status(world, update.operation.id) is OperationStatus.SUCCEEDED
    assert world.arm.acr is not None and world.arm.acr.tags["foo"] == "baz"


def test_a_delete_during_a_create_wins_cleanly():
    world = World()
    create = world.api.create(DEMO1)
    for _ in range(4):
        out = world.publisher.sent.pop(0)
        world.deliver(decode_message(out.body))
    delete = world.api.delete("DemoRegistry1")
    world.drain()
    assert status(world, create.operation.id) is OperationStatus.CANCELED
    assert status(world, delete.operation.id) is OperationStatus.SUCCEEDED
    assert world.arm.group is None and not world.arm.storage and world.arm.acr is None
    assert world.store.get_registry("demoregistry1") is None


def test_region_sync_of_a_registry_in_sync_makes_one_bulk_read_and_sends_nothing():
    world = created()
    reads = world.arm.reads
    report = world.region_sync.run()
    assert report.in_sync == ["demoregistry1"] and report.healing == []
    assert world.arm.reads == reads + 1
    assert world.publisher.sent == []


def test_region_sync_starts_a_sync_operation_that_heals_drift():
    world = created()
    world.arm.storage.pop(next(iter(world.arm.storage)))
    report = world.region_sync.run()
    assert report.healing == ["demoregistry1"]
    operation_id = world.store.get_registry("demoregistry1").operation_id
    world.drain()
    assert world.store.get_operation(operation_id).kind.value == "sync"
    assert status(world, operation_id) is OperationStatus.SUCCEEDED
    assert len(world.arm.storage) == 3


def test_region_sync_under_observe_policy_records_drift_without_an_operation():
    world = created()
    world.api.set_policy("DemoRegistry1", ReconcilePolicy.OBSERVE)
    world.arm.replicas.pop("eastus2")
    before = world.store.get_registry("demoregistry1").operation_id
    report = world.region_sync.run()
    assert report.observed_only == ["demoregistry1"]
    record = world.store.get_registry("demoregistry1")
    assert record.operation_id == before
    assert any(d["resource"] == "replica eastus2" for d in record.drift)
    assert world.publisher.sent == []


def test_a_finished_delete_operation_still_lists_its_steps():
    world = created()
    accepted = world.api.delete("DemoRegistry1")
    world.drain()
    view = world.api.operation(accepted.operation.id)
    kinds = {s.key.split(":")[0] for s in view.steps}
    assert {"delete_replica", "delete_acr", "delete_storage", "delete_group"} <= kinds


def test_a_registry_deleted_and_created_again_provisions_from_scratch():
    world = created()
    world.api.delete("DemoRegistry1")
    world.drain()
    again = world.api.create(DEMO1)
    world.drain()
    assert status(world, again.operation.id) is OperationStatus.SUCCEEDED
    assert len(world.arm.storage) == 3 and set(world.arm.replicas) == {"eastus2", "westus"}
