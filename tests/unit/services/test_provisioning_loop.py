"""The reconcile loop end to end over in-memory fakes: convergence, duplicates, crashes, failures."""

from __future__ import annotations

import pytest

from shared.domain.errors import PermanentError, TransientError
from shared.domain.messages import decode_message
from shared.domain.naming import storage_account_name
from shared.domain.records import OperationStatus, RegistryStatus, StepState
from shared.services.retry import RetryPolicy
from tests.unit.services.fakes import FakeArm
from tests.unit.services.world import World

DEMO1 = {
    "name": "DemoRegistry1",
    "tags": {"foo": "bar"},
    "location": "eastus",
    "replication_locations": [
        {"location": "eastus"},
        {
            "location": "eastus2",
            "storage_config": {"storage_account_hns": False, "storage_account_type": "Standard_LRS"},
        },
        {"location": "westus"},
    ],
}


def test_create_converges_to_exactly_the_spec():
    world = World()
    accepted = world.api.create(DEMO1)
    world.drain()
    op = world.store.get_operation(accepted.operation.id)
    assert op is not None and op.status is OperationStatus.SUCCEEDED
    assert {s.region for s in world.arm.storage.values()} == {"eastus", "eastus2", "westus"}
    assert set(world.arm.replicas) == {"eastus2", "westus"}
    assert world.arm.acr is not None and world.arm.acr.location == "eastus"
    assert all(s.tags["foo"] == "bar" for s in world.arm.storage.values())
    record = world.store.get_registry("demoregistry1")
    assert record is not None and record.status is RegistryStatus.READY and record.observed_generation == 1


def test_minimum_writes_without_faults():
    world = World()
    world.api.create(DEMO1)
    world.drain()
    # 1 group + 3 storage accounts + 1 ACR + 2 replicas
    assert len(world.arm.writes) == 7, world.arm.writes


def test_every_message_delivered_twice_gives_the_same_state_and_no_extra_writes():
    once, twice = World(), World()
    once.api.create(DEMO1)
    twice.api.create(DEMO1)
    once.drain()
    twice.drain(times=2)
    assert sorted(twice.arm.writes) == sorted(once.arm.writes)
    assert twice.arm.storage.keys() == once.arm.storage.keys()
    assert twice.arm.replicas.keys() == once.arm.replicas.keys()


def test_a_step_killed_between_act_and_record_resumes_without_duplicating():
    world = World(FakeArm(lro_polls=0))
    world.api.create(DEMO1)
    original = world.store.save_step
    crashed = {"done": False}

    def crash_once_after_storage_write(step):
        if step.key.startswith("ensure_storage") and step.state is StepState.SUCCEEDED and not crashed["done"]:
            crashed["done"] = True
            raise RuntimeError("host killed between act and record")
        original(step)

    world.store.save_step = crash_once_after_storage_write  # type: ignore[method-assign]
    while world.publisher.sent:
        out = world.publisher.sent.pop(0)
        message = decode_message(out.body)
        try:
            world.deliver(message)
        except RuntimeError:
            world.publisher.sent.append(out)  # the queue redelivers an unsettled message
    assert crashed["done"]
    assert len([w for w in world.arm.writes if w.startswith("storage:")]) == 3
    op = world.store.get_operation(world.store.get_registry("demoregistry1").operation_id)
    assert op.status is OperationStatus.SUCCEEDED


def test_a_storage_name_taken_elsewhere_moves_to_the_next_name():
    taken = storage_account_name("demoregistry1", "westus", 0, 0)
    world = World(FakeArm(taken_names={taken}))
    world.api.create(DEMO1)
    world.drain()
    names = {s.name for s in world.arm.storage.values() if s.region == "westus"}
    assert names == {storage_account_name("demoregistry1", "westus", 0, 1)}


def test_a_permanent_arm_error_fails_the_operation_with_the_reason():
    class QuotaArm(FakeArm):
        def create_replica(self, group, acr, location, tags):

            raise PermanentError("quota reached in westus", code="QuotaExceeded")

    world = World(QuotaArm())
    accepted = world.api.create(DEMO1)
    world.drain()
    op = world.store.get_operation(accepted.operation.id)
    assert op.status is OperationStatus.FAILED
    assert op.error_code == "QuotaExceeded" and "westus" in (op.error_message or "")


