"""ARM reads a create costs: a step first acts on the decision its reconcile made from a fresh observation,
and observes (only what its decision looks at) when redelivered or retried; the registry is reconciled
once per wave of steps, not once per step (fewer observations under the ARM read budget)."""

from __future__ import annotations

from shared.domain.decide import reads
from shared.domain.errors import StatusUnreadable
from shared.domain.kinds import KINDS
from shared.domain.messages import Reconcile, Step, decode_message
from shared.domain.records import OperationStatus
from shared.domain.resources import ALL_PARTS, Observed, Part
from shared.ports import LroState
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
        kinds.append("reconcile" if isinstance(message, Reconcile) else message.name)
        world.deliver(message)
    return kinds


def test_a_step_first_delivered_acts_on_its_reconciles_observation_and_reads_nothing():
    arm = RecordingArm()
    world = World(arm)
    accepted = world.api.create(DEMO1)
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert all(parts == ALL_PARTS for parts in arm.asked)  # only reconciles observed
    assert len(arm.writes) == 1 + 3 + 1 + 2  # and nothing was written twice


def test_a_redelivered_step_observes_only_the_parts_its_decision_looks_at():
    arm = RecordingArm()
    world = World(arm)
    world.api.create(DEMO1)
    while world.publisher.sent:
        message = decode_message(world.publisher.sent.pop(0).body)
        if isinstance(message, Step):
            world.steps.run(message, redelivered=True)  # as after a crash: what it carries is not trusted
        else:
            world.deliver(message)
    step_reads = [parts for parts in arm.asked if parts != ALL_PARTS]
    assert step_reads.count(frozenset({Part.GROUP})) == 1
    assert step_reads.count(frozenset({Part.STORAGE})) == 3
    assert step_reads.count(frozenset({Part.ACR})) == 1
    assert step_reads.count(frozenset({Part.ACR, Part.REPLICAS})) == 2
    assert all(reads(kind.name) for kind in KINDS)
    assert len(arm.writes) == 1 + 3 + 1 + 2


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
        if isinstance(message, Step) and message.name == "ensure_storage":
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


class ThrottledPolls(RecordingArm):
    """Every other status request of each running operation is throttled (answered 429)."""

    def __init__(self) -> None:
        super().__init__()
        self.lro_polls = 6
        self.polls: dict[str, int] = {}

    def poll(self, continuation: str) -> LroState:
        self.polls[continuation] = self.polls.get(continuation, 0) + 1
        if self.polls[continuation] % 2:
            raise StatusUnreadable("throttled", code="SubscriptionRequestsThrottled", retry_after=1)
        return super().poll(continuation)


def test_a_throttled_status_poll_polls_again_instead_of_observing_and_deciding_again():
    arm = ThrottledPolls()
    world = World(arm)
    accepted = world.api.create(DEMO1)
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED
    assert all(parts == ALL_PARTS for parts in arm.asked)  # no step observed: each kept its continuation
    assert len(arm.writes) == 1 + 3 + 1 + 2
    assert max(arm.polls.values()) == 12  # 6 throttled in all: more than max_attempts (5), never 2 in a row


class StaleOnce(FakeArm):
    """Its next full observation is one made earlier (a reconcile that observed before a step finished)."""

    stale: Observed | None = None

    def observe(self, registry: str, resource_group: str, parts: frozenset[Part] = ALL_PARTS) -> Observed:
        if parts == ALL_PARTS and self.stale is not None:
            observed, self.stale = self.stale, None
            return observed
        return super().observe(registry, resource_group, parts)


def test_a_step_run_again_on_an_observation_older_than_its_last_run_observes_instead_of_replaying():
    arm = StaleOnce(lro_polls=0)
    world = World(arm)
    world.api.create(DEMO1)
    while not any(s.key.startswith("ensure_storage") for s in world.store.steps.values()):
        world.deliver_next()
    before_storage = arm.observe("demoregistry1", "regctl-demoregistry1")  # no storage account yet
    world.drain()
    record = world.store.get_registry("demoregistry1")
    writes = list(arm.writes)
    arm.stale = before_storage
    world.deliver(Reconcile(registry=record.key, generation=record.generation, operation_id=record.operation_id))
    again = [m for m in map(decode_message, (o.body for o in world.publisher.sent)) if isinstance(m, Step)]
    assert {m.name for m in again} >= {"ensure_storage"}
    assert all(m.run == 1 and m.action is None for m in again)  # new runs: nothing carried
    world.drain()
    assert arm.writes == writes  # each observed, found its account, and did nothing
