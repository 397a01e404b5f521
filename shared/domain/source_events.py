"""What an external source's event says (pure; docs/events.md, "Rules").

- ``Microsoft.ContainerRegistry.ImagePushed`` of a build ACR -> a ``PushedImage``: the registry (the event's
  topic), its login server, the repository, the tag and the digest. It becomes an environment version
  named after the repository's last segment, versioned by the tag, whose image is imported into the target
  registry's ACR by the source's resource id and the digest (so a tag moved meanwhile changes nothing).
- ``Microsoft.Storage.BlobCreated`` of an ``asset.yml`` -> a ``DroppedManifest``: the account (the topic),
  its blob endpoint (the event's ``url`` less the container and blob), the container and the blob. The
  ``asset.yml`` is an ``az ml`` asset YAML; its type comes from ``$schema`` (or the rule's one type), its
  content path is relative to the ``asset.yml``'s folder and must stay under it.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from shared.domain.asset_spec import CONTENT_KEY, AssetDefinition, AssetType, check_name, parse_asset
from shared.domain.documents import load_yaml
from shared.domain.errors import FieldError, InvalidSpec
from shared.domain.events import BLOB_CREATED, IMAGE_PUSHED, Event

_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_BLOB_SUBJECT = re.compile(r"^/blobServices/default/containers/([^/]+)/blobs/(.+)$")
_SCHEMA_TYPES = (
    ("component", AssetType.COMPONENTS),  # commandComponent, pipelineComponent, ...
    ("environment", AssetType.ENVIRONMENTS),
    ("model", AssetType.MODELS),
    ("data", AssetType.DATA),
)
MAX_MANIFEST_BYTES = 256 * 1024


class NotUsable(Exception):
    """An event of a watched source that cannot become a version: why (kept on the promotion or logged)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class PushedImage:
    resource_id: str  # the source ACR's ARM id
    login_server: str
    repository: str
    tag: str
    digest: str

    @property
    def reference(self) -> str:
        """The environment's ``image``: where it was pushed, by tag."""
        return f"{self.login_server}/{self.repository}:{self.tag}"

    @property
    def pinned(self) -> str:
        """What is promoted: the pushed image by digest (the promotion's source)."""
        return f"{self.login_server}/{self.repository}@{self.digest}"

    @property
    def name(self) -> str:
        return self.repository.rsplit("/", 1)[-1]

    def origin(self) -> dict[str, str]:
        return {
            "resourceId": self.resource_id,
            "loginServer": self.login_server,
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
        }

    @classmethod
    def from_origin(cls, raw: Mapping[str, str]) -> PushedImage:
        return cls(raw["resourceId"], raw["loginServer"], raw["repository"], raw["tag"], raw["digest"])

    def import_source(self) -> dict[str, str]:
        """``importImage``'s ``source``: the build ACR by resource id, the image by digest."""
        return {"resourceId": self.resource_id, "sourceImage": f"{self.repository}@{self.digest}"}


@dataclass(frozen=True)
class DroppedManifest:
    resource_id: str  # the storage account's ARM id
    endpoint: str  # its blob endpoint, ending in /
    container: str
    blob: str  # the asset.yml's name

    @property
    def folder(self) -> str:
        """The asset.yml's folder, "" or ending in /."""
        head = posixpath.dirname(self.blob)
        return head + "/" if head else ""

    @property
    def url(self) -> str:
        return f"{self.endpoint}{self.container}/{self.blob}"

    def origin(self) -> dict[str, str]:
        return {
            "resourceId": self.resource_id,
            "endpoint": self.endpoint,
            "container": self.container,
            "blob": self.blob,
        }

    @classmethod
    def from_origin(cls, raw: Mapping[str, str]) -> DroppedManifest:
        return cls(raw["resourceId"], raw["endpoint"], raw["container"], raw["blob"])


