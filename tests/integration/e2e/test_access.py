"""Identity and access through the real sandbox: tokens of the Entra stand-in validated by the production
code (RS256 over its JWKS), the personas of the Azure ML docs against the routes, and hostile tokens
refused with nothing stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from azure.mgmt.authorization import AuthorizationManagementClient
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sandbox.entra import keys
from shared.adapters.credentials import StaticTokenCredential
from tests.integration.e2e.conftest import DATA, Env

pytestmark = pytest.mark.integration

ASSET_WRITER = {
    "roleName": "e2e asset writer",
    "description": "create and use assets without managing registries",
    "actions": [
        "Microsoft.MachineLearningServices/registries/read",
        "Microsoft.MachineLearningServices/registries/assets/*",
    ],
    "assignableScopes": ["/"],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def owner(env: Env) -> dict[str, str]:
    return bearer(env.sandbox.owner_token())


@pytest.fixture(scope="module")
def registry(env: Env) -> str:
    body = (DATA / "demo-registry-1.yml").read_text().replace("DemoRegistry1", "AccessReg")
    created = env.create(body, **owner(env))
    assert created.status_code == 202, created.text
    return "AccessReg"


def person(env: Env, role: str | None, scope: str = "/registries/accessreg") -> dict[str, str]:
    principal = str(uuid.uuid4())
    if role is not None:
        body = {"scope": scope, "principalId": principal, "principalType": "User", "roleDefinitionId": role}
        granted = env.api.put(f"/api/roleAssignments/{uuid.uuid4()}", json=body, headers=owner(env))
        assert granted.status_code == 201, granted.text
    return bearer(env.sandbox.token(principal, name=f"{role or 'nobody'}@example.com"))


def bare(env: Env) -> httpx.Client:
    """A client of the API with no identity of its own: each request says who it is, or nobody."""
    return httpx.Client(base_url=env.sandbox.api.removesuffix("/api"), timeout=30)


def status(env: Env, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> int:
    with bare(env) as client:
        return client.request(method, path, headers=headers, **kwargs).status_code


def test_the_personas_against_the_routes(env: Env, registry: str):
    role_id = str(uuid.uuid4())
    assert env.api.put(f"/api/roleDefinitions/{role_id}", json=ASSET_WRITER, headers=owner(env)).status_code == 201
    operation = env.api.get(f"/api/registries/{registry}", headers=owner(env)).json()["operation"]
    new_spec = (DATA / "demo-registry-1.yml").read_text().replace("DemoRegistry1", "NeverMade")
    people: dict[str, dict[str, str]] = {
        "anonymous": {},
        "no role": person(env, None),
        "Reader": person(env, "Reader"),
        "AzureML Registry User": person(env, "AzureML Registry User"),
        "asset writer": person(env, role_id),
        "Contributor": person(env, "Contributor"),
    }
    # expected status per persona: list, get, operation, sync, policy, create elsewhere, grant at the registry
    # ... and patch, the role catalog, the assignments at the registry, its activity, a new custom role
    expected = {
        "anonymous": (401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401, 401),
        "no role": (200, 404, 404, 404, 404, 403, 404, 404, 403, 404, 404, 403),
        "Reader": (200, 200, 200, 403, 403, 403, 403, 403, 200, 200, 200, 403),
        "AzureML Registry User": (200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 200, 403),
        "asset writer": (200, 200, 200, 403, 403, 403, 403, 403, 403, 403, 200, 403),
        "Contributor": (200, 200, 200, 202, 200, 403, 403, 202, 200, 200, 200, 403),
    }
    scope = {"scope": f"/registries/{registry}"}
    grant_body = {"scope": f"/registries/{registry}", "principalId": str(uuid.uuid4()), "roleDefinitionId": "Reader"}
    for who, headers in people.items():
        seen = (
            status(env, "GET", "/api/registries", headers),
            status(env, "GET", f"/api/registries/{registry}", headers),
            status(env, "GET", operation, headers),
            status(env, "POST", f"/api/registries/{registry}/sync", headers),
            status(env, "PUT", f"/api/registries/{registry}/policy", headers, json={"reconcile_policy": "manage"}),
            status(env, "POST", "/api/registries", {**headers, "Content-Type": "application/yaml"}, content=new_spec),
            status(env, "PUT", f"/api/roleAssignments/{uuid.uuid4()}", headers, json=grant_body),
            status(
                env,
                "PATCH",
                f"/api/registries/{registry}",
                {**headers, "Content-Type": "application/merge-patch+json"},
                json={"tags": {"foo": "bar"}},
            ),
            status(env, "GET", "/api/roleDefinitions", headers),
            status(env, "GET", "/api/roleAssignments", headers, params=scope),
            status(env, "GET", "/api/activity", headers, params={"registry": registry}),
            status(env, "PUT", f"/api/roleDefinitions/{uuid.uuid4()}", headers, json={**ASSET_WRITER, "roleName": "x"}),
        )
        assert seen == expected[who], who
    with bare(env) as client:
        listed = client.get("/api/registries", headers=people["Reader"]).json()["value"]
        assert [r["name"] for r in listed] == [registry]
        assert client.get("/api/registries", headers=people["no role"]).json() == {"value": []}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(env: Env, **overrides: Any) -> dict[str, Any]:
    identity = env.sandbox.identity
    now = int(time.time())
    claims = {
        "aud": identity["audience"],
        "iss": identity["issuer"],
        "tid": identity["tenant_id"],
        "oid": identity["owner_principal_id"],
        "sub": "x",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "ver": "2.0",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signing(env: Env) -> keys.SigningKey:
    """The stand-in's own signing key: tokens signed with it differ from good ones only where a test says."""
    return keys.load(Path(env.sandbox.identity["signing_key"]))


