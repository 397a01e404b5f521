"""Event Grid system topics and their event subscriptions in FakeArm's memory (``FakeArm.eventgrid``).

As the simulator (``sandbox/arm/eventgrid.py``) and Azure do: a topic's source must exist, one topic per
source, source and type unchangeable; PUT of a topic or a subscription is a long-running operation;
deleting a topic deletes its subscriptions, deleting the group deletes both (those in that group only: a
topic on an external source lives in the source's group). ``observe_sources`` reads as the gateway's does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.domain.resources import ObservedEventSubscription, ObservedSource, ObservedSystemTopic
from shared.domain.rule_sources import WatchedSource
from shared.domain.work import ResourceRef, ResourceType


@dataclass
class FakeEventGrid:
    topics: dict[str, ObservedSystemTopic] = field(default_factory=dict)  # by lowercase name
    subscriptions: dict[tuple[str, str], ObservedEventSubscription] = field(default_factory=dict)  # (topic, name)
    groups: dict[str, str] = field(default_factory=dict)  # the resource group of each topic, by lowercase name

    def put(self, ref: ResourceRef, body: dict[str, Any], sources: set[str]) -> tuple[str, dict[str, object]]:
        """What the write changes once its operation finishes (``FakeArm._lro``'s ``apply``)."""
        props = dict(body.get("properties") or {})
        if ref.type is ResourceType.SYSTEM_TOPIC:
            source = str(props["source"])
            assert source.lower() in sources, f"the source {source} of a system topic must exist"
            existing = self.topics.get(ref.name.lower())
            assert existing is None or existing.source.lower() == source.lower(), "a topic's source never changes"
            clash = [t for t in self.topics.values() if t.source.lower() == source.lower() and t is not existing]
            assert not clash, "one system topic per source"
            self.groups[ref.name.lower()] = ref.group.lower()
            topic = ObservedSystemTopic(
                ref.name, str(body["location"]), source, str(props["topicType"]), dict(body.get("tags") or {})
            )
            return f"topic:{ref.name}", {"topic:" + ref.name: topic}
        assert ref.parent.lower() in self.topics, f"system topic {ref.parent} not found"
        sub = ObservedEventSubscription(ref.name, ref.parent, props)
        return f"subscription:{ref.parent}/{ref.name}", {f"subscription:{ref.parent}/{ref.name}": sub}

    def delete(self, ref: ResourceRef) -> tuple[str, dict[str, object]]:
        if ref.type is ResourceType.SYSTEM_TOPIC:
            return f"delete-topic:{ref.name}", {"topic:" + ref.name: None}
        return f"delete-subscription:{ref.parent}/{ref.name}", {f"subscription:{ref.parent}/{ref.name}": None}

    def finish(self, kind: str, name: str, value: object) -> None:
        if kind == "topic":
            if value is None:
                self.topics.pop(name.lower(), None)
                for key in [k for k in self.subscriptions if k[0] == name.lower()]:
                    del self.subscriptions[key]
            else:
                assert isinstance(value, ObservedSystemTopic)
                self.topics[name.lower()] = value
        elif kind == "subscription":
            topic, _, sub = name.partition("/")
            if value is None:
                self.subscriptions.pop((topic.lower(), sub), None)
            elif topic.lower() in self.topics:
                assert isinstance(value, ObservedEventSubscription)
                self.subscriptions[(topic.lower(), sub)] = value

    def clear(self, group: str) -> None:
        """The resource group ``group`` is deleted, and its topics with it."""
        for name in [n for n in self.topics if self.groups.get(n, group.lower()) == group.lower()]:
            self.finish("topic", name, None)

    def add_topic(self, group: str, topic: ObservedSystemTopic) -> None:
        """A topic made by someone else (not through a write)."""
        self.topics[topic.name.lower()] = topic
        self.groups[topic.name.lower()] = group.lower()

    def observe_sources(
        self, sources: list[WatchedSource], subscription: str, external: dict[str, str]
    ) -> tuple[ObservedSource, ...]:
        """Each source as the gateway reports it; ``external``: the sources that exist, id -> location."""
        found: list[ObservedSource] = []
        for source in sources:
            location = external.get(source.key)
            exists, problem = location is not None, "" if location is not None else "not found"
            topic = next((t for t in self.topics.values() if t.source.lower() == source.key), None)
            if topic is None or self.groups.get(topic.name.lower()) != source.resource_group.lower():
                found.append(ObservedSource(source, exists, location or "", problem))
                continue
            subs = [s for (t, _), s in self.subscriptions.items() if t == topic.name.lower()]
            mine = next((s for s in subs if s.name.lower() == subscription.lower()), None)
            others = tuple(sorted(s.name for s in subs if s is not mine))
            found.append(ObservedSource(source, exists, location or "", problem, topic, mine, others))
        return tuple(found)

    def observed(self) -> tuple[tuple[ObservedSystemTopic, ...], tuple[ObservedEventSubscription, ...]]:
        return tuple(self.topics.values()), tuple(self.subscriptions.values())
