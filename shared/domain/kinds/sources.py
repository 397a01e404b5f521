"""Event Grid on the sources that promotion rules watch outside regctl (``shared/domain/rule_sources.py``): a
team's build ACR, a storage account where models are dropped (docs/events.md, "Events in"). The two kinds
work in the registry lane of each rule's *target* registry, beside its own ``system_topic`` and
``event_subscription`` (``kinds/eventgrid.py``, whose destination setting they share):

- ``source_topic``: the source's system topic. Azure allows one per source, so one found on it is used
  whoever made it and whatever its name; otherwise regctl makes ``regctl-{source name}`` in the source's
  resource group, subscription and region, tagged ``regctl-source: external`` (how it knows it made it).
- ``source_subscription``: on that topic, the registry's own event subscription (``source_subscription_name``)
  delivering to the events queue: ``ImagePushed`` of an ACR, ``BlobCreated`` of an ``asset.yml`` in a
  storage account. Changed by hand (queue, event types, filter), it is PUT again.

A source no rule into the registry names any more is still observed while something of the registry's is
on it: ``summary`` remembers it in the registry's ``resources`` and ``remembered`` reads it back. Its
subscription is deleted, then the topic if regctl made it and no other subscription is left on it (another
registry's keeps it). Tearing the registry down deletes them the same way. A source ARM does not show (404,
or refused) fails the step with a message naming it and its rules; the rest of the plan runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.kinds.base import KindBase
from shared.domain.kinds.eventgrid import (
    ACR_TOPIC_TYPE,
    STORAGE_TOPIC_TYPE,
    TAG_SOURCE,
    delivery_properties,
    delivery_shape,
    destination,
    topic_name,
)
from shared.domain.naming import source_subscription_name
from shared.domain.promotions import PromotionRule
from shared.domain.resources import SUCCEEDED, Observed, ObservedSource, ObservedSystemTopic, Part
from shared.domain.rule_sources import ASSET_FILE, SourceKind, WatchedSource
from shared.domain.work import Action, Context, Difference, ResourceRef, ResourceType, Subject, Verb, Watch

EXTERNAL = "external"
"""The value of ``regctl-source`` on a topic regctl made on an external source, and the ``region`` of the
steps' subjects (a source is named by its ARM id, not by a region of the registry)."""
SUMMARY_KEY = "watched_sources"
SOURCE_EVENTS = {
    SourceKind.ACR: ("Microsoft.ContainerRegistry.ImagePushed",),
    SourceKind.STORAGE: ("Microsoft.Storage.BlobCreated",),
}
_TOPIC_TYPES = {SourceKind.ACR: ACR_TOPIC_TYPE, SourceKind.STORAGE: STORAGE_TOPIC_TYPE}
_WHAT = {SourceKind.ACR: "container registry", SourceKind.STORAGE: "storage account"}


def watches_of(rules: Iterable[PromotionRule], registry: str) -> tuple[Watch, ...]:
    """The external sources of the rules into ``registry``, each once with the names of its rules."""
    found: dict[str, tuple[WatchedSource, list[str]]] = {}
    for rule in rules:
        watched = rule.source.watched
        if watched is not None and rule.target_registry == registry.lower():
            found.setdefault(watched.key, (watched, []))[1].append(rule.name)
    return tuple(Watch(source, tuple(sorted(names))) for source, names in (found[k] for k in sorted(found)))


def remembered(resources: Mapping[str, Any]) -> tuple[WatchedSource, ...]:
    """The sources a registry's last observation found something of its own on (``summary``)."""
    entries = resources.get(SUMMARY_KEY)
    found: list[WatchedSource] = []
    for raw in entries if isinstance(entries, list) else []:
        if isinstance(raw, dict) and raw.get("kind") in (SourceKind.ACR, SourceKind.STORAGE) and raw.get("id"):
            found.append(WatchedSource(str(raw["id"]), SourceKind(raw["kind"])))
    return tuple(found)


def to_observe(watches: Iterable[Watch], resources: Mapping[str, Any]) -> tuple[WatchedSource, ...]:
    """What ``Part.SOURCES`` reads: the sources the rules watch, and those remembered (a rule deleted)."""
    found: dict[str, WatchedSource] = {}
    for source in [w.source for w in watches] + list(remembered(resources)):
        found.setdefault(source.key, source)
    return tuple(found[k] for k in sorted(found))


def subject_of(source: WatchedSource) -> Subject:
    """A source's steps: ``{kind}-{name}-{digest of its id}`` (a step's target holds 40 characters, an ARM id
    more; the name is for people, the digest tells apart sources of one name in two groups)."""
    digest = hashlib.sha256(source.key.encode("utf-8")).hexdigest()[:8]
    return Subject(EXTERNAL, 0, "", f"{source.kind.value}-{source.name.lower()[:22]}-{digest}")


def made_by_regctl(topic: ObservedSystemTopic) -> bool:
    return topic.tags.get(TAG_SOURCE) == EXTERNAL


