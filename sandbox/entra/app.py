"""The Starlette app of the Entra stand-in: Entra's v2 endpoints for one tenant, and ``/_sandbox/``.

Every URL it hands out is built from the fixed ``base_url`` it was started with (``https://127.0.0.1:
{port}``), never from the request's Host, so issuers stay the same whatever name a client used, as
Entra's do. The tenant segment accepts the tenant id, its domain, ``common`` and ``organizations``;
tokens are always issued by the one tenant. CORS is open: the console (another origin) calls the token
endpoint from the browser, as single-page apps do with Entra.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.entra import authorize, config, errors
from sandbox.entra.directory import Directory, RegistrationError
from sandbox.entra.keys import SigningKey
from sandbox.entra.oauth import TokenService, basic_credentials
from sandbox.entra.tokens import TokenIssuer, issuer_url

log = logging.getLogger(__name__)

MULTI_TENANT = ("common", "organizations")
_NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


@dataclass(frozen=True)
class Endpoints:
    """The URLs of the tenant (or of ``common``/``organizations``) under ``base_url``."""

    base_url: str
    tenant: str

    @property
    def issuer(self) -> str:
        return issuer_url(self.base_url, self.tenant)

    @property
    def jwks_uri(self) -> str:
        return f"{self.base_url}/{self.tenant}/discovery/v2.0/keys"

    @property
    def token_endpoint(self) -> str:
        return f"{self.base_url}/{self.tenant}/oauth2/v2.0/token"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.base_url}/{self.tenant}/oauth2/v2.0/authorize"

    @property
    def openid_configuration(self) -> str:
        return f"{self.base_url}/{self.tenant}/v2.0/.well-known/openid-configuration"


def openid_configuration(base_url: str, tenant: str, tenant_id: str) -> dict[str, Any]:
    """Entra's v2 discovery document; for ``common``/``organizations`` the issuer is the ``{tenantid}``
    template, as Entra answers."""
    urls = Endpoints(base_url, tenant)
    issuer = Endpoints(base_url, "{tenantid}" if tenant.lower() in MULTI_TENANT else tenant_id).issuer
    return {
        "token_endpoint": urls.token_endpoint,
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": urls.jwks_uri,
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": issuer,
        "request_uri_parameter_supported": False,
        "authorization_endpoint": urls.authorization_endpoint,
        "http_logout_supported": False,
        "frontchannel_logout_supported": False,
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "oid",
        ],
        "code_challenge_methods_supported": ["S256", "plain"],
        "tenant_region_scope": None,
        "cloud_instance_name": "regctl.sandbox",
    }


class EntraStandIn:
    def __init__(
        self,
        *,
        base_url: str,
        signing_key: SigningKey,
        directory: Directory,
        audiences: Sequence[str] = (config.DEFAULT_AUDIENCE,),
        tenant_id: str = config.TENANT_ID,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tenant_id = tenant_id
        self.signing_key = signing_key
        self.directory = directory
        self.endpoints = Endpoints(self.base_url, tenant_id)
        issuer = TokenIssuer(signing_key, self.endpoints.issuer, tenant_id)
        self.tokens = TokenService(directory, issuer, list(audiences), config.TENANT_DOMAIN)
        self._tenant_names = {tenant_id.lower(), config.TENANT_DOMAIN, *MULTI_TENANT}
        routes = [
            Route("/{tenant}/v2.0/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/{tenant}/discovery/v2.0/keys", self.keys, methods=["GET"]),
            Route("/{tenant}/oauth2/v2.0/token", self.token, methods=["POST"]),
            Route("/{tenant}/oauth2/v2.0/authorize", self.authorize, methods=["GET", "POST"]),
            Route("/_sandbox/health", self.health, methods=["GET"]),
            Route("/_sandbox/clients", self.clients, methods=["GET", "POST"]),
        ]
        cors = Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"], allow_headers=["*"])
        self.app = Starlette(routes=routes, middleware=[cors])

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    # --- helpers -----------------------------------------------------------------------------------
    def _tenant(self, request: Request) -> str:
        tenant = str(request.path_params["tenant"])
        if tenant.lower() not in self._tenant_names:
            raise errors.tenant_not_found(tenant)
        return tenant

    def _error(self, request: Request, error: errors.EntraError) -> JSONResponse:
        body = error.body(self.base_url, request.headers.get("client-request-id"))
        log.info("%s %s -> %s AADSTS%s", request.method, request.url.path, error.status, error.code)
        return JSONResponse(body, status_code=error.status, headers=_NO_STORE)

    @staticmethod
    async def _form(request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", errors="replace")
        return dict(parse_qsl(body, keep_blank_values=True))

    # --- Entra's endpoints ---------------------------------------------------------------------------
    async def discovery(self, request: Request) -> Response:
        try:
            tenant = self._tenant(request)
        except errors.EntraError as err:
            return self._error(request, err)
        return JSONResponse(openid_configuration(self.base_url, tenant, self.tenant_id))

    async def keys(self, request: Request) -> Response:
        try:
            tenant = self._tenant(request)
        except errors.EntraError as err:
            return self._error(request, err)
        issuer = Endpoints(self.base_url, "{tenantid}" if tenant.lower() in MULTI_TENANT else self.tenant_id).issuer
        return JSONResponse(self.signing_key.jwks(issuer))

    async def token(self, request: Request) -> Response:
        try:
            self._tenant(request)
            form = await self._form(request)
            answer = self.tokens.token(form, basic_credentials(request.headers.get("authorization")))
        except errors.EntraError as err:
            return self._error(request, err)
        return JSONResponse(answer, headers=_NO_STORE)

    async def authorize(self, request: Request) -> Response:
        params = dict(request.query_params) if request.method == "GET" else await self._form(request)
        try:
            self._tenant(request)
            client = authorize.check_request(self.tokens, params)
        except errors.EntraError as err:
            return authorize.error_page(err)
        problem = authorize.request_problem(self.tokens, params, client)
        if problem is not None:
            return authorize.redirect_error(params, *problem)
        principal = authorize.chosen_principal(self.tokens, params) if request.method == "POST" else None
        if principal is None:
            return authorize.picker(self.tokens, params, client)
        return authorize.complete(self.tokens, params, client, principal)

    # --- control surface -----------------------------------------------------------------------------
    async def health(self, request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def clients(self, request: Request) -> Response:
        if request.method == "GET":
            listed = [c.describe(with_secret=False) for c in self.directory.clients.values()]
            return JSONResponse({"value": listed})
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise RegistrationError("the body must be a JSON object")
            client = self.directory.register(body)
        except (ValueError, RegistrationError) as err:
            return JSONResponse({"error": {"code": "InvalidSandboxRequest", "message": str(err)}}, status_code=400)
        return JSONResponse(client.describe(with_secret=True), status_code=201)
