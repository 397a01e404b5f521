"""importImage (``POST .../registries/{r}/importImage``): 202 + Location, result ``None``.

The imported ``repository:tag`` pairs are recorded on the registry when the operation completes, each
pointing at the source image's manifest, and announced as pushes (``acr_images.py``: the Event Grid
stand-in sends ``ImagePushed`` for each target tag, as ACR does for ``az acr import``). ARM has no
repository listing, so they are exposed on the control surface, ``GET /_sandbox/registries/{name}/images``.
``mode: NoForce`` (the default) fails the operation when a target tag exists, as the ImportMode docs say;
``Force`` overwrites.

The source: with ``source.resourceId`` (a registry's ARM id) the source registry must exist here and hold
``sourceImage`` (``repo:tag`` or ``repo@sha256:...``), checked when the import is requested, before any
copying as Azure does; the targets get that image's digest. Otherwise the operation fails with
``InvalidParameters``: "Unable to find manifest digest. Repo: ... Tag: ... Manifest: ..." for a missing image, the code
and message Azure gives when it cannot resolve a source image (Azure/acr#422; a Microsoft import worker
classifies exactly that code and message as "manifest not found"); for a missing source registry the same
code with "The source registry '...' could not be found." (UNVERIFIED: no recorded Azure answer). With
``registryUri`` (docker.io, another registry's login server) nothing can be checked: the targets get the
digest of ``sourceImage`` when it names one, else one made up from the URI and the image.
"""

from __future__ import annotations

import uuid
from typing import Any

from sandbox.arm.acr import find_registry, operation_in_progress
from sandbox.arm.acr_images import (
    DEFAULT_MANIFEST_SIZE,
    REPOSITORY_RE,
    TAG_RE,
    ImageChanged,
    made_up_manifest,
    parse_image_ref,
)
from sandbox.arm.config import OpKind
from sandbox.arm.context import Ctx
from sandbox.arm.envelope import ArmError, Response, invalid_request_content, method_not_allowed
from sandbox.arm.lro import OpError, Outcome, Protocol
from sandbox.arm.routes import REGISTRY_TYPE
from sandbox.arm.state import Manifest, Registry, Store


def _target_tags(body: dict[str, Any], source_image: str) -> list[tuple[str, str]]:
    raw = body.get("targetTags")
    if raw is None:
        if body.get("untaggedTargetRepositories"):
            return []
        repo, tag, _ = parse_image_ref(source_image)
        return [(repo.split("/", 1)[1] if repo.startswith("docker.io/") else repo, tag)] if tag else []
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise invalid_request_content("'targetTags' must be a list of 'repository:tag' strings")
    out = []
    for item in raw:
        repo, sep, tag = item.rpartition(":")
        if not sep or not REPOSITORY_RE.match(repo) or not TAG_RE.match(tag):
            raise ArmError(400, "InvalidParameters", f"The target tag '{item}' is not a valid 'repository:tag'.")
        out.append((repo, tag))
    return out


def _registry_by_id(store: Store, resource_id: str) -> Registry | None:
    parts = resource_id.strip("/").split("/")
    if len(parts) != 8 or [p.lower() for p in (parts[0], parts[2], parts[4], parts[5], parts[6])] != [
        "subscriptions",
        "resourcegroups",
        "providers",
        "microsoft.containerregistry",
        "registries",
    ]:
        return None
    return store.registry(parts[1], parts[3], parts[7])


def source_manifest(store: Store, source: dict[str, Any]) -> Manifest | OpError:
    """The manifest ``source`` names, or the error the import fails with."""
    image = str(source["sourceImage"])
    resource_id = source.get("resourceId")
    repo, tag, digest = parse_image_ref(image)
    if not isinstance(resource_id, str) or not resource_id:
        if digest is not None:
            return Manifest(digest, DEFAULT_MANIFEST_SIZE)
        return made_up_manifest(f"{source.get('registryUri') or ''}/{image}")
    reg = _registry_by_id(store, resource_id)
    if reg is None:
        return OpError("InvalidParameters", f"The source registry '{resource_id}' could not be found.")
    tags = reg.images.get(repo, {})
    found = tags.get(tag) if tag is not None else next((m for m in tags.values() if m.digest == digest), None)
    if found is None or (digest is not None and found.digest != digest):
        message = f"Unable to find manifest digest. Repo: {repo} Tag: {tag or ''} Manifest: {digest or ''}"
        return OpError("InvalidParameters", message.rstrip())
    return found


def handle_import(ctx: Ctx) -> Response:
    if ctx.method != "POST":
        raise method_not_allowed(ctx.method)
    reg = find_registry(ctx)
    if reg.state != "Succeeded":
        raise operation_in_progress(reg.name)
    body = ctx.request.json_body()
    source = body.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("sourceImage"), str) or not source["sourceImage"]:
        raise invalid_request_content("'source.sourceImage' is required")
    mode = body.get("mode", "NoForce")
    if mode not in ("NoForce", "Force"):
        raise ArmError(400, "InvalidParameters", f"The import mode '{mode}' is not valid: NoForce or Force.")
    targets = _target_tags(body, source["sourceImage"])
    store = ctx.store
    failure = ctx.lro_failure()
    found = source_manifest(store, source)
    if failure is None and isinstance(found, OpError):
        failure = found
    if failure is None and mode == "NoForce":
        clash = [f"{r}:{t}" for r, t in targets if t in reg.images.get(r, {})]
        if clash:
            # "NoForce: any existing target tags will fail the operation before any copying begins".
            failure = OpError("TagAlreadyExists", f"Tag {clash[0]} already exists in target registry.")
    op_id = f"registries-{uuid.uuid4()}"
    op = store.start_operation(
        OpKind.IMPORT_IMAGE,
        Protocol.LOCATION,
        REGISTRY_TYPE,
        ctx.subscription,
        f"/subscriptions/{ctx.subscription}/providers/Microsoft.ContainerRegistry/locations/{reg.location}"
        f"/operationResults/{op_id}?api-version={ctx.request.api_version}",
        now=ctx.now,
        failure=failure,
        op_id=op_id,
    )
    hooks, agent = ctx.image_hooks, ctx.request.headers.get("user-agent", "")

    def effect(outcome: Outcome) -> None:
        if outcome is not Outcome.SUCCEEDED or store.registries.get(reg.name.lower()) is not reg:
            return
        assert isinstance(found, Manifest)
        for repo, tag in targets:
            reg.images.setdefault(repo, {})[tag] = found
            hooks.announce(ImageChanged("push", reg.name, reg.id, repo, tag, found, agent))
        for repo in body.get("untaggedTargetRepositories") or []:
            if isinstance(repo, str):
                reg.images.setdefault(repo.lower(), {})

    op.effect = effect
    return Response.empty(202, {"location": op.monitor_url(ctx.request.base_url), **op.retry_headers(ctx.now)})
