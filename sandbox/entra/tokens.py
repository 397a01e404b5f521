"""Access and ID tokens shaped like Entra's v2 tokens, signed RS256 with the stand-in's key.

Claims of an access token (``ver: "2.0"``): ``iss`` ``{base}/{tenant}/v2.0``, ``aud`` the resource asked
for, ``tid``, ``oid``, ``sub``, ``azp`` (the client that asked) with ``azpacr`` (``1`` secret, ``0``
public client), ``name``, ``iat``/``nbf``/``exp`` (one hour), ``uti``; users also get
``preferred_username`` and ``scp`` (delegated scopes), service principals ``idtyp: "app"``, and
``roles``/``groups`` when given. ``sub`` is ``oid`` for applications and a pairwise value per client for
users, as in Entra: callers are identified by ``oid``, never ``sub``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jwt

from sandbox.entra.config import TOKEN_LIFETIME_SECONDS
from sandbox.entra.keys import SigningKey, b64url


class PrincipalType(StrEnum):
    """The ``principalType`` values of Azure role assignments."""

    USER = "User"
    GROUP = "Group"
    SERVICE_PRINCIPAL = "ServicePrincipal"


#: ``idtyp``: Entra sets ``app`` for application tokens and ``user`` for users (an optional claim there);
#: Entra never issues a token to a group, ``group`` is the sandbox's own (docs/sandbox.md).
_IDTYP = {PrincipalType.USER: "user", PrincipalType.GROUP: "group", PrincipalType.SERVICE_PRINCIPAL: "app"}


@dataclass(frozen=True)
class Principal:
    object_id: str
    display_name: str
    type: PrincipalType = PrincipalType.USER
    #: ``preferred_username`` of a user (a UPN); ``None`` for the others.
    username: str | None = None


def issuer_url(base_url: str, tenant_id: str) -> str:
    return f"{base_url.rstrip('/')}/{tenant_id}/v2.0"


def _pairwise_sub(object_id: str, client_id: str) -> str:
    return b64url(hashlib.sha256(f"{object_id}:{client_id}".encode()).digest())


@dataclass(frozen=True)
class TokenIssuer:
    signing_key: SigningKey
    issuer: str
    tenant_id: str

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self.signing_key.private_key, algorithm="RS256", headers={"kid": self.signing_key.kid}
        )

    def access_token_claims(
        self,
        principal: Principal,
        *,
        audience: str,
        client_id: str,
        public_client: bool = False,
        scopes: Sequence[str] = (),
        roles: Sequence[str] = (),
        groups: Sequence[str] = (),
        now: int | None = None,
        lifetime: int = TOKEN_LIFETIME_SECONDS,
    ) -> dict[str, Any]:
        issued = int(time.time()) if now is None else now
        app = principal.type is PrincipalType.SERVICE_PRINCIPAL
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": self.issuer,
            "iat": issued,
            "nbf": issued,
            "exp": issued + lifetime,
            "azp": client_id,
            "azpacr": "0" if public_client else "1",
            "idtyp": _IDTYP[principal.type],
            "name": principal.display_name,
            "oid": principal.object_id,
            "sub": principal.object_id if app else _pairwise_sub(principal.object_id, client_id),
            "tid": self.tenant_id,
            "uti": b64url(secrets.token_bytes(16)),
            "ver": "2.0",
        }
        if principal.username is not None and not app:
            claims["preferred_username"] = principal.username
        if scopes and not app:
            claims["scp"] = " ".join(scopes)
        if roles:
            claims["roles"] = list(roles)
        if groups:
            claims["groups"] = list(groups)
        return claims

    def access_token(self, principal: Principal, **kwargs: Any) -> str:
        return self.sign(self.access_token_claims(principal, **kwargs))

    def id_token(self, principal: Principal, *, client_id: str, nonce: str | None, now: int | None = None) -> str:
        """An ID token for the client that signed the user in (``aud`` is that client)."""
        issued = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "aud": client_id,
            "iss": self.issuer,
            "iat": issued,
            "nbf": issued,
            "exp": issued + TOKEN_LIFETIME_SECONDS,
            "name": principal.display_name,
            "oid": principal.object_id,
            "sub": _pairwise_sub(principal.object_id, client_id),
            "tid": self.tenant_id,
            "ver": "2.0",
        }
        if principal.username is not None:
            claims["preferred_username"] = principal.username
        if nonce:
            claims["nonce"] = nonce
        return self.sign(claims)
