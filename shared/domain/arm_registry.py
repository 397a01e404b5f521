"""ARM's ``Microsoft.MachineLearningServices/registries`` request bodies, translated into registry specs (pure).

The Azure-compatible surface (handlers/arm_api.py, docs/azure-ml-compatibility.md) takes the body that
``PUT .../registries/{name}`` carries (``RegistryTrackedResource`` of the REST specs; what azure-ai-ml's
``Registry._to_rest_object`` sends) and turns it into the spec document ``parse_spec`` validates, so the
ARM surface and ``/api`` share one validation and one command. What regctl cannot honour is refused with
the field's ARM path, never ignored: user-created storage or container registries, other identity types,
storage accounts of one region with different types, tags on the managed group other than the registry's.
Read-only fields (``id``, ``systemData``, ``armResourceId``, ``provisioningState``...) are ignored, as ARM
ignores them, so a body read with GET can be sent back with PUT.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.documents import shorten
from shared.domain.errors import FieldError, InvalidSpec

RESOURCE_TYPE = "Microsoft.MachineLearningServices/registries"
API_VERSIONS = ("2022-10-01-preview", "2023-04-01", "2024-04-01", "2024-10-01")
"""2022-10-01-preview is what azure-ai-ml 1.20 to 1.35 pins for every registry call."""

_TOP_LEVEL = frozenset({"location", "tags", "identity", "properties", "kind", "sku"})
_TOP_LEVEL_READ_ONLY = frozenset({"id", "name", "type", "systemData", "etag"})
_PROPERTIES = frozenset(
    {"regionDetails", "publicNetworkAccess", "intellectualPropertyPublisher", "managedResourceGroupTags"}
)
_PROPERTIES_READ_ONLY = frozenset(
    {"discoveryUrl", "managedResourceGroup", "mlFlowRegistryUri", "provisioningState", "privateLinkCount"}
)
_PROPERTIES_UNSUPPORTED = frozenset({"registryPrivateEndpointConnections", "managedResourceGroupSettings"})
_REGION = frozenset({"location", "storageAccountDetails", "acrDetails"})
_SYSTEM_STORAGE = frozenset({"storageAccountType", "storageAccountHnsEnabled", "allowBlobPublicAccess"})
_SYSTEM_STORAGE_READ_ONLY = frozenset({"armResourceId", "storageAccountName"})
_SYSTEM_ACR_READ_ONLY = frozenset({"armResourceId", "acrAccountName"})


def check_api_version(value: str | None) -> str:
    """The api-version of a request, if regctl serves it; ARM's own codes and wording otherwise."""
    if not value:
        raise InvalidSpec(
            "The api-version query parameter (?api-version=) is required for all requests.",
            code="MissingApiVersionParameter",
        )
    if value not in API_VERSIONS:
        supported = ", ".join(f"'{v}'" for v in API_VERSIONS)
        raise InvalidSpec(
            f"The api-version '{shorten(value)}' is invalid. The supported versions are {supported}.",
            code="InvalidApiVersionParameter",
        )
    return value


