"""Tokens of the Entra stand-in: claims shape, signature against the JWKS, kid, expiry, the key file."""

from __future__ import annotations

import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from sandbox.entra import config, keys
from sandbox.entra.offline import Minter, NoSandbox, find_identity, principal_for
from sandbox.entra.tokens import Principal, PrincipalType, TokenIssuer, issuer_url

BASE = "https://127.0.0.1:8444"
ISSUER = issuer_url(BASE, config.TENANT_ID)
AUDIENCE = config.DEFAULT_AUDIENCE


@pytest.fixture(scope="module")
def signing_key() -> keys.SigningKey:
    return keys.generate()


@pytest.fixture(scope="module")
def issuer(signing_key: keys.SigningKey) -> TokenIssuer:
    return TokenIssuer(signing_key, ISSUER, config.TENANT_ID)


def _verify(token: str, signing_key: keys.SigningKey, **options: Any) -> dict[str, Any]:
    """Validate as the reference's recipe does (access-webhooks.md 5.3), with the key taken from the JWKS."""
    jwks = jwt.PyJWKSet.from_dict(signing_key.jwks(ISSUER))
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=[AUDIENCE],
        issuer=[ISSUER],
        options={"require": ["exp", "iat", "aud", "iss", "tid"]},
        **options,
    )
    return claims


def test_iss_is_the_tenants_v2_issuer() -> None:
    assert f"https://127.0.0.1:8444/{config.TENANT_ID}/v2.0" == ISSUER


def test_a_service_principal_token_has_entras_app_claims(issuer: TokenIssuer, signing_key: keys.SigningKey) -> None:
    sp = Principal(config.CLIENT_PRINCIPAL_ID, config.CLIENT_NAME, PrincipalType.SERVICE_PRINCIPAL)
    now = int(time.time())

    token = issuer.access_token(sp, audience=AUDIENCE, client_id=config.CLIENT_ID, now=now)

    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": signing_key.kid}
    claims = _verify(token, signing_key)
    assert claims["oid"] == claims["sub"] == config.CLIENT_PRINCIPAL_ID
    assert claims["azp"] == config.CLIENT_ID  # the application, not its service principal
    assert claims["azpacr"] == "1"
    assert claims["idtyp"] == "app"
    assert claims["tid"] == config.TENANT_ID
    assert claims["ver"] == "2.0"
    assert claims["name"] == config.CLIENT_NAME
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (now, now, now + 3600)
    assert "preferred_username" not in claims and "scp" not in claims


def test_a_user_token_has_a_pairwise_sub_a_username_and_delegated_scopes(
    issuer: TokenIssuer, signing_key: keys.SigningKey
) -> None:
    user = Principal(config.OWNER_PRINCIPAL_ID, config.OWNER_NAME, PrincipalType.USER, config.OWNER_USERNAME)

    token = issuer.access_token(
        user, audience=AUDIENCE, client_id=config.PUBLIC_CLIENT_ID, public_client=True, scopes=["user_impersonation"]
    )
    other_client = issuer.access_token(user, audience=AUDIENCE, client_id=config.CLIENT_ID)

    claims = _verify(token, signing_key)
    assert claims["oid"] == config.OWNER_PRINCIPAL_ID
    assert claims["sub"] != claims["oid"]
    assert _verify(other_client, signing_key)["sub"] != claims["sub"]  # pairwise: one per client
    assert claims["preferred_username"] == config.OWNER_USERNAME
    assert claims["idtyp"] == "user"
    assert claims["azpacr"] == "0"
    assert claims["scp"] == "user_impersonation"


def test_roles_and_groups_are_carried_when_given(issuer: TokenIssuer, signing_key: keys.SigningKey) -> None:
    group = "11111111-2222-4333-8444-555555555555"
    token = issuer.access_token(
        Principal(config.USER_PRINCIPAL_ID, config.USER_NAME),
        audience=AUDIENCE,
        client_id=config.PUBLIC_CLIENT_ID,
        roles=["Registry.Admin"],
        groups=[group],
    )

    claims = _verify(token, signing_key)
    assert claims["roles"] == ["Registry.Admin"]
    assert claims["groups"] == [group]


