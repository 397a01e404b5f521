"""Request bodies: YAML or JSON by Content-Type, size-capped while read (a rejected body stores nothing)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.domain.documents import MAX_DOCUMENT_BYTES, load_json, load_yaml

MAX_BODY_BYTES = MAX_DOCUMENT_BYTES
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


async def read_document(request: Request, *, json_only: bool = False) -> dict[str, Any]:
    """The request body as a mapping (YAML or JSON by Content-Type), size-capped while reading."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise StarletteHTTPException(413, f"the body is over {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise StarletteHTTPException(413, f"the body is over {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media in YAML_TYPES and not json_only:
        return load_yaml(body)
    if media in ("application/json", "") or media.endswith("+json"):
        return load_json(body)
    wanted = "application/merge-patch+json" if json_only else "application/json or application/yaml"
    raise StarletteHTTPException(415, f"send {wanted}, not {media[:60]}")
