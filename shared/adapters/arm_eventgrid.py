"""Event Grid system topics and their event subscriptions through ARM's generic resource operations.

``azure-mgmt-eventgrid`` is not a dependency of regctl: the writes are ``resources.begin_create_or_update_by_id``
and ``begin_delete_by_id`` of ``azure-mgmt-resource`` (long-running, resumed from their continuation like
the others), and the reads are LISTs sent through the same client's pipeline (``send_request``: its
credential, retries and transport), api ``EVENTGRID_API``.

The external sources promotion rules watch (``observe_sources``) are read the same way, by their ARM ids
(any subscription): a GET of the source (api ``SOURCE_API`` of its provider), a LIST of the system topics
in its resource group, and a LIST of the event subscriptions of the one whose ``source`` it is. Azure
allows one system topic per source, in any group: when the source's group has none for it, the topics of
the source's whole subscription are listed, so one someone made elsewhere is found and reused.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient

from shared.domain.resources import (
    TAG_REGISTRY,
    ObservedEventSubscription,
    ObservedSource,
    ObservedSystemTopic,
)
from shared.domain.rule_sources import SourceKind, WatchedSource
from shared.domain.work import ResourceRef, ResourceType

EVENTGRID_API = "2025-02-15"
SOURCE_API = {SourceKind.ACR: "2023-07-01", SourceKind.STORAGE: "2023-05-01"}


def eventgrid_id(subscription_id: str, ref: ResourceRef) -> str:
    """The ARM id of a system topic (``ref.name``) or of an event subscription (``ref.parent``: its topic), in
    ``subscription_id`` unless the ref names another subscription (a topic on an external source)."""
    subscription = ref.subscription or subscription_id
    base = f"/subscriptions/{subscription}/resourceGroups/{ref.group}/providers/Microsoft.EventGrid/systemTopics"
    if ref.type is ResourceType.EVENT_SUBSCRIPTION:
        return f"{base}/{ref.parent}/eventSubscriptions/{ref.name}"
    return f"{base}/{ref.name}"


def _state(properties: dict[str, Any]) -> str:
    return str(properties.get("provisioningState") or "Succeeded")


def _listed(client: ResourceManagementClient, url: str) -> Iterator[dict[str, Any]]:
    """Every item of an ARM LIST, following ``nextLink``."""
    next_url: str | None = f"{url}?api-version={EVENTGRID_API}"
    while next_url:
        response = client.send_request(HttpRequest("GET", next_url))
        if response.status_code == 404:
            raise ResourceNotFoundError(response=response)
        if response.status_code >= 400:
            raise HttpResponseError(response=response)
        page = response.json()
        yield from page.get("value") or []
        next_url = page.get("nextLink")


def _topic(item: dict[str, Any]) -> ObservedSystemTopic:
    props = dict(item.get("properties") or {})
    parts = str(item.get("id") or "").split("/")
    return ObservedSystemTopic(
        name=str(item.get("name") or ""),
        location=str(item.get("location") or "").lower(),
        source=str(props.get("source") or ""),
        topic_type=str(props.get("topicType") or ""),
        tags=dict(item.get("tags") or {}),
        state=_state(props),
        resource_group=parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else "",
    )


def observe_eventgrid(
    client: ResourceManagementClient, subscription_id: str, resource_group: str, registry: str
) -> tuple[tuple[ObservedSystemTopic, ...], tuple[ObservedEventSubscription, ...]]:
    """The system topics of ``registry`` in its group (those with its management tag; one LIST) and the
    event subscriptions of each (one LIST per topic)."""
    group = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
    topics: list[ObservedSystemTopic] = []
    for item in _listed(client, f"{group}/providers/Microsoft.EventGrid/systemTopics"):
        if dict(item.get("tags") or {}).get(TAG_REGISTRY) == registry.lower():
            topics.append(_topic(item))
    subscriptions: list[ObservedEventSubscription] = []
    for topic in topics:
        url = f"{group}/providers/Microsoft.EventGrid/systemTopics/{topic.name}/eventSubscriptions"
        for item in _listed(client, url):
            props = dict(item.get("properties") or {})
            subscriptions.append(
                ObservedEventSubscription(str(item.get("name") or ""), topic.name, props, _state(props))
            )
    return tuple(topics), tuple(subscriptions)


def _get(client: ResourceManagementClient, url: str) -> dict[str, Any] | None:
    """A GET of one resource; None when ARM answers 404."""
    response = client.send_request(HttpRequest("GET", url))
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        raise HttpResponseError(response=response)
    found: dict[str, Any] = response.json()
    return found


def observe_source(client: ResourceManagementClient, source: WatchedSource, subscription: str) -> ObservedSource:
    """One external source: exists (and where), its system topic whoever made it, and on that topic the event
    subscription named ``subscription`` (the registry's) and the names of the others. A source ARM refuses to
    show (403: regctl's identity has no right on it or its group) is reported with the refusal, as one not
    found is."""
    try:
        return _observe_source(client, source, subscription)
    except HttpResponseError as exc:
        if exc.status_code != 403:
            raise
        return ObservedSource(source, exists=False, problem=f"ARM refused to show it to regctl ({exc.reason or 403})")


def _observe_source(client: ResourceManagementClient, source: WatchedSource, subscription: str) -> ObservedSource:
    resource = _get(client, f"{source.resource_id}?api-version={SOURCE_API[source.kind]}")
    exists = resource is not None
    location = str(resource.get("location") or "").lower() if resource else ""
    problem = "" if exists else "not found"
    item = _source_topic(client, source)
    if item is None:
        return ObservedSource(source, exists, location, problem)
    topic = _topic(item)
    topics = f"/subscriptions/{source.subscription_id}/resourceGroups/{topic.resource_group or source.resource_group}"
    try:
        subs = list(
            _listed(client, f"{topics}/providers/Microsoft.EventGrid/systemTopics/{topic.name}/eventSubscriptions")
        )
    except ResourceNotFoundError:
        return ObservedSource(source, exists, location, problem)  # deleted since it was listed
    mine: ObservedEventSubscription | None = None
    others: list[str] = []
    for sub in subs:
        name, props = str(sub.get("name") or ""), dict(sub.get("properties") or {})
        if name.lower() == subscription.lower():
            mine = ObservedEventSubscription(name, topic.name, props, _state(props))
        else:
            others.append(name)
    return ObservedSource(source, exists, location, problem, topic, mine, tuple(sorted(others)))


def _source_topic(client: ResourceManagementClient, source: WatchedSource) -> dict[str, Any] | None:
    """The system topic whose ``source`` is ``source``: looked for in the source's group, then (none there)
    in its whole subscription."""
    scopes = (
        f"/subscriptions/{source.subscription_id}/resourceGroups/{source.resource_group}",
        f"/subscriptions/{source.subscription_id}",
    )
    for scope in scopes:
        try:
            listed = _listed(client, f"{scope}/providers/Microsoft.EventGrid/systemTopics")
            found = next(
                (t for t in listed if str((t.get("properties") or {}).get("source") or "").lower() == source.key), None
            )
        except ResourceNotFoundError:
            found = None  # the group is gone, and its topics with it
        if found is not None:
            return found
    return None


def observe_sources(
    client: ResourceManagementClient, sources: Sequence[WatchedSource], subscription: str
) -> tuple[ObservedSource, ...]:
    """``observe_source`` of each (a GET and one or two LISTs apiece)."""
    return tuple(observe_source(client, source, subscription) for source in sources)
