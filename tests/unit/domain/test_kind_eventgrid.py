"""The Event Grid kinds' decisions (pure): a subscription waits for its topic, the topics wait for their
sources, and neither kind wants anything until the events queue is configured."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from shared.domain.decide import StepContext, decide
from shared.domain.kinds import eventgrid
from shared.domain.resources import (
    Observed,
    ObservedAcr,
    ObservedGroup,
    ObservedStorage,
    ObservedSystemTopic,
    registry_tags,
    storage_tags,
)
from shared.domain.spec import parse_spec
from shared.domain.work import Context, Goal, ResourceType, Subject, Verb

QUEUE = "/subscriptions/s/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/n/queues/regctl-events"
SPEC = parse_spec({"name": "Reg1", "location": "eastus", "replication_locations": [{"location": "eastus"}]}).spec
STORAGE_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/reg1st"
ACR_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/reg1acr"
ON_STORAGE = Subject("eastus", 0, "", "storage")


@pytest.fixture(autouse=True)
def configured() -> Iterator[None]:
    eventgrid.configure(QUEUE)
    try:
        yield
    finally:
        eventgrid.configure("")


def observed(storage_state: str = "Succeeded", topic_state: str | None = None) -> Observed:
    tags = storage_tags("Reg1", {}, "eastus", 0)
    account = ObservedStorage("reg1st", "eastus", 0, "Standard_LRS", False, tags, storage_state, id=STORAGE_ID)
    topics: tuple[ObservedSystemTopic, ...] = ()
    if topic_state is not None:
        topic_tags = {**tags, eventgrid.TAG_SOURCE: "storage"}
        topic = ObservedSystemTopic("regctl-reg1st", "eastus", STORAGE_ID, eventgrid.STORAGE_TOPIC_TYPE, topic_tags)
        topics = (dataclasses.replace(topic, state=topic_state),)
    acr = ObservedAcr("reg1acr", "eastus", "Premium", registry_tags("Reg1", {}), id=ACR_ID)
    return Observed(ObservedGroup("rg", "eastus"), (account,), acr, system_topics=topics)


def step(kind: str, seen: Observed) -> StepContext:
    return StepContext(kind, Goal.ENSURE, ON_STORAGE, SPEC, seen, "rg")


def test_a_topic_waits_for_its_storage_account_and_is_then_put_on_it():
    creating = observed(storage_state="Creating")
    assert ON_STORAGE not in eventgrid.SYSTEM_TOPIC.desired(Context(SPEC, creating, "rg"))
    action = decide(step("system_topic", observed()))
    assert action.verb is Verb.CREATE and action.ref is not None
    assert (action.ref.type, action.ref.name) == (ResourceType.SYSTEM_TOPIC, "regctl-reg1st")
    assert action.body["properties"] == {"source": STORAGE_ID, "topicType": "Microsoft.Storage.StorageAccounts"}
    assert action.body["location"] == "eastus"


def test_a_subscription_waits_for_its_topic_to_succeed():
    assert decide(step("event_subscription", observed())).verb is Verb.WAIT
    assert decide(step("event_subscription", observed(topic_state="Creating"))).verb is Verb.WAIT
    action = decide(step("event_subscription", observed(topic_state="Succeeded")))
    assert action.verb is Verb.CREATE and action.ref is not None
    assert (action.ref.type, action.ref.parent, action.ref.name) == (
        ResourceType.EVENT_SUBSCRIPTION,
        "regctl-reg1st",
        "regctl-events",
    )
    assert action.body["properties"]["destination"]["properties"]["resourceId"] == QUEUE


def test_unconfigured_neither_kind_wants_anything():
    eventgrid.configure("")
    ctx = Context(SPEC, observed(topic_state="Succeeded"), "rg")
    assert eventgrid.SYSTEM_TOPIC.desired(ctx) == {} and eventgrid.EVENT_SUBSCRIPTION.desired(ctx) == {}


DEAD_LETTERS = "/subscriptions/s/resourceGroups/cp/providers/Microsoft.Storage/storageAccounts/cpstate"


def test_subscriptions_state_the_retry_policy_and_the_dead_letter_destination_when_one_is_configured():
    plain = eventgrid.subscription_properties("storage", QUEUE)
    assert plain["retryPolicy"] == {"maxDeliveryAttempts": 30, "eventTimeToLiveInMinutes": 1440}
    assert "deadLetterDestination" not in plain
    eventgrid.configure(QUEUE, DEAD_LETTERS, "eventgrid-deadletter")
    action = decide(step("event_subscription", observed(topic_state="Succeeded")))
    assert action.verb is Verb.CREATE
    assert action.body["properties"]["deadLetterDestination"] == {
        "endpointType": "StorageBlob",
        "properties": {"resourceId": DEAD_LETTERS, "blobContainerName": "eventgrid-deadletter"},
    }


def test_a_subscription_without_the_configured_dead_letter_destination_or_with_another_retry_policy_drifts():
    eventgrid.configure(QUEUE, DEAD_LETTERS, "eventgrid-deadletter")
    want = eventgrid.WantSubscription("regctl-reg1st", eventgrid.subscription_properties("storage", QUEUE))
    made_before = {k: v for k, v in want.properties.items() if k not in ("deadLetterDestination", "retryPolicy")}
    have = eventgrid.HaveSubscription("regctl-events", "regctl-reg1st", made_before, "Succeeded")
    assert [d.field for d in eventgrid.EVENT_SUBSCRIPTION.needs(want, have)] == ["deadLetterDestination"]
    shortened = {**want.properties, "retryPolicy": {"maxDeliveryAttempts": 3, "eventTimeToLiveInMinutes": 1440}}
    have = eventgrid.HaveSubscription("regctl-events", "regctl-reg1st", shortened, "Succeeded")
    assert [d.field for d in eventgrid.EVENT_SUBSCRIPTION.needs(want, have)] == ["retryPolicy"]
    same = eventgrid.HaveSubscription("regctl-events", "regctl-reg1st", dict(want.properties), "Succeeded")
    assert eventgrid.EVENT_SUBSCRIPTION.needs(want, same) == []


def test_a_dead_letter_account_without_a_container_configures_none():
    eventgrid.configure(QUEUE, DEAD_LETTERS, "")
    assert "deadLetterDestination" not in eventgrid.subscription_properties("acr", QUEUE)
