"""Pending uploads: the container of its own that a client uploads a version's files into, in the account
of the registry's primary region with a SAS that can write only there, and what a registration reads from
one: the upload its content URI names, the files found there as the version's manifest (one data-plane
LIST), and the deletion of an upload nothing will copy from.

``region_account`` is where a registry keeps a region's copies: the primary's is where uploads go, and a
download reads from any region's.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shared.domain.asset_records import AssetVersionRecord
from shared.domain.asset_spec import AssetDefinition, AssetType
from shared.domain.errors import Conflict, FieldError, InvalidSpec, TransientError
from shared.domain.manifest import (
    BlobListing,
    FileEntry,
    match_upload,
    path_problem,
    upload_container,
    upload_id_of,
)
from shared.domain.naming import resource_group_name
from shared.domain.records import RegistryRecord
from shared.observability import context_log
from shared.ports import DataPlane
from shared.services.observer import storage_from_summary

log = logging.getLogger(__name__)


def region_account(record: RegistryRecord, region: str) -> tuple[str, str]:
    """(name, blob endpoint) of the account holding ``region``'s copies."""
    for account in storage_from_summary(record.resources):
        if account.region == region and account.index == 0:
            return account.name, account.blob_endpoint
    raise Conflict(
        f'registry "{record.name}" has no storage account in {region} yet; try again once it is provisioned',
        code="RegistryNotReady",
    )


def primary_account(record: RegistryRecord) -> tuple[str, str]:
    return region_account(record, str(record.spec["location"]))


class PendingUploads:
    def __init__(self, data: DataPlane, *, subscription_id: str, resource_group_prefix: str, minutes: int) -> None:
        self._data = data
        self._subscription_id = subscription_id
        self._resource_group_prefix = resource_group_prefix
        self._minutes = minutes

    def start(self, record: RegistryRecord, asset_type: AssetType, name: str, version: str) -> dict[str, Any]:
        """A container of its own in the primary region's account, and a SAS that can write only there."""
        account, endpoint = primary_account(record)
        upload_id = uuid.uuid4().hex
        container = upload_container(upload_id)
        self._data.create_container(endpoint, container)
        sas_url = self._data.container_url(endpoint, container, write=True, minutes=self._minutes)
        group = resource_group_name(record.key, self._resource_group_prefix)
        group_id = f"/subscriptions/{self._subscription_id}/resourceGroups/{group}"
        context_log(
            log, registry=record.key, operation="", step="start_upload", region=str(record.spec["location"])
        ).info("pending upload %s for %s %s %s", upload_id, asset_type.singular, name, version)
        return {
            "blobReferenceForConsumption": {
                "blobUri": f"{endpoint.rstrip('/')}/{container}",
                "storageAccountArmId": f"{group_id}/providers/Microsoft.Storage/storageAccounts/{account}",
                "credential": {"credentialType": "SAS", "sasUri": sas_url},
            },
            "pendingUploadId": upload_id,
            "pendingUploadType": "TemporaryBlobReference",
        }

    def _upload_of(self, record: RegistryRecord, content: str) -> tuple[str, str]:
        """(upload id, folder inside it) of a content URI naming one of this registry's pending uploads."""
        _, endpoint = primary_account(record)
        base = endpoint.rstrip("/") + "/"
        uri = content.split("?", 1)[0]
        field = "path"
        if not uri.startswith(base):
            raise InvalidSpec(
                "the content must be the blobUri of a pending upload of this registry (startPendingUpload)",
                [FieldError(field, "not a pending upload of this registry")],
                code="InvalidContentUri",
            )
        container, _, folder = uri.removeprefix(base).partition("/")
        upload_id = upload_id_of(container)
        if upload_id is None:
            raise InvalidSpec(
                "the content must be the blobUri of a pending upload", [FieldError(field, "not an upload container")]
            )
        folder = folder.strip("/")
        if folder and path_problem(folder) is not None:
            raise InvalidSpec("the content path is not acceptable", [FieldError(field, str(path_problem(folder)))])
        return upload_id, (folder + "/" if folder else "")

    def manifest(
        self, record: RegistryRecord, definition: AssetDefinition, claimed: tuple[FileEntry, ...] | None
    ) -> tuple[str, list[FileEntry]]:
        """The upload (and folder) ``definition``'s content names, and the files found there, matched against
        those the client says it uploaded (``claimed``)."""
        content = definition.content
        if content is None:
            if claimed:
                raise InvalidSpec("files are listed but no content names them", [FieldError("files", "no content")])
            return "", []
        upload_id, folder = self._upload_of(record, content)
        _, endpoint = primary_account(record)
        listed = self._data.list_blobs(endpoint, upload_container(upload_id), folder)
        relative = [BlobListing(n.removeprefix(folder), b.size, b.md5, b.copy_status) for n, b in listed.items()]
        files = match_upload(relative, claimed)
        if definition.type is AssetType.DATA and definition.fields.get("type") == "uri_file" and len(files) != 1:
            raise InvalidSpec(
                f"a uri_file data asset is one file; the upload holds {len(files)}",
                [FieldError("path", "exactly one file for uri_file")],
            )
        return upload_id + ("/" + folder.rstrip("/") if folder else ""), files

    def registered_from(self, record: RegistryRecord, content: str | None, existing: AssetVersionRecord) -> bool:
        """Whether ``content`` names the pending upload ``existing`` was registered from."""
        if content is None or not existing.registered_upload:
            return False
        upload_id, folder = self._upload_of(record, content)
        return f"{upload_id}/{folder.rstrip('/')}".rstrip("/") == existing.registered_upload

    @contextmanager
    def discarding(self, record: RegistryRecord, upload: str, existing: AssetVersionRecord) -> Iterator[None]:
        """The pending upload of a registration that starts no work (the same content again, or other
        content refused) is deleted: nothing will copy from it. Unless it is the very upload the version
        was registered from: a client that lost the answer to its PUT sends the same PUT again (found by
        tests/chaos: deleting it then left the copies without a source)."""
        try:
            yield
        finally:
            if upload and upload != existing.upload:
                _, endpoint = primary_account(record)
                try:
                    self._data.delete_container(endpoint, upload_container(upload.split("/", 1)[0]))
                except TransientError:
                    log.warning("pending upload %s not deleted; it expires unused", upload)
