"""Asset versions: pending uploads, registration, reads, changes of the mutable fields, deletion, and the
credentials that read a region's copy (DESIGN.md section 7, "Assets are immutable versions").

Registration lists what arrived in the pending upload (one data-plane LIST), records the manifest, and
starts the version's own operation, which copies it to every region (``kinds/assets.py``) and keeps the
ledger (``AssetLedger``). No copy runs in the request. Routes check ``registries/assets/*`` before these
are called (``handlers/auth.py``). The pending uploads themselves (their containers and SAS, and what a
registration reads from one) are ``PendingUploads`` in ``shared/services/asset_uploads.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.access import Principal
from shared.domain.asset_records import AssetStatus, AssetVersionRecord, CopyState, asset_lane
from shared.domain.asset_spec import AssetDefinition, AssetType, check_name, check_version
from shared.domain.errors import Conflict, FieldError, InvalidSpec, NotFound
from shared.domain.manifest import (
    ASSET_CONTAINER,
    FileEntry,
    content_digest,
)
from shared.domain.records import OperationKind, OperationRecord, OperationStatus, RegistryRecord, utcnow
from shared.observability import context_log
from shared.ports import AssetStore, DataPlane, StateStore
from shared.services.asset_uploads import PendingUploads, primary_account, region_account
from shared.services.lifecycle import OperationLifecycle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssetConfig:
    subscription_id: str
    resource_group_prefix: str
    upload_minutes: int = 60
    download_minutes: int = 60


@dataclass(frozen=True)
class RegisterAsset:
    """A registration: the checked document, the files the client says it uploaded (optional), the caller."""

    registry: str
    definition: AssetDefinition
    files: tuple[FileEntry, ...] | None = None
    caller: Principal | None = None


@dataclass(frozen=True)
class Registered:
    version: AssetVersionRecord
    operation: OperationRecord | None  # None: the same content was registered before (no new work)


@dataclass(frozen=True)
class VersionView:
    version: AssetVersionRecord
    registry_name: str
    status: AssetStatus  # Failed when the version's operation failed while it was Creating
    operation: OperationRecord | None


def _not_found(asset_type: AssetType, name: str, version: str | None = None) -> NotFound:
    what = f"{asset_type.singular} {name}" + (f" version {version}" if version else "")
    return NotFound(f"{what} not found", code="AssetNotFound")


class AssetService:
    def __init__(
        self,
        store: StateStore,
        assets: AssetStore,
        data: DataPlane,
        lifecycle: OperationLifecycle,
        config: AssetConfig,
    ) -> None:
        self._store = store
        self._assets = assets
        self._data = data
        self._lifecycle = lifecycle
        self._config = config
        self._uploads = PendingUploads(
            data,
            subscription_id=config.subscription_id,
            resource_group_prefix=config.resource_group_prefix,
            minutes=config.upload_minutes,
        )

    # -- the registry and its primary storage ------------------------------------------------------

    def _registry(self, name: str) -> RegistryRecord:
        record = self._store.get_registry(name.lower())
        if record is None or record.deleting:
            raise NotFound(f'registry "{name}" not found', code="RegistryNotFound")
        return record

    def primary_storage(self, registry: str) -> tuple[str, str]:
        """(name, blob endpoint) of the account of the registry's primary region: where its versions' content
        is named from (the registry data plane's ``modelUri``/``dataUri``)."""
        return primary_account(self._registry(registry))

    # -- uploads and registration ------------------------------------------------------------------

    def start_upload(self, registry: str, asset_type: AssetType, name: str, version: str) -> dict[str, Any]:
        """A container of its own in the primary region's account, and a SAS that can write only there."""
        errors = check_name(name) + check_version(version)
        if errors:
            raise InvalidSpec("the asset name or version is invalid", errors)
        return self._uploads.start(self._registry(registry), asset_type, name, version)

    def register(self, cmd: RegisterAsset) -> Registered:
        record = self._registry(cmd.registry)
        definition = cmd.definition
        existing = self._assets.get(record.key, f"{definition.type.value}:{definition.name}:{definition.version}")
        if existing is not None and self._uploads.registered_from(record, definition.content, existing):
            # the same PUT again (its answer lost): the upload it names may be gone once the copies are made
            same = self._same_again(existing, definition, existing.content_digest)
            return Registered(same, self._resumed(record, same, cmd.caller))
        upload, files = self._uploads.manifest(record, definition, cmd.files)
        digest = content_digest(definition.identity(), files)
        if existing is not None:
            with self._uploads.discarding(record, upload, existing):
                same = self._same_again(existing, definition, digest)
            return Registered(same, self._resumed(record, same, cmd.caller))
        version = AssetVersionRecord(
            registry=record.key,
            type=definition.type,
            name=definition.name,
            version=definition.version,
            content_digest=digest,
            description=definition.description,
            tags=dict(definition.tags),
            properties=dict(definition.properties),
            fields=dict(definition.fields),
            files=files,
            upload=upload,
            registered_upload=upload,
            created_by=cmd.caller,
        )
        try:
            self._assets.create(version)
        except Conflict:
            raced = self._assets.get(record.key, version.row)
            if raced is None:
                raise
            with self._uploads.discarding(record, upload, raced):
                same = self._same_again(raced, definition, digest)
            return Registered(same, self._resumed(record, same, cmd.caller))
        operation = self._lifecycle.start(record, OperationKind.REGISTER, version.lane, cmd.caller)
        context_log(log, registry=record.key, operation=operation.id, step="register", region="").info(
            "registered %s %s %s: %d files, %d bytes",
            definition.type.singular,
            version.name,
            version.version,
            len(files),
            version.total_bytes,
        )
        return Registered(version, operation)

    def _resumed(
        self, record: RegistryRecord, version: AssetVersionRecord, caller: Principal | None
    ) -> OperationRecord | None:
        """A version still Creating whose lane has no running operation gets one: its registration was
        written but the process ended before the operation was (found by tests/chaos: the host killed
        between the two; the client's PUT again is what resumes it). None when there is nothing to do."""
        if version.status is not AssetStatus.CREATING or self._lifecycle.current(record.key, version.lane):
            return None
        newest = self._store.get_lane_operation(record.key, version.lane)
        operation = self._store.get_operation(newest) if newest else None
        if operation is not None and operation.status is OperationStatus.SUCCEEDED:
            return None
        return self._lifecycle.start(record, OperationKind.REGISTER, version.lane, caller)

    def _same_again(self, existing: AssetVersionRecord, definition: AssetDefinition, digest: str) -> AssetVersionRecord:
        """A registration of a version that exists: no new work when the content is the same (its
        description and tags are taken), ``AssetVersionImmutable`` when it is not."""
        if existing.status is AssetStatus.DELETING:
            raise Conflict(
                f"{definition.type.singular} {definition.name} version {definition.version} is being deleted",
                code="AssetVersionDeleting",
            )
        if existing.content_digest != digest:
            raise Conflict(
                f"{definition.type.singular} {definition.name} version {definition.version} exists with other "
                "content; versions are immutable: register a new version",
                code="AssetVersionImmutable",
            )
        if existing.description != definition.description or existing.tags != definition.tags:
            existing.description = definition.description
            existing.tags = dict(definition.tags)
            existing.updated_at = utcnow()
            self._assets.save(existing)
        return existing

    # -- reads -------------------------------------------------------------------------------------

    def _view(self, record: RegistryRecord, version: AssetVersionRecord) -> VersionView:
        operation_id = self._store.get_lane_operation(record.key, version.lane)
        operation = self._store.get_operation(operation_id) if operation_id else None
        status = version.status
        if status is AssetStatus.CREATING and operation is not None and operation.status is OperationStatus.FAILED:
            status = AssetStatus.FAILED
        return VersionView(version, record.name, status, operation)

    def get(self, registry: str, asset_type: AssetType, name: str, version: str) -> VersionView:
        record = self._registry(registry)
        found = self._assets.get(record.key, f"{asset_type.value}:{name}:{version}")
        if found is None:
            raise _not_found(asset_type, name, version)
        return self._view(record, found)

    def versions(self, registry: str, asset_type: AssetType, name: str, *, archived: bool = False) -> list[VersionView]:
        record = self._registry(registry)
        found = self._assets.list_versions(record.key, f"{asset_type.value}:{name}:")
        if not found:
            raise _not_found(asset_type, name)
        return [self._view(record, v) for v in found if archived or not v.archived]

    def containers(self, registry: str, asset_type: AssetType, *, archived: bool = False) -> list[dict[str, Any]]:
        """One entry per asset name: its newest version (by registration time) and how many there are."""
        record = self._registry(registry)
        by_name: dict[str, list[AssetVersionRecord]] = {}
        for version in self._assets.list_versions(record.key, f"{asset_type.value}:"):
            if archived or not version.archived:
                by_name.setdefault(version.name, []).append(version)
        out = []
        for name, versions in sorted(by_name.items()):
            newest = max(versions, key=lambda v: v.created_at)
            out.append({"name": name, "latestVersion": newest.version, "versions": len(versions)})
        return out

    # -- changes -----------------------------------------------------------------------------------

    def update(
        self, registry: str, asset_type: AssetType, name: str, version: str, changes: Mapping[str, Any]
    ) -> VersionView:
        """Change ``description``, ``tags`` or ``isArchived``; anything else is immutable."""
        errors = [
            FieldError(key, "immutable: register a new version to change it")
            for key in changes
            if key not in ("description", "tags", "isArchived")
        ]
        if "isArchived" in changes and not isinstance(changes["isArchived"], bool):
            errors.append(FieldError("isArchived", "must be true or false"))
        if "description" in changes and not isinstance(changes["description"], str):
            errors.append(FieldError("description", "must be a string"))
        tags = changes.get("tags", {})
        if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
            errors.append(FieldError("tags", "must be a mapping of strings"))
        if errors:
            raise InvalidSpec("the change is not acceptable", errors, code="InvalidAssetUpdate")
        view = self.get(registry, asset_type, name, version)
        found = view.version
        if "description" in changes:
            found.description = changes["description"]
        if "tags" in changes:
            found.tags = dict(changes["tags"])
        if "isArchived" in changes:
            found.archived = changes["isArchived"]
        found.updated_at = utcnow()
        self._assets.save(found)
        return self._view(self._registry(registry), found)

    def delete(
        self, registry: str, asset_type: AssetType, name: str, version: str, caller: Principal | None
    ) -> OperationRecord:
        """Mark the version Deleting and start the operation that deletes its copies in every region."""
        record = self._registry(registry)
        found = self._assets.get(record.key, f"{asset_type.value}:{name}:{version}")
        if found is None:
            raise _not_found(asset_type, name, version)
        if found.status is not AssetStatus.DELETING:
            found.status = AssetStatus.DELETING
            found.updated_at = utcnow()
            self._assets.save(found)
        return self._lifecycle.start(
            record, OperationKind.DELETE_VERSION, asset_lane(asset_type, name, version), caller
        )

    def download(
        self, registry: str, asset_type: AssetType, name: str, version: str, region: str | None
    ) -> dict[str, Any]:
        """A read credential for ``region``'s copy (the primary's by default), once it is verified there."""
        view = self.get(registry, asset_type, name, version)
        record = self._registry(registry)
        where = (region or str(record.spec["location"])).lower()
        copy = view.version.ledger.get(where)
        if copy is None:
            raise NotFound(f'registry "{record.name}" has no region {where}', code="RegionNotFound")
        if copy.state is not CopyState.REPLICATED:
            raise Conflict(f"the copy in {where} is {copy.state.value}, not Replicated yet", code="CopyNotReady")
        _, endpoint = region_account(record, where)
        url = self._data.container_url(endpoint, ASSET_CONTAINER, write=False, minutes=self._config.download_minutes)
        base, _, sas = url.partition("?")
        return {
            "region": where,
            "blobUri": f"{base}/{view.version.prefix}",
            "credential": {"credentialType": "SAS", "sasUri": f"{base}/{view.version.prefix}?{sas}"},
            "prefix": view.version.prefix,
            "containerUri": url,
            "files": [f.to_dict() for f in view.version.files],
        }
