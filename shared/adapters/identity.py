"""Who is calling: Entra ID access tokens (JWT) or App Service Authentication (EasyAuth) headers.

Two ``Authenticator`` implementations, one chosen by ``REGCTL_AUTH_MODE``:

- ``JwtValidator`` (``jwt``) reads ``Authorization: Bearer <token>`` and nothing else (``X-MS-*`` headers
  are ignored: without EasyAuth in front of the app anyone can set them). The token must be RS256-signed
  by a key of the configured JWKS, unexpired (``leeway`` seconds of clock skew), for one of the
  ``audiences``, from an allowed tenant (``tid``), and its ``iss`` must be one of the issuer templates
  filled with that ``tid`` (v2 ``https://login.microsoftonline.com/{tenant}/v2.0`` and v1
  ``https://sts.windows.net/{tenant}/``). PyJWT checks signature, algorithm, ``exp``/``nbf``/``iat``,
  ``aud`` and ``iss`` (always given a list, never ``None``, which would skip the check).
- ``EasyAuthReader`` (``easyauth``) reads ``X-MS-CLIENT-PRINCIPAL``, which App Service sets after it has
  validated the token itself (and strips from external requests): only safe when App Service
  Authentication is on with "require authentication".

Signing keys are cached (``JwksCache``): fetched on first use, again after ``lifespan``, and when a token
names an unknown ``kid`` (a key rotation), but at most once per ``refresh_cooldown`` seconds, so a flood
of tokens with made-up ``kid`` values costs at most one JWKS request per cooldown. The cache is
thread-safe: the API runs handlers in a thread pool. Every refusal raises ``Unauthenticated`` (401) with
a reason that never contains the token; a JWKS endpoint that cannot be reached before any key was ever
fetched raises ``JwksUnavailable`` (a ``TransientError``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import jwt

from shared.adapters.jwks import (
    JwksCache,
    JwksFetch,
    requests_jwks_fetcher,
)
from shared.domain.access import Principal, PrincipalType
from shared.domain.errors import Unauthenticated
from shared.ports import Authenticator

if TYPE_CHECKING:
    from shared.settings import Settings

log = logging.getLogger(__name__)

AUTHENTICATION_REQUIRED = "AuthenticationRequired"
INVALID_TOKEN = "InvalidAuthenticationToken"  # noqa: S105 - an error code, not a secret
MAX_TOKEN_CHARS = 16 * 1024
VALIDATED_TOKENS_KEPT = 4096
"""Entra access tokens are a few KB (a token with 200 groups stays well under 16 KB); larger is refused
before any parsing."""
MAX_PRINCIPAL_HEADER_CHARS = 64 * 1024
MAX_GROUPS = 1000
MAX_NAME_CHARS = 256
ALGORITHMS = ("RS256",)
REQUIRED_CLAIMS = ("exp", "iat", "aud", "iss", "tid")
_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}\Z")


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, found case-insensitively in any mapping (Starlette's headers or a plain dict)."""
    value = headers.get(name)
    if value is not None:
        return value
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _refuse(reason: str) -> Unauthenticated:
    return Unauthenticated(f"Authentication failed: {reason}.", code=INVALID_TOKEN)


def _missing(header_name: str) -> Unauthenticated:
    return Unauthenticated(
        f"Authentication failed. The '{header_name}' header is missing.", code=AUTHENTICATION_REQUIRED
    )


# --- Principals from claims ---------------------------------------------------------------------------


def _text(claims: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:MAX_NAME_CHARS]
    return None


def principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    """The caller named by validated claims (short JWT claim names).

    ``id`` is ``oid`` (``sub`` when there is none). Application tokens (``idtyp: app``, or, without
    ``idtyp``, a token with neither a user name nor delegated scopes ``scp`` but an ``azp``/``appid``) are
    service principals named by their application id, as ARM names them; the others are users named by
    ``preferred_username``, ``upn``, ``unique_name`` or ``name``. ``idtyp: group`` (the sandbox's Entra
    stand-in issues such tokens; Entra does not) is a group. ``groups`` lists group object ids (a token
    with a group overage claim lists none: regctl does not call Microsoft Graph)."""
    object_id = _text(claims, "oid", "sub")
    if object_id is None or not _ID.match(object_id):
        raise _refuse("the token names no valid principal (oid or sub)")
    tenant = _text(claims, "tid")
    username = _text(claims, "preferred_username", "upn", "unique_name")
    app_id = _text(claims, "azp", "appid")
    idtyp = claims.get("idtyp")
    kind: PrincipalType
    if idtyp == "app" or (idtyp is None and username is None and "scp" not in claims and app_id is not None):
        kind, name = "ServicePrincipal", app_id or object_id
    elif idtyp == "group":
        kind, name = "Group", _text(claims, "name") or object_id
    else:
        kind, name = "User", username or _text(claims, "name") or object_id
    raw_groups = claims.get("groups")
    groups = frozenset(
        g.lower()
        for g in (raw_groups if isinstance(raw_groups, list) else [])[:MAX_GROUPS]
        if isinstance(g, str) and _ID.match(g)
    )
    return Principal(id=object_id, name=name, type=kind, tenant_id=tenant and tenant.lower(), groups=groups)