@pytest.mark.parametrize("failures", [1, 3])
def test_transient_arm_errors_are_retried_until_success(failures):
    class FlakyArm(FakeArm):
        left = failures

        def create_acr(self, group, name, location, tags):

            if FlakyArm.left:
                FlakyArm.left -= 1
                raise TransientError("throttled", code="TooManyRequests", retry_after=2)
            return super().create_acr(group, name, location, tags)

    world = World(FlakyArm())
    accepted = world.api.create(DEMO1)
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert world.arm.acr is not None


def test_retries_give_up_after_max_attempts_and_fail_the_operation():
    class DownArm(FakeArm):
        def create_acr(self, group, name, location, tags):

            raise TransientError("down", code="ServiceUnavailable")

    world = World(DownArm())
    accepted = world.api.create(DEMO1)
    world.drain()
    op = world.store.get_operation(accepted.operation.id)
    assert op.status is OperationStatus.FAILED and op.error_code == "ServiceUnavailable"


def test_backoff_honours_retry_after_and_is_capped():
    policy = RetryPolicy(base_seconds=2, max_seconds=30, poll_seconds=5, max_attempts=5)
    assert policy.backoff(1, 17.0) == 17.0
    assert all(policy.backoff(n, None) <= 30 for n in range(1, 20))
    assert all(1.0 <= policy.backoff(1, None) <= 2.0 for _ in range(50))


def test_a_long_running_operation_ending_failed_transiently_is_started_again():
    class FailOnceArm(FakeArm):
        failed = False

        def poll(self, continuation):
            if not FailOnceArm.failed and "storage" in continuation:
                FailOnceArm.failed = True
                self._lros.pop(continuation)
                raise TransientError("replica failed", code="InternalServerError")
            return super().poll(continuation)

    world = World(FailOnceArm())
    accepted = world.api.create(DEMO1)
    world.drain()
    assert FailOnceArm.failed
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert len(world.arm.storage) == 3
    assert len([w for w in world.arm.writes if w.startswith("storage:")]) == 4


def test_a_step_needed_again_within_one_operation_runs_again_as_a_new_run():
    class UndoneOnceArm(FakeArm):
        undone = False

        def update_acr(self, group, name, tags, properties=None):
            if not UndoneOnceArm.undone:  # someone sets the tags back right after our write
                UndoneOnceArm.undone = True
                self.writes.append(f"update-acr:{name}")
                return self._lro("acr", {"acr:" + name: self.acr})
            return super().update_acr(group, name, tags, properties)

    world = World(UndoneOnceArm())
    world.api.create(DEMO1)
    world.drain()
    update = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"foo": "baz"}})
    world.drain()
    assert world.store.get_operation(update.operation.id).status is OperationStatus.SUCCEEDED
    assert world.arm.acr.tags["foo"] == "baz"
    assert world.store.get_step("demoregistry1", "registry", "ensure_acr:eastus:0").run == 1


def test_a_step_undone_forever_fails_the_operation_instead_of_writing_forever():
    class StubbornArm(FakeArm):
        def update_storage(self, group, name, sku, tags, properties=None):
            self.writes.append(f"update-storage:{name}")  # never takes effect

    world = World(StubbornArm())
    world.api.create(DEMO1)
    world.drain()
    update = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"foo": "baz"}})
    world.drain()
    op = world.store.get_operation(update.operation.id)
    assert op.status is OperationStatus.FAILED and op.error_code == "DidNotConverge"
    assert len([w for w in world.arm.writes if w.startswith("update-storage")]) <= 3 * 5


def test_a_converged_operation_leaves_no_step_running():
    world = World(FakeArm(lro_polls=3))
    accepted = world.api.create(DEMO1)
    world.drain()
    steps = [s for s in world.store.list_steps("demoregistry1", "registry") if s.operation_id == accepted.operation.id]
    assert steps and all(s.state is StepState.SUCCEEDED for s in steps)
