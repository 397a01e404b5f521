"""Turning domain messages into outbound queue messages (one place for ids, routing and trace context)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.messages import OperationFinished, Reconcile, Step
from shared.observability import TRACEPARENT, current_traceparent
from shared.ports import MessagePublisher, OutboundMessage


@dataclass(frozen=True)
class Queues:
    reconcile: str
    steps: str
    operation_events: str = "regctl-operation-events"


class Dispatcher:
    """Publishes domain messages to their queues; ``message_id`` is the idempotency key. Each message carries
    the current W3C ``traceparent`` in its application properties, so the work it causes stays in the trace
    of the request that started the operation."""

    def __init__(self, publisher: MessagePublisher, queues: Queues) -> None:
        self._publisher = publisher
        self._queues = queues

    def send(self, messages: list[Reconcile | Step], delay_seconds: float = 0.0) -> None:
        if not messages:
            return
        self._publisher.publish([self._outbound(m, delay_seconds) for m in messages])

    def finished(self, event: OperationFinished) -> None:
        """Publish an operation's ``OperationFinished`` to the operation-events queue."""
        props: dict[str, str | int] = {
            "registry": event.registry,
            "operation": event.operation_id,
            "status": event.status,
            "type": event.type,
        }
        self._trace(props)
        self._publisher.publish(
            [
                OutboundMessage(
                    queue=self._queues.operation_events,
                    message_id=event.message_id,
                    body=event.model_dump_json(),
                    subject=event.type,
                    application_properties=props,
                )
            ]
        )

    @staticmethod
    def _trace(props: dict[str, str | int]) -> None:
        traceparent = current_traceparent()
        if traceparent:
            props[TRACEPARENT] = traceparent

    def _outbound(self, message: Reconcile | Step, delay_seconds: float) -> OutboundMessage:
        props: dict[str, str | int] = {
            "registry": message.registry,
            "generation": message.generation,
            "operation": message.operation_id,
            "type": message.type,
        }
        if isinstance(message, Step):
            props.update({"kind": message.kind, "step": message.step_key, "region": message.region})
            queue = self._queues.steps
        else:
            queue = self._queues.reconcile
        self._trace(props)
        return OutboundMessage(
            queue=queue,
            message_id=message.message_id,
            body=message.model_dump_json(),
            subject=message.type,
            application_properties=props,
            delay_seconds=delay_seconds,
        )