def subscription_properties(kind: SourceKind, queue: str) -> dict[str, Any]:
    """The PUT body's ``properties`` of a registry's event subscription on a source of ``kind``."""
    flt: dict[str, Any] = {"includedEventTypes": list(SOURCE_EVENTS[kind])}
    if kind is SourceKind.STORAGE:
        flt["subjectEndsWith"] = "/" + ASSET_FILE
    return {**delivery_properties(queue), "filter": flt, "eventDeliverySchema": "EventGridSchema"}


def _observed(ctx: Context) -> dict[str, ObservedSource]:
    return {s.key: s for s in ctx.observed.sources}


def _wanted(ctx: Context) -> tuple[Watch, ...]:
    """The rules' sources while the registry is wanted and Event Grid is configured; none in a teardown."""
    return ctx.watches if destination() and ctx.spec is not None else ()


def _missing(watch: Watch, found: ObservedSource) -> str:
    """Why nothing can be subscribed on ``watch``'s source: it is not there, or ARM would not show it."""
    source = watch.source
    return (
        f"the {_WHAT[source.kind]} {source.resource_id} that promotion rule(s) {', '.join(watch.rules) or '-'} "
        f"watch: {found.problem or 'not found'}; fix the rule's source or delete the rule"
    )


def _unobserved(watch: Watch) -> Action:
    return Action(Verb.WAIT, why=f"{watch.source.resource_id} not observed yet")


def _label(what: str, subject: Subject) -> str:
    kind, _, rest = subject.target.partition("-")
    return f"{what} of the external {kind} {rest.rpartition('-')[0]}"


@dataclass(frozen=True)
class WantTopic:
    watch: Watch
    found: ObservedSource | None  # None: not observed yet


@dataclass(frozen=True)
class HaveTopic:
    source: WatchedSource
    topic: ObservedSystemTopic

    @property
    def name(self) -> str:
        return self.topic.name

    @property
    def state(self) -> str:
        return self.topic.state


def _topic_ref(source: WatchedSource, name: str, group: str = "") -> ResourceRef:
    """A topic on ``source``: in ``group`` when it was found there (Azure allows one per source, in any group),
    else in the source's own group."""
    return ResourceRef(
        ResourceType.SYSTEM_TOPIC, group or source.resource_group, name, subscription=source.subscription_id
    )


class SourceTopicKind(KindBase):
    name = "source_topic"
    noun = "event grid system topic"
    reads = frozenset({Part.SOURCES})
    unblocks = True  # the registry's subscription waits on it
    teardown_after: tuple[str, ...] = ("source_subscription",)

    def desired(self, ctx: Context) -> Mapping[Subject, WantTopic]:
        observed = _observed(ctx)
        return {subject_of(w.source): WantTopic(w, observed.get(w.source.key)) for w in _wanted(ctx)}

    def actual(self, ctx: Context) -> Mapping[Subject, HaveTopic]:
        """The topic of every source wanted (whoever made it), and a topic regctl made that is left with no
        subscription at all (to delete). Someone else's topic is never regctl's to delete."""
        wanted = {w.source.key for w in _wanted(ctx)}
        found: dict[Subject, HaveTopic] = {}
        for source in ctx.observed.sources:
            topic = source.topic
            if topic is None:
                continue
            unused = made_by_regctl(topic) and source.subscription is None and not source.others
            if source.key in wanted or unused:
                found[subject_of(source.source)] = HaveTopic(source.source, topic)
        return found

    def create(self, subject: Subject, want: WantTopic, have: HaveTopic | None, ctx: Context) -> Action:
        found, source = want.found, want.watch.source
        if found is None:
            return _unobserved(want.watch)
        if not found.exists:
            return Action(Verb.FAIL, why=_missing(want.watch, found), code="SourceNotFound")
        if have is not None and not made_by_regctl(have.topic):
            why = f"the system topic {have.name} on {source.resource_id} is {have.state}; it is not regctl's to repair"
            return Action(Verb.FAIL, why=why, code="SourceTopicFailed")
        body = {
            "location": found.location,
            "tags": {TAG_SOURCE: EXTERNAL},
            "properties": {"source": source.resource_id, "topicType": _TOPIC_TYPES[source.kind]},
        }
        ref = (
            _topic_ref(source, have.name, have.topic.resource_group)
            if have
            else _topic_ref(source, topic_name(source.name))
        )
        return Action(Verb.CREATE, ref, body)

    def needs(self, want: WantTopic, have: HaveTopic) -> list[Difference]:
        """Nothing of a topic is regctl's to change; but one left on a source that is gone is reported."""
        if want.found is None or want.found.exists:
            return []
        return [Difference("source", "present", want.found.problem or "not found")]

    def update(self, want: WantTopic, have: HaveTopic, ctx: Context) -> Action:
        if want.found is None:  # only a source gone differs
            return _unobserved(want.watch)
        return Action(Verb.FAIL, why=_missing(want.watch, want.found), code="SourceNotFound")

    def delete(self, have: HaveTopic, ctx: Context) -> Action:
        return Action(Verb.DELETE, _topic_ref(have.source, have.name, have.topic.resource_group))

    def label(self, subject: Subject) -> str:
        return _label("event grid system topic", subject)

    def summary(self, observed: Observed) -> Mapping[str, Any]:
        """The sources the registry has something on: its subscription, or a topic regctl made that is
        empty. What it watches without a rule (deleted) is found again from here."""
        kept = [
            s
            for s in observed.sources
            if s.subscription is not None or (s.topic is not None and made_by_regctl(s.topic) and not s.others)
        ]
        if not kept:
            return {}
        return {
            SUMMARY_KEY: [
                {
                    "id": s.source.resource_id,
                    "kind": s.source.kind.value,
                    "topic": s.topic.name if s.topic else "",
                    "topic_state": s.topic.state if s.topic else "",
                    "subscription": s.subscription.name if s.subscription else "",
                    "subscription_state": s.subscription.state if s.subscription else "",
                }
                for s in sorted(kept, key=lambda s: s.key)
            ]
        }


