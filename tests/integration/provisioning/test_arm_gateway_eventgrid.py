"""The production ARM gateway's Event Grid writes and reads against the ARM simulator: the system topic and
event subscription decisions of the kinds (``shared/domain/kinds/eventgrid.py``), sent through the generic
resource operations (no Event Grid SDK), polled from their continuation, observed with ``Part.EVENTS``
(one LIST for the topics, one per topic), and deleted."""

from __future__ import annotations

import pytest

from shared.adapters.arm import AzureArmGateway
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
from shared.domain.resources import ALL_PARTS, Part, storage_tags
from shared.domain.work import Context, Subject, Verb
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
