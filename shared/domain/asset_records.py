"""Asset version records and their ledger (pure data).

A version is registered once (``Creating``), copied to every region of its registry, and ``Available``
when every region's copy is verified. The ledger says, per region, where the copy stands:
``Pending`` (not started), ``Copying`` (a step is at work), ``Replicated`` (every file of the manifest
verified there) or ``Failed`` (the step gave up; the next region sync tries again). Each version's work
runs in its own lane, ``asset:{type}/{name}/{version}``, beside the registry's and other versions'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from shared.domain.access import Principal
from shared.domain.asset_spec import AssetType, asset_id
from shared.domain.manifest import FileEntry, upload_container, version_prefix
from shared.domain.records import utcnow

ASSET_LANE = "asset:"
"""Item lanes of asset versions: ``asset:{type}/{name}/{version}``."""


def asset_lane(asset_type: AssetType | str, name: str, version: str) -> str:
    return f"{ASSET_LANE}{AssetType(asset_type).value}/{name}/{version}"


def lane_version(lane: str) -> tuple[AssetType, str, str] | None:
    """``(type, name, version)`` of an asset lane, or None for another lane."""
    if not lane.startswith(ASSET_LANE):
        return None
    parts = lane.removeprefix(ASSET_LANE).split("/")
    if len(parts) != 3:
        return None
    try:
        return AssetType(parts[0]), parts[1], parts[2]
    except ValueError:
        return None


class AssetStatus(StrEnum):
    CREATING = "Creating"
    AVAILABLE = "Available"
    FAILED = "Failed"
    DELETING = "Deleting"


class CopyState(StrEnum):
    PENDING = "Pending"
    COPYING = "Copying"
    REPLICATED = "Replicated"
    FAILED = "Failed"


@dataclass(frozen=True)
class RegionCopy:
    """One region's copy of a version, as last observed."""

    state: CopyState = CopyState.PENDING
    uri: str = ""
    files: int = 0  # files verified there
    bytes: int = 0  # bytes verified there
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "uri": self.uri,
            "files": self.files,
            "bytes": self.bytes,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> RegionCopy:
        return cls(
            CopyState(raw.get("state", "Pending")),
            str(raw.get("uri", "")),
            int(raw.get("files", 0)),
            int(raw.get("bytes", 0)),
            raw.get("error"),
        )


@dataclass
class AssetVersionRecord:
    registry: str  # the registry key
    type: AssetType
    name: str
    version: str
    content_digest: str
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    files: list[FileEntry] = field(default_factory=list)
    upload: str = ""  # "{upload id}[/{folder}]": the pending upload copies start from ("" once not needed)
    registered_upload: str = ""  # the same, kept: a PUT again naming it is the same registration
    status: AssetStatus = AssetStatus.CREATING
    archived: bool = False
    created_by: Principal | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    operation_id: str = ""
    ledger: dict[str, RegionCopy] = field(default_factory=dict)
    imported: str = ""  # an environment's image, once imported into the ACR: where ("repo:tag")
    origin: dict[str, str] = field(default_factory=dict)  # a promotion's source copy (kinds/assets.py Place)
    image_source: dict[str, str] = field(default_factory=dict)  # importImage's source by resource id, if not by image
    error: str | None = None
    etag: str | None = None

    @property
    def lane(self) -> str:
        return asset_lane(self.type, self.name, self.version)

    @property
    def prefix(self) -> str:
        return version_prefix(self.type.value, self.name, self.version)

    @property
    def row(self) -> str:
        """Its key within the registry: ``{type}:{name}:{version}`` (none of them holds a ``:``)."""
        return f"{self.type.value}:{self.name}:{self.version}"

    @property
    def upload_source(self) -> tuple[str, str] | None:
        """(container, folder prefix) of the pending upload it was registered from, while it is kept."""
        if not self.upload:
            return None
        upload_id, _, folder = self.upload.partition("/")
        return upload_container(upload_id), (folder.strip("/") + "/" if folder.strip("/") else "")

    @property
    def image(self) -> str | None:
        value = self.fields.get("image")
        return value if isinstance(value, str) else None

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    def id(self, registry_name: str) -> str:
        return asset_id(registry_name, self.type, self.name, self.version)
