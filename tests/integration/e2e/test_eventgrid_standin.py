# mypy: disable-error-code="call-overload,union-attr"
# The storage SDK accepts a JSON dict at run time but only types its model/IO overloads, and types every
# property of its models Optional.
"""The sandbox's Event Grid stand-in on a running sandbox: a blob written through the blob proxy into an
account with a system topic becomes one ``Microsoft.Storage.BlobCreated`` per matching event subscription,
on the Service Bus stand-in's queue its destination names, in the subscription's schema, with Azure's data
fields; a subscription's filter keeps what it does not want out."""

from __future__ import annotations

import json
import ssl
import time
from typing import Any

import httpx
import pytest
from azure.storage.blob import BlobServiceClient, ContentSettings
from azure.storage.queue import QueueClient

from shared.adapters.queue_envelope import Envelope, decode
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_provisioning import unique

pytestmark = pytest.mark.integration
API = "2025-02-15"
QUEUES = "/subscriptions/0/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/n/queues/"
ACCOUNT = {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}


def arm(env: Env) -> httpx.Client:
    info = env.sandbox.info["arm"]
    return httpx.Client(
        base_url=info["endpoint"],
        verify=ssl.create_default_context(cafile=info["ca_bundle"]),
        trust_env=False,
        headers={"Authorization": "Bearer e2e"},
    )


def put_and_wait(client: httpx.Client, path: str, body: dict[str, Any]) -> None:
    made = client.put(path, params={"api-version": API}, json=body)
    assert made.status_code == 201, made.text
    deadline = time.monotonic() + 30
    while client.get(path, params={"api-version": API}).json()["properties"]["provisioningState"] != "Succeeded":
        assert time.monotonic() < deadline, path
        time.sleep(0.1)


def received(queue: QueueClient, count: int) -> list[Envelope]:
    found: list[Envelope] = []
    deadline = time.monotonic() + 30
    while len(found) < count:
        assert time.monotonic() < deadline, found
        for message in queue.receive_messages(messages_per_page=32, visibility_timeout=300):
            found.append(decode(message.content))
        time.sleep(0.1)
    return found


def test_blob_created_is_delivered_per_subscription_in_its_schema_with_azures_fields(env: Env):
    rg, name = unique("egrg"), unique("egst").lower()
    env.arm.resources.resource_groups.create_or_update(rg, {"location": "eastus"})
    account = env.arm.storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    source = str(account.id)
    connection = env.sandbox.info["azurite"]["connection_string"]
    queues = {key: QueueClient.from_connection_string(connection, unique(f"eg{key}").lower()) for key in ("yml", "all")}
    for queue in queues.values():
        queue.create_queue()
    topic = f"/subscriptions/{env.sandbox.info['arm']['subscription_id']}/resourceGroups/{rg}"
    topic += "/providers/Microsoft.EventGrid/systemTopics/blobs"
    with arm(env) as client:
        body = {
            "location": "eastus",
            "properties": {"source": source, "topicType": "Microsoft.Storage.StorageAccounts"},
        }
        put_and_wait(client, topic, body)
        for key, extra in (
            ("yml", {"filter": {"includedEventTypes": ["Microsoft.Storage.BlobCreated"], "subjectEndsWith": ".yml"}}),
            ("all", {"eventDeliverySchema": "CloudEventSchemaV1_0"}),
        ):
            queue_id = QUEUES + queues[key].queue_name
            destination = {"endpointType": "ServiceBusQueue", "properties": {"resourceId": queue_id}}
            put_and_wait(
                client, f"{topic}/eventSubscriptions/{key}", {"properties": {"destination": destination, **extra}}
            )

    key = env.arm.storage.storage_accounts.list_keys(rg, name)["keys"][0]["value"]  # models are Mappings
    blobs = BlobServiceClient(
        str(account.primary_endpoints.blob), credential=key, connection_verify=env.sandbox.ca_bundle
    )
    container = blobs.create_container("models")
    manifest = b"name: fraud\nversion: '1'\npath: .\n"
    container.upload_blob("fraud/asset.yml", manifest, content_settings=ContentSettings(content_type="text/yaml"))
    container.upload_blob("fraud/w.bin", b"\x01" * 1000)

    [yml] = received(queues["yml"], 1)
    event = json.loads(yml.body)
    assert yml.message_id == event["id"]
    assert yml.application_properties["aeg-event-type"] == "Notification"
    assert yml.application_properties["aeg-subscription-name"] == "YML"
    assert event["eventType"] == "Microsoft.Storage.BlobCreated" and event["topic"] == source
    assert event["subject"] == "/blobServices/default/containers/models/blobs/fraud/asset.yml"
    data = event["data"]
    assert set(data) >= {"api", "clientRequestId", "requestId", "eTag", "contentType", "contentLength", "blobType"}
    assert set(data) >= {"url", "sequencer"}
    assert data["api"] == "PutBlob" and data["contentType"] == "text/yaml" and data["contentLength"] == len(manifest)
    assert data["blobType"] == "BlockBlob" and data["requestId"] and data["eTag"]
    assert data["url"] == f"{str(account.primary_endpoints.blob).rstrip('/')}/models/fraud/asset.yml"

    everything = received(queues["all"], 2)
    clouds = sorted((json.loads(e.body) for e in everything), key=lambda c: c["data"]["sequencer"])
    assert [c["subject"].rsplit("/", 1)[-1] for c in clouds] == ["asset.yml", "w.bin"]
    assert all(c["specversion"] == "1.0" and c["type"] == "Microsoft.Storage.BlobCreated" for c in clouds)
    assert all(c["source"] == source for c in clouds) and clouds[1]["data"]["contentLength"] == 1000
    assert not queues["yml"].peek_messages()  # w.bin is not for the .yml subscription
