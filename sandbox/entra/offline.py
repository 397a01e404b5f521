"""Minting tokens without a round trip: from the identity ``up`` wrote and the stand-in's signing key.

``python -m sandbox token`` and ``Sandbox.token()`` use this. The token is the one the stand-in would
issue: same issuer, key, ``kid`` and claims. A user's token looks as if the user had signed in through
the console (``azp`` the public client, ``scp: user_impersonation``); a service principal's as if it
had used client credentials (``azp`` its client id when it is the bootstrap client, else its object id).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sandbox.entra import config, keys
from sandbox.entra.oauth import DEFAULT_DELEGATED_SCOPE
from sandbox.entra.tokens import Principal, PrincipalType, TokenIssuer
from sandbox.processes import alive

SANDBOX_JSON = "sandbox.json"


class NoSandbox(Exception):
    """No running sandbox (or Entra stand-in) in the sandbox directory."""


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def find_identity(sandbox_dir: Path) -> dict[str, Any]:
    """``identity`` of a running ``sandbox up``, else ``entra.json`` of a stand-in running alone."""
    info = _read(sandbox_dir / SANDBOX_JSON)
    if info is not None and isinstance(info.get("identity"), dict) and alive(info.get("pids", {}).get("entra")):
        identity: dict[str, Any] = info["identity"]
        return identity
    alone = _read(sandbox_dir / config.ENTRA_JSON)
    if alone is not None and alive(alone.get("pid")):
        return alone
    raise NoSandbox(
        f"no sandbox is running from {sandbox_dir} (no live sandbox.json identity or entra.json): "
        "start one with `python -m sandbox up`, or set SANDBOX_DIR to its directory"
    )


def known_principal(principal_id: str) -> Principal | None:
    users = {
        config.OWNER_PRINCIPAL_ID: Principal(
            config.OWNER_PRINCIPAL_ID, config.OWNER_NAME, username=config.OWNER_USERNAME
        ),
        config.USER_PRINCIPAL_ID: Principal(config.USER_PRINCIPAL_ID, config.USER_NAME, username=config.USER_USERNAME),
        config.CLIENT_PRINCIPAL_ID: Principal(
            config.CLIENT_PRINCIPAL_ID, config.CLIENT_NAME, PrincipalType.SERVICE_PRINCIPAL
        ),
    }
    return users.get(principal_id.lower())


def principal_for(
    principal_id: str, *, name: str | None = None, type: PrincipalType | None = None, username: str | None = None
) -> Principal:
    known = known_principal(principal_id)
    kind = type or (known.type if known else PrincipalType.USER)
    if known is not None and known.type is kind:
        return Principal(known.object_id, name or known.display_name, kind, username or known.username)
    oid = principal_id.lower()
    if kind is not PrincipalType.USER:
        username = None
    elif username is None:
        username = f"{oid[:8]}@{config.TENANT_DOMAIN}"
    return Principal(oid, name or f"Sandbox {kind.value} {oid[:8]}", kind, username)


class Minter:
    """Signs tokens for the identity of one sandbox; loads the signing key once."""

    def __init__(self, identity: Mapping[str, Any]) -> None:
        self.identity = dict(identity)
        signing_key = keys.load(Path(identity["signing_key"]))
        self.issuer = TokenIssuer(signing_key, str(identity["issuer"]), str(identity["tenant_id"]))

    def token(
        self,
        principal: Principal,
        *,
        audience: str | None = None,
        roles: Sequence[str] = (),
        groups: Sequence[str] = (),
        lifetime: int = config.TOKEN_LIFETIME_SECONDS,
    ) -> str:
        app = principal.type is PrincipalType.SERVICE_PRINCIPAL
        if app:
            client_id = config.CLIENT_ID if principal.object_id == config.CLIENT_PRINCIPAL_ID else principal.object_id
        else:
            client_id = str(self.identity.get("public_client_id", config.PUBLIC_CLIENT_ID))
        return self.issuer.access_token(
            principal,
            audience=audience or str(self.identity["audience"]),
            client_id=client_id,
            public_client=not app,
            scopes=() if app else (DEFAULT_DELEGATED_SCOPE,),
            roles=roles,
            groups=groups,
            lifetime=lifetime,
        )

    def owner_token(self) -> str:
        return self.token(principal_for(str(self.identity["owner_principal_id"])))
