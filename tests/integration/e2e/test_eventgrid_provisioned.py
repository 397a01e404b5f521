# mypy: disable-error-code="call-overload,union-attr"
# The storage SDK accepts a JSON dict at run time but only types its model/IO overloads, and types every
# property of its models Optional.
"""The Event Grid subscriptions regctl provisions, on a running sandbox with ``EVENTS_QUEUE_RESOURCE_ID`` set
(one sandbox for the module):

- a registry created through the API gets a system topic on its storage account and its ACR, each with
  regctl's event subscription; a blob put into the account outside ``assets`` arrives on the queue that
  setting names as one ``Microsoft.Storage.BlobCreated`` (through the sandbox's Event Grid stand-in), and
  one put into ``assets`` (regctl's own copies) does not;
- promotion rules into it naming sources outside regctl (a team's build ACR and a storage account, each in
  a group of their own) get a topic and the registry's subscription on each; one with a topic someone else
  made on it gets the subscription on that topic (rules made through the API, each making the registry
reconcile); deleting the rules through the API removes what regctl
  made and leaves the other topic and its subscription in place.

The queue named here is one the test reads, not the host's events queue (whose handler would consume the
event first): what is shown is that the subscription regctl made delivers where the setting says."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueClient

from shared.domain.naming import source_subscription_name
from tests.integration.e2e.conftest import Env, start_env
from tests.integration.e2e.test_eventgrid_standin import ACCOUNT, API, arm, put_and_wait, received
from tests.integration.e2e.test_provisioning import unique

pytestmark = pytest.mark.integration
DEAD_LETTERS = "/subscriptions/0/resourceGroups/cp/providers/Microsoft.Storage/storageAccounts/cpstate"


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Env, str]]:
    """The sandbox, and the ARM id of the queue its ``EVENTS_QUEUE_RESOURCE_ID`` names (created in Azurite)."""
    observed = unique("egobserved").lower()
    queue_id = f"/subscriptions/0/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/n/queues/{observed}"
    env_vars = {"EVENTS_QUEUE_RESOURCE_ID": queue_id, "EVENTS_DEAD_LETTER_ACCOUNT_ID": DEAD_LETTERS}
    for env in start_env(tmp_path_factory.mktemp("sandbox"), **env_vars):
        QueueClient.from_connection_string(env.sandbox.info["azurite"]["connection_string"], observed).create_queue()
        yield env, queue_id


def created(env: Env, prefix: str) -> str:
    name = unique(prefix)
    body = yaml.safe_dump({"name": name, "location": "eastus", "replication_locations": [{"location": "eastus"}]})
    operation = env.wait(env.create(body).headers["Location"], timeout=120)
    assert operation["status"] == "Succeeded", operation
    return name


def test_a_created_registry_delivers_blob_created_to_the_events_queue_through_regctls_subscription(
    events: tuple[Env, str],
):
    env, queue_id = events
    queue = QueueClient.from_connection_string(
        env.sandbox.info["azurite"]["connection_string"], queue_id.rsplit("/", 1)[-1]
    )
    name = created(env, "Events")

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
        assert sub["properties"]["retryPolicy"] == {"maxDeliveryAttempts": 30, "eventTimeToLiveInMinutes": 1440}
        assert sub["properties"]["deadLetterDestination"] == {
            "endpointType": "StorageBlob",
            "properties": {"resourceId": DEAD_LETTERS, "blobContainerName": "eventgrid-deadletter"},
        }

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


def listed(client: Any, path: str) -> list[dict[str, Any]]:
    answer = client.get(path, params={"api-version": API})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["value"]
    return found


def subscriptions_of(client: Any, topic: dict[str, Any]) -> set[str]:
    return {s["name"] for s in listed(client, f"{topic['id']}/eventSubscriptions")}


def test_rules_naming_sources_outside_regctl_get_the_registrys_subscriptions_there_until_they_are_deleted(
    events: tuple[Env, str],
):
    env, queue_id = events
    name = created(env, "Watching")
    sub_id = env.sandbox.info["arm"]["subscription_id"]
    team = unique("team-build")
    env.arm.resources.resource_groups.create_or_update(team, {"location": "westus"})
    acr_body = {"location": "westus", "sku": {"name": "Basic"}}
    build = env.arm.acr.registries.begin_create(team, unique("teambuild"), acr_body).result()
    other = env.arm.acr.registries.begin_create(team, unique("teamother"), acr_body).result()
    drops = env.arm.storage.storage_accounts.begin_create(team, unique("drops"), ACCOUNT).result()
    topics = f"/subscriptions/{sub_id}/resourceGroups/{team}/providers/Microsoft.EventGrid/systemTopics"
    shared = unique("shared-events")  # the team keeps its topic in a group of its own: Azure allows one per source
    env.arm.resources.resource_groups.create_or_update(shared, {"location": "westus"})
    shared_topics = f"/subscriptions/{sub_id}/resourceGroups/{shared}/providers/Microsoft.EventGrid/systemTopics"
    theirs = {"source": str(other.id), "topicType": "Microsoft.ContainerRegistry.Registries"}
    hook = {"destination": {"endpointType": "ServiceBusQueue", "properties": {"resourceId": queue_id + "-team"}}}
    with arm(env) as client:
        put_and_wait(client, f"{shared_topics}/team-events", {"location": "westus", "properties": theirs})
        put_and_wait(client, f"{shared_topics}/team-events/eventSubscriptions/team-hook", {"properties": hook})

    rules = {
        "team-images": {"acr": str(build.id), "repository": "team/*"},
        "team-drops": {"storage": str(drops.id), "container": "drops"},
        "team-other": {"acr": str(other.id)},
    }
    for rule, rule_source in rules.items():  # each PUT makes the registry reconcile (a sync, or its running one)
        made = env.api.put(f"/api/promotionRules/{rule}", json={"source": rule_source, "target": {"registry": name}})
        assert made.status_code == 200, made.text
    deadline = time.monotonic() + 120
    with arm(env) as client:
        while len(
            [
                t
                for t in listed(client, topics) + listed(client, shared_topics)
                if source_subscription_name(name) in subscriptions_of(client, t)
            ]
        ) < len(rules):
            assert time.monotonic() < deadline, listed(client, topics)
            time.sleep(0.3)
    registry = env.api.get(f"/api/registries/{name}").json()
    if registry.get("operation"):
        assert env.wait(registry["operation"], timeout=120)["status"] == "Succeeded"

    mine = source_subscription_name(name)
    with arm(env) as client:
        in_team = {t["properties"]["source"].lower(): t for t in listed(client, topics)}
        assert set(in_team) == {str(r.id).lower() for r in (build, drops)}, "regctl's in the source's group"
        by_source = in_team | {t["properties"]["source"].lower(): t for t in listed(client, shared_topics)}
        assert by_source[str(other.id).lower()]["name"] == "team-events", "the topic in another group is used"
        for source, events_wanted in (
            (build, ["Microsoft.ContainerRegistry.ImagePushed"]),
            (drops, ["Microsoft.Storage.BlobCreated"]),
            (other, ["Microsoft.ContainerRegistry.ImagePushed"]),
        ):
            topic = by_source[str(source.id).lower()]
            subs = {s["name"]: s for s in listed(client, f"{topic['id']}/eventSubscriptions")}
            assert mine in subs, (topic["name"], list(subs))
            props = subs[mine]["properties"]
            assert props["destination"]["properties"]["resourceId"] == queue_id
            assert props["filter"]["includedEventTypes"] == events_wanted
        assert by_source[str(build.id).lower()]["tags"] == {"regctl-source": "external"}
        drops_topic = by_source[str(drops.id).lower()]
        [drops_sub] = listed(client, f"{drops_topic['id']}/eventSubscriptions")
        assert drops_sub["properties"]["filter"]["subjectEndsWith"] == "/asset.yml"
    registry = env.api.get(f"/api/registries/{name}").json()
    assert len(registry["resources"]["watched_sources"]) == 3 and registry["drift"] == []

    for rule in rules:
        deleted = env.api.delete(f"/api/promotionRules/{rule}")
        assert deleted.status_code == 204, deleted.text
    deadline = time.monotonic() + 60
    with arm(env) as client:
        while listed(client, topics) or subscriptions_of(client, listed(client, shared_topics)[0]) != {"team-hook"}:
            assert time.monotonic() < deadline, listed(client, topics)
            time.sleep(0.3)
        assert [t["name"] for t in listed(client, shared_topics)] == ["team-events"], "someone else's: kept"
    registry = env.api.get(f"/api/registries/{name}").json()
    assert env.wait(registry["operation"], timeout=60)["status"] == "Succeeded"
    assert "watched_sources" not in env.api.get(f"/api/registries/{name}").json()["resources"]
