"""Asset copies: every file of an asset version's manifest, verified in every region's storage account.

Subjects: ``Subject(region, 0, item="asset:{type}/{name}/{version}", target="blobs")``. The item puts the
steps in the version's own lane, so versions copy side by side and beside the registry's work.

Observed through the data plane (``Part.BLOBS``: one LIST of the ``assets`` container per account and
prefix, a page per 5,000 blobs), never one request per blob. ``needs`` is the one comparison: a file of
the manifest that is missing there, has another size or Content-MD5, or is still being copied. So a copy
deleted or changed by hand, a new region, or a copy that failed half-way is simply "not as specified",
and the same step copies what lacks.

The source of a copy is a verified copy (the primary region's first, then any other region's) or, before
any exists, the pending upload the version was registered from, or for a promoted version the source
registry's verified copy (``origin``): every region copies from it at once.
A copy lands under its final name only through Copy Blob From URL (atomic per blob) or Copy Blob (the
destination reads as ``pending`` until it completes, which ``needs`` does not count as there), and a
region counts as replicated only after a LIST shows every file with its size and MD5.

Deleting a version deletes its files in every region (``goal: delete`` of each subject). Deleting the
registry needs no step of this kind: the storage accounts go with the resource group, so ``actual``
reports nothing while tearing down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.domain.asset_records import AssetStatus, AssetVersionRecord
from shared.domain.kinds.base import KindBase
from shared.domain.manifest import ASSET_CONTAINER, BlobListing, FileEntry, differences
from shared.domain.resources import SUCCEEDED, ObservedStorage, Part
from shared.domain.work import Action, Context, Difference, ResourceRef, ResourceType, Subject, Verb

TARGET = "blobs"


@dataclass(frozen=True)
class Place:
    """Where a copy lives or comes from: an account's blob endpoint, a container and a folder."""

    account: str
    endpoint: str
    container: str
    prefix: str

    def to_dict(self) -> dict[str, str]:
        return {"account": self.account, "endpoint": self.endpoint, "container": self.container, "prefix": self.prefix}


@dataclass(frozen=True)
class WantCopy:
    version: AssetVersionRecord
    account: ObservedStorage


@dataclass(frozen=True)
class HaveCopy:
    name: str  # "{account}/{prefix}"
    account: ObservedStorage
    files: Mapping[str, BlobListing] = field(default_factory=dict)
    state: str = SUCCEEDED  # blobs have no provisioning state; a pending copy is a difference instead


def accounts(ctx: Context) -> dict[str, ObservedStorage]:
    """The storage account that holds each region's copies (index 0), once ARM shows it with an endpoint."""
    found: dict[str, ObservedStorage] = {}
    for account in ctx.observed.storage:
        if account.index == 0 and account.blob_endpoint and account.state == SUCCEEDED:
            found[account.region] = account
    return found


def files_in(ctx: Context, account: ObservedStorage, prefix: str) -> dict[str, BlobListing] | None:
    """The blobs of ``account`` under ``prefix`` (paths below it), or None when the account was not listed."""
    listed = ctx.observed.blobs.get(account.name)
    if listed is None:
        return None
    return {
        name.removeprefix(prefix): BlobListing(name.removeprefix(prefix), b.size, b.md5, b.copy_status)
        for name, b in listed.items()
        if name.startswith(prefix)
    }


def verified(version: AssetVersionRecord, have: Mapping[str, BlobListing] | None) -> bool:
    return have is not None and bool(version.files) and not differences(version.files, have)


def subject_of(version: AssetVersionRecord, region: str) -> Subject:
    return Subject(region, 0, version.lane, TARGET)


