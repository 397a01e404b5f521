"""One operation lifecycle: every terminal transition publishes an OperationFinished, at least once and never
lost; a consumer that deduplicates by operation id and status hears each once."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta

import pytest

from shared.domain.errors import PermanentError, TransientError
from shared.domain.messages import OperationFinished
from shared.domain.records import OperationStatus
from shared.ports import OutboundMessage
from shared.services import lifecycle as lifecycle_module
from shared.services.lifecycle import OperationEventConsumer
from tests.unit.services.fakes import FakeArm, FakePublisher
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World


class Crash(BaseException):
    """The host dying: not an error any handler catches."""


class EventsDown(FakePublisher):
    """A queue that takes work messages but fails (or the host dies) when an OperationFinished is sent."""

    def __init__(self, failure: BaseException) -> None:
        super().__init__()
        self.failure: BaseException | None = failure

    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        if self.failure is not None and any(m.queue == "operation-events" for m in messages):
            raise self.failure
        super().publish(messages)


def finished(world: World) -> list[tuple[str, str]]:
    return [(e.operation_id, e.status) for e in world.events]


def test_each_terminal_transition_publishes_one_event_with_who_and_what():
    world = World()
    create = world.api.create(DEMO1)
    world.drain()
    update = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"v": "1"}})
    newer = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"v": "2"}})  # supersedes the update
    world.drain()
    assert finished(world) == [
        (create.operation.id, "Succeeded"),
        (update.operation.id, "Canceled"),
        (newer.operation.id, "Succeeded"),
    ]
    event = world.events[1]
    assert event.registry == "demoregistry1" and event.kind == "update" and event.error_code == "Superseded"
    assert all(not o.event_pending for o in world.store.operations.values())


def test_a_failed_operation_publishes_failed_with_its_reason():
    class QuotaArm(FakeArm):
        def create_replica(self, group, acr, location, tags):
            raise PermanentError("quota reached in westus", code="QuotaExceeded")

    world = World(QuotaArm())
    accepted = world.api.create(DEMO1)
    world.drain()
    failed = [e for e in world.events if e.operation_id == accepted.operation.id]
    assert [(e.status, e.error_code) for e in failed] == [("Failed", "QuotaExceeded")]


@pytest.mark.parametrize("failure", [TransientError("down", code="QueueUnavailable"), Crash()])
def test_a_send_lost_after_the_state_write_is_sent_by_the_relay(failure: BaseException, monkeypatch):
    """The host dies (or the queue fails) between writing the terminal status and sending the event: the
    status and the outbox entry were one write, so the relay finds the entry and sends the event."""
    publisher = EventsDown(failure)
    world = World(publisher=publisher)
    accepted = world.api.create(DEMO1)
    with contextlib.suppress(Crash):  # the host died mid-transition; the store keeps what it wrote
        world.drain()
    operation = world.store.get_operation(accepted.operation.id)
    assert operation.status is OperationStatus.SUCCEEDED and operation.event_pending
    assert world.events == []
    publisher.failure = None
    monkeypatch.setattr(lifecycle_module, "RELAY_GRACE", timedelta(0))
    assert world.lifecycle.relay() == 1
    assert finished(world) == [(accepted.operation.id, "Succeeded")]
    assert not world.store.get_operation(accepted.operation.id).event_pending
    assert world.lifecycle.relay() == 0  # sent once; nothing left


def test_the_relay_leaves_a_fresh_outbox_entry_to_the_transition_that_wrote_it():
    publisher = EventsDown(TransientError("down", code="QueueUnavailable"))
    world = World(publisher=publisher)
    world.api.create(DEMO1)
    world.drain()
    publisher.failure = None
    assert world.lifecycle.relay() == 0  # within RELAY_GRACE: probably being sent right now


def test_a_consumer_hears_each_operation_status_once_whatever_the_deliveries():
    world = World()
    world.api.create(DEMO1)
    world.drain()
    heard: list[OperationFinished] = []
    consumer = OperationEventConsumer(world.store, [heard.append])
    event = world.events[0]
    duplicate = OperationFinished.model_validate_json(event.model_dump_json())
    assert consumer.handle(event) is True
    assert consumer.handle(duplicate) is False
    assert consumer.handle(event) is False
    assert heard == [event]
    assert event.message_id == duplicate.message_id == f"finished:{event.operation_id}:Succeeded"


def test_a_listener_that_fails_hears_the_event_again_on_redelivery():
    world = World()
    world.api.create(DEMO1)
    world.drain()
    calls: list[str] = []

    def flaky(event: OperationFinished) -> None:
        calls.append(event.status)
        if len(calls) == 1:
            raise TransientError("ticket system down", code="Unavailable")

    consumer = OperationEventConsumer(world.store, [flaky])
    with pytest.raises(TransientError):
        consumer.handle(world.events[0])
    assert consumer.handle(world.events[0]) is True
    assert calls == ["Succeeded", "Succeeded"]
