"""Environment images: an environment version's ``image`` imported into the registry's ACR.

One subject per version, ``Subject(primary region, 0, item="asset:environments/{name}/{version}",
target="image")``. The act is ARM's ``importImage`` (``mode: NoForce``) into
``environments/{name}:{version}``; the ACR's geo-replication then serves it in every region, so the ledger
counts a region replicated once the image is imported and the region's replica is ``Succeeded``.

A version promoted from another registry's ACR, or made from an image pushed to a team's build ACR,
imports by the source registry's resource id (``image_source``: ``resourceId`` + ``sourceImage``, pinned
by digest where known), as Azure needs when the source's public access is disabled; others import from
the image reference's registry.

ARM lists no repositories, so what is imported is what the version records (``imported``, set by the
ledger when the import step has succeeded). A second import of the same tag (a step redelivered after
a crash) ends ``TagAlreadyExists``, which the adapter counts as done: the tag is this version's.
Deleting a version leaves its tag in the ACR (deleting a tag needs the registry's data plane, which regctl
does not call); docs/assets.md says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.asset_records import AssetStatus, AssetVersionRecord
from shared.domain.asset_spec import AssetType
from shared.domain.kinds.base import KindBase
from shared.domain.resources import SUCCEEDED, ObservedAcr, Part
from shared.domain.work import Action, Context, ResourceRef, ResourceType, Subject, Verb

TARGET = "image"


def target_tag(version: AssetVersionRecord) -> str:
    """Where an environment's image goes in the registry's ACR (repositories are lowercase)."""
    return f"environments/{version.name.lower()}:{version.version}"


def source_of(image: str) -> dict[str, str]:
    """``importImage``'s ``source`` for an image reference ``[registry/]repo[:tag|@digest]``."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return {"registryUri": first, "sourceImage": rest}
    return {"registryUri": "docker.io", "sourceImage": image if rest else f"library/{image}"}


@dataclass(frozen=True)
class WantImage:
    version: AssetVersionRecord
    acr: ObservedAcr


@dataclass(frozen=True)
class HaveImage:
    name: str
    state: str = SUCCEEDED


class ImageImportKind(KindBase):
    name = "image_import"
    noun = "image import"
    reads = frozenset({Part.STORAGE, Part.ACR, Part.REPLICAS, Part.BLOBS})

    @staticmethod
    def _images(ctx: Context) -> list[AssetVersionRecord]:
        return [
            v
            for v in ctx.assets
            if v.type is AssetType.ENVIRONMENTS and v.image and v.status is not AssetStatus.DELETING
        ]

    def desired(self, ctx: Context) -> Mapping[Subject, WantImage]:
        acr = ctx.observed.acr
        if ctx.spec is None or acr is None:
            return {}
        return {Subject(ctx.spec.location, 0, v.lane, TARGET): WantImage(v, acr) for v in self._images(ctx)}

    def actual(self, ctx: Context) -> Mapping[Subject, HaveImage]:
        if ctx.spec is None:
            return {}
        return {
            Subject(ctx.spec.location, 0, v.lane, TARGET): HaveImage(v.imported)
            for v in self._images(ctx)
            if v.imported
        }

    def create(self, subject: Subject, want: WantImage, have: HaveImage | None, ctx: Context) -> Action:
        if want.acr.state != SUCCEEDED:
            return Action(Verb.WAIT, why=f"container registry {want.acr.name} {want.acr.state}")
        assert want.version.image is not None
        body = {
            "source": dict(want.version.image_source) or source_of(want.version.image),
            "targetTags": [target_tag(want.version)],
            "mode": "NoForce",
        }
        ref = ResourceRef(ResourceType.IMAGE_IMPORT, ctx.group, target_tag(want.version), want.acr.name)
        return Action(Verb.CREATE, ref, body, why=f"import {want.version.image}")

    def label(self, subject: Subject) -> str:
        return f"{subject.item} image"


KIND = ImageImportKind()
