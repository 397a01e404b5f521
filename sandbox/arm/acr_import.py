"""importImage (``POST .../registries/{r}/importImage``): 202 + Location, result ``None``.

The imported ``repository:tag`` pairs are recorded on the registry when the operation completes. ARM has
no repository listing, so they are exposed on the control surface, ``GET /_sandbox/registries/{name}/images``.
``mode: NoForce`` (the default) fails the operation when a target tag exists, as the ImportMode docs say;
``Force`` overwrites.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.arm.acr import find_registry, operation_in_progress
from sandbox.arm.config import OpKind
from sandbox.arm.context import Ctx
from sandbox.arm.envelope import ArmError, Response, invalid_request_content, method_not_allowed
from sandbox.arm.lro import OpError, Outcome, Protocol
from sandbox.arm.routes import REGISTRY_TYPE

_REPO_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")


def parse_image_ref(ref: str) -> tuple[str, str | None]:
    """``repo[:tag][@digest]`` -> (repo, tag or None); an untagged, undigested ref means ``latest``."""
    repo, _, digest = ref.partition("@")
    tag: str | None = None
    if ":" in repo.rsplit("/", 1)[-1]:
        repo, tag = repo.rsplit(":", 1)
    elif not digest:
        tag = "latest"
    return repo.lower(), tag


def _target_tags(body: dict[str, Any], source_image: str) -> list[tuple[str, str]]:
    raw = body.get("targetTags")
    if raw is None:
        if body.get("untaggedTargetRepositories"):
            return []
        repo, tag = parse_image_ref(source_image)
        return [(repo.split("/", 1)[1] if repo.startswith("docker.io/") else repo, tag)] if tag else []
    if not isinstance(raw, list) or not all(isinstance(t, str) for t in raw):
        raise invalid_request_content("'targetTags' must be a list of 'repository:tag' strings")
    out = []
    for item in raw:
        repo, sep, tag = item.rpartition(":")
        if not sep or not _REPO_RE.match(repo) or not _TAG_RE.match(tag):
            raise ArmError(400, "InvalidParameters", f"The target tag '{item}' is not a valid 'repository:tag'.")
        out.append((repo, tag))
    return out


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
    if failure is None and mode == "NoForce":
        clash = [f"{r}:{t}" for r, t in targets if t in reg.images.get(r, set())]
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

    def effect(outcome: Outcome) -> None:
        if outcome is Outcome.SUCCEEDED and store.registries.get(reg.name.lower()) is reg:
            for repo, tag in targets:
                reg.images.setdefault(repo, set()).add(tag)
            for repo in body.get("untaggedTargetRepositories") or []:
                if isinstance(repo, str):
                    reg.images.setdefault(repo.lower(), set())

    op.effect = effect
    return Response.empty(202, {"location": op.monitor_url(ctx.request.base_url), **op.retry_headers(ctx.now)})
