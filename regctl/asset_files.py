"""Asset files on this machine: the YAML of ``az ml <type> create``, checked offline, the local files it
names, the document that registers them, and where a download may write.

Nothing is sent before the YAML passes ``shared.domain.asset_spec.parse_asset`` and its content is found:
the content key (``path`` of a model or data asset, a component's ``code``, an environment's
``conda_file``) is a local file or folder, relative to the YAML's folder (or absolute), without ``..``.
A folder is walked with its symbolic links followed while they stay inside it; one that leads out is
refused, as are more than 10,000 files and a file over 5 GiB (the limits of ``shared.domain.manifest``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from regctl.files import load_source
from regctl.transfer import LocalFile, md5_of_file
from shared.domain.asset_spec import CONTENT_KEY, AssetDefinition, AssetType, parse_asset
from shared.domain.documents import MAX_REGISTRATION_BYTES
from shared.domain.errors import FieldError, InvalidSpec
from shared.domain.manifest import MAX_FILE_BYTES, MAX_FILES, path_problem

FILE, FOLDER, EITHER = "a file", "a folder", "a file or a folder"
PART_SUFFIX = ".regctl-part"
"""A download is written under ``name + PART_SUFFIX`` and takes its name only once its MD5 is verified."""


@dataclass(frozen=True)
class AssetFile:
    """An asset YAML checked offline: the document as written, its parse, and the files to upload (none for
    an environment from an image only, or a component without code)."""

    document: dict[str, Any]
    definition: AssetDefinition
    files: list[LocalFile]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


def _refused(key: str, message: str) -> InvalidSpec:
    return InvalidSpec(f"{key}: {message}", [FieldError(key, message)], code="InvalidContentPath")


def expected_shape(definition: AssetDefinition) -> str:
    """What the content must be: a uri_file data asset and a conda_file are files, a uri_folder a folder."""
    if definition.type is AssetType.ENVIRONMENTS:
        return FILE
    if definition.type is AssetType.DATA:
        return FILE if definition.fields.get("type") == "uri_file" else FOLDER
    return EITHER


def content_root(base: Path, value: str, key: str, shape: str) -> Path:
    """The local file or folder that ``value`` (the YAML's content key) names."""
    if "://" in value or value.startswith("azureml:"):
        raise _refused(key, f"{value!r} is not a local path; regctl uploads local files or folders")
    if ".." in PurePath(value).parts:
        raise _refused(key, "must not contain '..': give a path inside the YAML's folder, or an absolute one")
    path = base / Path(value).expanduser()
    if not path.exists():
        raise _refused(key, f"{path} does not exist")
    is_file = path.is_file()
    if (shape == FILE and not is_file) or (shape == FOLDER and not path.is_dir()):
        raise _refused(key, f"{path} must be {shape}")
    if not is_file and not path.is_dir():
        raise _refused(key, f"{path} is neither a file nor a folder")
    return path


def _checked(key: str, name: str, real: Path) -> int:
    """The size of a file to upload under ``name``; refuses what cannot be one."""
    problem = path_problem(name)
    if problem is not None:
        raise _refused(key, f"{name!r} {problem}")
    if not real.is_file():
        raise _refused(key, f"{name} is not a regular file (a broken link?)")
    size = real.stat().st_size
    if size > MAX_FILE_BYTES:
        raise _refused(key, f"{name} is {size} bytes; a file is at most 5 GiB")
    return size


def _walk(root: Path, key: str) -> list[tuple[str, Path, int]]:
    """``(name, real path, size)`` of every file below ``root``, links followed while they stay inside."""
    top = root.resolve()
    seen: set[Path] = set()
    found: list[tuple[str, Path, int]] = []
    for folder, subfolders, names in os.walk(top, followlinks=True):
        here = Path(folder)
        real = here.resolve()
        if not real.is_relative_to(top):
            raise _refused(key, f"{here.relative_to(top).as_posix()} links outside {root}")
        if real in seen:  # a link back to a folder already walked
            subfolders.clear()
            continue
        seen.add(real)
        subfolders.sort()
        for name in sorted(names):
            relative = (here / name).relative_to(top).as_posix()
            target = (here / name).resolve()
            if not target.is_relative_to(top):
                raise _refused(key, f"{relative} links outside {root}")
            found.append((relative, target, _checked(key, relative, target)))
            if len(found) > MAX_FILES:
                raise _refused(key, f"{root} holds more than {MAX_FILES} files, the most a version holds")
    return found


def collect(root: Path, key: str) -> list[LocalFile]:
    """The files to upload for ``root`` (a file: itself, under its own name), each with its MD5."""
    if root.is_file():
        listed = [(root.name, root.resolve(), _checked(key, root.name, root.resolve()))]
    else:
        listed = _walk(root, key)
    if not listed:
        raise _refused(key, f"{root} holds no files")
    return [LocalFile(name, real, size, md5_of_file(real)) for name, real, size in listed]


def read_asset(file: str, asset_type: AssetType) -> AssetFile:
    """Read and check ``file`` (``-``: standard input, paths then relative to the current folder) and find
    its content; raises ``InvalidSpec`` or ``UsageProblem`` and sends nothing."""
    document = load_source(file)
    definition = parse_asset(asset_type, document)
    if definition.content is None:
        return AssetFile(document, definition, [])
    base = Path.cwd() if file == "-" else Path(file).parent
    key = CONTENT_KEY[asset_type]
    root = content_root(base, definition.content, key, expected_shape(definition))
    return AssetFile(document, definition, collect(root, key))


def registration(asset: AssetFile, blob_uri: str | None) -> tuple[bytes, bool]:
    """The JSON that registers ``asset`` (its content key replaced by the upload's ``blobUri``), with the
    ``files`` list that the API checks against what arrived; and whether that list had to be left out for
    the API's body limit (the API then records what arrived, as the upload set it)."""
    document = dict(asset.document)
    if blob_uri is not None:
        document[CONTENT_KEY[asset.definition.type]] = blob_uri
    if asset.files:
        claimed = json.dumps({**document, "files": [f.entry() for f in asset.files]}, default=str).encode()
        if len(claimed) <= MAX_REGISTRATION_BYTES:
            return claimed, False
    return json.dumps(document, default=str).encode(), bool(asset.files)


# -- downloads ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One file of a download: the manifest's entry and where it goes."""

    path: str
    size: int
    md5: str
    target: Path

    @property
    def part(self) -> Path:
        return self.target.with_name(self.target.name + PART_SUFFIX)


def plan_download(directory: Path, files: Sequence[Mapping[str, Any]]) -> list[Planned]:
    """Where each manifest file goes below ``directory``; refuses a path that would land outside it."""
    top = directory.resolve()
    planned: list[Planned] = []
    for raw in files:
        path, size, md5 = str(raw.get("path", "")), raw.get("size"), str(raw.get("md5") or "")
        problem = path_problem(path)
        if problem is not None or not isinstance(size, int):
            raise InvalidSpec(f"the manifest names an unsafe file {path[:80]!r}: {problem or 'no size'}")
        target = top / path
        if not target.resolve().is_relative_to(top) or not target.parent.resolve().is_relative_to(top):
            raise InvalidSpec(f"the manifest file {path[:80]!r} would be written outside {directory}")
        planned.append(Planned(path, size, md5, target))
    return planned


def verify(item: Planned) -> str | None:
    """Why the downloaded part file of ``item`` is not the manifest's file, or None (and it takes its name)."""
    size = item.part.stat().st_size
    if size != item.size:
        problem: str | None = f"{size} bytes, the manifest says {item.size}"
    elif item.md5 and md5_of_file(item.part) != item.md5:
        problem = "its MD5 differs from the manifest's Content-MD5"
    else:
        problem = None
    if problem is None:
        item.part.replace(item.target)
    else:
        item.part.unlink()
    return problem
