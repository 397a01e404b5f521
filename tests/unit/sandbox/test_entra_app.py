"""The Entra stand-in's endpoints, in-process (Starlette's TestClient): discovery, keys, grants, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from starlette.testclient import TestClient

from sandbox.entra import config, keys
from sandbox.entra.app import EntraStandIn
from sandbox.entra.directory import Directory

BASE = "https://127.0.0.1:8444"
TENANT = config.TENANT_ID
TOKEN = f"/{TENANT}/oauth2/v2.0/token"
AUTHORIZE = f"/{TENANT}/oauth2/v2.0/authorize"
REDIRECT = "http://127.0.0.1:7071/console/"


@pytest.fixture(scope="module")
def stand_in() -> EntraStandIn:
    return EntraStandIn(base_url=BASE, signing_key=keys.generate(), directory=Directory.bootstrap())


@pytest.fixture
def client(stand_in: EntraStandIn) -> Iterator[TestClient]:
    with TestClient(stand_in, base_url="https://127.0.0.1:8444") as test_client:
        yield test_client


@pytest.fixture
def secret(stand_in: EntraStandIn) -> str:
    value = stand_in.directory.clients[config.CLIENT_ID].secret
    assert value is not None
    return value


def _validate(stand_in: EntraStandIn, client: TestClient, token: str, audience: str = config.DEFAULT_AUDIENCE) -> Any:
    jwks = jwt.PyJWKSet.from_dict(client.get(f"/{TENANT}/discovery/v2.0/keys").json())
    key = next(k for k in jwks.keys if k.key_id == jwt.get_unverified_header(token)["kid"])
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=stand_in.endpoints.issuer)


def _assert_entra_error(response: Any, status: int, error: str, code: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert "\r\nTrace ID: " in body["error_description"] and "\r\nCorrelation ID: " in body["error_description"]
    assert set(body) == {
        "error",
        "error_description",
        "error_codes",
        "timestamp",
        "trace_id",
        "correlation_id",
        "error_uri",
    }
    return body


def test_discovery_names_the_tenants_endpoints(client: TestClient) -> None:
    document = client.get(f"/{TENANT}/v2.0/.well-known/openid-configuration").json()

    assert document["issuer"] == f"{BASE}/{TENANT}/v2.0"
    assert document["jwks_uri"] == f"{BASE}/{TENANT}/discovery/v2.0/keys"
    assert document["token_endpoint"] == f"{BASE}{TOKEN}"
    assert document["authorization_endpoint"] == f"{BASE}{AUTHORIZE}"
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]


def test_common_and_organizations_answer_with_the_tenantid_template(client: TestClient) -> None:
    for alias in ("common", "organizations"):
        document = client.get(f"/{alias}/v2.0/.well-known/openid-configuration").json()
        assert document["issuer"] == f"{BASE}/{{tenantid}}/v2.0"
        assert document["token_endpoint"] == f"{BASE}/{alias}/oauth2/v2.0/token"


def test_an_unknown_tenant_is_aadsts90002(client: TestClient) -> None:
    response = client.get("/contoso.example/v2.0/.well-known/openid-configuration")

    _assert_entra_error(response, 400, "invalid_tenant", 90002)


def test_client_credentials_give_an_app_token_for_the_audience(
    stand_in: EntraStandIn, client: TestClient, secret: str
) -> None:
    form = {
        "client_id": config.CLIENT_ID,
        "client_secret": secret,
        "scope": "api://regctl/.default",
        "grant_type": "client_credentials",
    }

    response = client.post(TOKEN, data=form)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert (body["token_type"], body["expires_in"], body["ext_expires_in"]) == ("Bearer", 3599, 3599)
    claims = _validate(stand_in, client, body["access_token"])
    assert claims["oid"] == config.CLIENT_PRINCIPAL_ID and claims["idtyp"] == "app"
    assert response.headers["cache-control"].startswith("no-store")


def test_client_secret_basic_is_accepted(stand_in: EntraStandIn, client: TestClient, secret: str) -> None:
    basic = base64.b64encode(f"{config.CLIENT_ID}:{secret}".encode()).decode()
    form = {"scope": "api://regctl/.default", "grant_type": "client_credentials"}

    response = client.post(TOKEN, data=form, headers={"Authorization": f"Basic {basic}"})

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("form", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_secret": ""}, 401, "invalid_client", 7000218),
        ({"client_id": "0b6f3e1e-0000-4000-8000-000000000000"}, 400, "unauthorized_client", 700016),
        ({"scope": "api://regctl/user_impersonation"}, 400, "invalid_scope", 1002012),
        ({"scope": "api://elsewhere/.default"}, 400, "invalid_resource", 500011),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"grant_type": ""}, 400, "invalid_request", 900144),
    ],
)
def test_token_errors_are_entras(
    client: TestClient, secret: str, form: dict[str, str], status: int, error: str, code: int
) -> None:
    base = {"client_id": config.CLIENT_ID, "client_secret": secret, "scope": "api://regctl/.default"}
    base["grant_type"] = "client_credentials"

    body = _assert_entra_error(client.post(TOKEN, data={**base, **form}), status, error, code)

    if code == 7000215:
        assert f"for a secret added to app '{config.CLIENT_ID}'" in body["error_description"]


def test_the_correlation_id_echoes_client_request_id(client: TestClient) -> None:
    response = client.post(TOKEN, data={"grant_type": "client_credentials"}, headers={"client-request-id": "abc-123"})

    assert response.json()["correlation_id"] == "abc-123"


def test_a_registered_client_gets_tokens_with_its_own_ids(stand_in: EntraStandIn, client: TestClient) -> None:
    created = client.post("/_sandbox/clients", json={"display_name": "copier"})
    assert created.status_code == 201
    registered = created.json()
    form = {
        "client_id": registered["client_id"],
        "client_secret": registered["client_secret"],
        "scope": "api://regctl/.default",
        "grant_type": "client_credentials",
    }

    claims = _validate(stand_in, client, client.post(TOKEN, data=form).json()["access_token"])

    assert claims["oid"] == registered["principal_id"] and claims["azp"] == registered["client_id"]
    assert claims["name"] == "copier"
    listed = client.get("/_sandbox/clients").json()["value"]
    assert registered["client_id"] in {c["client_id"] for c in listed}
    assert all("client_secret" not in c for c in listed)


def test_registering_a_bad_client_is_400(client: TestClient) -> None:
    assert client.post("/_sandbox/clients", json={"client_id": "not-a-guid"}).status_code == 400
    assert client.post("/_sandbox/clients", json={"public": True, "client_secret": "x"}).status_code == 400
    assert client.post("/_sandbox/clients", json={"colour": "red"}).status_code == 400


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _authorize_params(challenge: str) -> dict[str, str]:
    return {
        "client_id": config.PUBLIC_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT,
        "scope": "api://regctl/user_impersonation openid profile offline_access",
        "state": "st-1",
        "nonce": "n-1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


def _sign_in(client: TestClient, params: dict[str, str], principal_id: str) -> str:
    page = client.get(AUTHORIZE, params=params)
    assert page.status_code == 200 and "Sandbox Owner" in page.text
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text))
    assert hidden["code_challenge"] == params["code_challenge"]
    redirect = client.post(AUTHORIZE, data={**hidden, "principal_id": principal_id}, follow_redirects=False)
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == ["st-1"]
    return str(query["code"][0])


def test_authorization_code_with_pkce_signs_a_user_in(stand_in: EntraStandIn, client: TestClient) -> None:
    verifier, challenge = _pkce()
    code = _sign_in(client, _authorize_params(challenge), config.OWNER_PRINCIPAL_ID)
    form = {
        "client_id": config.PUBLIC_CLIENT_ID,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }

    response = client.post(TOKEN, data=form)

    assert response.status_code == 200, response.text
    body = response.json()
    claims = _validate(stand_in, client, body["access_token"])
    assert claims["oid"] == config.OWNER_PRINCIPAL_ID and claims["scp"] == "user_impersonation"
    assert claims["azp"] == config.PUBLIC_CLIENT_ID and claims["azpacr"] == "0"
    id_token = _validate(stand_in, client, body["id_token"], audience=config.PUBLIC_CLIENT_ID)
    assert id_token["nonce"] == "n-1" and id_token["preferred_username"] == config.OWNER_USERNAME
    assert body["scope"].split() == ["api://regctl/user_impersonation", "openid", "profile", "offline_access"]
    _assert_entra_error(client.post(TOKEN, data=form), 400, "invalid_grant", 54005)  # a code is good once


def test_msal_gets_client_info_naming_the_account_when_it_asks(client: TestClient) -> None:
    verifier, challenge = _pkce()
    code = _sign_in(client, _authorize_params(challenge), config.USER_PRINCIPAL_ID)
    form = {
        "client_id": config.PUBLIC_CLIENT_ID,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_info": "1",
    }

    body = client.post(TOKEN, data=form, headers={"Origin": "http://127.0.0.1:7071"})

    assert body.headers["access-control-allow-origin"] == "*"  # the console calls it from another origin
    encoded = body.json()["client_info"]
    info = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    assert info == {"uid": config.USER_PRINCIPAL_ID, "utid": config.TENANT_ID}


def test_a_wrong_code_verifier_is_aadsts501481(client: TestClient) -> None:
    _, challenge = _pkce()
    code = _sign_in(client, _authorize_params(challenge), config.USER_PRINCIPAL_ID)
    form = {
        "client_id": config.PUBLIC_CLIENT_ID,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": _pkce()[0],
    }

    _assert_entra_error(client.post(TOKEN, data=form), 400, "invalid_grant", 501481)


def test_another_principal_can_be_typed_in(stand_in: EntraStandIn, client: TestClient) -> None:
    verifier, challenge = _pkce()
    params = _authorize_params(challenge)
    hidden = {k: v for k, v in params.items()}
    oid = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
    redirect = client.post(
        AUTHORIZE,
        data={**hidden, "principal_id": oid, "name": "Robot", "type": "ServicePrincipal"},
        follow_redirects=False,
    )
    code = parse_qs(urlsplit(redirect.headers["location"]).query)["code"][0]
    form = {"client_id": config.PUBLIC_CLIENT_ID, "grant_type": "authorization_code", "code": code}

    body = client.post(TOKEN, data={**form, "redirect_uri": REDIRECT, "code_verifier": verifier}).json()

    claims = _validate(stand_in, client, body["access_token"])
    assert (claims["oid"], claims["name"], claims["idtyp"]) == (oid, "Robot", "app")


def test_authorize_refuses_unknown_clients_with_a_page_and_needs_pkce_from_public_clients(client: TestClient) -> None:
    _, challenge = _pkce()
    unknown = client.get(AUTHORIZE, params={**_authorize_params(challenge), "client_id": "0b6f3e1e-0000-4000-8000-0"})
    assert unknown.status_code == 400 and "AADSTS700016" in unknown.text

    elsewhere = client.get(
        AUTHORIZE, params={**_authorize_params(challenge), "scope": "api://elsewhere/read"}, follow_redirects=False
    )
    assert parse_qs(urlsplit(elsewhere.headers["location"]).query)["error"] == ["invalid_resource"]

    without_pkce = {k: v for k, v in _authorize_params(challenge).items() if not k.startswith("code_challenge")}
    redirect = client.get(AUTHORIZE, params=without_pkce, follow_redirects=False)
    assert redirect.status_code == 302
    assert parse_qs(urlsplit(redirect.headers["location"]).query)["error"] == ["invalid_request"]


def test_the_token_endpoint_allows_cross_origin_calls(client: TestClient) -> None:
    response = client.options(
        TOKEN, headers={"Origin": "http://127.0.0.1:7071", "Access-Control-Request-Method": "POST"}
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "http://127.0.0.1:7071")
