# mypy: disable-error-code="call-overload"
# The storage SDK accepts a JSON dict at run time but only types its model/IO overloads.
"""Event Grid system topics and event subscriptions on the ARM simulator (plain HTTPS: the project has no
azure-mgmt-eventgrid): the LROs, the documented properties, the ServiceBusQueue destination, the cascades."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.integration.arm.helpers import Clients, RawArm, unique

pytestmark = pytest.mark.integration
API = "2025-02-15"
ACCOUNT = {"sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "location": "eastus"}
QUEUE = "/subscriptions/0/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/ns/queues/regctl-events"


def settled(raw: RawArm, answer: requests.Response) -> str:
    """Poll the Azure-AsyncOperation monitor of a 201 until it is terminal; its status."""
    assert answer.status_code == 201, answer.text
    for _ in range(1000):
        status = str(raw.get_absolute(answer.headers["azure-asyncoperation"]).json()["status"])
        if status not in ("InProgress", "Creating"):
            return status
        time.sleep(0.01)
    raise AssertionError("still running")


def topic_path(raw: RawArm, rg: str, name: str) -> str:
    return f"/subscriptions/{raw.sub}/resourceGroups/{rg}/providers/Microsoft.EventGrid/systemTopics/{name}"


def account(clients: Clients, raw: RawArm, rg: str) -> str:
    name = unique("st")
    clients.storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    return f"/subscriptions/{raw.sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}"


def topic(raw: RawArm, rg: str, name: str, source: str) -> requests.Response:
    body = {"location": "eastus", "properties": {"source": source, "topicType": "Microsoft.Storage.StorageAccounts"}}
    return raw.request("PUT", topic_path(raw, rg, name), api=API, json=body)


def subscription(raw: RawArm, path: str, **properties: Any) -> requests.Response:
    destination = {"endpointType": "ServiceBusQueue", "properties": {"resourceId": QUEUE}}
    body = {"properties": {"destination": destination, **properties}}
    return raw.request("PUT", f"{path}/eventSubscriptions/to-queue", api=API, json=body)


def test_a_system_topic_is_created_as_an_lro_and_listed_with_its_properties(clients: Clients, raw: RawArm, rg: str):
    source = account(clients, raw, rg)
    created = topic(raw, rg, "st-events", source)
    assert created.json()["properties"]["provisioningState"] == "Creating"
    assert settled(raw, created) == "Succeeded"
    got = raw.request("GET", topic_path(raw, rg, "st-events"), api=API).json()
    assert got["type"] == "Microsoft.EventGrid/systemTopics" and got["location"] == "eastus"
    assert got["properties"]["source"] == source and got["properties"]["provisioningState"] == "Succeeded"
    assert got["properties"]["topicType"] == "Microsoft.Storage.StorageAccounts"
    listed = raw.request("GET", topic_path(raw, rg, "")[:-1], api=API).json()["value"]
    assert [t["name"] for t in listed] == ["st-events"]
    again = topic(raw, rg, "st-events", source)
    assert again.status_code == 200


def test_the_subscriptions_list_holds_every_groups_topics(clients: Clients, raw: RawArm, rg: str):
    other_group = unique("rg")
    clients.resources.resource_groups.create_or_update(other_group, {"location": "eastus"})
    settled(raw, topic(raw, rg, "here", account(clients, raw, rg)))
    settled(raw, topic(raw, other_group, "there", account(clients, raw, rg)))
    listed = raw.request("GET", f"/subscriptions/{raw.sub}/providers/Microsoft.EventGrid/systemTopics", api=API)
    assert listed.status_code == 200, listed.text
    ids = {t["id"].lower() for t in listed.json()["value"]}
    assert {topic_path(raw, rg, "here").lower(), topic_path(raw, other_group, "there").lower()} <= ids
    in_group = raw.request("GET", topic_path(raw, other_group, "")[:-1], api=API).json()["value"]
    assert [t["name"] for t in in_group] == ["there"]


def test_a_topic_needs_an_existing_source_keeps_it_and_is_one_per_source(clients: Clients, raw: RawArm, rg: str):
    source = account(clients, raw, rg)
    missing = source.rsplit("/", 1)[0] + "/nosuchaccount"
    assert topic(raw, rg, "t1", missing).status_code == 400
    settled(raw, topic(raw, rg, "t1", source))
    assert topic(raw, rg, "t2", source).status_code == 400  # one system topic per source
    other = account(clients, raw, rg)
    changed = topic(raw, rg, "t1", other)
    assert changed.status_code == 400 and "cannot be changed" in changed.json()["error"]["message"]


def test_an_event_subscription_to_a_service_bus_queue_with_filters_and_its_defaults(
    clients: Clients, raw: RawArm, rg: str
):
    path = topic_path(raw, rg, "t")
    settled(raw, topic(raw, rg, "t", account(clients, raw, rg)))
    made = subscription(
        raw,
        path,
        filter={"includedEventTypes": ["Microsoft.Storage.BlobCreated"], "subjectBeginsWith": "/blobServices/"},
        eventDeliverySchema="CloudEventSchemaV1_0",
    )
    assert made.json()["properties"]["provisioningState"] == "Creating"
    assert settled(raw, made) == "Succeeded"
    got = raw.request("GET", f"{path}/eventSubscriptions/to-queue", api=API).json()
    props = got["properties"]
    assert got["type"] == "Microsoft.EventGrid/systemTopics/eventSubscriptions"
    assert props["topic"] == path and props["provisioningState"] == "Succeeded"
    assert props["destination"] == {"endpointType": "ServiceBusQueue", "properties": {"resourceId": QUEUE}}
    assert props["filter"]["includedEventTypes"] == ["Microsoft.Storage.BlobCreated"]
    assert props["filter"]["subjectBeginsWith"] == "/blobServices/" and props["filter"]["subjectEndsWith"] == ""
    assert props["eventDeliverySchema"] == "CloudEventSchemaV1_0"
    assert props["retryPolicy"] == {"maxDeliveryAttempts": 30, "eventTimeToLiveInMinutes": 1440}
    listed = raw.request("GET", f"{path}/eventSubscriptions", api=API).json()["value"]
    assert [s["name"] for s in listed] == ["to-queue"]

    nowhere = raw.request(
        "PUT",
        f"{path}/eventSubscriptions/bad",
        api=API,
        json={"properties": {"destination": {"endpointType": "ServiceBusQueue", "properties": {}}}},
    )
    assert nowhere.status_code == 400


def test_deleting_a_subscription_then_the_topic_and_the_group_removes_them(clients: Clients, raw: RawArm, rg: str):
    path = topic_path(raw, rg, "t")
    settled(raw, topic(raw, rg, "t", account(clients, raw, rg)))
    settled(raw, subscription(raw, path))
    deleted = raw.request("DELETE", f"{path}/eventSubscriptions/to-queue", api=API)
    assert deleted.status_code == 202 and raw.wait_until_done(deleted.headers["location"]) == 204
    assert raw.request("GET", f"{path}/eventSubscriptions/to-queue", api=API).status_code == 404
    settled(raw, subscription(raw, path))
    gone = raw.request("DELETE", path, api=API)
    assert gone.status_code == 202 and raw.wait_until_done(gone.headers["location"]) == 204
    assert raw.request("GET", path, api=API).status_code == 404
    assert raw.request("DELETE", path, api=API).status_code == 204

    settled(raw, topic(raw, rg, "t", account(clients, raw, rg)))
    clients.resources.resource_groups.begin_delete(rg).result()
    assert raw.request("GET", path, api=API).status_code == 404


def test_a_dead_letter_destination_and_retry_policy_are_kept_and_bad_ones_refused(
    clients: Clients, raw: RawArm, rg: str
):
    path = topic_path(raw, rg, "t")
    settled(raw, topic(raw, rg, "t", account(clients, raw, rg)))
    store = account(clients, raw, rg)
    dead_letter = {"endpointType": "StorageBlob", "properties": {"resourceId": store, "blobContainerName": "dl"}}
    policy = {"maxDeliveryAttempts": 5, "eventTimeToLiveInMinutes": 30}
    settled(raw, subscription(raw, path, deadLetterDestination=dead_letter, retryPolicy=policy))
    got = raw.request("GET", f"{path}/eventSubscriptions/to-queue", api=API).json()["properties"]
    assert got["deadLetterDestination"] == dead_letter and got["retryPolicy"] == policy

    webhook = subscription(raw, path, deadLetterDestination={"endpointType": "WebHook", "properties": {}})
    assert webhook.status_code == 400 and "'StorageBlob'" in webhook.json()["error"]["message"]
    too_many = subscription(raw, path, retryPolicy={"maxDeliveryAttempts": 31})
    assert too_many.status_code == 400 and "between 1 and 30" in too_many.json()["error"]["message"]
