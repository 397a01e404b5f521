"""The registry spec's field rules: each limit, and the validator that normalises one value or refuses it
with a message saying what to give instead (regions, storage account types, tags, network access, the
container registry's SKU, and the bring-your-own ids the registry service refuses).

``shared/domain/spec.py`` builds the spec's models from these; docs/spec.md lists each rule and why.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BeforeValidator

from shared.domain.documents import shorten
from shared.domain.regions import normalize_region
from shared.domain.resources import MANAGEMENT_TAGS

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}\Z")  # \Z: "$" would allow a trailing newline
"""2-32 characters: letters, digits, ``_`` and ``-``, starting with a letter or digit (seed document)."""
MAX_REPLICATION_COUNT = 10
"""Storage accounts per region. Azure allows 250 accounts per region per subscription; 10 per region per
registry keeps one registry from eating a shared subscription's quota (docs/spec.md)."""
MAX_TAGS = 47
"""Azure allows 50 tags per resource; regctl keeps 3 for its own markers (resources.MANAGEMENT_TAGS)."""
MAX_TAG_KEY = 128
"""Azure allows 512 characters in a tag name, but 128 on storage accounts, which carry the user's tags."""
MAX_TAG_VALUE = 256
_TAG_KEY_FORBIDDEN = re.compile(r"[<>%&\\?/]")
STORAGE_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Storage/storageAccounts/[^/]+$",
    re.IGNORECASE,
)
ACR_ID = re.compile(
    r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerRegistry/registries/[^/]+$",
    re.IGNORECASE,
)


class StorageSku(StrEnum):
    """The 8 storage account types azure-ai-ml accepts, in ARM's canonical casing."""

    STANDARD_LRS = "Standard_LRS"
    STANDARD_GRS = "Standard_GRS"
    STANDARD_RAGRS = "Standard_RAGRS"
    STANDARD_ZRS = "Standard_ZRS"
    STANDARD_GZRS = "Standard_GZRS"
    STANDARD_RAGZRS = "Standard_RAGZRS"
    PREMIUM_LRS = "Premium_LRS"
    PREMIUM_ZRS = "Premium_ZRS"


_SKU_BY_LOWER = {s.value.lower(): s for s in StorageSku}


def _storage_sku(value: object) -> StorageSku:
    if isinstance(value, StorageSku):
        return value
    if isinstance(value, str) and value.strip().lower() in _SKU_BY_LOWER:
        return _SKU_BY_LOWER[value.strip().lower()]
    allowed = ", ".join(s.value for s in StorageSku)
    raise ValueError(f'"{shorten(value)}" is not a storage account type; use one of {allowed}')


def _region(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("a region must be a string such as eastus")
    return normalize_region(value)


def _public_network_access(value: object) -> str:
    if isinstance(value, str) and value.strip().lower() in ("enabled", "disabled"):
        return value.strip().capitalize()
    raise ValueError(f'"{shorten(value)}" is not allowed; use Enabled or Disabled')


def _acr_sku(value: object) -> str:
    if isinstance(value, str) and value.strip().lower() == "premium":
        return "Premium"
    raise ValueError(
        f'"{shorten(value)}" is not allowed; registries need a Premium container registry (geo-replication)'
    )


def _tags(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("tags must be a mapping of tag names to values")
    if len(value) > MAX_TAGS:
        raise ValueError(f"{len(value)} tags given; Azure allows at most {MAX_TAGS}")
    tags: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, raw in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"tag name {shorten(key)!r} must be a non-empty string")
        if key.lower() in seen:  # Azure compares tag names case-insensitively
            raise ValueError(f"tag names {shorten(seen[key.lower()])!r} and {shorten(key)!r} differ only in case")
        seen[key.lower()] = key
        if key.lower() in MANAGEMENT_TAGS:
            raise ValueError(f"tag name {key!r} is reserved for regctl's own bookkeeping")
        if len(key) > MAX_TAG_KEY or _TAG_KEY_FORBIDDEN.search(key):
            raise ValueError(
                f"tag name {shorten(key)!r} is invalid: at most {MAX_TAG_KEY} characters, none of < > % & \\ ? /"
            )
        tags[key] = _tag_value(key, raw)
    return tags


def _tag_value(key: str, raw: object) -> str:
    if isinstance(raw, bool):
        text = "true" if raw else "false"
    elif isinstance(raw, int | float | str):
        text = str(raw)
    elif raw is None:
        text = ""
    else:
        raise ValueError(f"tag {shorten(key)!r} must have a text value, not a {type(raw).__name__}")
    if len(text) > MAX_TAG_VALUE:
        raise ValueError(f"tag {shorten(key)!r} has a value over {MAX_TAG_VALUE} characters")
    return text


def _storage_account_id(value: object) -> str:
    if isinstance(value, str) and STORAGE_ID.match(value):
        raise ValueError(
            "bring-your-own storage accounts are not supported: the registry service refuses them "
            '("Creating registry using an existing storage account is not permitted"); '
            "remove the id and give {storage_account_type, storage_account_hns} instead"
        )
    raise ValueError(
        f'"{shorten(value)}" is not a storage account ARM id '
        "(/subscriptions/…/resourceGroups/…/providers/Microsoft.Storage/storageAccounts/…)"
    )


def _acr_id(value: object) -> str:
    if isinstance(value, str) and ACR_ID.match(value):
        raise ValueError(
            "bring-your-own container registries are not supported: the registry service refuses "
            "user-created resources; remove the id to get a system-created Premium registry"
        )
    raise ValueError(
        f'"{shorten(value)}" is neither {{acr_account_sku: premium}} nor a container registry ARM id; '
        "omit container_registry to get the default Premium registry"
    )


# The types the spec's models annotate their fields with: each runs its rule before pydantic's own checks.
Region = Annotated[str, BeforeValidator(_region)]
StorageAccountType = Annotated[StorageSku, BeforeValidator(_storage_sku)]
Tags = Annotated[dict[str, str], BeforeValidator(_tags)]
PublicNetworkAccess = Annotated[Literal["Enabled", "Disabled"], BeforeValidator(_public_network_access)]
AcrSku = Annotated[str, BeforeValidator(_acr_sku)]
AcrId = Annotated[str, BeforeValidator(_acr_id)]
StorageAccountId = Annotated[str, BeforeValidator(_storage_account_id)]
