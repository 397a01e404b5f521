"""An in-process Event Grid stand-in for unit tests: a store with a registry and a storage account, a fault
engine, and a fake publisher collecting what is sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from typing import Any

from sandbox.arm.acr_images import ImageChanged
from sandbox.arm.config import Settings
from sandbox.arm.eventgrid import EventSubscription, SystemTopic
from sandbox.arm.eventgrid_properties import subscription_properties
from sandbox.arm.faults import FaultEngine, parse_rules
from sandbox.arm.state import Manifest, Registry, StorageAccount, Store
from sandbox.blob.hooks import BlobCommitted
from sandbox.eventgrid.standin import EventGridStandIn
from shared.ports import OutboundMessage

SUB = "00000000-0000-4000-8000-0000000000a1"
QUEUES = f"/subscriptions/{SUB}/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/ns/queues/"
DIGEST = "sha256:" + "ab" * 32
MEDIA = "application/vnd.docker.distribution.manifest.v2+json"


class Publisher:
    """Collects what the stand-in publishes; ``wait`` until a number of messages arrived. While ``error`` is
    set every publish raises it (and counts in ``failures``)."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.error: BaseException | None = None
        self.failures = 0
        self._changed = threading.Condition()

    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        with self._changed:
            if self.error is not None:
                self.failures += 1
                raise self.error
            self.sent += messages
            self._changed.notify_all()

    def close(self) -> None:
        pass

    def wait(self, count: int, timeout: float = 5.0) -> list[OutboundMessage]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.sent) >= count, timeout), self.sent
            return list(self.sent)

    def bodies(self, queue: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(m.body) for m in self.sent if queue is None or m.queue == queue]


class World:
    def __init__(self, time_scale: float = 1.0) -> None:
        self.store = Store(Settings(time_scale=time_scale))
        self.faults = FaultEngine()
        self.publisher = Publisher()
        self.standin = EventGridStandIn(self.store, self.publisher, self.faults)
        self.registry = Registry(SUB, "rg", "regctlacr", "eastus", "Premium", {}, {}, state="Succeeded")
        self.account = StorageAccount(SUB, "rg", "regstore1", "eastus", "StorageV2", "Standard_LRS", {}, {})
        self.store.registries["regctlacr"] = self.registry
        self.store.accounts["regstore1"] = self.account

    def topic(self, source: str, **subscriptions: dict[str, Any]) -> SystemTopic:
        name = source.rsplit("/", 1)[-1] + "-events"
        topic_id = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.EventGrid/systemTopics/{name}"
        topic = SystemTopic(topic_id, name, "eastus", {}, source, "t", state="Succeeded")
        for sub_name, properties in subscriptions.items():
            props = {"destination": destination(sub_name), **properties}
            topic.subscriptions[sub_name] = EventSubscription(sub_name, subscription_properties(props), "Succeeded")
        self.store.system_topics[topic_id.lower()] = topic
        return topic

    def pushed(self, repository: str, tag: str = "1.0", action: str = "push") -> ImageChanged:
        manifest = Manifest(DIGEST, 524)
        return ImageChanged(action, "regctlacr", self.registry.id, repository, tag, manifest, "docker/27.0")

    def rules(self, *rules: dict[str, Any], seed: int = 1) -> None:
        self.faults.configure(*parse_rules({"rules": list(rules), "seed": seed}))


def destination(queue: str) -> dict[str, Any]:
    return {"endpointType": "ServiceBusQueue", "properties": {"resourceId": QUEUES + queue}}


def committed(blob: str, account: str = "regstore1") -> BlobCommitted:
    url = f"https://127.0.0.1:8445/{account}/models/{blob}"
    return BlobCommitted(account, "models", blob, "PutBlob", url, '"0x1"', 3, "text/yaml", "req-1", "client-1")
