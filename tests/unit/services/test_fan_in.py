"""Fan-in: the last steps of an operation to finish reconcile once between them, not once each."""

from __future__ import annotations

from dataclasses import replace

from shared.domain.messages import Reconcile, Step, decode_message
from shared.domain.records import OperationStatus, StepRecord, StepState
from shared.services.steps import fan_in_trigger
from tests.unit.services.world import World

DEMO1 = {
    "name": "DemoRegistry1",
    "location": "eastus",
    "replication_locations": [{"location": "eastus"}, {"location": "eastus2"}, {"location": "westus"}],
}


def _reconciles_sent(world: World, since: int) -> list[Reconcile]:
    messages = [decode_message(m.body) for m in world.publisher.sent[since:]]
    return [m for m in messages if isinstance(m, Reconcile)]


def test_the_last_two_steps_finishing_together_send_one_reconcile_message_id():
    """Two geo-replicas of the same duration finish on the same poll tick. Each saves its Succeeded before it
    looks at the others, so each can see the other done and both reconcile (found in the burst benchmark's
    host log: 40 extra reconciles of 4 ARM reads each for 100 registries). Both now send the same message
    id, so Service Bus duplicate detection (and the sandbox host's) delivers one."""
    world = World()
    accepted = world.api.create(DEMO1)
    sent: list[Reconcile] = []  # every reconcile sent, in order
    publish, save_step = world.publisher.publish, world.store.save_step
    race_began: list[int] = []  # how many reconciles had been sent when the first replica saved Succeeded

    def publish_and_keep(messages):
        sent.extend(
            m
            for m in map(decode_message, (o.body for o in messages if o.queue == "reconcile"))
            if isinstance(m, Reconcile)
        )
        publish(messages)

    def save_then_let_the_other_replica_finish(step: StepRecord) -> None:
        save_step(step)
        if race_began or not step.key.startswith("ensure_replica") or step.state is not StepState.SUCCEEDED:
            return
        race_began.append(len(sent))
        queued = [decode_message(out.body) for out in world.publisher.sent]
        index, other = next(
            (i, m)
            for i, m in enumerate(queued)
            if isinstance(m, Step) and m.step_key.startswith("ensure_replica") and m.step_key != step.key
        )
        del world.publisher.sent[index]
        world.deliver(other)  # the other replica's last poll runs to its end before this one looks

    world.publisher.publish = publish_and_keep  # type: ignore[method-assign]
    world.store.save_step = save_then_let_the_other_replica_finish  # type: ignore[method-assign]
    while not race_began:
        assert world.deliver_next(), "the two replicas never finished together"
    fan_in = sent[race_began[0] :]

    triggers = [m.trigger for m in fan_in]
    assert len(fan_in) == 2, triggers  # each saw the other done: both told the loop
    assert fan_in[0].message_id == fan_in[1].message_id, triggers
    assert triggers[0].startswith("done:")
    world.drain()
    assert world.store.get_operation(accepted.operation.id).status is OperationStatus.SUCCEEDED


def _step(kind: str, region: str) -> StepRecord:
    return StepRecord(registry="r", key=f"{kind}:{region}:0", operation_id="o", kind=kind, region=region)


def test_the_fan_in_trigger_names_the_steps_and_their_runs():
    steps = [_step("ensure_storage", "eastus"), _step("ensure_replica", "westus")]
    assert fan_in_trigger(steps) == fan_in_trigger(list(reversed(steps)))  # whoever lists them
    assert fan_in_trigger(steps) != fan_in_trigger([steps[0], replace(steps[1], run=1)])  # run again: a new fan-in
    assert fan_in_trigger(steps) != fan_in_trigger(steps[:1])
