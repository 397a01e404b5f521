"""The registry spec: the YAML that ``az ml registry create --file registry.yml`` takes.

Every form azure-ai-ml 1.35 accepts is accepted here (shared/reference/registry-yaml.md section 1), and the
rules the SDK leaves to the service are enforced (docs/spec.md lists each rule and every difference).
Use ``parse_spec`` (mapping in, ``ParsedSpec`` out); it raises ``InvalidSpec`` listing every field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictInt,
    Tag,
    ValidationError,
    field_validator,
)

from shared.domain.documents import shorten
from shared.domain.errors import FieldError, InvalidSpec
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
OUTPUT_ONLY_KEYS = frozenset(
    {"identity", "kind", "sku", "managed_resource_group", "mlflow_registry_uri", "discovery_url"}
)
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


Region = Annotated[str, BeforeValidator(_region)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class StorageConfig(_Strict):
    """System-created storage for one region: ``replication_count`` accounts of one type."""

    storage_account_hns: StrictBool = False
    storage_account_type: Annotated[StorageSku, BeforeValidator(_storage_sku)] = StorageSku.STANDARD_LRS
    replication_count: StrictInt = Field(default=1, ge=1, le=MAX_REPLICATION_COUNT)


def _storage_config_kind(value: Any) -> str:
    return "ids" if isinstance(value, list) else "system"


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


StorageAccountId = Annotated[str, BeforeValidator(_storage_account_id)]


class ReplicationLocation(_Strict):
    location: Region
    storage_config: Annotated[
        Annotated[StorageConfig, Tag("system")] | Annotated[list[StorageAccountId], Tag("ids")],
        Discriminator(_storage_config_kind),
    ] = Field(default_factory=StorageConfig)

    @field_validator("storage_config", mode="before")
    @classmethod
    def _none_is_default(cls, value: object) -> object:
        if value == []:
            raise ValueError(
                "an empty list gives the region no storage; omit storage_config for the default "
                "or give {storage_account_type, storage_account_hns}"
            )
        return StorageConfig() if value is None else value

    @property
    def storage(self) -> StorageConfig:
        """The system-created storage config (bring-your-own ids never validate)."""
        assert isinstance(self.storage_config, StorageConfig)
        return self.storage_config


class ContainerRegistryConfig(_Strict):
    acr_account_sku: Annotated[str, BeforeValidator(_acr_sku)] = "Premium"


def _container_registry_kind(value: Any) -> str:
    return "id" if isinstance(value, str) else "system"


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


class IntellectualProperty(_Strict):
    publisher: str


class RegistrySpec(_Strict):
    """A validated, normalised registry spec. ``location`` is the primary region and is immutable."""

    name: str
    id: str | None = None
    description: str | None = Field(default=None, max_length=1024)
    tags: Annotated[dict[str, str], BeforeValidator(_tags)] = Field(default_factory=dict)
    location: Region
    public_network_access: Annotated[Literal["Enabled", "Disabled"], BeforeValidator(_public_network_access)] = (
        "Enabled"
    )
    intellectual_property: IntellectualProperty | None = None
    container_registry: Annotated[
        Annotated[ContainerRegistryConfig, Tag("system")]
        | Annotated[Annotated[str, BeforeValidator(_acr_id)], Tag("id")],
        Discriminator(_container_registry_kind),
    ] = Field(default_factory=ContainerRegistryConfig)
    replication_locations: list[ReplicationLocation]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError(
                f'"{shorten(value)}" is not a valid registry name: 2-32 characters, letters, digits, '
                "_ and -, starting with a letter or digit"
            )
        return value

    @field_validator("container_registry", mode="before")
    @classmethod
    def _none_is_premium(cls, value: object) -> object:
        return ContainerRegistryConfig() if value is None else value

    @property
    def key(self) -> str:
        """The registry's identity: names compare case-insensitively."""
        return self.name.lower()

    @property
    def regions(self) -> list[str]:
        """Replication regions, the primary first."""
        others = [r.location for r in self.replication_locations if r.location != self.location]
        return [self.location, *others]

    def region(self, name: str) -> ReplicationLocation:
        for entry in self.replication_locations:
            if entry.location == name:
                return entry
        raise KeyError(name)

    def to_document(self) -> dict[str, Any]:
        """The normalised spec as plain data (YAML/JSON output), without unset optional fields."""
        data = self.model_dump(mode="json", exclude_none=True)
        if not data.get("tags"):
            data.pop("tags", None)
        return data


