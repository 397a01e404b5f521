"""The HTTP client of the regctl API: one method per route, every failure as an ``ApiError``.

The CLI reaches the control plane only through here (never ``shared.services``). The ``httpx.Client`` is
passed in, so tests can hand over one bound to the ASGI app in process; so is the bearer token's source
(``regctl.auth``), asked before every request. Errors:

- ``Problem``: the API answered 4xx/5xx (RFC 9457 problem+json: ``code``, ``detail``, ``errors``);
- ``Unreachable``: no answer (connection refused, DNS, TLS, timeout, a dropped connection);
- ``BadAnswer``: an answer that is not the JSON document the route returns (wrong ``--endpoint``?).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from regctl.errors import UsageProblem
from shared.domain.asset_spec import AssetType

DEFAULT_ENDPOINT = "http://127.0.0.1:7071"
ENDPOINT_ENV = "REGCTL_ENDPOINT"
FUNCTION_KEY_ENV = "REGCTL_FUNCTION_KEY"
"""Sent as ``x-functions-key`` when set. regctl's own Function App needs none (its HTTP trigger is anonymous
and the API authenticates the bearer token), so this only serves an app deployed with keys."""
CONNECT_TIMEOUT = 5.0
REQUEST_TIMEOUT = 30.0
MAX_DETAIL = 300


class ApiError(Exception):
    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else type(self).__name__


class Unreachable(ApiError):
    """No answer from the API."""


class BadAnswer(ApiError):
    """An answer that is not the API's JSON document."""


@dataclass(frozen=True)
class Registration:
    """The answer to an asset registration: 202 (new work, ``operation`` names it) or 200 (the same content
    was registered before), with the version document."""

    status: int
    document: dict[str, Any]


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class Problem(ApiError):
    """A problem+json answer (or any other error status, with what could be read of it)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        errors: list[FieldProblem] | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = list(errors or [])
        self.warnings = list(warnings or [])

    @property
    def transient(self) -> bool:
        """Worth asking again while following an operation (throttled, or the host is restarting)."""
        return self.status == 429 or self.status >= 500


def _text(value: object, limit: int = MAX_DETAIL) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def problem_of(response: httpx.Response) -> Problem:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        reason = response.reason_phrase or "error"
        snippet = _text(response.text.strip().splitlines()[0] if response.text.strip() else "", 120)
        return Problem(response.status_code, f"HTTP{response.status_code}", f"{reason} {snippet}".strip())
    errors = [
        FieldProblem(_text(e.get("field")), _text(e.get("message")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    warnings = [_text(w) for w in body.get("warnings") or [] if isinstance(w, str)]
    code = _text(body.get("code") or body.get("title") or f"HTTP{response.status_code}", 80)
    detail = _text(body.get("detail") or response.reason_phrase)
    return Problem(response.status_code, code, detail, errors, warnings)


def normalise_endpoint(raw: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing ``/`` or ``/api`` (the client appends ``/api``)."""
    value = raw.strip().rstrip("/")
    value = value.removesuffix("/api")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host or url.query or url.fragment:
        raise UsageProblem(f"--endpoint must be an http(s) URL such as {DEFAULT_ENDPOINT}, not {_text(raw, 80)!r}")
    return value


def segment(value: str) -> str:
    """``value`` as one path segment, so that a name such as ``a/b`` or ``x?y`` cannot reach another route."""
    if value.strip() in ("", ".", ".."):
        raise UsageProblem(f"{value!r} is not a name")
    return quote(value, safe="")


