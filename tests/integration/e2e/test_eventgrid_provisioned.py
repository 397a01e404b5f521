# mypy: disable-error-code="call-overload,union-attr"
# The storage SDK accepts a JSON dict at run time but only types its model/IO overloads, and types every
# property of its models Optional.
"""The Event Grid subscriptions regctl provisions, on a running sandbox: with ``EVENTS_QUEUE_RESOURCE_ID``
set, a registry created through the API gets a system topic on its storage account and its ACR, each with
regctl's event subscription; a blob put into the account outside ``assets`` arrives on the queue that
setting names as one ``Microsoft.Storage.BlobCreated`` (through the sandbox's Event Grid stand-in), and
one put into ``assets`` (regctl's own copies) does not.

The queue named here is one the test reads, not the host's events queue (whose handler would consume the
event first): what is shown is that the subscription regctl made delivers where the setting says."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

from tests.integration.e2e.conftest import start_env
from tests.integration.e2e.test_eventgrid_standin import API, arm, received
from tests.integration.e2e.test_provisioning import unique

pytestmark = pytest.mark.integration


def test_a_created_registry_delivers_blob_created_to_the_events_queue_through_regctls_subscription(tmp_path):
    observed = unique("egobserved").lower()
    queue_id = f"/subscriptions/0/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/n/queues/{observed}"
    for env in start_env(tmp_path, EVENTS_QUEUE_RESOURCE_ID=queue_id):
        queue = QueueClient.from_connection_string(env.sandbox.info["azurite"]["connection_string"], observed)
        queue.create_queue()
        name = unique("Events")
        body = yaml.safe_dump({"name": name, "location": "eastus", "replication_locations": [{"location": "eastus"}]})
        operation = env.wait(env.create(body).headers["Location"], timeout=120)
        assert operation["status"] == "Succeeded", operation

        [account] = [
            a for a in env.arm.storage.storage_accounts.list() if (a.tags or {}).get("regctl-registry") == name.lower()
        ]
        group = str(account.id).split("/")[4]
        with arm(env) as client:
            base = f"/subscriptions/{env.sandbox.info['arm']['subscription_id']}/resourceGroups/{group}"
            topics = client.get(f"{base}/providers/Microsoft.EventGrid/systemTopics", params={"api-version": API})
            assert topics.status_code == 200, topics.text
            by_type = {t["properties"]["topicType"]: t for t in topics.json()["value"]}
            assert set(by_type) == {"Microsoft.Storage.StorageAccounts", "Microsoft.ContainerRegistry.Registries"}
            storage_topic = by_type["Microsoft.Storage.StorageAccounts"]
            assert storage_topic["properties"]["source"].lower() == str(account.id).lower()
            subs = client.get(f"{storage_topic['id']}/eventSubscriptions", params={"api-version": API}).json()
            [sub] = subs["value"]
            assert sub["properties"]["destination"]["properties"]["resourceId"] == queue_id

        key = env.arm.storage.storage_accounts.list_keys(group, str(account.name))["keys"][0]["value"]
        blobs = BlobServiceClient(
            str(account.primary_endpoints.blob), credential=key, connection_verify=env.sandbox.ca_bundle
        )
        own = blobs.get_container_client("assets")
        if not own.exists():
            own.create_container()
        own.upload_blob("models/x/1/w.bin", b"\x00" * 10)  # regctl's own: filtered out
        blobs.create_container("incoming").upload_blob("fraud/asset.yml", b"name: fraud\n")

        [delivered] = received(queue, 1)
        event = json.loads(delivered.body)
        assert event["eventType"] == "Microsoft.Storage.BlobCreated"
        assert event["subject"] == "/blobServices/default/containers/incoming/blobs/fraud/asset.yml"
        assert event["topic"].lower() == str(account.id).lower() and delivered.message_id == event["id"]
        time.sleep(1)
        assert not queue.peek_messages(), "the stand-in delivers in commit order: the assets blob came first"