@dataclass(frozen=True)
class ParsedSpec:
    spec: RegistrySpec
    warnings: list[str] = field(default_factory=list)


def parse_spec(document: dict[str, Any]) -> ParsedSpec:
    """Validate a registry document (already loaded from YAML or JSON) into a ``RegistrySpec``.

    Raises ``InvalidSpec`` listing every offending field with its path.
    """
    data = {k: v for k, v in document.items() if k not in OUTPUT_ONLY_KEYS}
    errors: list[FieldError] = []
    if "replication_locations" not in data:
        errors.append(
            FieldError(
                "replication_locations",
                "required: list the regions, e.g. [{location: eastus}] (the primary at least)",
            )
        )
        data["replication_locations"] = []
    try:
        spec = RegistrySpec.model_validate(data)
    except ValidationError as exc:
        errors.extend(_field_errors(exc))
        errors.extend(_duplicate_regions(data.get("replication_locations")))
        raise InvalidSpec(_summary(errors), errors) from None
    errors.extend(_duplicate_regions(spec.replication_locations))
    if errors:
        raise InvalidSpec(_summary(errors), errors)
    warnings: list[str] = []
    if spec.location not in {r.location for r in spec.replication_locations}:
        warnings.append(
            f'the primary region "{spec.location}" was missing from replication_locations; '
            "it was added with the default storage config (Standard_LRS, no hierarchical namespace)"
        )
        spec = spec.model_copy(
            update={
                "replication_locations": [
                    ReplicationLocation(location=spec.location),
                    *spec.replication_locations,
                ]
            }
        )
    return ParsedSpec(spec, warnings)


def _duplicate_regions(entries: object) -> list[FieldError]:
    """Regions listed twice; works on validated entries and, leniently, on raw input."""
    if not isinstance(entries, list):
        return []
    seen: dict[str, int] = {}
    errors = []
    for i, entry in enumerate(entries):
        raw = entry.location if isinstance(entry, ReplicationLocation) else None
        if isinstance(entry, dict) and isinstance(entry.get("location"), str):
            raw = entry["location"]
        if raw is None:
            continue
        try:
            region = normalize_region(raw)
        except ValueError:
            continue
        if region in seen:
            errors.append(
                FieldError(
                    f"replication_locations[{i}].location",
                    f'"{region}" is listed twice (first at replication_locations[{seen[region]}]); '
                    "list each region once",
                )
            )
        else:
            seen[region] = i
    return errors


_TAGS = {"system", "ids", "id"}
_UNION_FIELDS = {"storage_config", "container_registry"}


def _field_errors(exc: ValidationError) -> list[FieldError]:
    out: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False, include_input=False):
        path = _render_path(err["loc"])
        message = _message(err)
        if (path, message) not in seen:
            seen.add((path, message))
            out.append(FieldError(path, message))
    return out


def _render_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    previous: int | str | None = None
    for item in loc:
        union_tag = item in _TAGS and previous in _UNION_FIELDS  # not a key (a top-level `id` is one)
        previous = item
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif union_tag or item.startswith(("function-before[", "function-after[")):
            continue
        else:
            parts.append(("." if parts else "") + shorten(item))
    return "".join(parts)


_MESSAGES = {
    "extra_forbidden": "unknown field; remove it (see docs/spec.md for the accepted keys)",
    "missing": "required",
    "bool_type": "must be true or false (a YAML boolean, not a string or number)",
    "int_type": "must be a whole number",
    "greater_than_equal": f"must be between 1 and {MAX_REPLICATION_COUNT}",
    "less_than_equal": f"must be between 1 and {MAX_REPLICATION_COUNT}",
    "string_type": "must be a string",
    "dict_type": "must be a mapping",
    "list_type": "must be a list",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
}


def _message(err: Any) -> str:
    known = _MESSAGES.get(err["type"])
    return known if known is not None else str(err["msg"]).removeprefix("Value error, ")


def _summary(errors: list[FieldError]) -> str:
    count = len(errors)
    return f"the registry spec is invalid ({count} error{'s' if count != 1 else ''})"
