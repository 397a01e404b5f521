"""Entra ID bearer tokens and App Service Authentication headers (shared/adapters/identity.py).

Keys are made here with ``cryptography``; the JWKS is served by a small ``http.server`` on 127.0.0.1 (and
over TLS with a ``trustme`` CA), counting its requests. Every hostile token of the brief is refused with
``Unauthenticated``: oversized, ``alg: none``, HS256 signed with the public key, garbage, wrong audience,
issuer or tenant, expired, not yet valid, unknown ``kid``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.adapters.identity import (
    AUTHENTICATION_REQUIRED,
    INVALID_TOKEN,
    EasyAuthReader,
    JwtValidator,
    authenticator_from_settings,
    principal_from_claims,
)
from shared.adapters.jwks import JwksCache, JwksUnavailable, check_jwks_uri, requests_jwks_fetcher
from shared.domain.access import Principal
from shared.domain.errors import TransientError, Unauthenticated
from shared.settings import Settings

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
AUDIENCE = "api://regctl"
CLIENT_ID = "3cf7fccc-569a-55ac-a613-77fa67e9f71d"
USER_OID = "ba56ef9f-36f0-56ae-b688-28bcfb93a21e"
APP_OID = "a8086797-4dc9-5b5c-a1fa-a86e002390ea"
V2 = "https://login.microsoftonline.com/{tenant}/v2.0"
V1 = "https://sts.windows.net/{tenant}/"


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


KEY_A, KEY_B, ATTACKER = _rsa(), _rsa(), _rsa()


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    entry = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**entry, "kid": kid, "use": "sig", "x5t": kid}


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "aud": AUDIENCE,
        "iss": V2.format(tenant=TENANT),
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "tid": TENANT,
        "oid": USER_OID,
        "sub": "pairwise-sub",
        "azp": CLIENT_ID,
        "idtyp": "user",
        "preferred_username": "owner@contoso.com",
        "name": "Sandbox Owner",
        "scp": "user_impersonation",
        "ver": "2.0",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def token(key: rsa.RSAPrivateKey = KEY_A, kid: str | None = "key-a", **overrides: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**overrides), key, algorithm="RS256", headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Jwks:
    """A JWKS endpoint on 127.0.0.1 whose document and status tests change; counts its requests."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.document: dict[str, Any] = {"keys": [jwk(KEY_A, "key-a")]}
        self.status = 200
        self.requests = 0
        jwks = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                jwks.requests += 1
                body = json.dumps(jwks.document).encode()
                self.send_response(jwks.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.uri = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/discovery/v2.0/keys"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks() -> Iterator[Jwks]:
    server = Jwks()
    yield server
    server.close()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def validator(jwks: Jwks, clock: Clock | None = None, **kwargs: Any) -> JwtValidator:
    options: dict[str, Any] = {
        "audiences": [AUDIENCE, CLIENT_ID],
        "tenants": [TENANT],
        "issuer_templates": [V2, V1],
        "jwks_uri": jwks.uri,
        "refresh_cooldown": 30.0,
    }
    if clock is not None:
        options["clock"] = clock
    options.update(kwargs)
    return JwtValidator(**options)


def refused(call: Any, *args: Any) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        call(*args)
    assert caught.value.status == 401
    return caught.value


# --- the good path --------------------------------------------------------------------------------


def test_a_v2_user_token_names_the_user_by_object_id_and_username(jwks):
    principal = validator(jwks).validate(token(groups=["G1-ab", "g2"]))
    assert principal == Principal(
        id=USER_OID,
        name="owner@contoso.com",
        type="User",
        tenant_id=TENANT,
        groups=frozenset({"g1-ab", "g2"}),
    )


def test_a_v1_token_with_the_sts_issuer_and_upn_is_accepted(jwks):
    v1 = token(iss=V1.format(tenant=TENANT), preferred_username=None, idtyp=None, upn="bob@contoso.com", ver="1.0")
    principal = validator(jwks).validate(v1)
    assert (principal.name, principal.type) == ("bob@contoso.com", "User")


def test_either_configured_audience_is_accepted(jwks):
    assert validator(jwks).validate(token(aud=CLIENT_ID)).id == USER_OID


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        ({"idtyp": "app", "oid": APP_OID, "sub": APP_OID, "preferred_username": None, "scp": None}, CLIENT_ID),
        (  # a v1 application token: appid, no idtyp, no scp, no user name
            {
                "iss": V1.format(tenant=TENANT),
                "idtyp": None,
                "azp": None,
                "appid": CLIENT_ID,
                "oid": APP_OID,
                "preferred_username": None,
                "name": None,
                "scp": None,
                "roles": ["Registry.Admin"],
            },
            CLIENT_ID,
        ),
    ],
)
def test_application_tokens_are_service_principals_named_by_application_id(jwks, overrides, name):
    principal = validator(jwks).validate(token(**overrides))
    assert (principal.id, principal.type, principal.name) == (APP_OID, "ServicePrincipal", name)


