"""``up`` hands the Entra stand-in to the host as app settings named as shared/settings.py names them."""

from __future__ import annotations

from sandbox.infra import auth_environment, host_environment
from shared.settings import Settings

IDENTITY = {
    "endpoint": "https://127.0.0.1:8444",
    "audience": "api://regctl",
    "tenant_id": "00000000-0000-4000-8000-0000000000f0",
    "issuer": "https://127.0.0.1:8444/00000000-0000-4000-8000-0000000000f0/v2.0",
    "jwks_uri": "https://127.0.0.1:8444/00000000-0000-4000-8000-0000000000f0/discovery/v2.0/keys",
    "ca_bundle": "/sandbox/entra-ca.pem",
    "owner_principal_id": "ba56ef9f-36f0-56ae-b688-28bcfb93a21e",
    "public_client_id": "a1759a99-29d9-5166-bf91-3a2ded29df16",
}
ARM = {
    "subscription_id": "00000000-0000-4000-8000-0000000000a1",
    "endpoint": "https://127.0.0.1:8443",
    "ca_bundle": "/x",
}


def test_every_auth_setting_is_a_settings_field() -> None:
    aliases = {
        field.validation_alias for field in Settings.model_fields.values() if isinstance(field.validation_alias, str)
    }

    assert set(auth_environment(IDENTITY)) <= aliases


def test_the_host_validates_the_stand_ins_tokens_unless_overridden() -> None:
    env, _ = host_environment({}, arm=ARM, connection="UseDevelopmentStorage=true", overrides={}, identity=IDENTITY)
    overridden, _ = host_environment(
        {}, arm=ARM, connection="x", overrides={"REGCTL_AUTH_MODE": "easyauth"}, identity=IDENTITY
    )

    assert env["REGCTL_AUTH_MODE"] == "jwt"
    assert env["REGCTL_AUTH_ISSUERS"] == "https://127.0.0.1:8444/{tenant}/v2.0"  # a template: {tenant} is the tid
    assert env["REGCTL_AUTH_JWKS_URI"] == IDENTITY["jwks_uri"]
    assert env["REGCTL_AUTH_CA_BUNDLE"] == IDENTITY["ca_bundle"]
    assert env["REGCTL_AUTH_AUDIENCES"] == "api://regctl"
    assert env["REGCTL_AUTH_TENANTS"] == IDENTITY["tenant_id"]
    assert env["REGCTL_BOOTSTRAP_OWNERS"] == IDENTITY["owner_principal_id"]
    assert overridden["REGCTL_AUTH_MODE"] == "easyauth"


def test_the_console_signs_in_as_the_stand_ins_public_client() -> None:
    _, settings = host_environment({}, arm=ARM, connection="x", overrides={}, identity=IDENTITY)

    assert settings.console_client_id == IDENTITY["public_client_id"]
    assert settings.console_authority == f"{IDENTITY['endpoint']}/{IDENTITY['tenant_id']}"
    assert settings.console_scope_list == ["api://regctl/user_impersonation"]