@dataclass(frozen=True)
class WantSubscription:
    watch: Watch
    found: ObservedSource | None
    properties: dict[str, Any]


@dataclass(frozen=True)
class HaveSubscription:
    source: WatchedSource
    name: str
    topic: str
    properties: dict[str, Any]
    state: str
    topic_group: str = ""  # the topic's resource group ("": the source's)


def _shape(properties: Mapping[str, Any]) -> dict[str, str]:
    """What of a subscription regctl sets, as comparable text (ARM adds defaults to the rest)."""
    flt = properties.get("filter") or {}
    return {
        **delivery_shape(properties),
        "includedEventTypes": ", ".join(sorted(flt.get("includedEventTypes") or [])),
        "subjectBeginsWith": str(flt.get("subjectBeginsWith") or ""),
        "subjectEndsWith": str(flt.get("subjectEndsWith") or ""),
        "advancedFilters": str(list(flt.get("advancedFilters") or [])),
        "eventDeliverySchema": str(properties.get("eventDeliverySchema") or "EventGridSchema"),
    }


def _subscription_ref(source: WatchedSource, topic: str, name: str, group: str = "") -> ResourceRef:
    return ResourceRef(
        ResourceType.EVENT_SUBSCRIPTION,
        group or source.resource_group,
        name,
        parent=topic,
        subscription=source.subscription_id,
    )


class SourceSubscriptionKind(KindBase):
    name = "source_subscription"
    noun = "event subscription"
    reads = frozenset({Part.SOURCES})

    def desired(self, ctx: Context) -> Mapping[Subject, WantSubscription]:
        queue, observed = destination(), _observed(ctx)
        wants: dict[Subject, WantSubscription] = {}
        for watch in _wanted(ctx):
            found = observed.get(watch.source.key)
            wants[subject_of(watch.source)] = WantSubscription(
                watch, found, subscription_properties(watch.source.kind, queue)
            )
        return wants

    def actual(self, ctx: Context) -> Mapping[Subject, HaveSubscription]:
        found: dict[Subject, HaveSubscription] = {}
        for source in ctx.observed.sources:
            sub = source.subscription
            if sub is not None:
                group = source.topic.resource_group if source.topic else ""
                found[subject_of(source.source)] = HaveSubscription(
                    source.source, sub.name, sub.topic, sub.properties, sub.state, group
                )
        return found

    def needs(self, want: WantSubscription, have: HaveSubscription) -> list[Difference]:
        wanted, actual = _shape(want.properties), _shape(have.properties)
        return [Difference(field, wanted[field], actual[field]) for field in wanted if wanted[field] != actual[field]]

    def create(self, subject: Subject, want: WantSubscription, have: HaveSubscription | None, ctx: Context) -> Action:
        found = want.found
        if found is None:
            return _unobserved(want.watch)
        if not found.exists:
            return Action(Verb.FAIL, why=_missing(want.watch, found), code="SourceNotFound")
        topic = found.topic
        if topic is None:
            return Action(Verb.WAIT, why=f"no system topic on {want.watch.source.resource_id} yet")
        if topic.state != SUCCEEDED:
            return Action(Verb.WAIT, why=f"system topic {topic.name} {topic.state}")
        name = source_subscription_name(ctx.desired_spec.name)
        ref = _subscription_ref(want.watch.source, topic.name, name, topic.resource_group)
        return Action(Verb.CREATE, ref, {"properties": want.properties})

    def update(self, want: WantSubscription, have: HaveSubscription, ctx: Context) -> Action:
        ref = _subscription_ref(have.source, have.topic, have.name, have.topic_group)
        return Action(Verb.CREATE, ref, {"properties": want.properties})  # a PUT again, as Azure allows

    def delete(self, have: HaveSubscription, ctx: Context) -> Action:
        return Action(Verb.DELETE, _subscription_ref(have.source, have.topic, have.name, have.topic_group))

    def label(self, subject: Subject) -> str:
        return _label("event subscription", subject)


SOURCE_TOPIC = SourceTopicKind()
SOURCE_SUBSCRIPTION = SourceSubscriptionKind()
KINDS = (SOURCE_TOPIC, SOURCE_SUBSCRIPTION)
