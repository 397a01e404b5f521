"""Regressions found by the reliability suite (tests/chaos), over fakes; each test fails without its fix.

- Once an operation has Failed the loop does nothing more until a new operation is accepted.
- A step that finished but whose host died before it told the loop (the fan-in reconcile, or failing the
  operation) tells it when the message is redelivered.
"""

from __future__ import annotations

from collections.abc import Callable

from shared.domain.errors import PermanentError
from shared.domain.messages import Reconcile, decode_message
from shared.domain.records import OperationStatus, RegistryStatus, StepState
from tests.unit.services.fakes import FakeArm
from tests.unit.services.world import World

DEMO1 = {
    "name": "DemoRegistry1",
    "tags": {"foo": "bar"},
    "location": "eastus",
    "replication_locations": [{"location": "eastus"}, {"location": "eastus2"}, {"location": "westus"}],
}


class QuotaOnceArm(FakeArm):
    """The first westus geo-replica create fails permanently; later ones would succeed (the quota raised)."""

    def __init__(self) -> None:
        super().__init__()
        self.replica_attempts: list[str] = []

    def create_replica(self, group, acr, location, tags):
        self.replica_attempts.append(location)
        if location == "westus" and self.replica_attempts.count("westus") == 1:
            raise PermanentError("quota reached in westus", code="QuotaExceeded")
        return super().create_replica(group, acr, location, tags)


def test_a_failed_operation_writes_nothing_more_even_when_steps_in_flight_finish_after_it():
    arm = QuotaOnceArm()
    world = World(arm)
    accepted = world.api.create(DEMO1)
    world.drain()

    op = world.store.get_operation(accepted.operation.id)
    assert op.status is OperationStatus.FAILED and op.error_code == "QuotaExceeded"
    # the eastus2 replica was in flight when westus failed; its completion must not run westus again
    assert arm.replica_attempts.count("westus") == 1
    failed = world.store.get_step("demoregistry1", "registry", "ensure_replica:westus:0")
    assert failed.state is StepState.FAILED and "QuotaExceeded" in (failed.last_error or "")
    assert world.store.get_registry("demoregistry1").status is RegistryStatus.FAILED
    assert "westus" not in world.arm.replicas


def test_a_sync_after_a_failed_operation_reconciles_from_what_exists():
    world = World(QuotaOnceArm())
    failed = world.api.create(DEMO1)
    world.drain()
    writes_before = list(world.arm.writes)

    sync = world.api.sync("DemoRegistry1")
    world.drain()

    assert world.store.get_operation(sync.operation.id).status is OperationStatus.SUCCEEDED
    assert world.store.get_operation(failed.operation.id).status is OperationStatus.FAILED
    assert set(world.arm.replicas) == {"eastus2", "westus"}
    assert world.arm.writes[len(writes_before) :] == ["replica:westus"]  # nothing already made is made again
    assert world.store.get_registry("demoregistry1").status is RegistryStatus.READY


class HostKilled(RuntimeError):
    """The host died in the middle of an invocation."""


def deliver_with_redelivery(world: World) -> None:
    """Deliver until the queue is empty; a message whose invocation died is delivered again (unsettled)."""
    while world.publisher.sent:
        out = world.publisher.sent.pop(0)
        try:
            world.deliver(decode_message(out.body))
        except HostKilled:
            world.publisher.sent.append(out)


def kill_once(condition: Callable[..., bool], call: Callable[..., None]) -> tuple[Callable[..., None], list[bool]]:
    killed: list[bool] = []

    def wrapped(*args: object) -> None:
        if not killed and condition(*args):
            killed.append(True)
            raise HostKilled
        call(*args)

    return wrapped, killed


def test_a_step_killed_after_recording_success_but_before_its_reconcile_went_out_still_completes():
    world = World()
    accepted = world.api.create(DEMO1)

    def fan_in_of_the_group(messages):  # the group's step is alone in flight: its reconcile is the only way on
        return any('"trigger":"ensure_group:' in m.body for m in messages)

    world.publisher.publish, killed = kill_once(fan_in_of_the_group, world.publisher.publish)  # type: ignore[method-assign]
    deliver_with_redelivery(world)

    assert killed
    assert world.store.get_step("demoregistry1", "registry", "ensure_group:eastus:0").state is StepState.SUCCEEDED
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert set(world.arm.replicas) == {"eastus2", "westus"}


def test_a_step_killed_after_recording_its_failure_but_before_failing_the_operation_still_fails_it():
    class QuotaArm(FakeArm):
        def create_replica(self, group, acr, location, tags):
            raise PermanentError("quota reached in westus", code="QuotaExceeded")

    world = World(QuotaArm())
    spec = {**DEMO1, "replication_locations": [{"location": "eastus"}, {"location": "westus"}]}
    accepted = world.api.create(spec)

    def failing_the_operation(operation):
        return operation.status is OperationStatus.FAILED

    world.store.save_operation, killed = kill_once(failing_the_operation, world.store.save_operation)  # type: ignore[method-assign]
    deliver_with_redelivery(world)

    assert killed
    op = world.store.get_operation(accepted.operation.id)
    assert op.status is OperationStatus.FAILED and op.error_code == "QuotaExceeded"
    assert "quota reached in westus" in (op.error_message or "")


def test_a_reconcile_landing_between_a_step_failing_and_its_operation_failing_does_not_run_it_again():
    """Found by CI (e2e, a permanent QuotaExceeded): a step records Failed, then fails its operation. A
    reconcile that checked the operation before that, and claims the step after it recorded Failed, started
    a new run of it: the step went back to Pending and ARM was written again after the permanent error."""
    arm = QuotaOnceArm()
    world = World(arm)
    accepted = world.api.create(DEMO1)
    save_step = world.store.save_step
    interleaved: list[bool] = []

    def reconcile_in_between(step):
        save_step(step)
        if step.state is StepState.FAILED and not interleaved:
            interleaved.append(True)
            record = world.store.get_registry("demoregistry1")
            world.reconciler.reconcile(
                Reconcile(registry=record.key, generation=record.generation, operation_id=record.operation_id)
            )

    world.store.save_step = reconcile_in_between  # type: ignore[method-assign]
    world.drain()

    assert interleaved
    op = world.store.get_operation(accepted.operation.id)
    assert op.status is OperationStatus.FAILED and op.error_code == "QuotaExceeded"
    failed = world.store.get_step("demoregistry1", "registry", "ensure_replica:westus:0")
    assert failed.state is StepState.FAILED and failed.run == 0 and "QuotaExceeded" in (failed.last_error or "")
    assert arm.replica_attempts.count("westus") == 1
