"""Images in the simulated registries: references, made-up manifests, and the hooks that announce changes.

The simulator runs no registry data plane; a registry's images are ``Registry.images`` (repository -> tag ->
``Manifest``), written by importImage (``acr_import.py``) and by the push stand-in of the control surface
(``acr_push.py``). Each tag written or removed is announced to the subscribers of ``ImageHooks`` as an
``ImageChanged``: the facts of ACR's ``Microsoft.ContainerRegistry.ImagePushed`` / ``ImageDeleted`` events
("Azure Container Registry as an Event Grid source"). The Event Grid stand-in (``sandbox/eventgrid/``)
subscribes when the simulator is given an events queue connection; without it images are still recorded.
Announcements happen under the store's lock, so a subscriber must only queue the change; its exceptions are
logged and do not affect the request.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.arm.state import Manifest

log = logging.getLogger(__name__)

#: Docker's repository name grammar (lowercase path components joined by ``/``), and its tag grammar.
REPOSITORY_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
#: The size of a manifest nobody gave a size for: the one in Azure's ImagePushed example.
DEFAULT_MANIFEST_SIZE = 1152


def parse_image_ref(ref: str) -> tuple[str, str | None, str | None]:
    """``repo[:tag][@digest]`` -> (repo lowercased, tag, digest); without tag and digest the tag is ``latest``."""
    repo, _, digest = ref.partition("@")
    tag: str | None = None
    if ":" in repo.rsplit("/", 1)[-1]:
        repo, tag = repo.rsplit(":", 1)
    elif not digest:
        tag = "latest"
    return repo.lower(), tag, digest or None


def made_up_manifest(seed: str) -> Manifest:
    """A manifest for an image the sandbox never saw (an import from docker.io): digest from ``seed``."""
    return Manifest(f"sha256:{hashlib.sha256(seed.encode()).hexdigest()}", DEFAULT_MANIFEST_SIZE)


@dataclass(frozen=True)
class ImageChanged:
    #: ``push`` (ImagePushed) or ``delete`` (ImageDeleted): ``data.action`` of the event.
    action: str
    #: The registry's name and ARM id (the event's ``topic``).
    registry: str
    registry_id: str
    repository: str
    tag: str
    manifest: Manifest
    #: The User-Agent of the request that made the change (``data.request.useragent``).
    user_agent: str = ""

    @property
    def login_server(self) -> str:
        return f"{self.registry.lower()}.azurecr.io"


ImageSubscriber = Callable[[ImageChanged], None]


class ImageHooks:
    def __init__(self) -> None:
        self._subscribers: list[ImageSubscriber] = []

    def subscribe(self, callback: ImageSubscriber) -> None:
        self._subscribers.append(callback)

    def unsubscribe(self, callback: ImageSubscriber) -> None:
        self._subscribers.remove(callback)

    def announce(self, change: ImageChanged) -> None:
        for callback in list(self._subscribers):
            try:
                callback(change)
            except Exception:
                log.exception("an image subscriber failed on %s %s:%s", change.registry, change.repository, change.tag)