# --- Signing keys -------------------------------------------------------------------------------------


class JwtValidator:
    """Validates Entra ID access tokens (see the module docstring); an ``Authenticator``."""

    def __init__(
        self,
        *,
        audiences: Sequence[str],
        tenants: Collection[str],
        issuer_templates: Sequence[str],
        jwks_uri: str,
        ca_bundle: str | None = None,
        leeway: float = 60.0,
        refresh_cooldown: float = 30.0,
        jwks_lifespan: float = 3600.0,
        fetch: JwksFetch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.audiences = [a.strip() for a in audiences if a.strip()]
        self.tenants = frozenset(t.strip().lower() for t in tenants if t.strip())
        self.issuer_templates = [t.strip() for t in issuer_templates if t.strip()]
        if not self.audiences:
            raise ValueError("at least one audience is required (REGCTL_AUTH_AUDIENCES)")
        if not self.tenants:
            raise ValueError("at least one tenant id is required (REGCTL_AUTH_TENANTS)")
        if not self.issuer_templates or any("{tenant}" not in t for t in self.issuer_templates):
            raise ValueError("issuer templates are required and each must contain {tenant} (REGCTL_AUTH_ISSUERS)")
        if leeway < 0:
            raise ValueError("leeway must be >= 0")
        self.leeway = leeway
        self._issuers = frozenset(t.replace("{tenant}", tid) for t in self.issuer_templates for tid in self.tenants)
        self.keys = JwksCache(
            fetch or requests_jwks_fetcher(jwks_uri, ca_bundle=ca_bundle),
            refresh_cooldown=refresh_cooldown,
            lifespan=jwks_lifespan,
            clock=clock,
        )
        # Tokens already validated, by their SHA-256, until they expire: a client sends the same token on
        # every request for its lifetime, and the signature check is most of what authentication costs.
        self._valid: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._valid_lock = threading.Lock()

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The caller of ``Authorization: Bearer <token>``; every other header is ignored."""
        value = header(headers, "Authorization")
        if value is None or not value.strip():
            raise _missing("Authorization")
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _refuse("the 'Authorization' header must be 'Bearer <access token>'")
        return self.validate(token.strip())

    def validate(self, token: str) -> Principal:
        """The principal of a valid token; raises ``Unauthenticated`` for any other. A token validated
        before is answered from memory until its ``exp`` (plus the leeway) passes."""
        if len(token) > MAX_TOKEN_CHARS:
            raise _refuse(f"the token is longer than {MAX_TOKEN_CHARS} characters")
        digest = hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
        now = time.time()
        with self._valid_lock:
            cached = self._valid.get(digest)
            if cached is not None and now < cached[1]:
                self._valid.move_to_end(digest)
                return cached[0]
        principal, expires = self._validate(token)
        with self._valid_lock:
            self._valid[digest] = (principal, expires + self.leeway)
            while len(self._valid) > VALIDATED_TOKENS_KEPT:
                self._valid.popitem(last=False)
        return principal

    def _validate(self, token: str) -> tuple[Principal, float]:
        claims = self._claims(token)
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or tenant.lower() not in self.tenants:
            raise _refuse("the token's tenant is not allowed")
        if claims.get("iss") not in {t.replace("{tenant}", tenant) for t in self.issuer_templates}:
            raise _refuse("the token's issuer does not match its tenant")
        return principal_from_claims(claims), float(claims["exp"])

    def _claims(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_CHARS:
            raise _refuse(f"the token is longer than {MAX_TOKEN_CHARS} characters")
        try:
            head = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _refuse("the token is not a well-formed JWT") from None
        if head.get("alg") not in ALGORITHMS:
            raise _refuse(f"the token must be signed with {' or '.join(ALGORITHMS)}")
        kid = head.get("kid")
        if not isinstance(kid, str) or not kid or len(kid) > 256:
            raise _refuse("the token names no signing key (kid)")
        key = self.keys.key(kid)
        if key is None:
            raise _refuse("the token is signed with an unknown key")
        try:
            return jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self.audiences,
                issuer=self._issuers,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise _refuse("the token has expired") from None
        except jwt.ImmatureSignatureError:
            raise _refuse("the token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise _refuse("the token was issued for another audience") from None
        except jwt.InvalidIssuerError:
            raise _refuse("the token's issuer is not accepted") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _refuse(f"the token has no '{exc.claim}' claim") from None
        except jwt.InvalidSignatureError:
            raise _refuse("the token's signature does not verify") from None
        except jwt.PyJWTError:
            raise _refuse("the token is invalid") from None


# --- App Service Authentication -----------------------------------------------------------------------

EASYAUTH_CLAIM_TYPES = {
    "http://schemas.microsoft.com/identity/claims/objectidentifier": "oid",
    "http://schemas.microsoft.com/identity/claims/tenantid": "tid",
    "http://schemas.microsoft.com/identity/claims/scope": "scp",
    "http://schemas.microsoft.com/identity/claims/identityprovider": "idp",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "upn",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": "unique_name",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "sub",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": "email",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups": "groups",
    "http://schemas.microsoft.com/ws/2008/06/identity/claims/role": "roles",
}
"""Long claim types of App Service's default claims mapping, by the short JWT name they stand for."""
_MULTI_VALUED = {"groups", "roles"}


class EasyAuthReader:
    """Reads the principal App Service Authentication put in ``X-MS-CLIENT-PRINCIPAL``; an ``Authenticator``.

    Only ``X-MS-CLIENT-PRINCIPAL`` (base64 JSON ``{"auth_typ", "claims": [{"typ", "val"}], ...}``) is read,
    and ``X-MS-CLIENT-PRINCIPAL-ID`` when present must agree with it. Its tenant must be allowed."""

    HEADER = "X-MS-CLIENT-PRINCIPAL"

    def __init__(self, *, tenants: Collection[str]) -> None:
        self.tenants = frozenset(t.strip().lower() for t in tenants if t.strip())
        if not self.tenants:
            raise ValueError("at least one tenant id is required (REGCTL_AUTH_TENANTS)")

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        encoded = header(headers, self.HEADER)
        if encoded is None or not encoded.strip():
            raise _missing(self.HEADER)
        principal = self.read(encoded)
        claimed_id = header(headers, "X-MS-CLIENT-PRINCIPAL-ID")
        if claimed_id is not None and claimed_id.strip().lower() != principal.id.lower():
            raise _refuse("X-MS-CLIENT-PRINCIPAL-ID does not match X-MS-CLIENT-PRINCIPAL")
        return principal

    def read(self, encoded: str) -> Principal:
        """The principal of one ``X-MS-CLIENT-PRINCIPAL`` value; raises ``Unauthenticated``."""
        if len(encoded) > MAX_PRINCIPAL_HEADER_CHARS:
            raise _refuse(f"{self.HEADER} is longer than {MAX_PRINCIPAL_HEADER_CHARS} characters")
        text = encoded.strip()
        try:
            document = json.loads(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
        except (binascii.Error, ValueError):
            raise _refuse(f"{self.HEADER} is not base64-encoded JSON") from None
        if not isinstance(document, dict) or not isinstance(document.get("claims"), list):
            raise _refuse(f"{self.HEADER} has no claims")
        if document.get("auth_typ", "aad") != "aad":
            raise _refuse(f"{self.HEADER} is not from Microsoft Entra ID")
        claims: dict[str, Any] = {}
        for entry in document["claims"]:
            typ, value = (entry.get("typ"), entry.get("val")) if isinstance(entry, dict) else (None, None)
            if not isinstance(typ, str) or not isinstance(value, str):
                continue
            name = EASYAUTH_CLAIM_TYPES.get(typ, typ)
            if name in _MULTI_VALUED:
                claims.setdefault(name, []).append(value)
            else:
                claims.setdefault(name, value)
        tenant = claims.get("tid")
        if not isinstance(tenant, str) or tenant.lower() not in self.tenants:
            raise _refuse("the caller's tenant is not allowed")
        return principal_from_claims(claims)


def authenticator_from_settings(settings: Settings) -> Authenticator:
    """The ``Authenticator`` that ``REGCTL_AUTH_MODE`` selects, configured from the settings."""
    if settings.auth_mode == "easyauth":
        return EasyAuthReader(tenants=settings.auth_tenant_list)
    return JwtValidator(
        audiences=settings.auth_audience_list,
        tenants=settings.auth_tenant_list,
        issuer_templates=settings.auth_issuer_list,
        jwks_uri=settings.auth_jwks_uri,
        ca_bundle=settings.auth_ca_bundle,
    )