def pushed_image(event: Event) -> PushedImage:
    """The image an ``ImagePushed`` says was pushed; ``NotUsable`` when it names no tag or digest."""
    if event.type != IMAGE_PUSHED:
        raise NotUsable("NotAnImagePush", f"{event.type} is not an image push")
    target = event.data.get("target")
    request = event.data.get("request")
    if not isinstance(target, dict):
        raise NotUsable("MalformedImagePush", "the event's data has no target")
    repository, tag, digest = (str(target.get(k) or "") for k in ("repository", "tag", "digest"))
    host = str(request.get("host") or "") if isinstance(request, dict) else ""
    if not repository or not host:
        raise NotUsable("MalformedImagePush", "the event names no repository or no registry host")
    if not tag:
        raise NotUsable("UntaggedImage", f"{repository}@{digest} was pushed without a tag: no version to give it")
    if not _DIGEST_RE.fullmatch(digest):
        raise NotUsable("MalformedImagePush", f"{repository}:{tag} has no sha256 digest")
    return PushedImage(event.source, host.lower(), repository.lower(), tag, digest)


def dropped_manifest(event: Event) -> DroppedManifest:
    """The blob a ``BlobCreated`` says was written, with the account's endpoint taken from its ``url``."""
    if event.type != BLOB_CREATED:
        raise NotUsable("NotABlobCreated", f"{event.type} is not a blob write")
    matched = _BLOB_SUBJECT.fullmatch(event.subject)
    url = str(event.data.get("url") or "")
    if matched is None or not url:
        raise NotUsable("MalformedBlobCreated", f"not a blob subject with a url: {event.subject[:200]}")
    container, blob = matched.group(1), matched.group(2)
    parts = urlsplit(url)
    path = unquote(parts.path)
    tail = f"/{container}/{blob}"
    if not path.endswith(tail):
        raise NotUsable("MalformedBlobCreated", f"the url {url[:200]} does not end in {tail[:200]}")
    endpoint = f"{parts.scheme}://{parts.netloc}{path[: len(path) - len(tail)]}/"
    return DroppedManifest(event.source, endpoint, container, blob)


def _type_of(document: Mapping[str, Any], types: tuple[AssetType, ...]) -> AssetType:
    schema = document.get("$schema")
    if isinstance(schema, str) and schema:
        leaf = schema.rsplit("/", 1)[-1].lower()
        for word, asset_type in _SCHEMA_TYPES:
            if word in leaf:
                return asset_type
        raise InvalidSpec("the asset.yml's $schema names no asset type", [FieldError("$schema", "unknown schema")])
    if len(types) == 1:
        return types[0]
    raise InvalidSpec(
        "the asset.yml has no $schema and the rule's filter names no single type",
        [FieldError("$schema", "required, such as https://azuremlschemas.azureedge.net/latest/model.schema.json")],
    )


def manifest_definition(text: bytes, folder: str, types: tuple[AssetType, ...]) -> tuple[AssetDefinition, str | None]:
    """The asset an ``asset.yml`` in ``folder`` describes, and where its content is: a folder or a blob
    name under ``folder`` (no trailing /; "" the container's root); None for an environment without files.
    ``InvalidSpec`` naming what is wrong."""
    if len(text) > MAX_MANIFEST_BYTES:
        raise InvalidSpec(f"the asset.yml holds {len(text)} bytes; at most {MAX_MANIFEST_BYTES}", [])
    document = load_yaml(text)
    asset_type = _type_of(document, types)
    definition = parse_asset(asset_type, document)
    if definition.content is None:
        return definition, None
    content = definition.content.strip()
    if "://" in content or content.startswith("azureml:") or content.startswith("/"):
        raise InvalidSpec(
            "the asset.yml's content must be a path relative to it",
            [FieldError(CONTENT_KEY[asset_type], "a relative path such as ./model")],
        )
    joined = posixpath.normpath(posixpath.join(folder or ".", content))
    inside = folder.rstrip("/")
    if joined.startswith("../") or joined == ".." or (inside and not (joined + "/").startswith(inside + "/")):
        raise InvalidSpec(
            "the asset.yml's content must be under its own folder",
            [FieldError(CONTENT_KEY[asset_type], f"{content[:100]} leaves {folder or 'the container'}")],
        )
    return definition, "" if joined == "." else joined


def check_environment_name(name: str) -> None:
    errors = check_name(name)
    if errors:
        raise NotUsable("InvalidAssetName", f"the repository's last segment {name[:100]} is no asset name")
