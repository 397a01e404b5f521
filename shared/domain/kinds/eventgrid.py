"""Event Grid into the events queue: a system topic on each storage account and on the ACR (kind
``system_topic``), and on each topic one event subscription delivering to the control plane's events queue
(kind ``event_subscription``), both in the registry's resource group (docs/events.md, "Events in").

- storage: ``Microsoft.Storage.BlobCreated`` and ``BlobDeleted``; the ACR: ``ImagePushed`` and
  ``ImageDeleted``; ``endpointType: ServiceBusQueue`` with the queue's ARM id (``EVENTS_QUEUE_RESOURCE_ID``).
- Filters keep regctl's own writes out (shared/reference/assets-events.md section 3.4): an advanced filter
  ``StringNotBeginsWith`` on ``subject`` for the ``assets`` and ``upload-*`` containers, and on
  ``data.target.repository`` for ``environments/`` repositories. The events handler ignores them too.
- Inert until configured: with no destination (``configure("")``, the default) neither kind wants anything
  and the reconciler reads no Event Grid resource. The composition root configures it from the settings.
- Delivery (``delivery_properties``, shared with ``kinds/sources.py``): Event Grid's default retry policy
  stated (30 attempts, 24 h), and, when ``EVENTS_DEAD_LETTER_ACCOUNT_ID`` names a storage account, a
  ``StorageBlob`` dead-letter destination there, so an event Event Grid gives up on is kept, not dropped.

Topics are recognised by the management tags regctl puts on them (registry, region, index, and
``regctl-source``: ``storage`` or ``acr``), so one whose source is gone (a region removed) is still found
and deleted. A topic's ``source`` cannot change in Azure; a topic on a source that was replaced is not
handled (docs/events.md, "Not built yet").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.kinds.base import KindBase
from shared.domain.resources import (
    SUCCEEDED,
    TAG_INDEX,
    TAG_REGION,
    TAG_REGISTRY,
    Observed,
    ObservedSystemTopic,
    Part,
    registry_tags,
    storage_tags,
)
from shared.domain.work import Action, Context, Difference, ResourceRef, ResourceType, Subject, Verb, tag_difference

TAG_SOURCE = "regctl-source"
SUBSCRIPTION_NAME = "regctl-events"
STORAGE_TOPIC_TYPE = "Microsoft.Storage.StorageAccounts"
ACR_TOPIC_TYPE = "Microsoft.ContainerRegistry.Registries"
STORAGE_EVENTS = ("Microsoft.Storage.BlobCreated", "Microsoft.Storage.BlobDeleted")
ACR_EVENTS = ("Microsoft.ContainerRegistry.ImagePushed", "Microsoft.ContainerRegistry.ImageDeleted")
OWN_CONTAINERS = ("/blobServices/default/containers/assets/", "/blobServices/default/containers/upload-")
OWN_REPOSITORIES = ("environments/",)

#: Event Grid's defaults, stated so that drift from them is seen (docs/events.md, "Events in").
MAX_DELIVERY_ATTEMPTS = 30
EVENT_TTL_MINUTES = 1440

_destination = {"queue": "", "dead_letter_account": "", "dead_letter_container": ""}


def configure(queue_resource_id: str, dead_letter_account: str = "", dead_letter_container: str = "") -> None:
    """Where the event subscriptions deliver: the events queue's ARM id ("" turns both kinds off), and where
    Event Grid puts what it could not deliver: a storage account's ARM id and container ("": nowhere)."""
    _destination.update(
        queue=queue_resource_id,
        dead_letter_account=dead_letter_account if dead_letter_container else "",
        dead_letter_container=dead_letter_container if dead_letter_account else "",
    )


def destination() -> str:
    return _destination["queue"]


def delivery_properties(queue: str) -> dict[str, Any]:
    """What every event subscription regctl makes says about delivery: the queue, the retry policy and, when
    configured, the dead-letter destination."""
    properties: dict[str, Any] = {
        "destination": {"endpointType": "ServiceBusQueue", "properties": {"resourceId": queue}},
        "retryPolicy": {"maxDeliveryAttempts": MAX_DELIVERY_ATTEMPTS, "eventTimeToLiveInMinutes": EVENT_TTL_MINUTES},
    }
    if _destination["dead_letter_account"]:
        properties["deadLetterDestination"] = {
            "endpointType": "StorageBlob",
            "properties": {
                "resourceId": _destination["dead_letter_account"],
                "blobContainerName": _destination["dead_letter_container"],
            },
        }
    return properties