def _signed(env: Env, claims: dict[str, Any]) -> str:
    signing = _signing(env)
    return jwt.encode(claims, signing.private_key, algorithm="RS256", headers={"kid": signing.kid})


def hostile_tokens(env: Env) -> dict[str, str]:
    signing = _signing(env)
    public_pem = signing.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    head_none = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    body = _b64(json.dumps(_claims(env)).encode())
    head_hs = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": signing.kid}).encode())
    mac = hmac.new(public_pem, f"{head_hs}.{body}".encode(), hashlib.sha256).digest()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    return {
        "alg none": f"{head_none}.{body}.",
        "HS256 with the public key": f"{head_hs}.{body}.{_b64(mac)}",
        "wrong audience": _signed(env, _claims(env, aud="api://someone-else")),
        "wrong issuer": _signed(env, _claims(env, iss="https://login.example.com/evil/v2.0")),
        "wrong tenant": _signed(env, _claims(env, tid=str(uuid.uuid4()))),
        "expired": _signed(env, _claims(env, iat=now - 7200, nbf=now - 7200, exp=now - 3600)),
        "not yet valid": _signed(env, _claims(env, nbf=now + 3600, exp=now + 7200)),
        "unknown kid": jwt.encode(_claims(env), stranger, algorithm="RS256", headers={"kid": "not-a-sandbox-key"}),
        "garbage": "this.is.not-a-token",
        "over 16 KB": _signed(env, _claims(env, padding="x" * 17_000)),
    }


