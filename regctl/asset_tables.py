"""Tables for people (``-o table``) of registry assets: a version and its copy in each region, the assets of
a registry, the versions of one, and what a download wrote. Built from the API's documents, as
``regctl.tables`` does (missing or odd fields show as ``-``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from regctl.tables import as_items, as_mapping, field_lines, grid, section, styled, tags_text, text

REPLICATED = "Replicated"
UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def size_text(value: object) -> str:
    """A byte count for people: ``12.3 MiB``."""
    if not isinstance(value, int) or isinstance(value, bool):
        return text(value)
    amount, unit = float(value), 0
    while amount >= 1024 and unit < len(UNITS) - 1:
        amount, unit = amount / 1024, unit + 1
    return f"{value} B" if unit == 0 else f"{amount:.1f} {UNITS[unit]}"


def kind_of(doc: Mapping[str, Any]) -> object:
    """A model's or data asset's type, a component's (``command``), else the collection."""
    component = as_mapping(doc.get("componentSpec"))
    return component.get("type") or doc.get("type")


def _copies(doc: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(region): as_mapping(copy) for region, copy in as_mapping(doc.get("replication")).items()}


def replicated_count(doc: Mapping[str, Any]) -> str:
    copies = _copies(doc)
    return f"{sum(c.get('state') == REPLICATED for c in copies.values())}/{len(copies)}"


def replication_table(doc: Mapping[str, Any]) -> RenderableType:
    """One row per region: the state of its copy, what is verified there, where it lives, the last error."""
    copies = _copies(doc)
    if not copies:
        return Text("No regions yet.")
    rows = [
        (region, styled(c.get("state")), c.get("files"), size_text(c.get("bytes")), c.get("error"), c.get("uri"))
        for region, c in sorted(copies.items())
    ]
    return grid(("Region", "State", "Files", "Bytes", "Error", "URI"), rows)


def version_view(doc: Mapping[str, Any], follow: str | None = None) -> RenderableType:
    """A version: its fields, then the region × state matrix; ``follow`` is how to follow its operation."""
    created_by = as_mapping(doc.get("createdBy"))
    error = as_mapping(doc.get("error"))
    rows: list[tuple[str, object]] = [
        ("Id", doc.get("id")),
        ("Name", doc.get("name")),
        ("Version", doc.get("version")),
        ("Type", kind_of(doc)),
        ("Status", styled(doc.get("status"))),
        ("Archived", doc.get("isArchived")),
        ("Description", doc.get("description")),
        ("Tags", tags_text(doc.get("tags"))),
        ("Files", f"{text(doc.get('fileCount'))} ({size_text(doc.get('bytes'))})"),
    ]
    if doc.get("image"):
        rows.append(("Image", doc.get("image")))
    rows += [
        ("Created by", created_by.get("name") or created_by.get("id")),
        ("Created", doc.get("createdAt")),
        ("Operation", doc.get("operation")),
    ]
    if error:
        rows.append(("Error", f"{text(error.get('code'))}: {text(error.get('message'))}"))
    parts: list[RenderableType] = [field_lines(rows), section("Replication", replication_table(doc))]
    if follow:
        parts.append(Text(f"\nFollow it with: {follow}"))
    return Group(*parts)


def asset_list(documents: Sequence[Mapping[str, Any]], plural: str) -> RenderableType:
    if not documents:
        return Text(f"No {plural}.")
    rows = [(d.get("name"), d.get("latestVersion"), d.get("versions")) for d in documents]
    return grid(("Name", "Latest version", "Versions"), rows)


def version_list(documents: Sequence[Mapping[str, Any]]) -> RenderableType:
    if not documents:
        return Text("No versions.")
    rows = [
        (
            d.get("name"),
            d.get("version"),
            kind_of(d),
            styled(d.get("status")),
            d.get("isArchived"),
            d.get("fileCount"),
            size_text(d.get("bytes")),
            replicated_count(d),
            d.get("createdAt"),
        )
        for d in documents
    ]
    return grid(("Name", "Version", "Type", "Status", "Archived", "Files", "Bytes", "Replicated", "Created"), rows)


def download_view(summary: Mapping[str, Any]) -> RenderableType:
    """What ``download`` wrote: the region read, the folder, and each file."""
    files = as_items(summary.get("files"))
    head = field_lines(
        [
            ("Region", summary.get("region")),
            ("Directory", summary.get("directory")),
            ("Files", f"{len(files)} ({size_text(sum(int(f.get('size') or 0) for f in files))})"),
        ]
    )
    rows = [(f.get("path"), size_text(f.get("size")), f.get("md5")) for f in files]
    return Group(head, section("Files", grid(("Path", "Size", "MD5"), rows)))