def delivery_shape(properties: Mapping[str, Any]) -> dict[str, str]:
    """The delivery settings of a subscription as comparable text (ids compare without case)."""
    dest = properties.get("destination") or {}
    retry = properties.get("retryPolicy") or {}
    dead = properties.get("deadLetterDestination") or {}
    dead_props = dead.get("properties") or {}
    return {
        "destination": f"{dest.get('endpointType', '')} {(dest.get('properties') or {}).get('resourceId', '')}".lower(),
        "retryPolicy": f"{retry.get('maxDeliveryAttempts', MAX_DELIVERY_ATTEMPTS)} attempts, "
        f"{retry.get('eventTimeToLiveInMinutes', EVENT_TTL_MINUTES)} min",
        "deadLetterDestination": (
            f"{dead_props.get('resourceId', '')}/{dead_props.get('blobContainerName', '')}".lower() if dead else "none"
        ),
    }


def topic_name(source_name: str) -> str:
    """The system topic of a storage account or ACR: 3-128 letters, digits and hyphens."""
    return f"regctl-{source_name.lower()}"


@dataclass(frozen=True)
class WantTopic:
    source_name: str
    source: str  # the ARM id of the storage account or ACR
    location: str
    topic_type: str
    tags: dict[str, str]


def subscription_properties(target: str, queue: str) -> dict[str, Any]:
    """The PUT body's ``properties`` of the event subscription on a ``storage`` or ``acr`` topic."""
    events: tuple[str, ...]
    prefixes: tuple[str, ...]
    if target == "acr":
        events, key, prefixes = ACR_EVENTS, "data.target.repository", OWN_REPOSITORIES
    else:
        events, key, prefixes = STORAGE_EVENTS, "subject", OWN_CONTAINERS
    return {
        **delivery_properties(queue),
        "filter": {
            "includedEventTypes": list(events),
            "advancedFilters": [{"operatorType": "StringNotBeginsWith", "key": key, "values": list(prefixes)}],
        },
        "eventDeliverySchema": "EventGridSchema",
    }


def _sources(ctx: Context) -> dict[Subject, WantTopic]:
    """A wanted topic for each storage account and the ACR that exist and are ready."""
    spec = ctx.desired_spec
    found: dict[Subject, WantTopic] = {}
    for entry in spec.replication_locations:
        for index in range(entry.storage.replication_count):
            account = ctx.observed.storage_at(entry.location, index)
            if account is not None and account.state == SUCCEEDED and account.id:
                tags = {**storage_tags(spec.name, {}, entry.location, index), TAG_SOURCE: "storage"}
                found[Subject(entry.location, index, "", "storage")] = WantTopic(
                    account.name, account.id, entry.location, STORAGE_TOPIC_TYPE, tags
                )
    acr = ctx.observed.acr
    if acr is not None and acr.state == SUCCEEDED and acr.id:
        tags = {**registry_tags(spec.name, {}), TAG_REGION: spec.location, TAG_SOURCE: "acr"}
        found[Subject(spec.location, 0, "", "acr")] = WantTopic(acr.name, acr.id, spec.location, ACR_TOPIC_TYPE, tags)
    return found


def _topic_subject(topic: ObservedSystemTopic) -> Subject | None:
    tags = topic.tags
    target = tags.get(TAG_SOURCE)
    if TAG_REGISTRY not in tags or target not in ("storage", "acr"):
        return None
    return Subject(tags.get(TAG_REGION, topic.location), int(tags.get(TAG_INDEX, "0") or 0), "", target)


def _topics(observed: Observed) -> dict[Subject, ObservedSystemTopic]:
    found: dict[Subject, ObservedSystemTopic] = {}
    for topic in observed.system_topics:
        subject = _topic_subject(topic)
        if subject is not None:
            found[subject] = topic
    return found


def _label(what: str, subject: Subject) -> str:
    if subject.target == "acr":
        return f"{what} of the container registry"
    return f"{what} of storage {subject.region}[{subject.index}]"


class SystemTopicKind(KindBase):
    name = "system_topic"
    noun = "event grid system topic"
    reads = frozenset({Part.EVENTS, Part.STORAGE, Part.ACR})
    unblocks = True  # the event subscriptions wait on it
    teardown_after: tuple[str, ...] = ("event_subscription",)

    def desired(self, ctx: Context) -> Mapping[Subject, WantTopic]:
        return _sources(ctx) if destination() else {}

    def actual(self, ctx: Context) -> Mapping[Subject, ObservedSystemTopic]:
        return _topics(ctx.observed)

    def needs(self, want: WantTopic, have: ObservedSystemTopic) -> list[Difference]:
        return tag_difference(want.tags, have.tags)

    def create(self, subject: Subject, want: WantTopic, have: ObservedSystemTopic | None, ctx: Context) -> Action:
        body = {
            "location": want.location,
            "tags": want.tags,
            "properties": {"source": want.source, "topicType": want.topic_type},
        }
        name = have.name if have else topic_name(want.source_name)
        return Action(Verb.CREATE, ResourceRef(ResourceType.SYSTEM_TOPIC, ctx.group, name), body)

    def update(self, want: WantTopic, have: ObservedSystemTopic, ctx: Context) -> Action:
        return self.create(Subject(want.location), want, have, ctx)  # a PUT again: tags are all that may change

    def delete(self, have: ObservedSystemTopic, ctx: Context) -> Action:
        return Action(Verb.DELETE, ResourceRef(ResourceType.SYSTEM_TOPIC, ctx.group, have.name))

    def label(self, subject: Subject) -> str:
        return _label("event grid system topic", subject)

    def summary(self, observed: Observed) -> Mapping[str, Any]:
        if not observed.system_topics:
            return {}
        topics = sorted(observed.system_topics, key=lambda t: t.name)
        return {"event_topics": [{"name": t.name, "source": t.source, "state": t.state} for t in topics]}


