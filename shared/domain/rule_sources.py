"""Where a promotion rule's versions come from (pure; docs/events.md, "Rules").

A rule's ``source`` is one of three forms:

- ``{"registry": "dev"}``: versions that become available in a regctl registry (its
  ``AssetVersionAvailable`` events);
- ``{"acr": "<ARM id of a container registry>", "repository": "team/*"}``: images pushed to a container
  registry outside regctl (its ``ImagePushed`` events), each a new environment version;
- ``{"storage": "<ARM id of a storage account>", "container": "drops", "prefix": "models/"}``: folders
  dropped into a storage container under a prefix, each described by an ``asset.yml`` (its
  ``BlobCreated`` event registers the folder).

An external source (the last two) is *watched*: regctl provisions an Event Grid subscription on it
(``WatchedSource``; kinds ``source_topic`` and ``source_subscription``) and reads it with its own identity,
so a rule with one needs ``registries/write`` on the target besides ``assets/write``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.domain.documents import shorten
from shared.domain.errors import FieldError

REGISTRY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,32}$")
ASSET_FILE = "asset.yml"
_ID_RE = re.compile(
    r"^/subscriptions/([0-9A-Fa-f-]{36})/resourceGroups/([-\w._()]{1,90})/providers/"
    r"(Microsoft\.ContainerRegistry/registries|Microsoft\.Storage/storageAccounts)/([A-Za-z0-9]{3,50})$",
    re.IGNORECASE,
)
_PROVIDERS = {"acr": "microsoft.containerregistry/registries", "storage": "microsoft.storage/storageaccounts"}
_CONTAINER_RE = re.compile(r"^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_REPOSITORY_GLOB_RE = re.compile(r"^[a-z0-9*?._/\-\[\]]{1,256}$")
_OWN_CONTAINERS = ("assets",)  # regctl's own writes, ignored whatever the account


class SourceKind(StrEnum):
    REGISTRY = "registry"
    ACR = "acr"
    STORAGE = "storage"


@dataclass(frozen=True)
class WatchedSource:
    """An Azure resource outside regctl's registries that a rule names: it gets a system topic (one per
    source, Azure's rule: an existing one is reused) and an event subscription delivering to the events
    queue. ``kind`` is ``acr`` or ``storage``."""

    resource_id: str
    kind: SourceKind

    @property
    def key(self) -> str:
        return self.resource_id.lower()

    @property
    def subscription_id(self) -> str:
        return self.resource_id.split("/")[2]

    @property
    def resource_group(self) -> str:
        return self.resource_id.split("/")[4]

    @property
    def name(self) -> str:
        return self.resource_id.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class RuleSource:
    kind: SourceKind
    registry: str = ""  # a registry source's name, lowercase
    resource_id: str = ""  # an external source's ARM id, as given
    repository: str = "*"  # an ACR source: a glob of repositories (lowercase, as ACR's are)
    container: str = ""  # a storage source: the container watched
    prefix: str = ""  # a storage source: the blob prefix watched ("" the whole container)

    @property
    def watched(self) -> WatchedSource | None:
        return None if self.kind is SourceKind.REGISTRY else WatchedSource(self.resource_id, self.kind)

    def is_resource(self, resource_id: str) -> bool:
        return bool(self.resource_id) and self.resource_id.lower() == resource_id.lower()

    def takes_image(self, resource_id: str, repository: str) -> bool:
        """Whether an image pushed to ``repository`` of ``resource_id`` is this source's."""
        return (
            self.kind is SourceKind.ACR
            and self.is_resource(resource_id)
            and fnmatch.fnmatchcase(repository.lower(), self.repository)
        )

    def takes_blob(self, resource_id: str, container: str, blob: str) -> bool:
        """Whether a blob written at ``container``/``blob`` of ``resource_id`` is an ``asset.yml`` of this
        source (under its prefix)."""
        return (
            self.kind is SourceKind.STORAGE
            and self.is_resource(resource_id)
            and container == self.container
            and blob.startswith(self.prefix)
            and (blob == ASSET_FILE or blob.endswith("/" + ASSET_FILE))
        )

    def label(self) -> str:
        if self.kind is SourceKind.REGISTRY:
            return self.registry
        if self.kind is SourceKind.ACR:
            return f"{self.resource_id} ({self.repository})"
        return f"{self.resource_id}/{self.container}/{self.prefix}"

    def to_dict(self) -> dict[str, Any]:
        if self.kind is SourceKind.REGISTRY:
            return {"registry": self.registry}
        if self.kind is SourceKind.ACR:
            return {"acr": self.resource_id, "repository": self.repository}
        return {"storage": self.resource_id, "container": self.container, "prefix": self.prefix}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RuleSource:
        """A stored source (as ``to_dict`` wrote it), unchecked."""
        if "acr" in raw:
            return cls(SourceKind.ACR, resource_id=str(raw["acr"]), repository=str(raw.get("repository") or "*"))
        if "storage" in raw:
            return cls(
                SourceKind.STORAGE,
                resource_id=str(raw["storage"]),
                container=str(raw.get("container") or ""),
                prefix=str(raw.get("prefix") or ""),
            )
        return cls(SourceKind.REGISTRY, registry=str(raw.get("registry") or "").lower())


