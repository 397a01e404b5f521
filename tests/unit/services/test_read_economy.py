"""ARM reads a create costs: steps read only what their decision looks at, and the registry is reconciled
once per wave of steps, not once per step (fewer observations under the ARM read budget)."""

from __future__ import annotations

from shared.domain.decide import OBSERVES
from shared.domain.messages import Reconcile, Step, decode_message
from shared.domain.plan import StepKind
from shared.domain.records import OperationStatus
from shared.domain.resources import ALL_PARTS, Observed, Part
from tests.unit.services.fakes import FakeArm
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World


class RecordingArm(FakeArm):
    def __init__(self) -> None:
        super().__init__()
        self.asked: list[frozenset[Part]] = []

    def observe(self, registry: str, resource_group: str, parts: frozenset[Part] = ALL_PARTS) -> Observed:
        self.asked.append(parts)
        return super().observe(registry, resource_group, parts)


def next_message(world: World, seen: set[str]) -> Reconcile | Step | None:
    """The next message as Service Bus would deliver it: a second enqueue of one message id is dropped."""
    while world.publisher.sent:
        outbound = world.publisher.sent.pop(0)
        if outbound.message_id not in seen:
            seen.add(outbound.message_id)
            return decode_message(outbound.body)
    return None


def delivered_kinds(world: World) -> list[str]:
    kinds: list[str] = []
    seen: set[str] = set()
    while (message := next_message(world, seen)) is not None:
        kinds.append("reconcile" if isinstance(message, Reconcile) else message.kind.value)
        world.deliver(message)
    return kinds


def test_each_step_reads_only_the_parts_its_decision_looks_at():
    arm = RecordingArm()
    world = World(arm)
    world.api.create(DEMO1)
    world.drain()
    step_reads = [parts for parts in arm.asked if parts != ALL_PARTS]
    assert step_reads.count(frozenset({Part.GROUP})) == 1
    assert step_reads.count(frozenset({Part.STORAGE})) == 3
    assert step_reads.count(frozenset({Part.ACR})) == 1
    assert step_reads.count(frozenset({Part.ACR, Part.REPLICAS})) == 2
    assert set(OBSERVES) == set(StepKind)


def test_a_create_reconciles_once_per_wave_not_once_per_step():
    world = World()
    accepted = world.api.create(DEMO1)
    kinds = delivered_kinds(world)
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert {k for k in kinds if k != "reconcile"} == {"ensure_group", "ensure_storage", "ensure_acr", "ensure_replica"}
    # submit; the group done; the ACR done; the last storage account done (it finishes before the ACR's
    # reconcile has claimed the replicas); the last replica done. One per step would be 1 + 7.
    assert kinds.count("reconcile") == 5


def finish(world: World, step: Step, seen: set[str]) -> None:
    """Deliver ``step`` and its polls until it has finished; other messages stay queued."""
    world.deliver(step)
    while True:
        polls = [
            m
            for m in world.publisher.sent
            if isinstance(d := decode_message(m.body), Step) and d.step_key == step.step_key
        ]
        if not polls:
            return
        world.publisher.sent.remove(polls[0])
        seen.add(polls[0].message_id)
        world.deliver(decode_message(polls[0].body))


def test_the_last_of_concurrent_steps_to_finish_reconciles_whichever_it_is():
    """Two storage steps in flight: the first to finish sees the other running and stays quiet; the second
    sees none left and reconciles, so the operation converges."""
    world = World()
    world.api.create({**DEMO1, "replication_locations": [{"location": "eastus"}, {"location": "westus"}]})
    seen: set[str] = set()
    held: list[Step] = []
    while (message := next_message(world, seen)) is not None:  # everything but the two storage steps
        if isinstance(message, Step) and message.kind is StepKind.ENSURE_STORAGE:
            held.append(message)
        else:
            world.deliver(message)
    assert [m.region for m in held] == ["eastus", "westus"]
    finish(world, held[1], seen)
    assert not [m for m in world.publisher.sent if decode_message(m.body).type == "reconcile"]
    finish(world, held[0], seen)
    assert [decode_message(m.body).type for m in world.publisher.sent] == ["reconcile"]
    delivered_kinds(world)
    assert world.store.get_registry("demoregistry1").status.value == "Ready"