def test_a_header_mapping_is_read_case_insensitively(jwks):
    principal = validator(jwks).authenticate({"authorization": "bearer " + token()})
    assert principal.id == USER_OID


# --- hostile tokens -------------------------------------------------------------------------------


def _hs256_with_public_key() -> str:
    pem = KEY_A.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "key-a"}).encode())
    body = b64url(json.dumps(claims()).encode())
    signature = hmac.new(pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"


def _alg_none() -> str:
    head = b64url(json.dumps({"alg": "none", "typ": "JWT", "kid": "key-a"}).encode())
    return f"{head}.{b64url(json.dumps(claims()).encode())}."


def _resigned(alg_header: str) -> str:
    """A valid RS256 token whose header claims another algorithm."""
    _head, body, signature = token().split(".")
    forged = b64url(json.dumps({"alg": alg_header, "typ": "JWT", "kid": "key-a"}).encode())
    return f"{forged}.{body}.{signature}"


def _tampered() -> str:
    head, _, signature = token().split(".")
    return f"{head}.{b64url(json.dumps(claims(oid=APP_OID)).encode())}.{signature}"


HOSTILE = {
    "oversized": (lambda: token(padding="x" * 17000), "longer than 16384"),
    "alg none": (_alg_none, "signed with RS256"),
    "HS256 signed with the public key": (_hs256_with_public_key, "signed with RS256"),
    "header says RS512": (lambda: _resigned("RS512"), "signed with RS256"),
    "garbage": (lambda: "not a token", "not a well-formed JWT"),
    "three garbage parts": (lambda: "a.b.c", "not a well-formed JWT"),
    "empty": (lambda: "", "not a well-formed JWT"),
    "wrong audience": (lambda: token(aud="api://someone-else"), "another audience"),
    "no audience": (lambda: token(aud=None), "no 'aud' claim"),
    "issuer of another tenant": (lambda: token(iss=V2.format(tenant=OTHER_TENANT)), "issuer is not accepted"),
    "unknown issuer": (lambda: token(iss=f"https://evil.example/{TENANT}/v2.0"), "issuer is not accepted"),
    "tenant not allowed (issuer matches it)": (
        lambda: token(tid=OTHER_TENANT, iss=V2.format(tenant=OTHER_TENANT)),
        "issuer is not accepted",
    ),
    "tenant differs from the issuer's": (lambda: token(tid=OTHER_TENANT), "tenant is not allowed"),
    "no tid": (lambda: token(tid=None), "no 'tid' claim"),
    "expired beyond the leeway": (lambda: token(exp=int(time.time()) - 120), "has expired"),
    "not valid yet (nbf)": (lambda: token(nbf=int(time.time()) + 600), "not valid yet"),
    "issued in the future (iat)": (lambda: token(iat=int(time.time()) + 600), "not valid yet"),
    "no exp": (lambda: token(exp=None), "no 'exp' claim"),
    "no iat": (lambda: token(iat=None), "no 'iat' claim"),
    "unknown kid": (lambda: token(kid="key-zzz"), "unknown key"),
    "no kid": (lambda: token(kid=None), "no signing key"),
    "signed by another key under a known kid": (lambda: token(key=ATTACKER), "signature does not verify"),
    "no oid nor sub": (lambda: token(oid=None, sub=None), "no valid principal"),
    "tampered payload": (_tampered, "signature does not verify"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_tokens_are_refused(jwks, case):
    make, reason = HOSTILE[case]
    error = refused(validator(jwks).validate, make())
    assert error.code == INVALID_TOKEN
    assert reason in error.message
    assert "eyJ" not in error.message  # the token is never echoed


def test_the_issuer_must_be_the_one_of_the_tokens_own_tenant(jwks):
    both = validator(jwks, tenants=[TENANT, OTHER_TENANT])
    assert both.validate(token(tid=OTHER_TENANT, iss=V1.format(tenant=OTHER_TENANT))).tenant_id == OTHER_TENANT
    error = refused(both.validate, token(tid=TENANT, iss=V2.format(tenant=OTHER_TENANT)))
    assert "does not match its tenant" in error.message


def test_an_expired_token_within_the_leeway_is_accepted(jwks):
    assert validator(jwks, leeway=60).validate(token(exp=int(time.time()) - 30)).id == USER_OID
    refused(validator(jwks, leeway=0).validate, token(exp=int(time.time()) - 30))


def test_oversized_tokens_are_refused_before_anything_is_fetched(jwks):
    refused(validator(jwks).validate, "x" * (16 * 1024 + 1))
    assert jwks.requests == 0


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_arbitrary_text_is_refused_and_never_raises_anything_else(text):
    fixed = JwtValidator(
        audiences=[AUDIENCE],
        tenants=[TENANT],
        issuer_templates=[V2],
        jwks_uri="https://unused.example/keys",
        fetch=lambda: {"keys": [jwk(KEY_A, "key-a")]},
    )
    with pytest.raises(Unauthenticated):
        fixed.validate(text)
    with pytest.raises(Unauthenticated):
        fixed.authenticate({"Authorization": "Bearer " + text})


# --- headers --------------------------------------------------------------------------------------


def _forged_easyauth(oid: str = APP_OID, tenant: str = TENANT) -> str:
    document = {
        "auth_typ": "aad",
        "claims": [
            {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": oid},
            {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": tenant},
            {"typ": "preferred_username", "val": "mallory@contoso.com"},
        ],
    }
    return base64.b64encode(json.dumps(document).encode()).decode()


def test_jwt_mode_ignores_a_forged_client_principal_header(jwks):
    jwt_mode = validator(jwks)
    forged = {"X-MS-CLIENT-PRINCIPAL": _forged_easyauth(), "X-MS-CLIENT-PRINCIPAL-ID": APP_OID}
    assert refused(jwt_mode.authenticate, forged).code == AUTHENTICATION_REQUIRED
    principal = jwt_mode.authenticate({**forged, "Authorization": "Bearer " + token()})
    assert principal.id == USER_OID


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, AUTHENTICATION_REQUIRED),
        ({"Authorization": "   "}, AUTHENTICATION_REQUIRED),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, INVALID_TOKEN),
        ({"Authorization": "Bearer"}, INVALID_TOKEN),
        ({"Authorization": "Bearer    "}, INVALID_TOKEN),
    ],
)
def test_a_missing_or_malformed_authorization_header_is_refused(jwks, headers, code):
    error = refused(validator(jwks).authenticate, headers)
    assert error.code == code
    if code == AUTHENTICATION_REQUIRED:
        assert error.message == "Authentication failed. The 'Authorization' header is missing."


# --- signing keys: rotation, cooldown, outages ----------------------------------------------------


def test_keys_are_fetched_once_and_cached(jwks):
    checker = validator(jwks)
    for _ in range(5):
        checker.validate(token())
    assert jwks.requests == 1


def test_a_rotated_key_is_fetched_once_after_the_cooldown(jwks, clock):
    checker = validator(jwks, clock)
    checker.validate(token())
    jwks.document = {"keys": [jwk(KEY_A, "key-a"), jwk(KEY_B, "key-b")]}
    rotated = token(key=KEY_B, kid="key-b")
    refused(checker.validate, rotated)  # within the cooldown of the first fetch: no request
    assert jwks.requests == 1
    clock.now += 30
    assert checker.validate(rotated).id == USER_OID
    assert jwks.requests == 2
    checker.validate(rotated)
    checker.validate(token())
    assert jwks.requests == 2


def test_an_unknown_kid_triggers_exactly_one_refresh(jwks, clock):
    checker = validator(jwks, clock)
    checker.validate(token())
    clock.now += 60
    refused(checker.validate, token(kid="key-zzz"))
    assert jwks.requests == 2


def test_a_flood_of_unknown_kids_is_bounded_by_the_cooldown(jwks, clock):
    checker = validator(jwks, clock, refresh_cooldown=30.0)
    checker.validate(token())
    for i in range(300):
        clock.now += 1  # 300 s of garbage, one token a second
        refused(checker.validate, token(kid=f"garbage-{i}"))
    assert jwks.requests <= 1 + 300 // 30


def test_concurrent_unknown_kids_share_one_refresh(jwks, clock):
    checker = validator(jwks, clock)
    checker.validate(token())
    clock.now += 60
    tokens = [token(kid=f"garbage-{i}") for i in range(64)]

    def attempt(t: str) -> bool:
        try:
            checker.validate(t)
        except Unauthenticated:
            return False
        return True

    with ThreadPoolExecutor(max_workers=16) as pool:
        assert not any(pool.map(attempt, tokens))
        assert all(pool.map(lambda _: attempt(token()), range(64)))
    assert jwks.requests == 2


def test_an_unreachable_jwks_before_any_key_is_a_transient_error_retried_after_the_cooldown(jwks, clock):
    jwks.status = 503
    checker = validator(jwks, clock)
    with pytest.raises(JwksUnavailable) as caught:
        checker.validate(token())
    assert isinstance(caught.value, TransientError)
    with pytest.raises(JwksUnavailable):
        checker.validate(token())
    assert jwks.requests == 1  # the second attempt did not queue on the endpoint
    jwks.status = 200
    clock.now += 30
    assert checker.validate(token()).id == USER_OID


def test_keys_in_hand_are_kept_when_a_refresh_fails(jwks, clock):
    checker = validator(jwks, clock, jwks_lifespan=100.0)
    checker.validate(token(jti="1"))
    jwks.status = 500
    clock.now += 101
    assert checker.validate(token(jti="2")).id == USER_OID
    assert jwks.requests == 2
    checker.validate(token(jti="3"))
    assert jwks.requests == 2  # the failed refresh waits for the cooldown before the next attempt
    jwks.status = 200
    clock.now += 31
    checker.validate(token(jti="4"))
    assert jwks.requests == 3


def test_a_token_validated_once_is_answered_from_memory_until_it_expires(jwks, clock, monkeypatch):
    checker = validator(jwks, clock)
    same = token()
    first = checker.validate(same)
    calls: list[str] = []
    real = jwt.decode

    def counting_decode(*args: Any, **kwargs: Any) -> Any:
        calls.append("decode")
        return real(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    assert checker.validate(same) == first and calls == []  # no signature check the second time
    expired = token(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200, nbf=int(time.time()) - 7200)
    with pytest.raises(Unauthenticated):
        checker.validate(expired)
    with pytest.raises(Unauthenticated):
        checker.validate(expired)  # a refused token is never kept
    assert calls == ["decode", "decode"]


@pytest.mark.parametrize(
    "document",
    [
        {"keys": []},
        {"keys": [{"kty": "EC", "kid": "x", "crv": "P-256"}]},
        {"keys": [{**jwk(KEY_A, "key-a"), "use": "enc"}]},
        {"keys": [{"kty": "RSA", "kid": "x", "n": "!!", "e": "AQAB"}]},
        {"nothing": True},
    ],
)
def test_a_jwks_without_usable_rsa_signing_keys_is_unavailable(document):
    cache = JwksCache(lambda: document)
    with pytest.raises(JwksUnavailable):
        cache.key("key-a")


def test_the_cache_expires_after_its_lifespan(jwks, clock):
    cache = JwksCache(requests_jwks_fetcher(jwks.uri), lifespan=100.0, clock=clock)
    assert cache.key("key-a") is not None
    clock.now += 99
    cache.key("key-a")
    assert jwks.requests == 1
    clock.now += 2
    cache.key("key-a")
    assert jwks.requests == 2


# --- transport --------------------------------------------------------------------------------------


@pytest.fixture
def tls_jwks() -> Iterator[tuple[Jwks, str]]:
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = Jwks(tls=context)
    with ca.cert_pem.tempfile() as bundle:
        yield server, bundle
    server.close()


def test_the_jwks_is_fetched_over_tls_with_the_given_ca_bundle_whatever_the_environment(tls_jwks, monkeypatch):
    server, bundle = tls_jwks
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/nonexistent/bundle.pem")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert validator(server, ca_bundle=bundle).validate(token()).id == USER_OID


def test_a_jwks_whose_certificate_does_not_chain_to_the_system_store_is_unavailable(tls_jwks):
    server, _ = tls_jwks
    with pytest.raises(JwksUnavailable):
        requests_jwks_fetcher(server.uri)()


@pytest.mark.parametrize(
    ("uri", "ok"),
    [
        ("https://login.microsoftonline.com/common/discovery/v2.0/keys", True),
        ("http://127.0.0.1:8444/keys", True),
        ("http://localhost/keys", True),
        ("http://login.microsoftonline.com/common/discovery/v2.0/keys", False),
        ("file:///etc/passwd", False),
        ("https:///keys", False),
    ],
)
def test_the_jwks_uri_is_https_except_on_loopback(uri, ok):
    if ok:
        check_jwks_uri(uri)
    else:
        with pytest.raises(ValueError, match="https"):
            check_jwks_uri(uri)


@pytest.mark.parametrize(
    "overrides",
    [
        {"tenants": []},
        {"tenants": [" "]},
        {"audiences": []},
        {"issuer_templates": []},
        {"issuer_templates": [V2, "https://fixed/"]},
    ],
)
def test_a_validator_refuses_an_incomplete_configuration(jwks, overrides):
    with pytest.raises(ValueError):
        validator(jwks, **overrides)


# --- App Service Authentication -------------------------------------------------------------------


def easyauth(claim_list: list[Any], auth_typ: str = "aad", padding: bool = True) -> str:
    encoded = base64.b64encode(json.dumps({"auth_typ": auth_typ, "claims": claim_list}).encode()).decode()
    return encoded if padding else encoded.rstrip("=")


LONG_FORM = [
    {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": USER_OID},
    {"typ": "http://schemas.microsoft.com/identity/claims/tenantid", "val": TENANT},
    {"typ": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn", "val": "owner@contoso.com"},
    {"typ": "http://schemas.microsoft.com/identity/claims/scope", "val": "user_impersonation"},
    {"typ": "groups", "val": "g1"},
    {"typ": "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups", "val": "g2"},
    {"typ": "aud", "val": AUDIENCE},
]
READER = EasyAuthReader(tenants=[TENANT.upper()])


def test_easyauth_maps_long_claim_types_to_a_principal():
    principal = READER.authenticate(
        {"x-ms-client-principal": easyauth(LONG_FORM), "X-MS-CLIENT-PRINCIPAL-ID": USER_OID}
    )
    assert principal == Principal(USER_OID, "owner@contoso.com", "User", TENANT, frozenset({"g1", "g2"}))


def test_easyauth_reads_short_claim_types_and_unpadded_base64():
    app = [{"typ": "oid", "val": APP_OID}, {"typ": "tid", "val": TENANT}, {"typ": "azp", "val": CLIENT_ID}]
    principal = READER.authenticate({"X-MS-CLIENT-PRINCIPAL": easyauth(app, padding=False)})
    assert (principal.id, principal.type, principal.name) == (APP_OID, "ServicePrincipal", CLIENT_ID)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, AUTHENTICATION_REQUIRED),
        ({"Authorization": "Bearer " + "x.y.z"}, AUTHENTICATION_REQUIRED),  # a bearer token is not read
        ({"X-MS-CLIENT-PRINCIPAL": "%%%not base64%%%"}, INVALID_TOKEN),
        ({"X-MS-CLIENT-PRINCIPAL": base64.b64encode(b"not json").decode()}, INVALID_TOKEN),
        ({"X-MS-CLIENT-PRINCIPAL": base64.b64encode(b"[1, 2]").decode()}, INVALID_TOKEN),
        ({"X-MS-CLIENT-PRINCIPAL": base64.b64encode(b'{"auth_typ": "aad"}').decode()}, INVALID_TOKEN),
        ({"X-MS-CLIENT-PRINCIPAL": easyauth(LONG_FORM, auth_typ="github")}, INVALID_TOKEN),
        ({"X-MS-CLIENT-PRINCIPAL": easyauth(LONG_FORM[:1] + LONG_FORM[2:])}, INVALID_TOKEN),  # no tenant
        ({"X-MS-CLIENT-PRINCIPAL": _forged_easyauth(tenant=OTHER_TENANT)}, INVALID_TOKEN),
        ({"X-MS-CLIENT-PRINCIPAL": easyauth(LONG_FORM[1:])}, INVALID_TOKEN),  # no object id
        ({"X-MS-CLIENT-PRINCIPAL": easyauth(LONG_FORM), "X-MS-CLIENT-PRINCIPAL-ID": APP_OID}, INVALID_TOKEN),
        ({"X-MS-CLIENT-PRINCIPAL": "A" * 70000}, INVALID_TOKEN),
        ({"X-MS-CLIENT-PRINCIPAL": easyauth([{"typ": 1, "val": 2}, "x"])}, INVALID_TOKEN),
    ],
)
def test_easyauth_refuses_missing_or_invalid_principals(headers, code):
    assert refused(READER.authenticate, headers).code == code


def test_easyauth_needs_a_tenant_allow_list():
    with pytest.raises(ValueError):
        EasyAuthReader(tenants=[])


# --- claims and settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"oid": USER_OID, "upn": "u@c", "name": "U", "scp": "x"}, ("User", "u@c")),
        ({"oid": USER_OID, "name": "Only Name", "scp": "x"}, ("User", "Only Name")),
        ({"oid": USER_OID, "unique_name": "live.com#u@c", "appid": CLIENT_ID}, ("User", "live.com#u@c")),
        ({"oid": USER_OID, "idtyp": "user", "azp": CLIENT_ID}, ("User", USER_OID)),
        ({"oid": APP_OID, "idtyp": "app", "azp": CLIENT_ID, "name": "automation"}, ("ServicePrincipal", CLIENT_ID)),
        ({"oid": APP_OID, "azp": CLIENT_ID}, ("ServicePrincipal", CLIENT_ID)),
        ({"oid": APP_OID, "idtyp": "group", "name": "Team"}, ("Group", "Team")),
        ({"sub": "only-sub"}, ("User", "only-sub")),
    ],
)
def test_principal_type_and_name_from_claims(given, expected):
    principal = principal_from_claims(given)
    assert (principal.type, principal.name) == expected


@pytest.mark.parametrize("given", [{}, {"oid": ""}, {"oid": "has spaces"}, {"oid": "x" * 129}, {"oid": 5}])
def test_claims_without_a_usable_object_id_are_refused(given):
    refused(principal_from_claims, given)


def _settings(**values: str) -> Settings:
    return Settings.model_validate(
        {
            "ServiceBusConnection__fullyQualifiedNamespace": "x",
            "STATE_TABLE_ENDPOINT": "y",
            "REGCTL_SUBSCRIPTION_ID": "s",
            "REGCTL_AUTH_TENANTS": TENANT,
            **values,
        }
    )


def test_the_authenticator_follows_the_auth_mode_setting():
    jwt_mode = authenticator_from_settings(_settings())
    assert isinstance(jwt_mode, JwtValidator)
    assert jwt_mode.audiences == ["api://regctl"]
    assert jwt_mode.issuer_templates == [V2, V1]
    assert isinstance(authenticator_from_settings(_settings(REGCTL_AUTH_MODE="easyauth")), EasyAuthReader)
    with pytest.raises(ValueError, match="REGCTL_AUTH_TENANTS"):
        authenticator_from_settings(_settings(REGCTL_AUTH_TENANTS=""))
