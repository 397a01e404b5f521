"""What ``/api/openapi.json`` says beyond what FastAPI infers from the routes.

The routes that take a registry spec read the body themselves (YAML or JSON, size-capped while streaming),
so FastAPI cannot see their request bodies; every error is ``application/problem+json`` from
``handlers.problems``, not FastAPI's default validation error. This module declares both: the spec schema
(the pydantic model that parses it) for ``application/json`` and ``application/yaml``, the merge patch,
the 202 answer, and a problem response for each status a route can answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from handlers.problems import PROBLEM
from shared.domain.spec import RegistrySpec

_SCHEMAS = "#/components/schemas/"


class FieldProblem(BaseModel):
    field: str = Field(description="Path of the offending field, e.g. replication_locations[1].location")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with a machine ``code``."""

    type: str = "about:blank"
    title: str
    status: int
    code: str = Field(description="Machine-readable: InvalidSpec, RegistryNotFound, PrimaryLocationImmutable, ...")
    detail: str
    errors: list[FieldProblem] | None = Field(default=None, description="Every offending field (validation)")
    warnings: list[str] | None = None


class AcceptedOperation(BaseModel):
    """202: the operation started; poll ``Location`` (the same as ``operation``)."""

    operation: str = Field(description="/api/operations/{id}")
    id: str
    status: str
    warnings: list[str]


_DESCRIPTIONS = {
    400: "The request cannot be read (malformed YAML or JSON, a bad header)",
    401: "No identity, or an invalid one: send an Entra ID access token (WWW-Authenticate: Bearer)",
    403: "AuthorizationFailed: the caller may not perform the action at the scope (both are named)",
    404: "No such registry or operation",
    409: "Conflicts with the registry's state (exists, immutable field, being deleted, concurrent change)",
    413: "The body is over 64 KiB",
    415: "Not a supported media type",
    422: "The spec is invalid: every offending field is listed",
    503: "A dependency is unavailable; retry after Retry-After",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Problem responses for ``statuses`` (for a route's ``responses=``)."""
    schema = {"$ref": _SCHEMAS + "Problem"}
    every = sorted({401, 403, *statuses})  # every route but the public ones needs an identity and a right
    return {
        status: {"description": _DESCRIPTIONS[status], "content": {PROBLEM: {"schema": schema}}} for status in every
    }


def accepted_response() -> dict[int | str, dict[str, Any]]:
    return {202: {"model": AcceptedOperation, "description": "Accepted; the operation runs asynchronously"}}


def spec_body() -> dict[str, Any]:
    """``openapi_extra`` of the routes that take a full spec."""
    schema = {"$ref": _SCHEMAS + "RegistrySpec"}
    content = {"application/json": {"schema": schema}, "application/yaml": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def patch_body() -> dict[str, Any]:
    schema = {
        "type": "object",
        "description": "RFC 7396 JSON merge patch of the registry spec (null removes a key); name and primary "
        "location cannot change",
    }
    return {"requestBody": {"required": True, "content": {"application/merge-patch+json": {"schema": schema}}}}


def install(api: FastAPI) -> None:
    """Serve the document FastAPI builds, with the spec and problem schemas in its components."""

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            document = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
            components = document.setdefault("components", {}).setdefault("schemas", {})
            for model in (RegistrySpec, Problem):
                schema = model.model_json_schema(ref_template=_SCHEMAS + "{model}")
                components.update(schema.pop("$defs", {}))
                components[model.__name__] = schema
            api.openapi_schema = document
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the document
