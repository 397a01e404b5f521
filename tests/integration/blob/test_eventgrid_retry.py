# mypy: disable-error-code="union-attr"
# The storage SDK types every property of its models Optional.
"""The Event Grid stand-in of the running simulator retrying and dead-lettering: a ``fail`` fault rule makes
the first sends of a blob event fail, the retry still puts it once on the queue with the attempts counted in
``aeg-delivery-count``; when the failures outlast the subscription's ``maxDeliveryAttempts``, or the send is
answered with a status Event Grid does not retry, the event lands in the ``deadLetterDestination``
container, at Event Grid's blob path, with the dead-letter fields."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from typing import Any

import pytest
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient

from sandbox.arm.control import ControlError, SandboxControl
from sandbox.arm.launcher import ArmEndpoint
from sandbox.azurite_proc import Azurite
from tests.integration.arm.helpers import RawArm, unique
from tests.integration.blob.helpers import EVENTGRID_API, Account, Accounts, put_and_wait, received

pytestmark = pytest.mark.integration
QUEUES = "/subscriptions/0/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/ns/queues/"


class Watched:
    """A storage account with a system topic, an event subscription ``name`` delivering to a fresh queue,
    and a ``models`` container to write into."""

    def __init__(self, raw: RawArm, azurite: Azurite, accounts: Accounts, name: str, **properties: Any) -> None:
        self.queue = QueueClient.from_connection_string(azurite.connection_string, unique("q"))
        self.queue.create_queue()
        self.account = accounts.create()
        topic = f"/subscriptions/{raw.sub}/resourceGroups/{accounts.group}/providers/Microsoft.EventGrid"
        topic += f"/systemTopics/{unique('t')}"
        source = {"source": account_id(raw, accounts, self.account), "topicType": "Microsoft.Storage.StorageAccounts"}
        put_and_wait(raw, topic, {"location": "eastus", "properties": source})
        destination = {"endpointType": "ServiceBusQueue", "properties": {"resourceId": QUEUES + self.queue.queue_name}}
        self.subscription = f"{topic}/eventSubscriptions/{name}"
        put_and_wait(raw, self.subscription, {"properties": {"destination": destination, **properties}})
        self.models = accounts.shared_key(self.account).create_container("models")


def account_id(raw: RawArm, accounts: Accounts, account: Account) -> str:
    group = f"/subscriptions/{raw.sub}/resourceGroups/{accounts.group}"
    return f"{group}/providers/Microsoft.Storage/storageAccounts/{account.name}"


def dead_letter_container(raw: RawArm, accounts: Accounts) -> tuple[ContainerClient, dict[str, Any]]:
    """A fresh account's ``undelivered`` container, and the ``deadLetterDestination`` naming it."""
    store = accounts.create()
    undelivered = accounts.shared_key(store).create_container("undelivered")
    resource = {"resourceId": account_id(raw, accounts, store), "blobContainerName": "undelivered"}
    return undelivered, {"endpointType": "StorageBlob", "properties": resource}


def blobs_in(container: ContainerClient) -> list[str]:
    """Wait until ``container`` holds a blob; their names."""
    deadline = time.monotonic() + 15
    while not (names := [b.name for b in container.list_blobs()]):
        assert time.monotonic() < deadline, "no dead-letter blob"
        time.sleep(0.05)
    return names


def test_failed_sends_are_retried_and_the_event_arrives_once_with_its_delivery_count(
    arm: ArmEndpoint, azurite: Azurite, accounts: Accounts, control: SandboxControl
) -> None:
    watched = Watched(RawArm(arm), azurite, accounts, "retried")
    control.set_faults([{"service": "eventgrid", "event_type": "Microsoft.Storage.BlobCreated", "fail": 2, "count": 1}])

    watched.models.upload_blob("fraud/asset.yml", b"name: fraud\n")
    [retried] = received(watched.queue, 1)
    watched.models.upload_blob("fraud/marker.yml", b"name: marker\n")  # the rule is used up: sent at once
    [marker] = received(watched.queue, 1)

    event = json.loads(retried.body)
    assert event["subject"].endswith("/fraud/asset.yml") and retried.message_id == event["id"]
    assert retried.application_properties["aeg-delivery-count"] == 2
    assert json.loads(marker.body)["subject"].endswith("/fraud/marker.yml")
    assert marker.application_properties["aeg-delivery-count"] == 0
    assert not watched.queue.peek_messages()  # the failed attempts put nothing on the queue
    assert [rule["hits"] for rule in control.faults()] == [1]


def test_an_event_whose_attempts_run_out_is_written_to_the_dead_letter_container(
    arm: ArmEndpoint, azurite: Azurite, accounts: Accounts, control: SandboxControl
) -> None:
    raw = RawArm(arm)
    undelivered, dead_letter = dead_letter_container(raw, accounts)
    policy = {"maxDeliveryAttempts": 2, "eventTimeToLiveInMinutes": 1440}
    watched = Watched(raw, azurite, accounts, "Dead-Lettered", retryPolicy=policy, deadLetterDestination=dead_letter)
    got = raw.request("GET", watched.subscription, api=EVENTGRID_API).json()["properties"]
    assert got["deadLetterDestination"] == dead_letter and got["retryPolicy"] == policy
    control.set_faults([{"service": "eventgrid", "fail": 30}])

    watched.models.upload_blob("fraud/lost.yml", b"name: lost\n")

    [name] = blobs_in(undelivered)
    assert re.fullmatch(r"DEAD-LETTERED/\d{4}/[1-9]\d?/[1-9]\d?/(0|[1-9]\d?)/[0-9a-f-]{36}\.json", name), name
    [event] = json.loads(undelivered.download_blob(name).readall())
    assert event["eventType"] == "Microsoft.Storage.BlobCreated" and event["subject"].endswith("/fraud/lost.yml")
    assert event["data"]["api"] == "PutBlob" and event["metadataVersion"] == "1"
    assert event["deadLetterReason"] == "MaxDeliveryAttemptsExceeded"
    assert event["deliveryAttempts"] == 2 and event["lastDeliveryOutcome"] == "Busy"
    published = datetime.fromisoformat(event["publishTime"])
    assert published <= datetime.fromisoformat(event["lastDeliveryAttemptTime"])
    assert not watched.queue.peek_messages()


def test_a_send_answered_with_a_status_event_grid_does_not_retry_is_dead_lettered_after_one_attempt(
    arm: ArmEndpoint, azurite: Azurite, accounts: Accounts, control: SandboxControl
) -> None:
    raw = RawArm(arm)
    undelivered, dead_letter = dead_letter_container(raw, accounts)
    watched = Watched(raw, azurite, accounts, "refused", deadLetterDestination=dead_letter)  # 30 attempts
    control.set_faults([{"service": "eventgrid", "fail": 1, "status": 403}])

    watched.models.upload_blob("fraud/refused.yml", b"name: refused\n")

    [name] = blobs_in(undelivered)
    [event] = json.loads(undelivered.download_blob(name).readall())
    assert event["subject"].endswith("/fraud/refused.yml")
    assert event["deadLetterReason"] == "MaxDeliveryAttemptsExceeded"
    assert event["deliveryAttempts"] == 1 and event["lastDeliveryOutcome"] == "Forbidden"
    assert not watched.queue.peek_messages()  # the one failed attempt was not retried: nothing arrived


def test_a_fail_rule_outside_its_bounds_is_refused_naming_the_field(control: SandboxControl) -> None:
    with pytest.raises(ControlError, match=r"400 rules\[0\]\.fail must be an integer in \[1, 30\]"):
        control.set_faults([{"service": "eventgrid", "fail": 31}])