class ApiClient:
    """The routes under ``{endpoint}/api``; documents come back as the API wrote them."""

    def __init__(
        self,
        http: httpx.Client,
        endpoint: str,
        function_key: str | None = None,
        token: Callable[[], str] | None = None,
    ) -> None:
        self._http = http
        self.endpoint = endpoint
        self._headers = {"Accept": "application/json, application/problem+json"}
        if function_key:
            self._headers["x-functions-key"] = function_key
        self._token = token
        """Called before each request: a credential's token is renewed before it expires."""

    def url(self, path: str) -> str:
        """An absolute URL for an API path such as a ``Location`` (``/api/operations/{id}``)."""
        return self.endpoint + path if path.startswith("/") else path

    # -- writes: 202 {operation, id, status, warnings} ----------------------------------------------------

    def create_registry(self, body: bytes, media_type: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self._accepted("POST", "/api/registries", content=body, media_type=media_type, key=idempotency_key)

    def replace_registry(
        self, name: str, body: bytes, media_type: str, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        path = f"/api/registries/{segment(name)}"
        return self._accepted("PUT", path, content=body, media_type=media_type, key=idempotency_key)

    def delete_registry(self, name: str, idempotency_key: str | None = None) -> dict[str, Any]:
        return self._accepted("DELETE", f"/api/registries/{segment(name)}", key=idempotency_key)

    def sync_registry(self, name: str) -> dict[str, Any]:
        return self._accepted("POST", f"/api/registries/{segment(name)}/sync")

    def set_policy(self, name: str, policy: str) -> dict[str, Any]:
        body = {"reconcile_policy": policy}
        return self._document("PUT", f"/api/registries/{segment(name)}/policy", json=body)

    # -- reads ---------------------------------------------------------------------------------------------

    def get_registry(self, name: str) -> dict[str, Any]:
        return self._document("GET", f"/api/registries/{segment(name)}")

    def list_registries(self) -> dict[str, Any]:
        document = self._document("GET", "/api/registries")
        if not isinstance(document.get("value"), list):
            raise BadAnswer(f"the answer from {self.endpoint}/api/registries has no list of registries")
        return document

    def get_operation(self, operation_id: str) -> dict[str, Any]:
        document = self._document("GET", f"/api/operations/{segment(operation_id)}")
        if not isinstance(document.get("status"), str):
            raise BadAnswer(f"the answer from {self.endpoint}/api/operations/… has no operation status")
        return document

    # -- access: role assignments, role definitions, the activity log ------------------------------------

    def put_role_assignment(self, assignment_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """201 created, 200 when identical; 409 ``RoleAssignmentExists`` under another id."""
        return self._document("PUT", f"/api/roleAssignments/{segment(assignment_id)}", json=dict(body))

    def get_role_assignment(self, assignment_id: str) -> dict[str, Any]:
        return self._document("GET", f"/api/roleAssignments/{segment(assignment_id)}")

    def list_role_assignments(self, scope: str | None = None, principal_id: str | None = None) -> dict[str, Any]:
        params = {k: v for k, v in (("scope", scope), ("principalId", principal_id)) if v is not None}
        return self._listing("/api/roleAssignments", params, "role assignments")

    def delete_role_assignment(self, assignment_id: str) -> dict[str, Any] | None:
        """The deleted assignment; None when there was none (204)."""
        return self._optional_document("DELETE", f"/api/roleAssignments/{segment(assignment_id)}")

    def put_role_definition(self, role_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._document("PUT", f"/api/roleDefinitions/{segment(role_id)}", json=dict(body))

    def list_role_definitions(self) -> dict[str, Any]:
        return self._listing("/api/roleDefinitions", {}, "role definitions")

    def delete_role_definition(self, role_id: str) -> dict[str, Any] | None:
        """The deleted definition; None when there was none (204); 409 ``RoleDefinitionInUse`` while assigned."""
        return self._optional_document("DELETE", f"/api/roleDefinitions/{segment(role_id)}")

    def list_activity(self, registry: str | None = None, since: str | None = None) -> dict[str, Any]:
        params = {k: v for k, v in (("registry", registry), ("since", since)) if v is not None}
        return self._listing("/api/activity", params, "activity entries")

    # -- assets: /api/registries/{r}/{models|data|components|environments}/{name}/versions/{v} -----------

    def _asset(self, registry: str, asset_type: AssetType, name: str | None = None, version: str | None = None) -> str:
        path = f"/api/registries/{segment(registry)}/{asset_type.value}"
        if name is not None:
            path += f"/{segment(name)}/versions"
        return path + (f"/{segment(version)}" if version is not None else "")

    def list_assets(self, registry: str, asset_type: AssetType, include_archived: bool) -> dict[str, Any]:
        """``{"value": [{name, latestVersion, versions}]}``."""
        params = {"includeArchived": "true"} if include_archived else {}
        return self._listing(self._asset(registry, asset_type), params, asset_type.value)

    def list_asset_versions(
        self, registry: str, asset_type: AssetType, name: str, include_archived: bool
    ) -> dict[str, Any]:
        params = {"includeArchived": "true"} if include_archived else {}
        return self._listing(self._asset(registry, asset_type, name), params, "versions")

    def get_asset_version(self, registry: str, asset_type: AssetType, name: str, version: str) -> dict[str, Any]:
        return self._document("GET", self._asset(registry, asset_type, name, version))

    def start_pending_upload(self, registry: str, asset_type: AssetType, name: str, version: str) -> tuple[str, str]:
        """``(blobUri, container SAS URL)`` of a new pending upload in the registry's primary storage."""
        path = self._asset(registry, asset_type, name, version) + "/startPendingUpload"
        reference = self._document("POST", path).get("blobReferenceForConsumption")
        blob_uri = reference.get("blobUri") if isinstance(reference, dict) else None
        credential = reference.get("credential") if isinstance(reference, dict) else None
        sas_uri = credential.get("sasUri") if isinstance(credential, dict) else None
        if not isinstance(blob_uri, str) or not isinstance(sas_uri, str):
            raise BadAnswer(f"the answer from {self.endpoint}{path} has no blobReferenceForConsumption")
        return blob_uri, sas_uri

    def register_asset(
        self, registry: str, asset_type: AssetType, name: str, version: str, body: bytes
    ) -> Registration:
        path = self._asset(registry, asset_type, name, version)
        headers = {"Content-Type": "application/json"}
        response = self._send("PUT", path, content=body, headers=headers)
        return Registration(response.status_code, self._parsed(response, path))

    def update_asset_version(
        self, registry: str, asset_type: AssetType, name: str, version: str, changes: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Change ``description``, ``tags`` (the whole map) or ``isArchived``; the version document."""
        return self._document("PATCH", self._asset(registry, asset_type, name, version), json=dict(changes))

    def delete_asset_version(self, registry: str, asset_type: AssetType, name: str, version: str) -> dict[str, Any]:
        return self._accepted("DELETE", self._asset(registry, asset_type, name, version))

    def download_asset(
        self, registry: str, asset_type: AssetType, name: str, version: str, region: str | None
    ) -> dict[str, Any]:
        """A read credential for a region's copy: ``{region, containerUri, prefix, files}``."""
        path = self._asset(registry, asset_type, name, version) + "/download"
        params = {"region": region} if region else {}
        grant = self._document("POST", path, params=params)
        if not isinstance(grant.get("containerUri"), str) or not isinstance(grant.get("files"), list):
            raise BadAnswer(f"the answer from {self.endpoint}{path} has no containerUri and files")
        return grant

    # -- plumbing ------------------------------------------------------------------------------------------

    # -- promotions (docs/events.md) ---------------------------------------------------------------

    def promote(self, target: str, asset_type: AssetType, name: str, version: str, source: str) -> dict[str, Any]:
        path = self._asset(target, asset_type, name, version) + "/promote"
        return self._document("POST", path, json={"source": source})

    def get_promotion(self, promotion_id: str) -> dict[str, Any]:
        return self._document("GET", f"/api/promotions/{segment(promotion_id)}")

    def list_promotions(self, rule: str | None = None, status: str | None = None) -> dict[str, Any]:
        params = {k: v for k, v in (("rule", rule), ("status", status)) if v}
        return self._listing("/api/promotions", params, "promotions")

    def decide_promotion(self, promotion_id: str, verb: str) -> dict[str, Any]:
        return self._document("POST", f"/api/promotions/{segment(promotion_id)}/{verb}")

    def put_rule(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._document("PUT", f"/api/promotionRules/{segment(name)}", json=dict(body))

    def list_rules(self) -> dict[str, Any]:
        return self._listing("/api/promotionRules", {}, "promotion rules")

    def delete_rule(self, name: str) -> dict[str, Any] | None:
        return self._optional_document("DELETE", f"/api/promotionRules/{segment(name)}")

    def _accepted(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        media_type: str | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        if media_type:
            headers["Content-Type"] = media_type
        if key is not None:
            headers["Idempotency-Key"] = key
        document = self._document(method, path, content=content, headers=headers)
        if not isinstance(document.get("id"), str):
            raise BadAnswer(f"the answer from {self.endpoint}{path} names no operation")
        document.setdefault("operation", f"/api/operations/{document['id']}")
        return document

    def _listing(self, path: str, params: dict[str, str], what: str) -> dict[str, Any]:
        document = self._document("GET", path, params=params)
        if not isinstance(document.get("value"), list):
            raise BadAnswer(f"the answer from {self.endpoint}{path} has no list of {what}")
        return document

    def _optional_document(self, method: str, path: str) -> dict[str, Any] | None:
        """A document, or None for 204 No Content (a DELETE of something that was not there)."""
        response = self._send(method, path)
        return None if response.status_code == 204 else self._parsed(response, path)

    def _document(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        json: object = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = self._send(method, path, content=content, json=json, headers=headers, params=params)
        return self._parsed(response, path)

    def _send(
        self,
        method: str,
        path: str,
        *,
        content: bytes | None = None,
        json: object = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = self.endpoint + path
        sent = {**self._headers, **(headers or {})}
        if self._token is not None:
            sent["Authorization"] = f"Bearer {self._token()}"
        try:
            response = self._http.request(method, url, content=content, json=json, headers=sent, params=params)
        except httpx.TimeoutException:
            unsure = "" if method == "GET" else "; the request may still have been accepted"
            raise Unreachable(f"no answer from the regctl API at {self.endpoint} in time{unsure}") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            reason = _text(str(exc) or type(exc).__name__, 160)
            raise Unreachable(f"cannot reach the regctl API at {self.endpoint}: {reason}") from None
        if response.status_code >= 400:
            raise problem_of(response)
        return response

    def _parsed(self, response: httpx.Response, path: str) -> dict[str, Any]:
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise BadAnswer(
                f"the answer from {self.endpoint + path} (HTTP {response.status_code}) is not a regctl API "
                "document; is the endpoint right?"
            )
        return document