def _resource_id(raw: object, kind: str, errors: list[FieldError]) -> str:
    path = f"source.{kind}"
    what = "a container registry" if kind == "acr" else "a storage account"
    matched = _ID_RE.fullmatch(raw) if isinstance(raw, str) else None
    if matched is None or matched.group(3).lower() != _PROVIDERS[kind]:
        errors.append(FieldError(path, f"the ARM id of {what}: /subscriptions/{{id}}/resourceGroups/{{g}}/..."))
        return ""
    return str(raw)


def parse_source(raw: object, errors: list[FieldError]) -> RuleSource:
    """A rule's source from its document; problems are appended to ``errors``."""
    if isinstance(raw, str):
        raw = {"registry": raw}
    if not isinstance(raw, Mapping):
        errors.append(FieldError("source", "a mapping: {registry}, {acr, repository} or {storage, container, prefix}"))
        return RuleSource(SourceKind.REGISTRY)
    forms = [kind for kind in SourceKind if kind.value in raw]
    if len(forms) != 1:
        errors.append(FieldError("source", "exactly one of registry, acr or storage"))
        return RuleSource(SourceKind.REGISTRY)
    kind = forms[0]
    allowed = {SourceKind.REGISTRY: {"registry"}, SourceKind.ACR: {"acr", "repository"}}.get(
        kind, {"storage", "container", "prefix"}
    )
    errors += [FieldError(f"source.{shorten(k)}", "unknown field") for k in sorted(map(str, set(raw) - allowed))]
    if kind is SourceKind.REGISTRY:
        name = raw["registry"]
        if not isinstance(name, str) or not REGISTRY_NAME_RE.fullmatch(name):
            errors.append(FieldError("source.registry", "a registry name"))
            return RuleSource(kind)
        return RuleSource(kind, registry=name.lower())
    resource_id = _resource_id(raw[kind.value], kind.value, errors)
    if kind is SourceKind.ACR:
        repository = raw.get("repository", "*")
        if not isinstance(repository, str) or not _REPOSITORY_GLOB_RE.fullmatch(repository):
            errors.append(FieldError("source.repository", "a glob of lowercase repository names, such as team/*"))
            repository = "*"
        return RuleSource(kind, resource_id=resource_id, repository=repository)
    container, prefix = raw.get("container"), raw.get("prefix", "")
    if not isinstance(container, str) or not _CONTAINER_RE.fullmatch(container):
        errors.append(FieldError("source.container", "a container name: 3 to 63 lowercase letters, digits and '-'"))
        container = ""
    elif container in _OWN_CONTAINERS:
        errors.append(FieldError("source.container", f"'{container}' holds regctl's own copies; name another"))
    if not isinstance(prefix, str) or len(prefix) > 512 or prefix.startswith("/") or ".." in prefix.split("/"):
        errors.append(FieldError("source.prefix", "a blob name prefix such as models/, without '..' or a leading /"))
        prefix = ""
    return RuleSource(kind, resource_id=resource_id, container=str(container), prefix=prefix)
