"""The registry spec: the YAML that ``az ml registry create --file registry.yml`` takes.

Every form azure-ai-ml 1.35 accepts is accepted here (shared/reference/registry-yaml.md section 1), and the
rules the SDK leaves to the service are enforced (docs/spec.md lists each rule and every difference).
Use ``parse_spec`` (mapping in, ``ParsedSpec`` out); it raises ``InvalidSpec`` listing every field. This
module holds the models and the rules across fields; each field's own limits and validators are in
``shared/domain/spec_fields.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import (
    BaseModel,
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
from shared.domain.spec_fields import (
    MAX_REPLICATION_COUNT,
    NAME_PATTERN,
    AcrId,
    AcrSku,
    PublicNetworkAccess,
    Region,
    StorageAccountId,
    StorageAccountType,
    StorageSku,
    Tags,
)

OUTPUT_ONLY_KEYS = frozenset(
    {"identity", "kind", "sku", "managed_resource_group", "mlflow_registry_uri", "discovery_url"}
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class StorageConfig(_Strict):
    """System-created storage for one region: ``replication_count`` accounts of one type."""

    storage_account_hns: StrictBool = False
    storage_account_type: StorageAccountType = StorageSku.STANDARD_LRS
    replication_count: StrictInt = Field(default=1, ge=1, le=MAX_REPLICATION_COUNT)


def _storage_config_kind(value: Any) -> str:
    return "ids" if isinstance(value, list) else "system"


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
    acr_account_sku: AcrSku = "Premium"


def _container_registry_kind(value: Any) -> str:
    return "id" if isinstance(value, str) else "system"


class IntellectualProperty(_Strict):
    publisher: str


class RegistrySpec(_Strict):
    """A validated, normalised registry spec. ``location`` is the primary region and is immutable."""

    name: str
    id: str | None = None
    description: str | None = Field(default=None, max_length=1024)
    tags: Tags = Field(default_factory=dict)
    location: Region
    public_network_access: PublicNetworkAccess = "Enabled"
    intellectual_property: IntellectualProperty | None = None
    container_registry: Annotated[
        Annotated[ContainerRegistryConfig, Tag("system")] | Annotated[AcrId, Tag("id")],
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
