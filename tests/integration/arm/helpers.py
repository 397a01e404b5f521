"""Helpers shared by the ARM simulator tests: SDK clients, raw HTTPS access, names."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import requests
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

from sandbox.arm.launcher import ArmEndpoint
from shared.adapters.credentials import StaticTokenCredential

#: Every duration times this: a storage account takes 0.1 s, a geo-replica 0.48 s.
TIME_SCALE = 0.004

#: A duration (seconds at scale 1) that keeps an operation running long enough (1 s scaled) for a
#: test to act while it runs.
SLOW = 250.0

RG_API = "2025-04-01"
STORAGE_API = "2026-09-01"
ACR_API = "2025-11-01"
AUTHZ_API = "2022-04-01"
READER_ROLE = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR_ROLE = "b24988ac-6180-42a0-ab88-20f7382dd24c"


@dataclass
class Clients:
    subscription_id: str
    resources: ResourceManagementClient
    storage: StorageManagementClient
    acr: ContainerRegistryManagementClient
    authz: AuthorizationManagementClient


def make_clients(arm: ArmEndpoint, subscription_id: str | None = None, **overrides: Any) -> Clients:
    """The four SDK clients as production builds them, plus a short polling interval and backoff.

    The backoff factor only shortens the SDK's own waits between retries of errors without
    Retry-After; every response that carries Retry-After is still honoured as is.
    """
    sub = subscription_id or arm.subscription_id
    cred = StaticTokenCredential("any-token")
    kwargs: dict[str, Any] = {
        "base_url": arm.endpoint,
        "connection_verify": arm.ca_bundle,
        "polling_interval": 0.05,
        "retry_backoff_factor": 0.05,
        **overrides,
    }
    return Clients(
        subscription_id=sub,
        resources=ResourceManagementClient(cred, sub, **kwargs),
        storage=StorageManagementClient(cred, sub, **kwargs),
        acr=ContainerRegistryManagementClient(cred, sub, **kwargs),
        authz=AuthorizationManagementClient(cred, sub, **kwargs),
    )


class RawArm:
    """Plain HTTPS to the simulator, for the wire details the SDK hides."""

    def __init__(self, arm: ArmEndpoint) -> None:
        self.endpoint = arm.endpoint
        self.sub = arm.subscription_id
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.verify = arm.ca_bundle
        self.session.headers["Authorization"] = "Bearer any-token"

    def url(self, path: str) -> str:
        return f"{self.endpoint}{path}"

    def request(self, method: str, path: str, *, api: str | None, json: Any = None, **kwargs: Any) -> requests.Response:
        params = kwargs.pop("params", {})
        if api is not None:
            params = {"api-version": api, **params}
        return self.session.request(method, self.url(path), params=params, json=json, timeout=10, **kwargs)

    def get_absolute(self, url: str) -> requests.Response:
        return self.session.get(url, timeout=10)

    def wait_until_done(self, monitor_url: str) -> int:
        """Poll a Location monitor until it stops answering 202; its final status."""
        for _ in range(1000):
            status = self.get_absolute(monitor_url).status_code
            if status != 202:
                return status
            time.sleep(0.01)
        raise AssertionError(f"{monitor_url} still running")


def unique(prefix: str) -> str:
    """A name valid for storage accounts and registries (lowercase letters and digits)."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def new_guid() -> str:
    return str(uuid.uuid4())


def role_definition_id(sub: str, role: str = READER_ROLE) -> str:
    return f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def statuses(log: list[Any], method: str, path_part: str) -> list[int]:
    """Statuses of the logged requests with ``method`` whose path contains ``path_part``."""
    return [r["status"] for r in log if r["method"] == method and path_part in r["path"]]