class _Errors:
    """Collects every refused field, so one answer names them all."""

    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.found.append(FieldError(path, message))

    def keys(self, data: Mapping[str, Any], path: str, allowed: frozenset[str], ignored: frozenset[str]) -> None:
        for key in data:
            if key not in allowed and key not in ignored:
                self.add(_join(path, key), "unknown property; see docs/azure-ml-compatibility.md for what is accepted")

    def mapping(self, value: object, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.add(path, "must be an object")
            return None
        return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def spec_document(name: str, body: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The registry spec document that an ARM PUT body of registry ``name`` asks for.

    ``current`` is the stored spec when the registry exists: what ARM cannot say (the description) is
    kept from it. Raises ``InvalidSpec`` naming each refused field by its ARM path.
    """
    errors = _Errors()
    errors.keys(body, "", _TOP_LEVEL, _TOP_LEVEL_READ_ONLY)
    for key in ("kind", "sku"):
        if body.get(key) is not None:
            errors.add(key, f"regctl registries have no {key}; leave it out")
    _identity(body.get("identity"), errors)
    document: dict[str, Any] = {"name": name, "location": body.get("location")}
    if body.get("tags") is not None:
        document["tags"] = body["tags"]
    if current and current.get("description"):
        document["description"] = current["description"]
    properties = errors.mapping(body.get("properties"), "properties")
    if properties is None:
        if "properties" not in body or body.get("properties") is None:
            errors.add("properties", "required: the registry's regionDetails go here")
        raise InvalidSpec(_summary(errors.found), errors.found)
    _properties(properties, body.get("tags"), document, errors, current)
    if errors.found:
        raise InvalidSpec(_summary(errors.found), errors.found)
    return document


def _identity(value: object, errors: _Errors) -> None:
    identity = errors.mapping(value, "identity")
    if identity is None:
        return
    kind = identity.get("type")
    if not isinstance(kind, str) or kind.lower() != "systemassigned":
        errors.add("identity.type", f'"{shorten(kind)}" is not supported; a registry has a SystemAssigned identity')
    if identity.get("userAssignedIdentities"):
        errors.add("identity.userAssignedIdentities", "user-assigned identities are not supported")


def _properties(
    properties: dict[str, Any],
    tags: object,
    document: dict[str, Any],
    errors: _Errors,
    current: Mapping[str, Any] | None,
) -> None:
    errors.keys(properties, "properties", _PROPERTIES | _PROPERTIES_UNSUPPORTED, _PROPERTIES_READ_ONLY)
    for key in sorted(_PROPERTIES_UNSUPPORTED):
        if properties.get(key):
            errors.add(f"properties.{key}", "not supported by regctl; leave it out or empty")
    if properties.get("publicNetworkAccess") is not None:
        document["public_network_access"] = properties["publicNetworkAccess"]
    if properties.get("intellectualPropertyPublisher") is not None:
        document["intellectual_property"] = {"publisher": properties["intellectualPropertyPublisher"]}
    managed_tags = properties.get("managedResourceGroupTags")
    if managed_tags not in (None, {}) and managed_tags != (tags or {}):
        errors.add(
            "properties.managedResourceGroupTags",
            "must equal the registry's tags (or be left out): regctl tags the managed resource group with them",
        )
    regions = properties.get("regionDetails")
    if not isinstance(regions, list) or not regions:
        errors.add("properties.regionDetails", "required: a list of regions, the primary location among them")
        return
    locations, acr_seen = _regions(regions, errors)
    document["replication_locations"] = locations
    if acr_seen:
        document["container_registry"] = {"acr_account_sku": "Premium"}
    if not errors.found:
        _check_region_list(document.get("location"), locations, current, errors)


def _regions(regions: list[Any], errors: _Errors) -> tuple[list[dict[str, Any]], bool]:
    """``replication_locations`` from ``regionDetails``, index for index; True when an ACR was described."""
    locations: list[dict[str, Any]] = []
    acr_seen = False
    for i, region in enumerate(regions):
        path = f"properties.regionDetails[{i}]"
        if not isinstance(region, dict):
            errors.add(path, "must be an object with a location")
            continue
        errors.keys(region, path, _REGION, frozenset())
        location: dict[str, Any] = {"location": region.get("location")}
        storage = _storage(region.get("storageAccountDetails"), f"{path}.storageAccountDetails", errors)
        if storage is not None:
            location["storage_config"] = storage
        acr_seen |= _acr(region.get("acrDetails"), f"{path}.acrDetails", errors)
        locations.append(location)
    return locations, acr_seen


def _check_region_list(
    primary: object, locations: list[dict[str, Any]], current: Mapping[str, Any] | None, errors: _Errors
) -> None:
    """The primary is listed (as Azure requires); a PUT adds regions but removes none (removeRegions does)."""
    listed = {str(loc["location"]).strip().lower() for loc in locations if isinstance(loc["location"], str)}
    if isinstance(primary, str) and primary.strip().lower() not in listed:
        errors.add("properties.regionDetails", f'must include the primary location "{shorten(primary)}"')
    if current is None:
        return
    dropped = [str(entry["location"]) for entry in current["replication_locations"] if entry["location"] not in listed]
    if dropped:
        errors.add(
            "properties.regionDetails",
            f"a PUT cannot remove regions ({', '.join(dropped)} missing); "
            "POST .../removeRegions with them to remove them",
        )


def _storage(value: object, path: str, errors: _Errors) -> dict[str, Any] | None:
    """One region's storage accounts as ``storage_config``: n identical system-created accounts."""
    if value is None or value == []:  # azure-ai-ml sends [] for a region added without a storage_config
        return None
    if not isinstance(value, list):
        errors.add(path, "must be a list of {systemCreatedStorageAccount} (or empty for the default)")
        return None
    configs: list[tuple[str, bool]] = []
    for j, item in enumerate(value):
        item_path = f"{path}[{j}]"
        if not isinstance(item, dict):
            errors.add(item_path, "must be an object with systemCreatedStorageAccount")
            continue
        entry = item
        if entry.get("userCreatedStorageAccount") is not None:
            errors.add(
                f"{item_path}.userCreatedStorageAccount",
                "bring-your-own storage accounts are not supported (as in Azure: creating a registry using an "
                "existing storage account is not permitted); use systemCreatedStorageAccount",
            )
        errors.keys(
            entry, item_path, frozenset({"systemCreatedStorageAccount", "userCreatedStorageAccount"}), frozenset()
        )
        system = errors.mapping(entry.get("systemCreatedStorageAccount"), f"{item_path}.systemCreatedStorageAccount")
        if system is None:
            if entry.get("userCreatedStorageAccount") is None:
                errors.add(f"{item_path}.systemCreatedStorageAccount", "required")
            continue
        system_path = f"{item_path}.systemCreatedStorageAccount"
        errors.keys(system, system_path, _SYSTEM_STORAGE, _SYSTEM_STORAGE_READ_ONLY)
        if system.get("allowBlobPublicAccess"):
            errors.add(
                f"{system_path}.allowBlobPublicAccess", "must be false: regctl's accounts allow no public access"
            )
        kind = system.get("storageAccountType") or "Standard_LRS"
        hns = system.get("storageAccountHnsEnabled")
        if hns is not None and not isinstance(hns, bool):
            errors.add(f"{system_path}.storageAccountHnsEnabled", "must be true or false")
            continue
        configs.append((str(kind) if isinstance(kind, str) else repr(kind), bool(hns)))
    if not configs:
        return None
    if len({(kind.lower(), hns) for kind, hns in configs}) > 1:
        errors.add(path, "every storage account of a region must have the same storageAccountType and HNS setting")
        return None
    kind, hns = configs[0]
    return {"storage_account_type": kind, "storage_account_hns": hns, "replication_count": len(configs)}


def _acr(value: object, path: str, errors: _Errors) -> bool:
    """Checks one region's ``acrDetails``; True when it names a system-created Premium registry."""
    if value is None:
        return False
    if not isinstance(value, list):
        errors.add(path, "must be a list")
        return False
    seen = False
    for j, item in enumerate(value):
        item_path = f"{path}[{j}]"
        if not isinstance(item, dict):
            errors.add(item_path, "must be an object with systemCreatedAcrAccount")
            continue
        entry = item
        errors.keys(entry, item_path, frozenset({"systemCreatedAcrAccount", "userCreatedAcrAccount"}), frozenset())
        if entry.get("userCreatedAcrAccount") is not None:
            errors.add(
                f"{item_path}.userCreatedAcrAccount",
                "bring-your-own container registries are not supported; use systemCreatedAcrAccount",
            )
        system = errors.mapping(entry.get("systemCreatedAcrAccount"), f"{item_path}.systemCreatedAcrAccount")
        if system is None:
            continue
        system_path = f"{item_path}.systemCreatedAcrAccount"
        errors.keys(system, system_path, frozenset({"acrAccountSku"}), _SYSTEM_ACR_READ_ONLY)
        sku = system.get("acrAccountSku")
        if sku is not None and (not isinstance(sku, str) or sku.strip().lower() != "premium"):
            errors.add(
                f"{system_path}.acrAccountSku",
                f'"{shorten(sku)}" is not allowed; registries need a Premium container registry (geo-replication)',
            )
        seen = True
    return seen


def regions_to_remove(body: Mapping[str, Any]) -> list[str]:
    """The regions a ``removeRegions`` body names (its ``properties.regionDetails[].location``)."""
    errors = _Errors()
    properties = errors.mapping(body.get("properties"), "properties") or {}
    regions = properties.get("regionDetails")
    names: list[str] = []
    if not isinstance(regions, list) or not regions:
        errors.add("properties.regionDetails", "required: the regions to remove, each as {location}")
    else:
        for i, region in enumerate(regions):
            entry = errors.mapping(region, f"properties.regionDetails[{i}]")
            location = entry.get("location") if entry else None
            if not isinstance(location, str) or not location.strip():
                errors.add(f"properties.regionDetails[{i}].location", "required: a region name such as westus")
            else:
                names.append(location.strip().lower())
    if errors.found:
        raise InvalidSpec(_summary(errors.found), errors.found)
    return names


def without_regions(current: Mapping[str, Any], removed: list[str]) -> dict[str, Any]:
    """The stored spec ``current`` with the ``removed`` regions taken out; the primary cannot be removed."""
    primary = str(current["location"])
    known = {str(entry["location"]) for entry in current["replication_locations"]}
    errors = _Errors()
    for i, region in enumerate(removed):
        path = f"properties.regionDetails[{i}].location"
        if region == primary:
            errors.add(path, f'"{region}" is the primary location, which cannot be removed')
        elif region not in known:
            errors.add(path, f'"{shorten(region)}" is not one of the registry\'s regions ({", ".join(sorted(known))})')
    if errors.found:
        raise InvalidSpec(_summary(errors.found), errors.found)
    kept = [entry for entry in current["replication_locations"] if str(entry["location"]) not in removed]
    return {**current, "replication_locations": kept}


def _summary(errors: list[FieldError]) -> str:
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"The request content is invalid: {first}{more}"
