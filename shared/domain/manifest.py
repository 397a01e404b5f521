"""Manifests (pure): the files of an asset version, each with its size and Content-MD5.

A registration lists what arrived in the pending upload and records it here; a region's copy counts as
replicated only when every file of the manifest is there with the same size and Content-MD5. The manifest
and the version's immutable fields make its content digest (``content_digest``).

Layout in every region's storage account: container ``assets``, blobs ``{type}/{name}/{version}/{path}``.
Uploads go to a container of their own in the primary region's account (``upload-{id}``), which the
registration copies from; users never get a credential that can write under ``assets``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.errors import FieldError, InvalidSpec

ASSET_CONTAINER = "assets"
UPLOAD_CONTAINER_PREFIX = "upload-"
MAX_FILES = 10_000
MAX_FILE_BYTES = 5 * 1024**3  # 5 GiB
SYNC_COPY_LIMIT = 256 * 1024**2  # Copy Blob From URL copies at most 256 MiB synchronously
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True, order=True)
class FileEntry:
    """One file: its path below the version's folder, its size in bytes and its Content-MD5 (base64;
    empty when the uploader set none, and then only the size is compared)."""

    path: str
    size: int
    md5: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "md5": self.md5}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> FileEntry:
        return cls(str(raw["path"]), int(raw["size"]), str(raw.get("md5") or ""))


@dataclass(frozen=True)
class BlobListing:
    """One blob as a LIST shows it: name below the listed prefix, size, Content-MD5 and copy status
    (``""`` for a blob that was never a copy destination, else ``pending``/``success``/``failed``/``aborted``)."""

    path: str
    size: int
    md5: str = ""
    copy_status: str = ""


def path_problem(path: str) -> str | None:
    """Why ``path`` cannot name a file of an asset, or None."""
    if not path or len(path) > 1024:
        return "must be 1 to 1024 characters"
    if path.startswith("/") or "\\" in path:
        return "must be relative, with '/' between folders"
    if any(part in ("", ".", "..") for part in path.split("/")):
        return "must not contain '.', '..' or empty segments"
    if any(ord(ch) < 32 for ch in path):
        return "must not contain control characters"
    return None


def check_files(files: Iterable[FileEntry], where: str = "files") -> list[FileEntry]:
    """The entries sorted by path, or ``InvalidSpec`` naming each bad one (path, size, count)."""
    entries = sorted(files)
    errors: list[FieldError] = []
    if not entries:
        errors.append(FieldError(where, "no files: upload the asset's files before registering it"))
    if len(entries) > MAX_FILES:
        errors.append(FieldError(where, f"{len(entries)} files; a version holds at most {MAX_FILES}"))
    for entry in entries[:MAX_FILES]:
        problem = path_problem(entry.path)
        if problem is not None:
            errors.append(FieldError(f"{where}[{entry.path[:80]}]", problem))
        elif entry.size > MAX_FILE_BYTES:
            errors.append(FieldError(f"{where}[{entry.path[:80]}]", f"{entry.size} bytes; a file is at most 5 GiB"))
        elif entry.size < 0:
            errors.append(FieldError(f"{where}[{entry.path[:80]}]", "size must not be negative"))
    if errors:
        raise InvalidSpec(f"the files are not acceptable ({len(errors)} problem(s))", errors, code="InvalidFiles")
    return entries


def match_upload(listed: Iterable[BlobListing], claimed: Iterable[FileEntry] | None) -> list[FileEntry]:
    """The manifest of an upload: what arrived, checked against what the client says it sent (when it says).

    A file the client names that did not arrive, or arrived with another size or Content-MD5, is refused."""
    arrived = {blob.path: FileEntry(blob.path, blob.size, blob.md5) for blob in listed}
    if claimed is None:
        return check_files(arrived.values(), "path")
    errors: list[FieldError] = []
    wanted = list(claimed)
    for entry in wanted:
        got = arrived.get(entry.path)
        if got is None:
            errors.append(FieldError(f"files[{entry.path[:80]}]", "not uploaded"))
        elif got.size != entry.size:
            errors.append(FieldError(f"files[{entry.path[:80]}]", f"uploaded {got.size} bytes, expected {entry.size}"))
        elif entry.md5 and got.md5 and got.md5 != entry.md5:
            errors.append(FieldError(f"files[{entry.path[:80]}]", "uploaded content differs (Content-MD5)"))
    extra = sorted(set(arrived) - {e.path for e in wanted})
    for path in extra[:20]:
        errors.append(FieldError(f"files[{path[:80]}]", "uploaded but not in the files listed"))
    if errors:
        raise InvalidSpec(
            f"the upload does not match the files listed ({len(errors)} problem(s))", errors, code="UploadMismatch"
        )
    return check_files(arrived.values())


def differences(manifest: Iterable[FileEntry], have: Mapping[str, BlobListing]) -> list[FileEntry]:
    """The files of ``manifest`` that a copy lacks: missing, another size or MD5, or not finished copying."""
    missing: list[FileEntry] = []
    for entry in manifest:
        blob = have.get(entry.path)
        if (
            blob is None
            or blob.size != entry.size
            or (entry.md5 and blob.md5 != entry.md5)
            or blob.copy_status not in ("", "success")
        ):
            missing.append(entry)
    return missing


def content_digest(identity: Mapping[str, Any], files: Iterable[FileEntry]) -> str:
    """sha256 over the immutable fields and the manifest: equal exactly when the content is the same."""
    payload = {"identity": identity, "files": [f.to_dict() for f in sorted(files)]}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def version_prefix(asset_type: str, name: str, version: str) -> str:
    """The folder of a version in the ``assets`` container of every region."""
    return f"{asset_type}/{name}/{version}/"


def upload_container(upload_id: str) -> str:
    return UPLOAD_CONTAINER_PREFIX + upload_id


def upload_id_of(container: str) -> str | None:
    """The pending upload id a container name carries, or None when it is not an upload container."""
    rest = container.removeprefix(UPLOAD_CONTAINER_PREFIX)
    return rest if container.startswith(UPLOAD_CONTAINER_PREFIX) and _UPLOAD_ID.fullmatch(rest) else None
