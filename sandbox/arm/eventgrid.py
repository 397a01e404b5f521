"""Event Grid system topics and their event subscriptions (Microsoft.EventGrid, api 2025-02-15).

- ``systemTopics/{name}`` in a resource group: PUT (201 + ``Azure-AsyncOperation``, ``Creating`` ->
  ``Succeeded``), GET, LIST per resource group and per subscription, DELETE (202 + ``Location``, then
  204). Properties: ``source`` (the resource id the topic is about: a storage account or container
  registry that exists here),
  ``topicType`` (``Microsoft.Storage.StorageAccounts`` or ``Microsoft.ContainerRegistry.Registries``),
  ``metricResourceId`` and ``provisioningState``. ``source`` and ``topicType`` cannot change; a second
  topic for the same source is refused (Azure allows one system topic per source; the code is UNVERIFIED).
- ``systemTopics/{t}/eventSubscriptions/{name}``: PUT (201 + ``Azure-AsyncOperation``), GET, LIST, DELETE
  (202 + ``Location``). Properties: ``destination`` (``endpointType: ServiceBusQueue`` with
  ``properties.resourceId``; other endpoint types are kept as sent), ``filter`` (``includedEventTypes``,
  ``subjectBeginsWith``, ``subjectEndsWith``, ``isSubjectCaseSensitive``, ``advancedFilters``: objects
  with a string ``operatorType``; ``sandbox/arm/eventgrid_filter.py::matches`` applies them),
  ``eventDeliverySchema`` (``EventGridSchema`` by default, or ``CloudEventSchemaV1_0``), ``retryPolicy``
  (defaults 30 attempts, 1440 minutes), ``deadLetterDestination`` (``StorageBlob``), ``labels``, ``topic``
  and ``provisioningState``; ``eventgrid_properties.py`` checks and stores them.
- Deleting the topic deletes its subscriptions; deleting the resource group deletes its topics.

Nothing is delivered from here: the simulator only holds the resources; ``eventgrid_filter.matches`` is
the filter semantics the Event Grid stand-in (``sandbox/eventgrid/``) applies, which also retries and
dead-letters as ``retryPolicy`` and ``deadLetterDestination`` say.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox.arm.acr_body import system_data
from sandbox.arm.config import OpKind
from sandbox.arm.context import Ctx
from sandbox.arm.envelope import (
    ArmError,
    Response,
    invalid_request_content,
    location_not_available,
    method_not_allowed,
    operation_not_found,
    resource_not_found,
)
from sandbox.arm.eventgrid_properties import subscription_properties
from sandbox.arm.lro import Operation, Outcome, Protocol, iso, monitor_response, utc_now
from sandbox.arm.resources import validate_tags
from sandbox.arm.routes import EVENT_SUBSCRIPTION_TYPE, SYSTEM_TOPIC_TYPE
from shared.domain.regions import is_known_region

TOPIC_TYPES = {
    "microsoft.storage.storageaccounts": "Microsoft.Storage.StorageAccounts",
    "microsoft.containerregistry.registries": "Microsoft.ContainerRegistry.Registries",
}
_OPS = (
    OpKind.SYSTEM_TOPIC_CREATE,
    OpKind.SYSTEM_TOPIC_DELETE,
    OpKind.EVENT_SUBSCRIPTION_CREATE,
    OpKind.EVENT_SUBSCRIPTION_DELETE,
)


@dataclass(eq=False)
class EventSubscription:
    name: str
    properties: dict[str, Any]
    state: str = "Creating"
    op: Operation | None = None
    created: str = field(default_factory=lambda: iso(utc_now()))


@dataclass(eq=False)
class SystemTopic:
    id: str
    name: str
    location: str
    tags: dict[str, str]
    source: str
    topic_type: str
    state: str = "Creating"
    op: Operation | None = None
    created: str = field(default_factory=lambda: iso(utc_now()))
    subscriptions: dict[str, EventSubscription] = field(default_factory=dict)


def topic_body(topic: SystemTopic) -> dict[str, Any]:
    return {
        "id": topic.id,
        "name": topic.name,
        "type": SYSTEM_TOPIC_TYPE,
        "location": topic.location,
        "tags": dict(topic.tags),
        "systemData": system_data(topic.created),
        "properties": {
            "source": topic.source,
            "topicType": topic.topic_type,
            "metricResourceId": str(uuid.uuid5(uuid.NAMESPACE_URL, topic.id.lower())),
            "provisioningState": topic.state,
        },
    }


def subscription_body(topic: SystemTopic, sub: EventSubscription) -> dict[str, Any]:
    return {
        "id": f"{topic.id}/eventSubscriptions/{sub.name}",
        "name": sub.name,
        "type": EVENT_SUBSCRIPTION_TYPE,
        "systemData": system_data(sub.created),
        "properties": {**sub.properties, "topic": topic.id, "provisioningState": sub.state},
    }


def _topic_id(ctx: Ctx, name: str) -> str:
    group = ctx.group()
    return f"{group.id}/providers/Microsoft.EventGrid/systemTopics/{name}"


def _topic(ctx: Ctx) -> SystemTopic:
    topic = ctx.store.system_topics.get(_topic_id(ctx, ctx.param("topic")).lower())
    if topic is None:
        raise resource_not_found(SYSTEM_TOPIC_TYPE, ctx.param("topic"), ctx.param("rg"))
    return topic


def _start(ctx: Ctx, kind: OpKind, location: str, protocol: Protocol, resource_type: str) -> Operation:
    op_id = str(uuid.uuid4())
    monitor = "operationsStatus" if protocol is Protocol.ASYNC else "operationResults"
    op = ctx.store.start_operation(
        kind,
        protocol,
        resource_type,
        ctx.subscription,
        f"/subscriptions/{ctx.subscription}/providers/Microsoft.EventGrid/locations/{location}/{monitor}/{op_id}"
        f"?api-version={ctx.request.api_version}",
        now=ctx.now,
        failure=ctx.lro_failure(),
        op_id=op_id,
    )
    if protocol is Protocol.LOCATION:
        op.final_status = 204
    return op


def _async_headers(ctx: Ctx, op: Operation) -> dict[str, str]:
    return {"azure-asyncoperation": op.monitor_url(ctx.request.base_url), **op.retry_headers(ctx.now)}


def _source_exists(ctx: Ctx, source: str) -> bool:
    parts = source.strip("/").split("/")
    if len(parts) != 8 or parts[0].lower() != "subscriptions" or parts[2].lower() != "resourcegroups":
        return False
    sub, rg, provider, kind, name = parts[1], parts[3], parts[5].lower(), parts[6].lower(), parts[7]
    if (provider, kind) == ("microsoft.storage", "storageaccounts"):
        return ctx.store.account(sub, rg, name) is not None
    if (provider, kind) == ("microsoft.containerregistry", "registries"):
        return ctx.store.registry(sub, rg, name) is not None
    return False


# -- system topics ---------------------------------------------------------------------------------


def handle_topic_list(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    prefix = f"{ctx.group().id}/providers/Microsoft.EventGrid/systemTopics/".lower()
    found = [t for key, t in ctx.store.system_topics.items() if key.startswith(prefix)]
    return ctx.paged([topic_body(t) for t in found])


def handle_topic_list_sub(ctx: Ctx) -> Response:
    """System Topics - List By Subscription: every group's topics."""
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    prefix = f"/subscriptions/{ctx.subscription}/".lower()
    return ctx.paged([topic_body(t) for key, t in ctx.store.system_topics.items() if key.startswith(prefix)])


