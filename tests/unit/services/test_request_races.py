"""Requests racing the reconcile loop's own writes of the registry record (ETag optimistic concurrency).

The loop writes the record (status, drift, converged generation) while an operation runs. A request that
reads the record just before such a write loses the ETag race; it must apply its change again to the
fresh record, not answer the caller 409.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from shared.domain.errors import ConcurrentUpdate, TransientError
from shared.domain.messages import Reconcile, decode_message
from shared.domain.records import (
    OperationKind,
    OperationRecord,
    OperationStatus,
    ReconcilePolicy,
    RegistryRecord,
    RegistryStatus,
    utcnow,
)
from shared.domain.resources import ALL_PARTS, Observed, Part
from shared.domain.spec import RegistrySpec
from shared.ports import OutboundMessage
from shared.services.registries import CONCURRENT_UPDATE_ATTEMPTS
from tests.unit.services.fakes import FakePublisher, FakeStore
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World


class RacingStore(FakeStore):
    """Before each of the next ``races`` registry writes, "the loop" writes the record first."""

    def __init__(self) -> None:
        super().__init__()
        self.races = 0
        self.writes = 0

    def replace_registry(self, registry: RegistryRecord, operation: OperationRecord | None = None) -> None:
        if self.races:
            self.races -= 1
            loop_copy = self.get_registry(registry.key)
            assert loop_copy is not None
            loop_copy.status = RegistryStatus.PROVISIONING
            super().replace_registry(loop_copy)
        self.writes += 1
        super().replace_registry(registry, operation)


def racing_world() -> tuple[World, RacingStore]:
    store = RacingStore()
    world = World(store=store)
    world.api.create(DEMO1)
    return world, store


def test_a_delete_that_loses_the_race_with_the_loop_is_applied_to_the_fresh_record():
    world, store = racing_world()
    store.races = 2
    accepted = world.api.delete("DemoRegistry1")
    assert accepted.operation.kind is OperationKind.DELETE
    record = store.get_registry("demoregistry1")
    assert record.deleting and record.operation_id == accepted.operation.id
    # exactly one operation was stored for the delete, and it is the one the caller got
    deletes = [o for o in store.operations.values() if o.kind is OperationKind.DELETE]
    assert [o.id for o in deletes] == [accepted.operation.id]
    world.drain()
    assert store.get_registry("demoregistry1") is None
    assert store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED


@pytest.mark.parametrize("call", ["replace", "patch", "sync", "set_policy"])
def test_every_change_request_survives_losing_the_race(call: str):
    world, store = racing_world()
    store.races = 3
    before = store.get_registry("demoregistry1").generation
    if call == "replace":
        world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"v": "2"}})
    elif call == "patch":
        world.api.patch("DemoRegistry1", {"tags": {"v": "2"}})
    elif call == "sync":
        world.api.sync("DemoRegistry1")
    else:
        world.api.set_policy("DemoRegistry1", ReconcilePolicy.OBSERVE)
    record = store.get_registry("demoregistry1")
    if call in ("replace", "patch"):
        assert record.spec["tags"]["v"] == "2" and record.generation == before + 1
    elif call == "set_policy":
        assert record.policy is ReconcilePolicy.OBSERVE
    assert store.races == 0


def test_a_request_that_keeps_losing_gives_up_with_concurrent_update():
    world, store = racing_world()
    store.races = CONCURRENT_UPDATE_ATTEMPTS
    with pytest.raises(ConcurrentUpdate):
        world.api.delete("DemoRegistry1")
    assert not [o for o in store.operations.values() if o.kind is OperationKind.DELETE]
    assert not store.get_registry("demoregistry1").deleting


def test_a_reconcile_that_loses_the_race_records_its_observation_on_the_fresh_record():
    """Concurrent reconciles of one registry (one per finished step) race on the record's ETag; the loser
    applies what it observed to the fresh record instead of failing the delivery."""
    world, store = racing_world()
    world.drain()
    assert store.get_registry("demoregistry1").status is RegistryStatus.READY
    world.arm.storage.pop(next(iter(world.arm.storage)))  # drift: a storage account deleted by hand
    store.races = 2
    record = store.get_registry("demoregistry1")
    assert record is not None
    spec = RegistrySpec.model_validate(record.spec)
    observed = world.arm.observe("demoregistry1", world.reconciler.group_of("demoregistry1"))
    written = world.reconciler.record_observation(record, spec, observed, utcnow())
    stored = store.get_registry("demoregistry1")
    assert stored.drift == written.drift and any(d["resource"].startswith("storage") for d in stored.drift)
    assert store.races == 0


def test_a_reconcile_does_not_write_an_observation_over_a_newer_generation():
    world, store = racing_world()
    world.drain()
    record = store.get_registry("demoregistry1")
    assert record is not None
    world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"v": "3"}})  # generation moves on meanwhile
    spec = RegistrySpec.model_validate(record.spec)
    observed = world.arm.observe("demoregistry1", world.reconciler.group_of("demoregistry1"))
    record.resources = {}
    with pytest.raises(ConcurrentUpdate):
        world.reconciler.record_observation(record, spec, observed, utcnow())


def replica_deleted_by_hand(world: World) -> tuple[RegistryRecord, RegistrySpec, Observed, datetime]:
    """A converged registry, and what an observation begun before a replica was deleted by hand saw."""
    world.drain()
    record = store_record(world)
    before = utcnow()
    stale = world.arm.observe("demoregistry1", world.reconciler.group_of("demoregistry1"))
    world.arm.replicas.pop("westus")
    return record, RegistrySpec.model_validate(record.spec), stale, before


def store_record(world: World) -> RegistryRecord:
    record = world.store.get_registry("demoregistry1")
    assert record is not None
    return record


def missing_replicas(record: RegistryRecord) -> list[str]:
    return [d["resource"] for d in record.drift if d["field"] == "exists" and d["actual"] == "missing"]


def test_an_observation_begun_before_the_recorded_one_is_dropped_not_written_over_it():
    """Found by CI: a reconcile (or the region-sync pass) that observed before a replica was deleted
    reached the record after the sync that saw it missing, and its write made the drift vanish."""
    world = World()
    world.api.create(DEMO1)
    record, spec, stale, before = replica_deleted_by_hand(world)
    fresh = world.arm.observe("demoregistry1", world.reconciler.group_of("demoregistry1"))
    world.reconciler.record_observation(store_record(world), spec, fresh, utcnow())
    assert missing_replicas(store_record(world)) == ["replica westus"]
    record.drift = [{"resource": "storage eastus", "field": "sku", "desired": "x", "actual": "y"}]  # differs
    world.reconciler.record_observation(record, spec, stale, before)
    assert missing_replicas(store_record(world)) == ["replica westus"]


def test_an_older_observation_losing_the_etag_race_to_a_newer_one_is_dropped():
    world, store = racing_world()
    record, spec, stale, before = replica_deleted_by_hand(world)
    fresh = world.arm.observe("demoregistry1", world.reconciler.group_of("demoregistry1"))
    world.reconciler.record_observation(store_record(world), spec, fresh, utcnow())
    writes = store.writes
    world.reconciler.record_observation(record, spec, stale, before)  # its ETag is stale too
    assert missing_replicas(store_record(world)) == ["replica westus"] and store.writes == writes


def test_a_region_sync_pass_begun_before_a_sync_does_not_undo_what_the_sync_recorded():
    """The pass reads every registry, observes them all, then records them one by one: a sync of one
    registry can record a newer observation in between."""
    world = World()
    world.api.create(DEMO1)
    world.drain()
    world.api.set_policy("DemoRegistry1", ReconcilePolicy.OBSERVE)
    observe_all = world.arm.observe_all

    def observed_then_deleted(parts: frozenset[Part] = ALL_PARTS) -> dict[str, Observed]:
        seen = observe_all(parts)
        world.arm.replicas.pop("westus")
        world.api.sync("DemoRegistry1")
        world.drain()  # the sync's reconcile observes the replica missing and records it
        assert missing_replicas(store_record(world)) == ["replica westus"]
        return seen

    world.arm.observe_all = observed_then_deleted  # type: ignore[method-assign]
    report = world.region_sync.run()
    assert report.observed_only == ["demoregistry1"]
    assert missing_replicas(store_record(world)) == ["replica westus"]


class FlakyPublisher(FakePublisher):
    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        if self.failures:
            self.failures -= 1
            raise TransientError("the queue is unavailable", code="ServiceUnavailable")
        super().publish(messages)


def test_a_retry_with_the_same_key_sends_what_a_failed_enqueue_did_not():
    publisher = FlakyPublisher(failures=1)
    service = World(publisher=publisher).api
    with pytest.raises(TransientError):
        service.create(DEMO1, idempotency_key="k1")
    assert publisher.sent == []
    replay = service.create(DEMO1, idempotency_key="k1")
    assert replay.replayed
    assert [decode_message(m.body) for m in publisher.sent] == [
        Reconcile(registry="demoregistry1", generation=1, operation_id=replay.operation.id, trigger="submit")
    ]
    other = World()  # the message a first, successful send would have carried has the same id
    first = other.api.create(DEMO1, idempotency_key="k1")
    assert other.publisher.sent[0].message_id.replace(first.operation.id, replay.operation.id) == (
        publisher.sent[0].message_id
    )


def test_a_replay_of_a_finished_operation_sends_nothing():
    world = World()
    accepted = world.api.create(DEMO1, idempotency_key="k1")
    world.drain()
    assert world.api.create(DEMO1, idempotency_key="k1").operation.id == accepted.operation.id
    assert world.publisher.sent == []
