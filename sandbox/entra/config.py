"""Fixed identities and file names of the Entra stand-in.

The ids are stable across runs (so docs, scripts and saved role assignments keep meaning the same
principals); they are ``uuid5`` values, random-looking as Entra's are. The tenant is the one the ARM
simulator already reports in role assignments, so the two stand-ins agree on it.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.arm.config import SANDBOX_TENANT_ID

TENANT_ID = SANDBOX_TENANT_ID
#: The tenant's initial domain, as ``{name}.onmicrosoft.com`` in Entra; user names end with it.
TENANT_DOMAIN = "regctlsandbox.onmicrosoft.com"
TENANT_DISPLAY_NAME = "regctl sandbox"

#: The API's application ID URI: tokens for it carry it as ``aud`` (see docs: what differs from Entra).
DEFAULT_AUDIENCE = "api://regctl"

#: The bootstrap owner: a user, named in ``REGCTL_BOOTSTRAP_OWNERS`` of the sandbox's host.
OWNER_PRINCIPAL_ID = "ba56ef9f-36f0-56ae-b688-28bcfb93a21e"
OWNER_NAME = "Sandbox Owner"
OWNER_USERNAME = f"owner@{TENANT_DOMAIN}"

#: A second user with no role, to show what a caller without access sees.
USER_PRINCIPAL_ID = "8c36639e-602e-599d-936d-e2196902c551"
USER_NAME = "Sandbox User"
USER_USERNAME = f"user@{TENANT_DOMAIN}"

#: The service principal made at start: its application (client) id and its object id differ, as in
#: Entra; its secret is new at every start.
CLIENT_ID = "3cf7fccc-569a-55ac-a613-77fa67e9f71d"
CLIENT_PRINCIPAL_ID = "a8086797-4dc9-5b5c-a1fa-a86e002390ea"
CLIENT_NAME = "regctl sandbox automation"

#: A public client (no secret; authorization code with PKCE), for the web console and the CLI.
PUBLIC_CLIENT_ID = "a1759a99-29d9-5166-bf91-3a2ded29df16"
PUBLIC_CLIENT_PRINCIPAL_ID = "05935d3b-abfc-5ee1-98b8-c02d9a511d9e"
PUBLIC_CLIENT_NAME = "regctl console"
#: ``redirect_uris`` entry meaning any redirect URI (the sandbox's public client takes any).
ANY_REDIRECT_URI = "*"

DEFAULT_PORT = 8444
#: Entra access tokens live 60-90 minutes; the stand-in's live one hour.
TOKEN_LIFETIME_SECONDS = 3600
#: Entra answers ``expires_in`` a second short of the lifetime.
EXPIRES_IN = TOKEN_LIFETIME_SECONDS - 1
AUTH_CODE_LIFETIME_SECONDS = 600

ENTRA_JSON = "entra.json"
CA_BUNDLE_NAME = "entra-ca.pem"
KEY_DIR_NAME = "entra"
SIGNING_KEY_NAME = "signing-key.pem"


def signing_key_path(sandbox_dir: Path) -> Path:
    return sandbox_dir / KEY_DIR_NAME / SIGNING_KEY_NAME
