# mypy: disable-error-code="call-overload,union-attr"
# The SDK operations accept JSON dicts at run time but only type their model/IO overloads, and their
# models type every property Optional.
"""The Event Grid stand-in of the running simulator, end to end: a storage account and a registry with
system topics and regctl's own event subscriptions (shared/domain/kinds/eventgrid.py); blobs written and
deleted through the blob proxy, an image pushed, imported and deleted through the control surface and the
SDK; the events arrive on Azurite's queues, regctl's own writes kept out by its filters, a duplicate rule
doubling a delivery."""

from __future__ import annotations

import json
import time

import pytest
from azure.storage.queue import QueueClient

from sandbox.arm.control import FaultRule, SandboxControl
from sandbox.arm.launcher import ArmEndpoint
from sandbox.azurite_proc import Azurite
from shared.domain.kinds.eventgrid import subscription_properties
from tests.integration.arm.helpers import Clients, RawArm, unique
from tests.integration.blob.helpers import Accounts, put_and_wait, received

pytestmark = pytest.mark.integration
QUEUES = "/subscriptions/0/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/ns/queues/"


def subscribe(raw: RawArm, group: str, source: str, topic_type: str, queue: QueueClient, target: str) -> None:
    """A system topic on ``source`` and regctl's event subscription on it, delivering to ``queue``."""
    topic = f"/subscriptions/{raw.sub}/resourceGroups/{group}/providers/Microsoft.EventGrid/systemTopics/"
    topic += unique("t")
    put_and_wait(raw, topic, {"location": "eastus", "properties": {"source": source, "topicType": topic_type}})
    properties = subscription_properties(target, QUEUES + queue.queue_name)
    put_and_wait(raw, f"{topic}/eventSubscriptions/regctl-events", {"properties": properties})


def test_blob_and_image_events_reach_the_queues_without_regctls_own_writes(
    arm: ArmEndpoint, azurite: Azurite, clients: Clients, control: SandboxControl, accounts: Accounts
) -> None:
    raw = RawArm(arm)
    queues = {key: QueueClient.from_connection_string(azurite.connection_string, unique(key)) for key in ("st", "cr")}
    for queue in queues.values():
        queue.create_queue()
    account = accounts.create()
    account_id = f"/subscriptions/{raw.sub}/resourceGroups/{accounts.group}/providers/Microsoft.Storage"
    account_id += f"/storageAccounts/{account.name}"
    name = unique("reg")
    registry = clients.acr.registries.begin_create(
        accounts.group, name, {"location": "eastus", "sku": {"name": "Premium"}}
    ).result()
    subscribe(raw, accounts.group, account_id, "Microsoft.Storage.StorageAccounts", queues["st"], "storage")
    subscribe(raw, accounts.group, str(registry.id), "Microsoft.ContainerRegistry.Registries", queues["cr"], "acr")
    deleted_twice: FaultRule = {
        "service": "eventgrid",
        "event_type": "Microsoft.ContainerRegistry.ImageDeleted",
        "duplicate": 1,
    }
    control.set_faults([deleted_twice])

    blobs = accounts.shared_key(account)
    models, own = blobs.create_container("models"), blobs.create_container("assets")
    models.upload_blob("fraud/asset.yml", b"name: fraud\n")
    own.upload_blob("models/fraud/1/asset.yml", b"name: fraud\n")
    models.delete_blob("fraud/asset.yml")
    pushed = control.push_image(name, "team/app", "1.0")
    for target in ("environments/app:1", "team/copy:1"):
        clients.acr.registries.begin_import_image(
            accounts.group,
            name,
            {"source": {"resourceId": registry.id, "sourceImage": "team/app:1.0"}, "targetTags": [target]},
        ).result()
    control.delete_image(name, "team/app", "1.0")

    storage = [json.loads(e.body) for e in received(queues["st"], 2)]
    assert [(e["eventType"], e["subject"]) for e in storage] == [
        ("Microsoft.Storage.BlobCreated", "/blobServices/default/containers/models/blobs/fraud/asset.yml"),
        ("Microsoft.Storage.BlobDeleted", "/blobServices/default/containers/models/blobs/fraud/asset.yml"),
    ]
    assert storage[1]["data"]["api"] == "DeleteBlob" and storage[1]["topic"] == account_id
    images = received(queues["cr"], 4)
    events = [json.loads(e.body) for e in images]
    assert sorted((e["eventType"].rsplit(".", 1)[-1], e["subject"]) for e in events) == [
        ("ImageDeleted", "team/app:1.0"),
        ("ImageDeleted", "team/app:1.0"),
        ("ImagePushed", "team/app:1.0"),
        ("ImagePushed", "team/copy:1"),
    ]
    assert all(e["topic"] == registry.id and e["data"]["target"]["digest"] == pushed["digest"] for e in events)
    deleted = [m for m, e in zip(images, events, strict=True) if e["eventType"].endswith("ImageDeleted")]
    assert deleted[0].message_id == deleted[1].message_id
    time.sleep(0.3)
    assert not queues["st"].peek_messages() and not queues["cr"].peek_messages()