def test_hostile_tokens_are_refused_with_401_and_store_nothing(env: Env, registry: str):
    before = env.api.get("/api/registries", headers=owner(env)).json()["value"]
    spec = (DATA / "demo-registry-1.yml").read_text().replace("DemoRegistry1", "Hostile")
    for what, token in hostile_tokens(env).items():
        with bare(env) as client:
            response = client.post(
                "/api/registries", content=spec, headers={**bearer(token), "Content-Type": "application/yaml"}
            )
        assert response.status_code == 401, (what, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer"), what
        assert response.json()["code"] == "InvalidAuthenticationToken", what
    after = env.api.get("/api/registries", headers=owner(env)).json()["value"]
    assert [r["name"] for r in after] == [r["name"] for r in before]


def test_a_forged_app_service_principal_header_is_ignored_in_jwt_mode(env: Env, registry: str):
    forged = base64.b64encode(
        json.dumps(
            {
                "auth_typ": "aad",
                "claims": [
                    {
                        "typ": "http://schemas.microsoft.com/identity/claims/objectidentifier",
                        "val": env.sandbox.identity["owner_principal_id"],
                    },
                    {
                        "typ": "http://schemas.microsoft.com/identity/claims/tenantid",
                        "val": env.sandbox.identity["tenant_id"],
                    },
                ],
            }
        ).encode()
    ).decode()
    headers = {"X-MS-CLIENT-PRINCIPAL": forged, "X-MS-CLIENT-PRINCIPAL-ID": env.sandbox.identity["owner_principal_id"]}
    with bare(env) as client:
        response = client.get("/api/registries", headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "AuthenticationRequired"


def test_a_token_of_the_stand_in_token_endpoint_is_accepted(env: Env, registry: str):
    identity = env.sandbox.identity
    client = identity["client"]
    with httpx.Client(verify=ssl.create_default_context(cafile=identity["ca_bundle"]), trust_env=False) as http:
        answer = http.post(
            identity["token_endpoint"],
            data={
                "grant_type": "client_credentials",
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "scope": f"{identity['audience']}/.default",
            },
        )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    # the sandbox's service principal has no role: it is who it says, and may see nothing
    with bare(env) as client:
        response = client.get("/api/registries", headers=bearer(token))
    assert response.status_code == 200 and response.json() == {"value": []}


def data_plane(env: Env, registry: str, principal: str) -> set[tuple[str, str]]:
    """(resource name, role GUID) of the principal's role assignments in the registry's resource group."""
    arm = env.sandbox.info["arm"]
    client = AuthorizationManagementClient(
        StaticTokenCredential("e2e"),
        arm["subscription_id"],
        base_url=arm["endpoint"],
        connection_verify=arm["ca_bundle"],
    )
    found = client.role_assignments.list_for_resource_group(f"regctl-{registry.lower()}")
    return {
        (str(a.scope).rsplit("/", 1)[-1], str(a.role_definition_id).rsplit("/", 1)[-1])
        for a in found
        if str(a.principal_id).lower() == principal
    }


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def test_asset_readers_get_data_plane_roles_in_every_region_which_follow_the_regions_and_the_revoke(env: Env):
    """A Reader (assets/read) gets Storage Blob Data Reader and AcrPull. AzureML Registry User permits
    assets/* and so assets/write, which maps to Storage Blob Data Contributor and AcrPush (the next test)."""
    body = (DATA / "demo-registry-1.yml").read_text().replace("DemoRegistry1", "DataPlaneReg")
    created = env.create(body, **owner(env))
    assert env.wait(created.headers["Location"])["status"] == "Succeeded"
    principal = str(uuid.uuid4())
    grant = {"scope": "/registries/DataPlaneReg", "principalId": principal, "roleDefinitionId": "Reader"}
    name = str(uuid.uuid4())
    granted = env.api.put(f"/api/roleAssignments/{name}", json=grant, headers=owner(env))
    assert granted.status_code == 201, granted.text
    operation = granted.json()["properties"]["dataPlane"]["operation"]
    assert env.wait(operation)["status"] == "Succeeded"
    state = env.api.get(f"/api/roleAssignments/{name}", headers=owner(env)).json()["properties"]["dataPlane"]
    assert state["state"] == "Applied"
    resources = env.api.get("/api/registries/DataPlaneReg", headers=owner(env)).json()["resources"]
    accounts = {a["name"] for a in resources["storage_accounts"]}
    acr = resources["container_registry"]["name"]
    reader, pull = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    assert data_plane(env, "DataPlaneReg", principal) == {(a, reader) for a in accounts} | {(acr, pull)}
    assert len(accounts) == 3

    four = body.rstrip() + "\n  - location: centralus\n"
    updated = env.api.put(
        "/api/registries/DataPlaneReg", content=four, headers={**owner(env), "Content-Type": "application/yaml"}
    )
    assert env.wait(updated.headers["Location"])["status"] == "Succeeded"
    wait_for(lambda: len(data_plane(env, "DataPlaneReg", principal)) == 5)
    resources = env.api.get("/api/registries/DataPlaneReg", headers=owner(env)).json()["resources"]
    accounts = {a["name"] for a in resources["storage_accounts"]}
    assert data_plane(env, "DataPlaneReg", principal) == {(a, reader) for a in accounts} | {(acr, pull)}

    revoked = env.api.delete(f"/api/roleAssignments/{name}", headers=owner(env))
    assert revoked.status_code == 200
    operation = revoked.json()["properties"]["dataPlane"]["operation"]
    assert env.wait(operation)["status"] == "Succeeded"
    assert data_plane(env, "DataPlaneReg", principal) == set()


def test_an_azureml_registry_user_gets_write_access_on_the_data_plane(env: Env):
    body = (DATA / "demo-registry-1.yml").read_text().replace("DemoRegistry1", "WriterReg")
    assert env.wait(env.create(body).headers["Location"])["status"] == "Succeeded"
    principal = str(uuid.uuid4())
    grant = {"scope": "/registries/WriterReg", "principalId": principal, "roleDefinitionId": "AzureML Registry User"}
    granted = env.api.put(f"/api/roleAssignments/{uuid.uuid4()}", json=grant)
    assert granted.status_code == 201, granted.text
    assert env.wait(granted.json()["properties"]["dataPlane"]["operation"])["status"] == "Succeeded"
    contributor, push = "ba92f5b4-2d11-453d-a403-e96b0029c9fe", "8311e382-0749-4cb8-b61a-304f252e45ec"
    roles = {role for _, role in data_plane(env, "WriterReg", principal)}
    assert roles == {contributor, push} and len(data_plane(env, "WriterReg", principal)) == 4
