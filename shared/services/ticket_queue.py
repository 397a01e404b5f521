"""The ticket queue's sender: ticket writes (write-backs and deferred starts), each under its message id."""

from __future__ import annotations

from shared.domain.ticket_writes import TicketWrite
from shared.ports import MessagePublisher, OutboundMessage


class WriteQueue:
    """Enqueues ticket writes (the write-back queue), each with its message id."""

    def __init__(self, publisher: MessagePublisher, queue: str) -> None:
        self._publisher = publisher
        self._queue = queue

    def send(self, write: TicketWrite, delay_seconds: float = 0.0) -> None:
        self._publisher.publish(
            [
                OutboundMessage(
                    queue=self._queue,
                    message_id=write.message_id,
                    body=write.model_dump_json(),
                    subject=write.type,
                    application_properties={"source": write.source, "ticket": write.key, "write": write.write},
                    delay_seconds=delay_seconds,
                )
            ]
        )