def source_for(version: AssetVersionRecord, region: str, ctx: Context) -> Place | None:
    """Where ``region`` copies from: a verified copy elsewhere (the primary's first), else the upload."""
    by_region = accounts(ctx)
    primary = ctx.spec.location if ctx.spec is not None else ""
    order = sorted(by_region, key=lambda r: (r != primary, r))
    for other in order:
        if other == region:
            continue
        account = by_region[other]
        if verified(version, files_in(ctx, account, version.prefix)):
            return Place(account.name, account.blob_endpoint, ASSET_CONTAINER, version.prefix)
    upload = version.upload_source
    if upload is not None and primary in by_region:
        account = by_region[primary]
        return Place(account.name, account.blob_endpoint, upload[0], upload[1])
    origin = version.origin
    if origin:  # a promotion: the source registry's verified copy
        return Place(origin["account"], origin["endpoint"], origin["container"], origin["prefix"])
    return None


class AssetCopyKind(KindBase):
    name = "asset_copy"
    noun = "asset copy"
    reads = frozenset({Part.STORAGE, Part.BLOBS})

    def desired(self, ctx: Context) -> Mapping[Subject, WantCopy]:
        if ctx.spec is None:
            return {}
        regions = accounts(ctx)
        wants: dict[Subject, WantCopy] = {}
        for version in ctx.assets:
            if version.status is AssetStatus.DELETING or not version.files:
                continue
            for location in ctx.spec.replication_locations:
                account = regions.get(location.location)
                if account is not None:
                    wants[subject_of(version, location.location)] = WantCopy(version, account)
        return wants

    def actual(self, ctx: Context) -> Mapping[Subject, HaveCopy]:
        if ctx.spec is None:
            return {}  # tearing down: the storage accounts go with the resource group
        haves: dict[Subject, HaveCopy] = {}
        regions = {location.location for location in ctx.spec.replication_locations}
        for region, account in accounts(ctx).items():
            if region not in regions:
                continue  # a region being removed: its account goes, and its copies with it
            for version in ctx.assets:
                have = files_in(ctx, account, version.prefix)
                if have:
                    haves[subject_of(version, region)] = HaveCopy(f"{account.name}/{version.prefix}", account, have)
        return haves

    def needs(self, want: WantCopy, have: HaveCopy) -> list[Difference]:
        lacking = differences(want.version.files, have.files)
        if not lacking:
            return []
        return [Difference("files", f"{len(want.version.files)} files", f"{len(lacking)} missing or different")]

    def create(self, subject: Subject, want: WantCopy, have: HaveCopy | None, ctx: Context) -> Action:
        lacking = differences(want.version.files, have.files if have else {})
        return self._copy(subject, want, lacking, ctx)

    def update(self, want: WantCopy, have: HaveCopy, ctx: Context) -> Action:
        subject = subject_of(want.version, want.account.region)
        return self._copy(subject, want, differences(want.version.files, have.files), ctx)

    def _copy(self, subject: Subject, want: WantCopy, files: list[FileEntry], ctx: Context) -> Action:
        version, account = want.version, want.account
        source = source_for(version, subject.region, ctx)
        if source is None:
            return Action(Verb.WAIT, why=f"no verified copy of {version.lane} to copy from yet")
        target = Place(account.name, account.blob_endpoint, ASSET_CONTAINER, version.prefix)
        body = {"source": source.to_dict(), "target": target.to_dict(), "files": [f.to_dict() for f in files]}
        ref = ResourceRef(ResourceType.BLOBS, ctx.group, f"{account.name}/{version.prefix}")
        return Action(Verb.CREATE, ref, body, why=f"{len(files)} file(s) to copy")

    def delete(self, have: HaveCopy, ctx: Context) -> Action:
        prefix = have.name.partition("/")[2]
        target = Place(have.account.name, have.account.blob_endpoint, ASSET_CONTAINER, prefix)
        ref = ResourceRef(ResourceType.BLOBS, ctx.group, have.name)
        return Action(Verb.DELETE, ref, {"target": target.to_dict(), "files": sorted(have.files)})

    def label(self, subject: Subject) -> str:
        return f"{subject.item} in {subject.region}"


KIND = AssetCopyKind()
