"""The registry data plane's stand-in on the control surface: push a tag, delete a tag (issue 13).

A test or benchmark plays ``docker push`` with ``POST /_sandbox/acr/{registry}/push`` and body
``{"repository": "team/app", "tag": "1.0", "digest"?: "sha256:<64 hex>", "size"?: int, "mediaType"?: str}``:
the tag is recorded on the registry (found by name, registry names are global) pointing at that manifest
(a random digest, ``DEFAULT_MANIFEST_SIZE`` bytes and Docker's manifest v2 media type unless given) and
announced as a push (``ImagePushed``); the answer is 200 with the manifest as recorded
``{"repository", "tag", "digest", "size", "mediaType"}``. ``DELETE /_sandbox/acr/{registry}/images/
{repository}:{tag}`` removes the tag (the repository too when it was its last), announces a delete
(``ImageDeleted``) and answers 200 with what it removed. An unknown registry or tag is 404, a registry that
is not ``Succeeded`` 409, a bad field 400 naming it (the grammar of ``acr_images.py``).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sandbox.arm.acr_images import (
    DEFAULT_MANIFEST_SIZE,
    DIGEST_RE,
    REPOSITORY_RE,
    TAG_RE,
    ImageChanged,
    ImageHooks,
)
from sandbox.arm.envelope import Response, error_response
from sandbox.arm.state import DOCKER_MANIFEST_V2, Manifest, Registry, Store

_PUSH_KEYS = frozenset({"repository", "tag", "digest", "size", "mediaType"})


class ImageRequestError(ValueError):
    """A push or delete the stand-in refuses: ``status`` and ``code`` of the control surface's answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def response(self) -> Response:
        return error_response(self.status, self.code, str(self))


def _bad(message: str) -> ImageRequestError:
    return ImageRequestError(400, "InvalidSandboxRequest", message)


def _registry(store: Store, name: str) -> Registry:
    reg = store.registries.get(name.lower())
    if reg is None:
        raise ImageRequestError(404, "RegistryNotFound", f"No registry named '{name}'.")
    if reg.state != "Succeeded":
        raise ImageRequestError(409, "RegistryNotReady", f"The registry '{reg.name}' is {reg.state}.")
    return reg


def _repository_and_tag(repository: object, tag: object) -> tuple[str, str]:
    if not isinstance(repository, str) or not REPOSITORY_RE.match(repository):
        raise _bad(f"'repository' must be a repository name like 'team/app' (lowercase), not {repository!r}")
    if not isinstance(tag, str) or not TAG_RE.match(tag):
        raise _bad(f"'tag' must be a tag like '1.0' (letters, digits, '_', '.', '-'; at most 128), not {tag!r}")
    return repository, tag


def manifest_of(body: dict[str, Any]) -> Manifest:
    """The manifest a push body describes, with the defaults for what it leaves out."""
    digest = body.get("digest")
    if digest is None:
        digest = f"sha256:{hashlib.sha256(secrets.token_bytes(32)).hexdigest()}"
    elif not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise _bad(f"'digest' must be 'sha256:' and 64 lowercase hex digits, not {digest!r}")
    size = body.get("size", DEFAULT_MANIFEST_SIZE)
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise _bad(f"'size' must be an integer >= 0, not {size!r}")
    media_type = body.get("mediaType", DOCKER_MANIFEST_V2)
    if not isinstance(media_type, str) or not media_type:
        raise _bad(f"'mediaType' must be a non-empty string, not {media_type!r}")
    return Manifest(digest, size, media_type)


def described(repository: str, tag: str, manifest: Manifest) -> dict[str, Any]:
    return {
        "repository": repository,
        "tag": tag,
        "digest": manifest.digest,
        "size": manifest.size,
        "mediaType": manifest.media_type,
    }


def push(store: Store, hooks: ImageHooks, name: str, body: dict[str, Any], user_agent: str = "") -> Response:
    """``POST /_sandbox/acr/{name}/push`` (under the store's lock)."""
    try:
        reg = _registry(store, name)
        unknown = set(body) - _PUSH_KEYS
        if unknown:
            raise _bad(f"unknown keys {sorted(unknown)}; allowed: {sorted(_PUSH_KEYS)}")
        repository, tag = _repository_and_tag(body.get("repository"), body.get("tag"))
        manifest = manifest_of(body)
    except ImageRequestError as err:
        return err.response()
    reg.images.setdefault(repository, {})[tag] = manifest
    hooks.announce(ImageChanged("push", reg.name, reg.id, repository, tag, manifest, user_agent))
    return Response.json(200, described(repository, tag, manifest))


def delete(store: Store, hooks: ImageHooks, name: str, reference: str, user_agent: str = "") -> Response:
    """``DELETE /_sandbox/acr/{name}/images/{repository}:{tag}`` (under the store's lock)."""
    try:
        reg = _registry(store, name)
        repository, sep, tag = reference.rpartition(":")
        if not sep:
            raise _bad(f"the image must be 'repository:tag', not {reference!r}")
        repository, tag = _repository_and_tag(repository, tag)
        tags = reg.images.get(repository, {})
        manifest = tags.get(tag)
        if manifest is None:
            raise ImageRequestError(404, "TagNotFound", f"The registry '{reg.name}' has no image '{reference}'.")
    except ImageRequestError as err:
        return err.response()
    del tags[tag]
    if not tags:
        del reg.images[repository]
    hooks.announce(ImageChanged("delete", reg.name, reg.id, repository, tag, manifest, user_agent))
    return Response.json(200, described(repository, tag, manifest))