def handle_topic_item(ctx: Ctx) -> Response:
    if ctx.method == "GET":
        return Response.json(200, topic_body(_topic(ctx)))
    if ctx.method == "PUT":
        return _put_topic(ctx)
    if ctx.method == "DELETE":
        return _delete_topic(ctx)
    raise method_not_allowed(ctx.method)


def _put_topic(ctx: Ctx) -> Response:
    ctx.group_for_write()
    name = ctx.param("topic")
    body = ctx.request.json_body()
    location = body.get("location")
    if not isinstance(location, str) or not location:
        raise invalid_request_content("'location' is required")
    if location.lower() != "global" and not is_known_region(location):
        raise location_not_available(location, SYSTEM_TOPIC_TYPE)
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise invalid_request_content("'properties' must be an object")
    source, topic_type = props.get("source"), TOPIC_TYPES.get(str(props.get("topicType", "")).lower())
    if not isinstance(source, str) or not _source_exists(ctx, source):
        raise ArmError(400, "InvalidRequest", f"The source resource '{source}' of the system topic does not exist.")
    if topic_type is None:
        raise ArmError(400, "InvalidRequest", f"The topic type '{props.get('topicType')}' is not supported.")
    tags = validate_tags(body.get("tags"))
    key = _topic_id(ctx, name).lower()
    topic = ctx.store.system_topics.get(key)
    if topic is not None:
        if topic.source.lower() != source.lower() or topic.topic_type != topic_type:
            raise ArmError(400, "InvalidRequest", "The source and topic type of a system topic cannot be changed.")
        if topic.state == "Deleting":
            raise ArmError(409, "Conflict", f"The system topic '{name}' is being deleted.")
        topic.tags = tags
        if topic.state == "Creating" and topic.op is not None:
            return Response.json(201, topic_body(topic), _async_headers(ctx, topic.op))
        return Response.json(200, topic_body(topic))
    clash = next((t for t in ctx.store.system_topics.values() if t.source.lower() == source.lower()), None)
    if clash is not None:
        raise ArmError(400, "InvalidRequest", f"Only one system topic is allowed per source: '{clash.name}' exists.")
    topic = SystemTopic(_topic_id(ctx, name), name, location.lower(), tags, source, topic_type)
    op = _start(ctx, OpKind.SYSTEM_TOPIC_CREATE, topic.location, Protocol.ASYNC, SYSTEM_TOPIC_TYPE)

    def effect(outcome: Outcome) -> None:
        if topic.op is op:
            topic.state = "Succeeded" if outcome is Outcome.SUCCEEDED else "Failed"

    op.effect, topic.op = effect, op
    ctx.store.system_topics[key] = topic
    return Response.json(201, topic_body(topic), _async_headers(ctx, op))


