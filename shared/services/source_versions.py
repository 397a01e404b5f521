"""The target version a promotion registers, from each kind of source (docs/events.md, "Promotion").

- **A registry's version**: its manifest, content digest and fields; its files copied from the source
  registry's verified copy in its primary region (``origin``); an environment's image imported ACR to ACR
  from the source registry's ACR by resource id (``image_source``), as it was imported there.
- **An image pushed to a build ACR**: an environment version whose ``image`` is the pushed reference and
  whose import is pinned to the pushed digest, from the build ACR by resource id.
- **A folder described by an ``asset.yml``**: read with regctl's identity, its files listed (size and
  Content-MD5 as the LIST gives them) and copied server-side from that folder into every region.

Lineage goes in the target's properties: ``promotedFrom``, ``promotionRule``, ``promotionEvent``,
``promotionId``.
"""

from __future__ import annotations

from shared.domain.asset_records import AssetStatus, AssetVersionRecord
from shared.domain.asset_spec import AssetType, parse_asset_id
from shared.domain.errors import Conflict, InvalidSpec, NotFound
from shared.domain.kinds.assets import Place
from shared.domain.kinds.images import target_tag
from shared.domain.manifest import ASSET_CONTAINER, BlobListing, FileEntry, content_digest, match_upload
from shared.domain.promotions import Promotion
from shared.domain.records import RegistryRecord
from shared.domain.source_events import (
    MAX_MANIFEST_BYTES,
    DroppedManifest,
    PushedImage,
    manifest_definition,
)
from shared.ports import AssetStore, DataPlane
from shared.services.observer import storage_from_summary


def lineage(promotion: Promotion) -> dict[str, str]:
    return {
        "promotedFrom": promotion.source,
        "promotionRule": promotion.rule,
        "promotionEvent": promotion.event_id,
        "promotionId": promotion.id,
    }


def acr_id(record: RegistryRecord) -> str:
    """The ARM id of a registry's ACR, as its last observation recorded it ("" before it exists)."""
    acr = record.resources.get("container_registry") if isinstance(record.resources, dict) else None
    return str(acr.get("id") or "") if isinstance(acr, dict) else ""


class SourceVersions:
    def __init__(self, assets: AssetStore, data: DataPlane) -> None:
        self._assets = assets
        self._data = data

    # -- a registry's version ----------------------------------------------------------------------

    def from_registry(self, promotion: Promotion, source: RegistryRecord) -> AssetVersionRecord:
        _, src_type, src_name, src_version = parse_asset_id(promotion.source)
        src = self._assets.get(source.key, f"{src_type.value}:{src_name}:{src_version}")
        if src is None:
            raise NotFound(f"{promotion.source} not found", code="SourceNotFound")
        if src.status is not AssetStatus.AVAILABLE:
            raise Conflict(f"{promotion.source} is {src.status.value}, not Available", code="SourceNotAvailable")
        image_source: dict[str, str] = {}
        acr = acr_id(source)
        if src.type is AssetType.ENVIRONMENTS and src.image and acr:  # else from the image reference, as before
            image_source = {"resourceId": acr, "sourceImage": src.imported or target_tag(src)}
        return AssetVersionRecord(
            registry=promotion.target_registry,
            type=promotion.type,
            name=promotion.name,
            version=promotion.version,
            content_digest=src.content_digest,
            description=src.description,
            tags=dict(src.tags),
            properties={**src.properties, **lineage(promotion)},
            fields=dict(src.fields),
            files=list(src.files),
            origin=self._primary_copy(source, src),
            image_source=image_source,
            created_by=promotion.requested_by,
        )

    @staticmethod
    def _primary_copy(record: RegistryRecord, version: AssetVersionRecord) -> dict[str, str]:
        """The source registry's verified copy in its primary region."""
        if not version.files:
            return {}
        primary = str(record.spec["location"])
        for account in storage_from_summary(record.resources):
            if account.region == primary and account.index == 0:
                return Place(account.name, account.blob_endpoint, ASSET_CONTAINER, version.prefix).to_dict()
        raise Conflict(f'registry "{record.name}" has no storage account in {primary}', code="RegistryNotReady")

    # -- an image pushed to a build ACR ------------------------------------------------------------

    @staticmethod
    def from_image(promotion: Promotion) -> AssetVersionRecord:
        image = PushedImage.from_origin(promotion.origin)
        fields = {"os_type": "linux", "image": image.reference}
        identity = {"type": AssetType.ENVIRONMENTS.value, "fields": {**fields, "digest": image.digest}}
        return AssetVersionRecord(
            registry=promotion.target_registry,
            type=AssetType.ENVIRONMENTS,
            name=promotion.name,
            version=promotion.version,
            content_digest=content_digest(identity, []),
            description=f"Pushed to {image.pinned}",
            properties={"imageDigest": image.digest, **lineage(promotion)},
            fields=fields,
            image_source=image.import_source(),
            created_by=promotion.requested_by,
        )

    # -- a folder described by an asset.yml --------------------------------------------------------

    def _files(self, dropped: DroppedManifest, content: str) -> tuple[str, list[FileEntry]]:
        """The folder (prefix ending in / or "") the files are copied from, and the files relative to it."""
        folder = content + "/" if content else ""
        listed = self._data.list_blobs(dropped.endpoint, dropped.container, folder)
        listed = {n: b for n, b in listed.items() if n != dropped.blob}
        if not listed and content:  # a single file (a uri_file, a conda file)
            parent = content.rsplit("/", 1)[0] + "/" if "/" in content else ""
            exact = self._data.list_blobs(dropped.endpoint, dropped.container, content)
            listed = {n: b for n, b in exact.items() if n == content}
            folder = parent
        if not listed:
            raise InvalidSpec(f"{dropped.container}/{content or '(root)'} holds no files", [], code="NoFiles")
        relative = [BlobListing(n.removeprefix(folder), b.size, b.md5, b.copy_status) for n, b in listed.items()]
        return folder, match_upload(relative, None)

    def from_folder(self, promotion: Promotion, types: tuple[AssetType, ...]) -> AssetVersionRecord:
        dropped = DroppedManifest.from_origin(promotion.origin)
        definition, content = manifest_definition(
            self._data.read_blob(dropped.endpoint, dropped.container, dropped.blob, MAX_MANIFEST_BYTES),
            dropped.folder,
            types,
        )
        if (definition.type, definition.name, definition.version) != (
            promotion.type,
            promotion.name,
            promotion.version,
        ):
            raise Conflict(
                f"{dropped.url} now describes {definition.type.singular} {definition.name} {definition.version}",
                code="AssetManifestChanged",
            )
        folder, files = ("", []) if content is None else self._files(dropped, content)
        account = dropped.resource_id.rstrip("/").rsplit("/", 1)[-1]
        return AssetVersionRecord(
            registry=promotion.target_registry,
            type=definition.type,
            name=definition.name,
            version=definition.version,
            content_digest=content_digest(definition.identity(), files),
            description=definition.description,
            tags=dict(definition.tags),
            properties={**definition.properties, **lineage(promotion)},
            fields=dict(definition.fields),
            files=files,
            origin=Place(account, dropped.endpoint, dropped.container, folder).to_dict() if files else {},
            created_by=promotion.requested_by,
        )