@dataclass(frozen=True)
class WantSubscription:
    topic: str
    properties: dict[str, Any]


@dataclass(frozen=True)
class HaveSubscription:
    name: str
    topic: str
    properties: dict[str, Any]
    state: str


class EventSubscriptionKind(KindBase):
    name = "event_subscription"
    noun = "event subscription"
    reads = frozenset({Part.EVENTS, Part.STORAGE, Part.ACR})

    def desired(self, ctx: Context) -> Mapping[Subject, WantSubscription]:
        queue = destination()
        if not queue:
            return {}
        topics = _topics(ctx.observed)
        wants: dict[Subject, WantSubscription] = {}
        for subject, want in _sources(ctx).items():
            topic = topics.get(subject)
            name = topic.name if topic else topic_name(want.source_name)
            wants[subject] = WantSubscription(name, subscription_properties(subject.target, queue))
        return wants

    def actual(self, ctx: Context) -> Mapping[Subject, HaveSubscription]:
        by_topic = {topic.name.lower(): subject for subject, topic in _topics(ctx.observed).items()}
        found: dict[Subject, HaveSubscription] = {}
        for sub in ctx.observed.event_subscriptions:
            subject = by_topic.get(sub.topic.lower())
            if subject is not None and sub.name == SUBSCRIPTION_NAME:
                found[subject] = HaveSubscription(sub.name, sub.topic, sub.properties, sub.state)
        return found

    def needs(self, want: WantSubscription, have: HaveSubscription) -> list[Difference]:
        wanted, actual = delivery_shape(want.properties), delivery_shape(have.properties)
        found = [Difference(key, wanted[key], actual[key]) for key in wanted if wanted[key] != actual[key]]
        flt = have.properties.get("filter") or {}
        events, wanted_events = (
            sorted(flt.get("includedEventTypes") or []),
            sorted(want.properties["filter"]["includedEventTypes"]),
        )
        if events != wanted_events:
            found.append(Difference("includedEventTypes", ", ".join(wanted_events), ", ".join(events)))
        if list(flt.get("advancedFilters") or []) != want.properties["filter"]["advancedFilters"]:
            found.append(Difference("advancedFilters", "regctl's own writes excluded", "other"))
        return found

    def blocked(self, ctx: Context) -> str | None:
        return None  # per subject: create() waits for its own topic

    def create(self, subject: Subject, want: WantSubscription, have: HaveSubscription | None, ctx: Context) -> Action:
        topic = _topics(ctx.observed).get(subject)
        if topic is None:
            return Action(Verb.WAIT, why=f"system topic {want.topic} missing")
        if topic.state != SUCCEEDED:
            return Action(Verb.WAIT, why=f"system topic {topic.name} {topic.state}")
        ref = ResourceRef(ResourceType.EVENT_SUBSCRIPTION, ctx.group, SUBSCRIPTION_NAME, parent=topic.name)
        return Action(Verb.CREATE, ref, {"properties": want.properties})

    def update(self, want: WantSubscription, have: HaveSubscription, ctx: Context) -> Action:
        ref = ResourceRef(ResourceType.EVENT_SUBSCRIPTION, ctx.group, have.name, parent=have.topic)
        return Action(Verb.CREATE, ref, {"properties": want.properties})  # a PUT again, as Azure allows

    def delete(self, have: HaveSubscription, ctx: Context) -> Action:
        ref = ResourceRef(ResourceType.EVENT_SUBSCRIPTION, ctx.group, have.name, parent=have.topic)
        return Action(Verb.DELETE, ref)

    def label(self, subject: Subject) -> str:
        return _label("event subscription", subject)


SYSTEM_TOPIC = SystemTopicKind()
EVENT_SUBSCRIPTION = EventSubscriptionKind()
KINDS = (SYSTEM_TOPIC, EVENT_SUBSCRIPTION)
