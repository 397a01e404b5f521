"""AssetStore over Azure Table storage.

Layout of ``{prefix}Assets``:
- partition = registry key, row = ``{type}:{name}:{version}``: one version (fields, ledger, status), with
  ``files_chunks``, the number of manifest rows;
- partition = ``m:{registry key}``, row = ``{type}:{name}:{version}:{nnnn}``: the manifest, in chunks of at
  most ``CHUNK_CHARS`` characters of JSON (a string property holds at most 64 KiB, and an entity 1 MiB;
  10,000 files do not fit one).

A version and its manifest are written in two transactions (different partitions); the manifest first, so
a version row never names chunks that are not there. A new manifest is only ever written with a new
version (versions are immutable), so chunk rows are never rewritten.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.data.tables import TableClient, TableServiceClient, UpdateMode

from shared.adapters.table_rows import dt, principal
from shared.adapters.tables import classified_methods
from shared.domain.access import Principal
from shared.domain.asset_records import AssetStatus, AssetVersionRecord, RegionCopy
from shared.domain.asset_spec import AssetType
from shared.domain.errors import ConcurrentUpdate, Conflict
from shared.domain.manifest import FileEntry

CHUNK_CHARS = 30_000  # a string property holds 64 KiB: 32K UTF-16 characters
_BATCH = 100  # operations in one table transaction


def _principal_json(who: Principal | None) -> str:
    return json.dumps({"id": who.id, "name": who.name, "type": who.type}) if who else ""


def _chunks(files: list[FileEntry]) -> list[str]:
    chunks: list[str] = []
    current: list[dict[str, Any]] = []
    size = 2
    for entry in files:
        item = entry.to_dict()
        length = len(json.dumps(item, separators=(",", ":"))) + 1
        if current and size + length > CHUNK_CHARS:
            chunks.append(json.dumps(current, separators=(",", ":")))
            current, size = [], 2
        current.append(item)
        size += length
    if current:
        chunks.append(json.dumps(current, separators=(",", ":")))
    return chunks


def _entity(r: AssetVersionRecord, chunks: int) -> dict[str, Any]:
    return {
        "PartitionKey": r.registry,
        "RowKey": r.row,
        "type": r.type.value,
        "name": r.name,
        "version": r.version,
        "content_digest": r.content_digest,
        "description": r.description,
        "tags": json.dumps(r.tags),
        "properties": json.dumps(r.properties),
        "fields": json.dumps(r.fields),
        "upload": r.upload,
        "registered_upload": r.registered_upload,
        "status": r.status.value,
        "archived": r.archived,
        "created_by": _principal_json(r.created_by),
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "operation_id": r.operation_id,
        "ledger": json.dumps({k: v.to_dict() for k, v in r.ledger.items()}),
        "error": r.error or "",
        "imported": r.imported,
        "origin": json.dumps(r.origin) if r.origin else "",
        "image_source": json.dumps(r.image_source) if r.image_source else "",
        "files_chunks": chunks,
        "files_count": len(r.files),
    }


def _record(e: Any, files: list[FileEntry]) -> AssetVersionRecord:
    return AssetVersionRecord(
        registry=e["PartitionKey"],
        type=AssetType(e["type"]),
        name=e["name"],
        version=e["version"],
        content_digest=e["content_digest"],
        description=e.get("description") or "",
        tags=json.loads(e.get("tags") or "{}"),
        properties=json.loads(e.get("properties") or "{}"),
        fields=json.loads(e.get("fields") or "{}"),
        files=files,
        upload=e.get("upload") or "",
        registered_upload=e.get("registered_upload") or "",
        status=AssetStatus(e["status"]),
        archived=bool(e.get("archived")),
        created_by=principal(e.get("created_by")),
        created_at=dt(e["created_at"]),
        updated_at=dt(e["updated_at"]),
        operation_id=e.get("operation_id") or "",
        ledger={k: RegionCopy.from_dict(v) for k, v in json.loads(e.get("ledger") or "{}").items()},
        error=e.get("error") or None,
        imported=e.get("imported") or "",
        origin=json.loads(e.get("origin") or "{}"),
        image_source=json.loads(e.get("image_source") or "{}"),
        etag=e.metadata.get("etag") if hasattr(e, "metadata") else None,
    )


class TableAssetStore:
    def __init__(self, service: TableServiceClient, prefix: str) -> None:
        self._assets: TableClient = service.get_table_client(f"{prefix}Assets")

    def table_names(self) -> list[str]:
        return [self._assets.table_name]

    def _files(self, registry: str, row: str, chunks: int) -> list[FileEntry]:
        if chunks == 0:
            return []
        rows = self._assets.query_entities(
            "PartitionKey eq @p and RowKey ge @lo and RowKey lt @hi",
            parameters={"p": f"m:{registry}", "lo": f"{row}:", "hi": f"{row};"},
        )
        ordered = sorted(rows, key=lambda e: e["RowKey"])
        return [FileEntry.from_dict(item) for e in ordered for item in json.loads(e["files"])]

    def get(self, registry: str, row: str) -> AssetVersionRecord | None:
        try:
            entity = self._assets.get_entity(registry, row)
        except ResourceNotFoundError:
            return None
        return _record(entity, self._files(registry, row, int(entity.get("files_chunks") or 0)))

    def list_versions(self, registry: str, prefix: str = "") -> list[AssetVersionRecord]:
        if prefix:
            query = "PartitionKey eq @p and RowKey ge @lo and RowKey lt @hi"
            parameters = {"p": registry, "lo": prefix, "hi": prefix + "\uffff"}
        else:
            query, parameters = "PartitionKey eq @p", {"p": registry}
        entities = list(self._assets.query_entities(query, parameters=parameters))
        manifests = self._all_files(registry, prefix) if entities else {}
        return [_record(e, manifests.get(e["RowKey"], [])) for e in entities]

    def _all_files(self, registry: str, prefix: str) -> dict[str, list[FileEntry]]:
        """Every manifest of the registry (under ``prefix``) in one query, by version row."""
        if prefix:
            query = "PartitionKey eq @p and RowKey ge @lo and RowKey lt @hi"
            parameters = {"p": f"m:{registry}", "lo": prefix, "hi": prefix + "\uffff"}
        else:
            query, parameters = "PartitionKey eq @p", {"p": f"m:{registry}"}
        found: dict[str, list[FileEntry]] = {}
        for e in sorted(self._assets.query_entities(query, parameters=parameters), key=lambda e: e["RowKey"]):
            row = e["RowKey"].rsplit(":", 1)[0]
            found.setdefault(row, []).extend(FileEntry.from_dict(item) for item in json.loads(e["files"]))
        return found

    def create(self, record: AssetVersionRecord) -> None:
        chunks = _chunks(record.files)
        operations = [
            ("upsert", {"PartitionKey": f"m:{record.registry}", "RowKey": f"{record.row}:{i:04d}", "files": text})
            for i, text in enumerate(chunks)
        ]
        for start in range(0, len(operations), _BATCH):
            self._assets.submit_transaction(operations[start : start + _BATCH])
        try:
            meta = self._assets.create_entity(_entity(record, len(chunks)))
        except ResourceExistsError:
            raise Conflict(f"{record.type.singular} {record.name} version {record.version} exists") from None
        record.etag = meta.get("etag")

    def save(self, record: AssetVersionRecord) -> None:
        entity = _entity(record, len(_chunks(record.files)))
        try:
            meta = self._assets.update_entity(
                entity, mode=UpdateMode.REPLACE, etag=record.etag, match_condition=MatchConditions.IfNotModified
            )
        except (ResourceModifiedError, ResourceNotFoundError):
            raise ConcurrentUpdate(f"{record.type.singular} {record.name} {record.version} changed meanwhile") from None
        record.etag = meta.get("etag")

    def delete(self, record: AssetVersionRecord) -> None:
        with contextlib.suppress(ResourceNotFoundError):
            self._assets.delete_entity(record.registry, record.row)
        rows = self._assets.query_entities(
            "PartitionKey eq @p and RowKey ge @lo and RowKey lt @hi",
            parameters={"p": f"m:{record.registry}", "lo": f"{record.row}:", "hi": f"{record.row};"},
            select=["PartitionKey", "RowKey"],
        )
        operations = [("delete", {"PartitionKey": e["PartitionKey"], "RowKey": e["RowKey"]}) for e in rows]
        for start in range(0, len(operations), _BATCH):
            self._assets.submit_transaction(operations[start : start + _BATCH])


classified_methods(TableAssetStore)
