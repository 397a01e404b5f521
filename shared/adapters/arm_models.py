"""ARM SDK models as regctl's observations (``Observed*``): which registry a resource belongs to (its
management tags), its state, and its ``properties`` as ARM sent them (wire names)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.resources import TAG_INDEX, TAG_REGION, TAG_REGISTRY, ObservedAcr, ObservedGroup, ObservedStorage


def group_name(resource_id: str | None) -> str:
    """The resource group named in an ARM id (``/subscriptions/s/resourceGroups/{rg}/...``)."""
    parts = (resource_id or "").split("/")
    lowered = [p.lower() for p in parts]
    return parts[lowered.index("resourcegroups") + 1] if "resourcegroups" in lowered else ""


def observed_group(group: Any) -> ObservedGroup:
    return ObservedGroup(
        name=group.name or "",
        location=(group.location or "").lower(),
        tags=dict(group.tags or {}),
        state=state_of(group.properties.provisioning_state if group.properties else None),
    )


def observed_storage(account: Any) -> tuple[str, ObservedStorage] | None:
    """(registry key, account) for a storage account regctl manages, else None."""
    tags = dict(account.tags or {})
    if TAG_REGISTRY not in tags or TAG_REGION not in tags:
        return None
    observed = ObservedStorage(
        name=account.name or "",
        region=tags[TAG_REGION],
        index=int(tags.get(TAG_INDEX, "0") or 0),
        sku=state_of(account.sku.name) if account.sku else "",
        hns=bool(account.is_hns_enabled),
        tags=tags,
        state=state_of(account.provisioning_state),
        properties=resource_properties(account),
        id=account.id or "",
    )
    return tags[TAG_REGISTRY], observed


def observed_acr(registry: Any) -> tuple[str, ObservedAcr] | None:
    tags = dict(registry.tags or {})
    if TAG_REGISTRY not in tags:
        return None
    observed = ObservedAcr(
        name=registry.name or "",
        location=(registry.location or "").lower(),
        sku=state_of(registry.sku.name) if registry.sku else "",
        tags=tags,
        state=state_of(registry.provisioning_state),
        properties=resource_properties(registry),
        id=registry.id or "",
    )
    return tags[TAG_REGISTRY], observed


def plain(value: Any) -> Any:
    """JSON of an SDK model: nested models (``Endpoints``...) are mappings but not dicts, as kinds expect."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def resource_properties(resource: Any) -> dict[str, Any]:
    """The resource's ``properties`` as ARM sent them (wire names), for kinds that read more than the fields
    above. The SDK's models are mappings of the JSON they were read from; nested ones become plain dicts
    (``primaryEndpoints.blob`` was read as "" while it was an ``Endpoints`` model)."""
    raw = resource.get("properties") if isinstance(resource, Mapping) else None
    found = plain(raw) if isinstance(raw, Mapping) else {}
    return found if isinstance(found, dict) else {}


def state_of(value: object) -> str:
    """An SDK enum-or-string as its plain value (provisioningState, SKU names); absent means Succeeded."""
    if value is None:
        return "Succeeded"
    return str(getattr(value, "value", value))
