"""The web console at ``/console``: the built single-page app (``console/dist``) and its sign-in settings.

Public routes (``handlers/auth.py`` ``PUBLIC``): static files hold no secret, and the console calls the API
with the signed-in user's bearer token like any other client. ``/console/config.json`` tells it where to
sign in (the console's app registration, the authority, the API's scopes). Hashed assets are cached for a
year; ``index.html`` is never cached; a path without a file is the app's own route, answered with
``index.html``. Files built with a ``.gz`` twin are sent compressed to clients that accept gzip.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

CONSOLE_DIR = Path(__file__).resolve().parent.parent / "console" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"


@dataclass(frozen=True)
class ConsoleConfig:
    client_id: str
    authority: str
    scopes: list[str]

    def document(self) -> dict[str, Any]:
        return {"clientId": self.client_id, "authority": self.authority, "scopes": self.scopes}


def _file(root: Path, path: str) -> Path | None:
    candidate = (root / path).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _send(request: Request, found: Path, cache: str) -> Response:
    media = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding", "X-Content-Type-Options": "nosniff"}
    zipped = found.with_name(found.name + ".gz")
    if "gzip" in request.headers.get("accept-encoding", "") and zipped.is_file():
        return FileResponse(zipped, media_type=media, headers={**headers, "Content-Encoding": "gzip"})
    return FileResponse(found, media_type=media, headers=headers)


#: The console's own addresses (console/src/router.ts): index.html whatever their last segment looks like.
PAGES = frozenset({"create", "operations", "registries"})


def console_router(config: Callable[[], ConsoleConfig], root: Path = CONSOLE_DIR) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    base = root.resolve()

    def index(request: Request) -> Response:
        found = _file(base, "index.html")
        if found is None:
            raise StarletteHTTPException(404, "the console is not built: run make setup")
        return _send(request, found, NO_CACHE)

    @router.get("/console")
    def console_root() -> Response:
        return RedirectResponse("/console/", status_code=308)

    @router.get("/console/config.json")
    def console_config() -> Response:
        return JSONResponse(config().document(), headers={"Cache-Control": NO_CACHE})

    @router.get("/console/{path:path}")
    def console_file(path: str, request: Request) -> Response:
        found = _file(base, path) if path else None
        if found is not None:
            return _send(request, found, IMMUTABLE if path.startswith("assets/") else NO_CACHE)
        page = path.split("/", 1)[0] in PAGES  # an operation id has a dot, and is a page, not a file
        if path.startswith("assets/") or (not page and "." in path.rsplit("/", 1)[-1]):
            raise StarletteHTTPException(404, f"no such file: {path[:100]}")
        return index(request)

    return router
