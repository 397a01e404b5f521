"""The token endpoint's grants: client credentials, and authorization code with PKCE.

``TokenService.token(form, basic)`` takes the posted form (and the ``Authorization: Basic`` pair, for
``client_secret_basic``) and returns Entra's JSON answer or raises ``EntraError``. Codes come from
``issue_code`` (the authorize page); each is redeemable once, within ten minutes, by the client it was
issued to, with the same ``redirect_uri`` and the verifier of its ``code_challenge``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from sandbox.entra import errors
from sandbox.entra.config import AUTH_CODE_LIFETIME_SECONDS, EXPIRES_IN
from sandbox.entra.directory import Client, Directory
from sandbox.entra.keys import b64url
from sandbox.entra.tokens import Principal, TokenIssuer

#: OpenID Connect scopes: they ask for an ID token and claims, not for a resource.
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
#: The delegated scope a user token carries when the client asked for ``{resource}/.default``.
DEFAULT_DELEGATED_SCOPE = "user_impersonation"
CODE_CHALLENGE_METHODS = ("S256", "plain")


@dataclass(frozen=True)
class AuthCode:
    client_id: str
    redirect_uri: str
    principal: Principal
    scopes: tuple[str, ...]
    code_challenge: str | None
    code_challenge_method: str
    nonce: str | None
    expires_at: float


def pkce_challenge(verifier: str, method: str = "S256") -> str:
    if method == "plain":
        return verifier
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def client_info(object_id: str, tenant_id: str) -> str:
    """Entra's ``client_info``: base64url JSON of the account's object id and home tenant (MSAL keys its
    account cache on them)."""
    return b64url(json.dumps({"uid": object_id, "utid": tenant_id}, separators=(",", ":")).encode())


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """``client_secret_basic``: ``Authorization: Basic base64(urlencoded client_id:urlencoded secret)``
    (RFC 6749 section 2.3.1)."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def split_scopes(scope: str) -> tuple[str | None, list[str], list[str]]:
    """``(resource, names, oidc)`` of a delegated scope string; one resource per request, as in Entra."""
    resource: str | None = None
    names: list[str] = []
    oidc: list[str] = []
    for item in scope.split():
        if item in OIDC_SCOPES:
            oidc.append(item)
            continue
        prefix, sep, name = item.rpartition("/")
        if not sep or not prefix:
            raise errors.EntraError(
                400,
                "invalid_scope",
                70011,
                f"The provided value for the input parameter 'scope' is not valid. The scope {item} is not valid.",
            )
        if resource is not None and prefix.lower() != resource.lower():
            raise errors.EntraError(
                400,
                "invalid_scope",
                28000,
                "Provided value for the input parameter scope is not valid because it contains more than one resource.",
            )
        resource = prefix
        names.append(DEFAULT_DELEGATED_SCOPE if name == ".default" else name)
    return resource, names, oidc


