"""Turning Reconcile and Step messages into outbound queue messages (one place for ids and routing)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.messages import Reconcile, Step
from shared.ports import MessagePublisher, OutboundMessage


@dataclass(frozen=True)
class Queues:
    reconcile: str
    steps: str


class Dispatcher:
    """Publishes domain messages to their queues; ``message_id`` is the idempotency key."""

    def __init__(self, publisher: MessagePublisher, queues: Queues) -> None:
        self._publisher = publisher
        self._queues = queues

    def send(self, messages: list[Reconcile | Step], delay_seconds: float = 0.0) -> None:
        if not messages:
            return
        self._publisher.publish([self._outbound(m, delay_seconds) for m in messages])

    def _outbound(self, message: Reconcile | Step, delay_seconds: float) -> OutboundMessage:
        props: dict[str, str | int] = {
            "registry": message.registry,
            "generation": message.generation,
            "operation": message.operation_id,
            "type": message.type,
        }
        if isinstance(message, Step):
            props.update({"kind": message.kind.value, "region": message.region, "index": message.index})
            queue = self._queues.steps
        else:
            queue = self._queues.reconcile
        return OutboundMessage(
            queue=queue,
            message_id=message.message_id,
            body=message.model_dump_json(),
            subject=message.type,
            application_properties=props,
            delay_seconds=delay_seconds,
        )
