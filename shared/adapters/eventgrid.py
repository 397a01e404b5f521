"""``EventPublisher`` adapters: regctl's own events out (docs/events.md).

- ``EventGridTopicPublisher``: an Event Grid custom topic (``azure-eventgrid``), authenticated with the
  app's identity (the EventGrid Data Sender role on the topic, infra/app/eventgrid.bicep). Event Grid
  fills in ``topic``. Its subscriptions fan the events out; one of them is regctl's own events queue.
- ``QueueTopicPublisher``: the sandbox's stand-in topic, which has one subscription: the events queue.
  One event per message, message id = the event id (duplicate detection), as Event Grid delivers to a
  Service Bus queue, with Event Grid's ``aeg-*`` application properties.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.eventgrid import EventGridPublisherClient

from shared.adapters.arm_errors import classify
from shared.ports import MessagePublisher, OutboundMessage

SANDBOX_TOPIC = "/subscriptions/sandbox/resourceGroups/regctl/providers/Microsoft.EventGrid/topics/regctl-events"


class EventGridTopicPublisher:
    def __init__(self, endpoint: str, credential: TokenCredential) -> None:
        self._client = EventGridPublisherClient(endpoint, credential)

    def publish(self, events: Sequence[dict[str, Any]]) -> None:
        if not events:
            return
        try:
            self._client.send(list(events))
        except AzureError as exc:
            raise classify(exc) from exc


class QueueTopicPublisher:
    def __init__(self, publisher: MessagePublisher, queue: str, topic: str = SANDBOX_TOPIC) -> None:
        self._publisher = publisher
        self._queue = queue
        self._topic = topic

    def publish(self, events: Sequence[dict[str, Any]]) -> None:
        messages = [
            OutboundMessage(
                queue=self._queue,
                message_id=str(event["id"]),
                body=json.dumps({**event, "topic": self._topic, "metadataVersion": "1"}),
                subject=str(event["eventType"]),
                application_properties={
                    "aeg-subscription-name": "REGCTL-EVENTS",
                    "aeg-delivery-count": 0,
                    "aeg-event-type": "Notification",
                    "aeg-metadata-version": "1",
                    "aeg-data-version": str(event.get("dataVersion", "")),
                },
            )
            for event in events
        ]
        if messages:
            self._publisher.publish(messages)
