"""The unmodified azure-ai-ml SDK pointed at a sandbox's Azure-compatible surface (docs/azure-ml-compatibility.md).

Each test module starts its own sandbox (``module_env``), so pytest-xdist runs the modules side by side.
``ml_client`` builds the client exactly as the compatibility doc's snippet does: ``cloud_metadata`` whose
``resource_manager`` is ``sandbox.json``'s ``arm_api.endpoint``, ``connection_verify`` its CA bundle, and a
credential whose ``get_token`` returns a token of the sandbox's Entra stand-in.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from azure.ai.ml import MLClient
from azure.core.credentials import AccessToken

from sandbox.harness import Sandbox

DATA = Path(__file__).parents[2] / "unit" / "domain" / "data"
SEED_YAMLS = ("demo-registry-1.yml", "demo-registry-2.yml")
"""The registry YAMLs of the source document (shared/seed/how-to-manage-registries.txt), verbatim."""


class SandboxCredential:
    """A ``TokenCredential``: ``get_token`` returns a token of the Entra stand-in, whatever the scope."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3000)


def ml_client(sandbox: Sandbox, resource_group: str, *, token: str | None = None, **options: Any) -> MLClient:
    arm_api = sandbox.arm_api
    root = str(arm_api["endpoint"]) + "/"
    return MLClient(
        SandboxCredential(token or sandbox.owner_token()),
        subscription_id=str(arm_api["subscription_id"]),
        resource_group_name=resource_group,
        enable_telemetry=False,
        connection_verify=str(arm_api["ca_bundle"]),
        # One cloud name per endpoint: MLClient keeps the first cloud_metadata given under a name for the whole
        # process and silently ignores another (a later sandbox would be sent to an earlier, stopped one).
        cloud="regctl-" + hashlib.sha256(root.encode()).hexdigest()[:12],
        cloud_metadata={
            "azure_portal": "https://portal.regctl.invalid/",
            "resource_manager": root,
            "active_directory": str(sandbox.identity["endpoint"]) + "/",
            "aml_resource_id": "https://ml.regctl.invalid/",
            "storage_endpoint": "core.regctl.invalid",
            "registry_discovery_endpoint": root,
        },
        **options,
    )


def registry_client(sandbox: Sandbox, registry: str, *, token: str | None = None) -> MLClient:
    """``MLClient(registry_name=...)``: it discovers the registry at construction (regctl's discovery route),
    then calls the registry data plane where discovery points (docs/azure-ml-compatibility.md, part B)."""
    arm_api = sandbox.arm_api
    root = str(arm_api["endpoint"]) + "/"
    return MLClient(
        SandboxCredential(token or sandbox.owner_token()),
        registry_name=registry,
        enable_telemetry=False,
        connection_verify=str(arm_api["ca_bundle"]),
        cloud="regctl-" + hashlib.sha256(root.encode()).hexdigest()[:12],
        cloud_metadata={
            "azure_portal": "https://portal.regctl.invalid/",
            "resource_manager": root,
            "active_directory": str(sandbox.identity["endpoint"]) + "/",
            "aml_resource_id": "https://ml.regctl.invalid/",
            "storage_endpoint": "core.regctl.invalid",
            "registry_discovery_endpoint": root,
        },
    )