def _deleting(
    ctx: Ctx,
    resource: SystemTopic | EventSubscription,
    *,
    home: dict[str, Any],
    key: str,
    kind: OpKind,
    location: str,
    resource_type: str,
) -> Response:
    """DELETE of a topic or a subscription held in ``home`` under ``key``: 202 + ``Location``, gone from
    ``home`` when the operation succeeds; a DELETE again while it runs answers the same operation."""
    if resource.state != "Deleting" or resource.op is None:
        op = _start(ctx, kind, location, Protocol.LOCATION, resource_type)

        def effect(outcome: Outcome) -> None:
            if outcome is Outcome.SUCCEEDED and home.get(key) is resource:
                del home[key]
            elif resource.op is op:
                resource.state = "Failed"

        op.effect, resource.op, resource.state = effect, op, "Deleting"
    assert resource.op is not None
    headers = {"location": resource.op.monitor_url(ctx.request.base_url), **resource.op.retry_headers(ctx.now)}
    return Response.empty(202, headers)


def _delete_topic(ctx: Ctx) -> Response:
    key = _topic_id(ctx, ctx.param("topic")).lower()
    topic = ctx.store.system_topics.get(key)
    if topic is None:
        return Response.empty(204)
    return _deleting(
        ctx,
        topic,
        home=ctx.store.system_topics,
        key=key,
        kind=OpKind.SYSTEM_TOPIC_DELETE,
        location=topic.location,
        resource_type=SYSTEM_TOPIC_TYPE,
    )


# -- event subscriptions ---------------------------------------------------------------------------


def handle_subscription_list(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    topic = _topic(ctx)
    return ctx.paged([subscription_body(topic, s) for s in topic.subscriptions.values()])


def handle_subscription_item(ctx: Ctx) -> Response:
    topic = _topic(ctx)
    name = ctx.param("name")
    if ctx.method == "GET":
        sub = topic.subscriptions.get(name.lower())
        if sub is None:
            raise resource_not_found(EVENT_SUBSCRIPTION_TYPE, name, ctx.param("rg"))
        return Response.json(200, subscription_body(topic, sub))
    if ctx.method == "PUT":
        return _put_subscription(ctx, topic, name)
    if ctx.method == "DELETE":
        return _delete_subscription(ctx, topic, name)
    raise method_not_allowed(ctx.method)


def _put_subscription(ctx: Ctx, topic: SystemTopic, name: str) -> Response:
    if topic.state != "Succeeded":
        raise ArmError(409, "Conflict", f"The system topic '{topic.name}' is {topic.state}.")
    props = subscription_properties(ctx.request.json_body().get("properties"))
    sub = topic.subscriptions.get(name.lower())
    if sub is not None and sub.state == "Deleting":
        raise ArmError(409, "Conflict", f"The event subscription '{name}' is being deleted.")
    if sub is not None and sub.state == "Succeeded":
        sub.properties = props  # an update: Azure runs it as an operation too; here it applies at once
        return Response.json(200, subscription_body(topic, sub))
    sub = sub or EventSubscription(name, props)
    sub.properties, sub.state = props, "Creating"
    op = _start(ctx, OpKind.EVENT_SUBSCRIPTION_CREATE, topic.location, Protocol.ASYNC, EVENT_SUBSCRIPTION_TYPE)

    def effect(outcome: Outcome) -> None:
        if sub.op is op:
            sub.state = "Succeeded" if outcome is Outcome.SUCCEEDED else "Failed"

    op.effect, sub.op = effect, op
    topic.subscriptions[name.lower()] = sub
    return Response.json(201, subscription_body(topic, sub), _async_headers(ctx, op))


def _delete_subscription(ctx: Ctx, topic: SystemTopic, name: str) -> Response:
    sub = topic.subscriptions.get(name.lower())
    if sub is None:
        return Response.empty(204)
    return _deleting(
        ctx,
        sub,
        home=topic.subscriptions,
        key=name.lower(),
        kind=OpKind.EVENT_SUBSCRIPTION_DELETE,
        location=topic.location,
        resource_type=EVENT_SUBSCRIPTION_TYPE,
    )


def handle_monitor(ctx: Ctx) -> Response:
    if ctx.method != "GET":
        raise method_not_allowed(ctx.method)
    op = ctx.store.operations.get(ctx.param("op"))
    if op is None or op.kind not in _OPS or op.subscription.lower() != ctx.subscription.lower():
        raise operation_not_found(ctx.param("op"))
    return monitor_response(op, ctx.request.base_url, ctx.now)