@dataclass
class TokenService:
    directory: Directory
    issuer: TokenIssuer
    audiences: Sequence[str]
    tenant_name: str
    _codes: dict[str, AuthCode] = field(default_factory=dict)
    _redeemed: dict[str, float] = field(default_factory=dict)  # code -> when it would have expired
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def known_audience(self, resource: str) -> str | None:
        for audience in self.audiences:
            if audience.lower() == resource.rstrip("/").lower():
                return audience
        return None

    # --- the token endpoint ------------------------------------------------------------------------
    def token(self, form: Mapping[str, str], basic: tuple[str, str] | None = None) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        if not grant_type:
            raise errors.missing_parameter("grant_type")
        client_id = form.get("client_id") or (basic[0] if basic else "")
        if not client_id:
            raise errors.missing_parameter("client_id")
        client = self.directory.client(client_id)
        if client is None:
            raise errors.application_not_found(client_id, self.tenant_name)
        secret = form.get("client_secret") or (basic[1] if basic else None)
        if grant_type == "client_credentials":
            self._authenticate(client, secret, required=True)
            return self._client_credentials(client, form.get("scope", ""))
        if grant_type == "authorization_code":
            self._authenticate(client, secret, required=not client.public)
            return self._authorization_code(client, form)
        raise errors.unsupported_grant_type(grant_type)

    @staticmethod
    def _authenticate(client: Client, secret: str | None, *, required: bool) -> None:
        if client.secret is None:
            if required:
                raise errors.missing_credential()
            return
        if not secret:
            raise errors.missing_credential()
        if not hmac.compare_digest(secret.encode(), client.secret.encode()):
            raise errors.invalid_secret(client.client_id)

    def _client_credentials(self, client: Client, scope: str) -> dict[str, Any]:
        if not scope:
            raise errors.missing_parameter("scope")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            raise errors.invalid_default_scope(scope)
        resource = scopes[0].removesuffix("/.default")
        audience = self.known_audience(resource)
        if audience is None:
            raise errors.resource_not_found(resource, self.tenant_name)
        token = self.issuer.access_token(client.principal, audience=audience, client_id=client.client_id)
        return _answer(token)

    def _authorization_code(self, client: Client, form: Mapping[str, str]) -> dict[str, Any]:
        for name in ("code", "redirect_uri"):
            if not form.get(name):
                raise errors.missing_parameter(name)
        code = form["code"]
        with self._lock:
            if code in self._redeemed:
                raise errors.code_redeemed()
            grant = self._codes.pop(code, None)
            if grant is not None:
                self._redeemed[code] = grant.expires_at
        if grant is None or grant.expires_at < time.time() or grant.client_id != client.client_id:
            raise errors.invalid_code()
        if form["redirect_uri"] != grant.redirect_uri:
            raise errors.redirect_mismatch(client.client_id)
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            if not verifier:
                raise errors.missing_parameter("code_verifier")
            expected = pkce_challenge(verifier, grant.code_challenge_method)
            if not hmac.compare_digest(expected.encode(), grant.code_challenge.encode()):
                raise errors.verifier_mismatch()
        resource, names, oidc = split_scopes(" ".join(grant.scopes))
        audience = self.known_audience(resource) if resource else self.audiences[0]
        if audience is None:
            raise errors.resource_not_found(str(resource), self.tenant_name)
        names = names or [DEFAULT_DELEGATED_SCOPE]
        token = self.issuer.access_token(
            grant.principal, audience=audience, client_id=client.client_id, public_client=client.public, scopes=names
        )
        answer = _answer(token)
        answer["scope"] = " ".join([f"{audience}/{name}" for name in names] + oidc)
        if form.get("client_info") == "1":  # MSAL asks for it; Entra answers the account's home ids
            answer["client_info"] = client_info(grant.principal.object_id, self.issuer.tenant_id)
        if "openid" in oidc:
            answer["id_token"] = self.issuer.id_token(grant.principal, client_id=client.client_id, nonce=grant.nonce)
        return answer

    # --- the authorize page's side -----------------------------------------------------------------
    def issue_code(
        self,
        client: Client,
        *,
        redirect_uri: str,
        principal: Principal,
        scope: str,
        code_challenge: str | None,
        code_challenge_method: str,
        nonce: str | None,
    ) -> str:
        code = "1.sbx." + secrets.token_urlsafe(48)
        grant = AuthCode(
            client.client_id,
            redirect_uri,
            principal,
            tuple(scope.split()),
            code_challenge,
            code_challenge_method,
            nonce,
            time.time() + AUTH_CODE_LIFETIME_SECONDS,
        )
        with self._lock:
            now = time.time()
            for stale in [key for key, value in self._codes.items() if value.expires_at < now]:
                del self._codes[stale]
            for stale in [key for key, expires_at in self._redeemed.items() if expires_at < now]:
                del self._redeemed[stale]
            self._codes[code] = grant
        return code


def _answer(access_token: str) -> dict[str, Any]:
    return {
        "token_type": "Bearer",
        "expires_in": EXPIRES_IN,
        "ext_expires_in": EXPIRES_IN,
        "access_token": access_token,
    }
