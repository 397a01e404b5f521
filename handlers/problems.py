"""RFC 9457 problem details for every error the API answers."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.domain.errors import InvalidSpec, RequestError, TransientError

PROBLEM = "application/problem+json"


def problem(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": code, "status": status, "code": code, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


async def unauthenticated(_: Request, exc: Exception) -> JSONResponse:
    """401 with the challenge RFC 6750 asks for; ``error="invalid_token"`` when a credential came and was
    refused. The detail never echoes the token."""
    assert isinstance(exc, RequestError)
    response = problem(401, exc.code, exc.message)
    challenge = 'Bearer realm="regctl"'
    if exc.code != "AuthenticationRequired":
        challenge += ', error="invalid_token"'
    response.headers["WWW-Authenticate"] = challenge
    return response


async def request_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestError)
    extra: dict[str, Any] = {}
    if isinstance(exc, InvalidSpec):
        extra["errors"] = [{"field": e.path, "message": e.message} for e in exc.errors]
        if exc.warnings:
            extra["warnings"] = exc.warnings
    return problem(exc.status, exc.code, exc.message, **extra)


async def validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    return problem(422, "InvalidRequest", "the request is invalid", errors=errors)


async def http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "NotFound", 405: "MethodNotAllowed", 413: "RequestTooLarge", 415: "UnsupportedMediaType"}
    return problem(exc.status_code, codes.get(exc.status_code, "HttpError"), str(exc.detail))


#: Seconds a client is asked to wait before retrying a request its dependencies could not serve.
UNAVAILABLE_RETRY_AFTER = 5


async def unavailable(_: Request, exc: Exception) -> JSONResponse:
    """503 with Retry-After for a dependency outage (the state store or the queue unreachable, timing out,
    or answering 5xx/429: the adapters raise ``TransientError`` for those): the caller may retry, and
    nothing half-done was kept (writes are transactional)."""
    response = problem(503, "ServiceUnavailable", "a dependency is unavailable; retry the request shortly")
    response.headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    return response


UNAVAILABLE_ERRORS = (TransientError,)


async def unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    return problem(500, "InternalError", "an unexpected error occurred; it has been logged")