def test_the_jwks_publishes_the_key_with_kid_x5t_and_certificate(signing_key: keys.SigningKey) -> None:
    jwk = signing_key.jwks(ISSUER)["keys"][0]

    assert jwk["kty"] == "RSA" and jwk["use"] == "sig" and jwk["e"] == "AQAB"
    assert jwk["kid"] == jwk["x5t"] == signing_key.kid
    assert jwk["issuer"] == ISSUER
    assert len(jwk["x5c"]) == 1


def test_a_token_signed_by_another_key_does_not_verify(issuer: TokenIssuer) -> None:
    stranger = TokenIssuer(keys.generate(), ISSUER, config.TENANT_ID)
    token = stranger.access_token(Principal(config.USER_PRINCIPAL_ID, "x"), audience=AUDIENCE, client_id="c")
    forged = jwt.encode(
        jwt.decode(token, options={"verify_signature": False}),
        stranger.signing_key.private_key,
        algorithm="RS256",
        headers={"kid": issuer.signing_key.kid},  # claims the stand-in's kid
    )

    with pytest.raises(jwt.InvalidSignatureError):
        _verify(forged, issuer.signing_key)


def test_tokens_expire_after_an_hour(issuer: TokenIssuer, signing_key: keys.SigningKey) -> None:
    issued = int(time.time()) - 3600 - 120
    token = issuer.access_token(Principal(config.USER_PRINCIPAL_ID, "x"), audience=AUDIENCE, client_id="c", now=issued)

    with pytest.raises(jwt.ExpiredSignatureError):
        _verify(token, signing_key, leeway=60)


def test_the_key_file_is_private_and_loads_back_with_the_same_kid(tmp_path: Path, signing_key: keys.SigningKey) -> None:
    path = config.signing_key_path(tmp_path)

    keys.save(signing_key, path)
    loaded = keys.load(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert loaded.kid == signing_key.kid
    assert loaded.jwks(ISSUER) == signing_key.jwks(ISSUER)


def _identity(tmp_path: Path, signing_key: keys.SigningKey) -> dict[str, Any]:
    path = config.signing_key_path(tmp_path)
    keys.save(signing_key, path)
    return {
        "issuer": ISSUER,
        "tenant_id": config.TENANT_ID,
        "audience": AUDIENCE,
        "owner_principal_id": config.OWNER_PRINCIPAL_ID,
        "public_client_id": config.PUBLIC_CLIENT_ID,
        "signing_key": str(path),
    }


def test_the_minter_signs_owner_and_other_tokens_from_the_key_file(
    tmp_path: Path, signing_key: keys.SigningKey
) -> None:
    minter = Minter(_identity(tmp_path, signing_key))

    owner = _verify(minter.owner_token(), signing_key)
    sp = _verify(minter.token(principal_for(config.CLIENT_PRINCIPAL_ID)), signing_key)
    group = _verify(
        minter.token(principal_for("AAAAAAAA-0000-4000-8000-000000000001", type=PrincipalType.GROUP)), signing_key
    )

    assert owner["oid"] == config.OWNER_PRINCIPAL_ID
    assert owner["name"] == config.OWNER_NAME and owner["preferred_username"] == config.OWNER_USERNAME
    assert owner["azp"] == config.PUBLIC_CLIENT_ID and owner["scp"] == "user_impersonation"
    assert sp["idtyp"] == "app" and sp["azp"] == config.CLIENT_ID  # a known service principal
    assert group["oid"] == "aaaaaaaa-0000-4000-8000-000000000001" and group["idtyp"] == "group"


def test_no_running_sandbox_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(NoSandbox, match="no sandbox is running"):
        find_identity(tmp_path)
    (tmp_path / "entra.json").write_text('{"pid": 999999999}', encoding="utf-8")  # a stand-in that is gone
    with pytest.raises(NoSandbox):
        find_identity(tmp_path)
