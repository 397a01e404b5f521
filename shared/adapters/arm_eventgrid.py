"""Event Grid system topics and their event subscriptions through ARM's generic resource operations.

``azure-mgmt-eventgrid`` is not a dependency of regctl: the writes are ``resources.begin_create_or_update_by_id``
and ``begin_delete_by_id`` of ``azure-mgmt-resource`` (long-running, resumed from their continuation like
the others), and the reads are LISTs sent through the same client's pipeline (``send_request``: its
credential, retries and transport), api ``EVENTGRID_API``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources import ResourceManagementClient

from shared.domain.resources import TAG_REGISTRY, ObservedEventSubscription, ObservedSystemTopic
from shared.domain.work import ResourceRef, ResourceType

EVENTGRID_API = "2025-02-15"


def eventgrid_id(subscription_id: str, ref: ResourceRef) -> str:
    """The ARM id of a system topic (``ref.name``) or of an event subscription (``ref.parent``: its topic)."""
    base = f"/subscriptions/{subscription_id}/resourceGroups/{ref.group}/providers/Microsoft.EventGrid/systemTopics"
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


def observe_eventgrid(
    client: ResourceManagementClient, subscription_id: str, resource_group: str, registry: str
) -> tuple[tuple[ObservedSystemTopic, ...], tuple[ObservedEventSubscription, ...]]:
    """The system topics of ``registry`` in its group (those with its management tag; one LIST) and the
    event subscriptions of each (one LIST per topic)."""
    group = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
    topics: list[ObservedSystemTopic] = []
    for item in _listed(client, f"{group}/providers/Microsoft.EventGrid/systemTopics"):
        tags = dict(item.get("tags") or {})
        if tags.get(TAG_REGISTRY) != registry.lower():
            continue
        props = dict(item.get("properties") or {})
        topics.append(
            ObservedSystemTopic(
                name=str(item.get("name") or ""),
                location=str(item.get("location") or "").lower(),
                source=str(props.get("source") or ""),
                topic_type=str(props.get("topicType") or ""),
                tags=tags,
                state=_state(props),
            )
        )
    subscriptions: list[ObservedEventSubscription] = []
    for topic in topics:
        url = f"{group}/providers/Microsoft.EventGrid/systemTopics/{topic.name}/eventSubscriptions"
        for item in _listed(client, url):
            props = dict(item.get("properties") or {})
            subscriptions.append(
                ObservedEventSubscription(str(item.get("name") or ""), topic.name, props, _state(props))
            )
    return tuple(topics), tuple(subscriptions)
