"""The production ARM gateway's Event Grid writes and reads against the ARM simulator: the system topic and
event subscription decisions of the kinds (``shared/domain/kinds/eventgrid.py``), sent through the generic
resource operations (no Event Grid SDK), polled from their continuation, observed with ``Part.EVENTS``
(one LIST for the topics, one per topic), and deleted; and those of the kinds on an external source
(``kinds/sources.py``), observed by the source's id in a subscription and group of its own."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator

import pytest

from sandbox.arm.launcher import ArmEndpoint
from shared.adapters.arm import AzureArmGateway, build_clients
from shared.adapters.credentials import StaticTokenCredential
from shared.domain.decide import StepContext, decide
from shared.domain.kinds import eventgrid, sources
from shared.domain.kinds.eventgrid import (
    EVENT_SUBSCRIPTION,
    STORAGE_TOPIC_TYPE,
    SUBSCRIPTION_NAME,
    SYSTEM_TOPIC,
    TAG_SOURCE,
    WantSubscription,
    WantTopic,
    subscription_properties,
    topic_name,
)
from shared.domain.naming import source_subscription_name
from shared.domain.resources import ALL_PARTS, Observed, Part, storage_tags
from shared.domain.rule_sources import SourceKind, WatchedSource
from shared.domain.spec import parse_spec
from shared.domain.work import Action, Context, Goal, ResourceRef, ResourceType, Subject, Verb, Watch
from tests.integration.provisioning.test_arm_gateway import (  # noqa: F401 (fixtures)
    Writes,
    arm,
    control,
    finish,
    gateway,
    registry_name,
)

pytestmark = pytest.mark.integration

QUEUE = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/control/providers/"
    "Microsoft.ServiceBus/namespaces/bus/queues/regctl-events"
)


def test_a_topic_and_its_subscription_are_written_observed_and_deleted_through_the_gateway(
    gateway: AzureArmGateway,  # noqa: F811 (the fixture)
):
    reg = registry_name()
    group, account = f"regctl-{reg}", f"{reg}st0"
    writes = Writes(gateway)
    writes.ensure_group(group, "westus", {"regctl-registry": reg})
    tags = storage_tags(reg, {}, "westus", 0)
    finish(gateway, writes.create_storage(group, account, location="westus", sku="Standard_LRS", hns=False, tags=tags))
    observed = gateway.observe(reg, group, ALL_PARTS | {Part.EVENTS})
    assert observed.system_topics == () and observed.event_subscriptions == ()
    source = observed.storage[0].id
    subject = Subject("westus", 0, "", "storage")
    want = WantTopic(account, source, "westus", STORAGE_TOPIC_TYPE, {**tags, TAG_SOURCE: "storage"})

    action = SYSTEM_TOPIC.create(subject, want, None, Context(None, observed, group))
    assert action.verb is Verb.CREATE and action.ref is not None
    state = gateway.put(action.ref, action.body)
    assert not state.done, "a system topic's PUT is a long-running operation"
    finish(gateway, state)
    observed = gateway.observe(reg, group, frozenset({Part.EVENTS}))
    assert [(t.name, t.source, t.topic_type, t.state) for t in observed.system_topics] == [
        (topic_name(account), source, STORAGE_TOPIC_TYPE, "Succeeded")
    ]
    assert SYSTEM_TOPIC.actual(Context(None, observed, group)) == {subject: observed.system_topics[0]}

    sub_want = WantSubscription(topic_name(account), subscription_properties("storage", QUEUE))
    action = EVENT_SUBSCRIPTION.create(subject, sub_want, None, Context(None, observed, group))
    assert action.verb is Verb.CREATE and action.ref is not None
    finish(gateway, gateway.put(action.ref, action.body))
    observed = gateway.observe(reg, group, frozenset({Part.EVENTS}))
    [sub] = observed.event_subscriptions
    assert (sub.name, sub.topic, sub.state) == (SUBSCRIPTION_NAME, topic_name(account), "Succeeded")
    have = EVENT_SUBSCRIPTION.actual(Context(None, observed, group))[subject]
    assert EVENT_SUBSCRIPTION.needs(sub_want, have) == [], "what the simulator answers is what regctl wants"
    assert gateway.observe_all(ALL_PARTS | {Part.EVENTS})[reg].event_subscriptions == observed.event_subscriptions

    ctx = Context(None, observed, group)
    for delete in (EVENT_SUBSCRIPTION.delete(have, ctx), SYSTEM_TOPIC.delete(observed.system_topics[0], ctx)):
        assert delete.verb is Verb.DELETE and delete.ref is not None
        finish(gateway, gateway.delete(delete.ref))
    observed = gateway.observe(reg, group, frozenset({Part.EVENTS}))
    assert observed.system_topics == () and observed.event_subscriptions == ()


@pytest.fixture
def configured() -> Iterator[None]:
    eventgrid.configure(QUEUE)
    try:
        yield
    finally:
        eventgrid.configure("")


def test_an_external_sources_topic_and_the_registrys_subscription_are_written_observed_and_deleted(
    gateway: AzureArmGateway,  # noqa: F811 (the fixture)
    arm: ArmEndpoint,  # noqa: F811 (the fixture)
    configured: None,
):
    """A team's ACR in a subscription and group of its own: observed by id, the kinds' PUTs land there."""
    team_sub, reg = str(uuid.uuid4()), registry_name()
    team = build_clients(StaticTokenCredential("test-token"), team_sub, arm.endpoint, arm.ca_bundle)
    group, name = f"team-{reg}", f"{reg}build"
    team.resources.resource_groups.create_or_update(group, {"location": "westus"})
    acr = team.acr.registries.begin_create(group, name, {"location": "westus", "sku": {"name": "Basic"}}).result()
    source = WatchedSource(str(acr.id), SourceKind.ACR)
    missing = WatchedSource(str(acr.id).replace(name, f"{name}gone"), SourceKind.ACR)
    spec = parse_spec({"name": reg, "location": "eastus", "replication_locations": [{"location": "eastus"}]}).spec
    mine, watch, subject = source_subscription_name(reg), Watch(source, ("team",)), sources.subject_of(source)

    def decided(kind: str, goal: Goal = Goal.ENSURE) -> Action:
        [found] = gateway.observe_sources([source], mine)
        watches = (watch,) if goal is Goal.ENSURE else ()
        return decide(StepContext(kind, goal, subject, spec, Observed(sources=(found,)), "g", watches=watches))

    found, gone = gateway.observe_sources([source, missing], mine)
    assert (found.exists, found.location, found.topic) == (True, "westus", None)
    assert (gone.exists, gone.problem) == (False, "not found")
    for kind in ("source_topic", "source_subscription"):
        action = decided(kind)
        assert action.verb is Verb.CREATE and action.ref is not None and action.ref.subscription == team_sub
        finish(gateway, gateway.put(action.ref, action.body))
    [found] = gateway.observe_sources([source], mine)
    assert (
        found.topic is not None
        and found.topic.name == f"regctl-{name}"
        and found.topic.tags == {"regctl-source": "external"}
    )
    assert found.subscription is not None and found.subscription.name == mine and found.others == ()
    assert decided("source_topic").verb is Verb.NOOP and decided("source_subscription").verb is Verb.NOOP

    theirs = ResourceRef(ResourceType.EVENT_SUBSCRIPTION, group, "team-hook", parent=found.topic.name)
    theirs = dataclasses.replace(theirs, subscription=team_sub)
    finish(gateway, gateway.put(theirs, {"properties": subscription_properties("acr", QUEUE + "-team")}))
    finish(gateway, gateway.delete(decided("source_subscription", Goal.DELETE).ref))  # type: ignore[arg-type]
    [found] = gateway.observe_sources([source], mine)
    assert found.subscription is None and found.others == ("team-hook",)
    assert decided("source_topic", Goal.DELETE).verb is Verb.NOOP, "another subscription keeps regctl's topic"
