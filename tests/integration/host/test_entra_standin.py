"""The Entra stand-in that ``python -m sandbox up`` starts: discovery, JWKS, client credentials (raw and
through azure-identity), and ``python -m sandbox token``, all over HTTPS with the CA bundle it wrote."""

from __future__ import annotations

import os
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from azure.identity import ClientSecretCredential

from sandbox.harness import REPO_ROOT, Sandbox
from tests.integration.host.support import FIXTURE_APP, NEVER

pytestmark = pytest.mark.integration

IDENTITY_KEYS = {
    "issuer",
    "jwks_uri",
    "token_endpoint",
    "authorization_endpoint",
    "audience",
    "tenant_id",
    "owner_principal_id",
    "client",
}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    directory = tmp_path_factory.mktemp("sandbox-entra")
    box = Sandbox(
        directory,
        time_scale=0.01,
        app_dir=FIXTURE_APP,
        env={"FIXTURE_QUEUE": "fixture-entra", "FIXTURE_ASYNC_QUEUE": "fixture-entra-async"}
        | {"FIXTURE_BATCH_QUEUE": "fixture-entra-batch"}
        | {"FIXTURE_TIMER_SCHEDULE": NEVER, "FIXTURE_RECORD_DIR": str(directory)},
        queues=["fixture-entra", "fixture-entra-async", "fixture-entra-batch"],
    )
    box.start()
    try:
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="module")
def identity(sandbox: Sandbox) -> dict[str, Any]:
    return sandbox.identity


@pytest.fixture
def session(identity: dict[str, Any]) -> Iterator[requests.Session]:
    with requests.Session() as http:
        http.trust_env = False  # a preset REQUESTS_CA_BUNDLE must not win over the sandbox's bundle
        http.verify = identity["ca_bundle"]
        yield http


def _validate(identity: dict[str, Any], token: str) -> dict[str, Any]:
    """The reference's recipe (access-webhooks.md 5.3): JWKS over HTTPS, pinned algorithm, aud, iss, tid."""
    context = ssl.create_default_context(cafile=identity["ca_bundle"])
    jwks = jwt.PyJWKClient(identity["jwks_uri"], cache_jwk_set=True, lifespan=300, ssl_context=context)
    key = jwks.get_signing_key_from_jwt(token)
    assert key.key_id == jwt.get_unverified_header(token)["kid"]
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=["RS256"],
        audience=[identity["audience"]],
        issuer=[identity["issuer"]],
        options={"require": ["exp", "iat", "aud", "iss", "tid"]},
        leeway=60,
    )
    assert claims["tid"] == identity["tenant_id"]
    assert claims["exp"] - claims["iat"] == 3600
    return claims


def test_sandbox_json_names_the_identity_provider(sandbox: Sandbox, identity: dict[str, Any]) -> None:
    port = sandbox.ports["entra"]
    tenant = identity["tenant_id"]

    assert set(identity) >= IDENTITY_KEYS
    assert identity["issuer"] == f"https://127.0.0.1:{port}/{tenant}/v2.0"
    assert identity["jwks_uri"] == f"https://127.0.0.1:{port}/{tenant}/discovery/v2.0/keys"
    assert identity["audience"] == "api://regctl"
    assert set(identity["client"]) == {"client_id", "client_secret", "principal_id"}
    assert isinstance(sandbox.info["pids"]["entra"], int)
    key_file = Path(identity["signing_key"])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.is_relative_to(sandbox.sandbox_dir)


def test_discovery_and_jwks_over_https(identity: dict[str, Any], session: requests.Session) -> None:
    document = session.get(identity["openid_configuration"], timeout=10).json()
    jwks = session.get(document["jwks_uri"], timeout=10).json()

    assert document["issuer"] == identity["issuer"]
    assert document["token_endpoint"] == identity["token_endpoint"]
    assert document["authorization_endpoint"] == identity["authorization_endpoint"]
    assert [key["kty"] for key in jwks["keys"]] == ["RSA"]
    with pytest.raises(requests.exceptions.SSLError):  # only the sandbox's bundle trusts it
        requests.get(identity["jwks_uri"], timeout=10, verify=True)


def test_client_credentials_over_the_wire(identity: dict[str, Any], session: requests.Session) -> None:
    client = identity["client"]
    form = {
        "client_id": client["client_id"],
        "client_secret": client["client_secret"],
        "scope": f"{identity['audience']}/.default",
        "grant_type": "client_credentials",
    }

    answer = session.post(identity["token_endpoint"], data=form, timeout=10).json()
    refused = session.post(identity["token_endpoint"], data={**form, "client_secret": "nope"}, timeout=10)

    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3599
    claims = _validate(identity, answer["access_token"])
    assert (claims["oid"], claims["azp"], claims["idtyp"]) == (client["principal_id"], client["client_id"], "app")
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert refused.json()["error_codes"] == [7000215]


def test_azure_identity_client_secret_credential_gets_a_token(identity: dict[str, Any]) -> None:
    client = identity["client"]
    authority = identity["issuer"].removesuffix(f"/{identity['tenant_id']}/v2.0")
    credential = ClientSecretCredential(
        identity["tenant_id"],
        client["client_id"],
        client["client_secret"],
        authority=authority,
        disable_instance_discovery=True,
        connection_verify=identity["ca_bundle"],
    )
    try:
        token = credential.get_token(f"{identity['audience']}/.default")
    finally:
        credential.close()

    claims = _validate(identity, token.token)
    assert claims["oid"] == client["principal_id"]
    assert abs(token.expires_on - (claims["exp"] - 1)) <= 2  # expires_in 3599, counted from the client's clock


def test_the_token_command_prints_an_owner_token(sandbox: Sandbox, identity: dict[str, Any]) -> None:
    env = {**os.environ, "SANDBOX_DIR": str(sandbox.sandbox_dir)}
    command = [sys.executable, "-m", "sandbox", "token"]

    owner = subprocess.run([*command, "--owner"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    group_id = "6f1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b"
    group = subprocess.run(
        [*command, "--principal-id", group_id, "--type", "Group", "--name", "Platform team"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )

    assert owner.stdout.count("\n") == 1  # one token, one line
    claims = _validate(identity, owner.stdout.strip())
    assert claims["oid"] == identity["owner_principal_id"]
    assert claims["preferred_username"].startswith("owner@")
    group_claims = _validate(identity, group.stdout.strip())
    assert (group_claims["oid"], group_claims["name"], group_claims["idtyp"]) == (group_id, "Platform team", "group")
    harness = _validate(identity, sandbox.owner_token())
    assert harness["oid"] == identity["owner_principal_id"]


def test_the_token_command_says_when_no_sandbox_runs(tmp_path: Path) -> None:
    env = {**os.environ, "SANDBOX_DIR": str(tmp_path)}

    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "token", "--owner"],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert "no sandbox is running" in result.stderr
