"""The stored properties of an event subscription: what a PUT body's ``properties`` may say (api 2025-02-15).

``destination`` (``endpointType``; a ``ServiceBusQueue`` needs ``properties.resourceId``), ``filter``,
``labels``, ``eventDeliverySchema``, ``retryPolicy`` and ``deadLetterDestination``, as the REST spec's
``EventSubscriptionProperties`` names them:

- ``retryPolicy``: ``maxDeliveryAttempts`` (an integer 1-30, default 30) and ``eventTimeToLiveInMinutes``
  (1-1440, default 1440), the bounds of Learn's "Event Grid message delivery and retry" (Retry policy);
- ``deadLetterDestination``: the spec's ``DeadLetterDestination``, whose only kind is
  ``StorageBlobDeadLetterDestination``: ``{"endpointType": "StorageBlob", "properties": {"resourceId": <a
  storage account's ARM id>, "blobContainerName": <container>}}``. The account need not exist at PUT: a
  dead-lettered event whose destination is not found is dropped (Learn, same page), as the stand-in does.

Azure's error codes for these refusals are UNVERIFIED; the simulator answers 400 ``InvalidRequest`` (or
``InvalidRequestContent`` for a body of the wrong JSON type).
"""

from __future__ import annotations

from typing import Any

from sandbox.arm.envelope import ArmError, invalid_request_content

SCHEMAS = ("EventGridSchema", "CloudEventSchemaV1_0")
#: ``retryPolicy`` defaults and bounds (Learn, "Event Grid message delivery and retry", Retry policy).
MAX_DELIVERY_ATTEMPTS = (1, 30)
EVENT_TTL_MINUTES = (1, 1440)


def subscription_properties(raw: object) -> dict[str, Any]:
    """The stored properties of an event subscription PUT body's ``properties``; 400 for what Azure refuses."""
    if not isinstance(raw, dict):
        raise invalid_request_content("'properties' must be an object")
    destination = raw.get("destination")
    if not isinstance(destination, dict) or not isinstance(destination.get("endpointType"), str):
        raise ArmError(400, "InvalidRequest", "The destination of the event subscription is required.")
    endpoint = destination.get("properties") or {}
    if destination["endpointType"] == "ServiceBusQueue" and not (
        isinstance(endpoint, dict) and isinstance(endpoint.get("resourceId"), str) and endpoint["resourceId"]
    ):
        raise ArmError(400, "InvalidRequest", "A ServiceBusQueue destination needs properties.resourceId.")
    flt = raw.get("filter") or {}
    if not isinstance(flt, dict):
        raise invalid_request_content("'filter' must be an object")
    included = flt.get("includedEventTypes")
    if included is not None and not (isinstance(included, list) and all(isinstance(t, str) for t in included)):
        raise invalid_request_content("'filter.includedEventTypes' must be a list of strings")
    advanced = flt.get("advancedFilters") or []
    if not isinstance(advanced, list) or not all(
        isinstance(rule, dict) and isinstance(rule.get("operatorType"), str) for rule in advanced
    ):
        raise invalid_request_content("'filter.advancedFilters' must be a list of objects with an 'operatorType'")
    schema = raw.get("eventDeliverySchema") or "EventGridSchema"
    if schema not in SCHEMAS:
        raise ArmError(400, "InvalidRequest", f"The event delivery schema '{schema}' is not supported here.")
    props: dict[str, Any] = {
        "destination": destination,
        "filter": {
            "includedEventTypes": included,
            "subjectBeginsWith": str(flt.get("subjectBeginsWith") or ""),
            "subjectEndsWith": str(flt.get("subjectEndsWith") or ""),
            "isSubjectCaseSensitive": bool(flt.get("isSubjectCaseSensitive", False)),
            "advancedFilters": list(advanced),
            "enableAdvancedFilteringOnArrays": bool(flt.get("enableAdvancedFilteringOnArrays", False)),
        },
        "labels": list(raw.get("labels") or []),
        "eventDeliverySchema": schema,
        "retryPolicy": retry_policy(raw.get("retryPolicy")),
    }
    dead_letter = raw.get("deadLetterDestination")
    if dead_letter is not None:
        props["deadLetterDestination"] = dead_letter_destination(dead_letter)
    return props


def retry_policy(raw: object) -> dict[str, int]:
    """``retryPolicy`` with its defaults; each given value an integer within Azure's bounds."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise invalid_request_content("'retryPolicy' must be an object")
    return {
        "maxDeliveryAttempts": _bounded(raw, "maxDeliveryAttempts", MAX_DELIVERY_ATTEMPTS, default=30),
        "eventTimeToLiveInMinutes": _bounded(raw, "eventTimeToLiveInMinutes", EVENT_TTL_MINUTES, default=1440),
    }


def _bounded(raw: dict[str, Any], key: str, bounds: tuple[int, int], *, default: int) -> int:
    value = raw.get(key)
    if value is None:
        return default
    low, high = bounds
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ArmError(400, "InvalidRequest", f"retryPolicy.{key} must be an integer between {low} and {high}.")
    return value


def dead_letter_destination(raw: object) -> dict[str, Any]:
    """A ``StorageBlob`` dead-letter destination as stored (and answered): the spec's shape, nothing else."""
    if not isinstance(raw, dict):
        raise invalid_request_content("'deadLetterDestination' must be an object")
    if raw.get("endpointType") != "StorageBlob":
        raise ArmError(
            400,
            "InvalidRequest",
            f"The dead letter destination endpoint type '{raw.get('endpointType')}' is not supported: "
            "use 'StorageBlob'.",
        )
    props = raw.get("properties")
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequest", "A StorageBlob dead letter destination needs 'properties'.")
    resource_id, container = props.get("resourceId"), props.get("blobContainerName")
    if not isinstance(resource_id, str) or not is_storage_account_id(resource_id):
        raise ArmError(
            400,
            "InvalidRequest",
            f"The dead letter destination resourceId '{resource_id}' is not the resource id of a storage account.",
        )
    if not isinstance(container, str) or not container:
        raise ArmError(400, "InvalidRequest", "The dead letter destination needs a 'blobContainerName'.")
    return {"endpointType": "StorageBlob", "properties": {"resourceId": resource_id, "blobContainerName": container}}


def is_storage_account_id(resource_id: str) -> bool:
    """``/subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.Storage/storageAccounts/{name}``."""
    parts = resource_id.strip("/").split("/")
    return (
        len(parts) == 8
        and [parts[0].lower(), parts[2].lower(), parts[4].lower()] == ["subscriptions", "resourcegroups", "providers"]
        and (parts[5].lower(), parts[6].lower()) == ("microsoft.storage", "storageaccounts")
        and all(parts)
    )
