"""One real sandbox (Azurite, the ARM simulator, the functions host running function_app) per test session.

Durations are scaled down (x0.01) and the app's own delays shortened through its settings; the code paths
are the production ones, authentication included: ``Env.api`` sends the bootstrap owner's token (minted by
the sandbox's Entra stand-in key) on every request that carries no ``Authorization`` of its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.mgmt.containerregistry import ContainerRegistryManagementClient
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.storage import StorageManagementClient

from sandbox.arm.control import SandboxControl
from sandbox.harness import Sandbox
from shared.adapters.credentials import StaticTokenCredential

FAST_APP_SETTINGS = {
    "LRO_POLL_SECONDS": "0.2",
    "RETRY_BASE_SECONDS": "0.2",
    "RETRY_MAX_SECONDS": "2",
    "SANDBOX_LOCK_DURATION_SECONDS": "20",
}
SCRIPT_DIR = Path(__file__).parent
DATA = Path(__file__).parents[2] / "unit" / "domain" / "data"


OWNER_TOKEN_RENEWAL = 1800.0
"""Seconds after which the owner's token is minted again (the stand-in's tokens live an hour; a session may
be longer)."""


class OwnerAuth(httpx.Auth):
    """``Authorization: Bearer <the bootstrap owner's token>`` on every request without an ``Authorization``
    header of its own (a test acting as someone else sends theirs)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._lock = threading.Lock()
        self._token: str | None = None
        self._minted = 0.0

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() - self._minted > OWNER_TOKEN_RENEWAL:
                self._token, self._minted = self._sandbox.owner_token(), time.monotonic()
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" not in request.headers:
            request.headers["Authorization"] = f"Bearer {self.token()}"
        yield request


@dataclass
class Arm:
    resources: ResourceManagementClient
    storage: StorageManagementClient
    acr: ContainerRegistryManagementClient
    control: SandboxControl


@dataclass
class Env:
    sandbox: Sandbox
    api: httpx.Client
    """As the bootstrap owner, unless a request sends its own ``Authorization``."""
    arm: Arm

    def owner_token(self) -> str:
        """The owner's token, e.g. for ``REGCTL_TOKEN`` of a CLI run."""
        auth = self.api.auth
        assert isinstance(auth, OwnerAuth)
        return auth.token()

    def create(self, body: str, **headers: str) -> httpx.Response:
        return self.api.post("/api/registries", content=body, headers={"Content-Type": "application/yaml", **headers})

    def wait(self, location: str, timeout: float = 90.0) -> dict[str, Any]:
        """Follow an operation to a terminal status."""
        deadline = time.monotonic() + timeout
        while True:
            doc: dict[str, Any] = self.api.get(location).json()
            if doc["status"] in ("Succeeded", "Failed", "Canceled"):
                return doc
            if time.monotonic() > deadline:
                raise AssertionError(f"operation still {doc['status']} after {timeout}s: {doc}\n{self.sandbox.logs()}")
            time.sleep(0.2)


def start_env(tmp: Path, **env: str) -> Iterator[Env]:
    with Sandbox(tmp, time_scale=0.01, env={**FAST_APP_SETTINGS, **env}) as sandbox:
        arm_info = sandbox.info["arm"]
        credential = StaticTokenCredential("e2e")
        options = {"base_url": arm_info["endpoint"], "connection_verify": arm_info["ca_bundle"]}
        sub = arm_info["subscription_id"]
        with (
            httpx.Client(
                base_url=sandbox.api.removesuffix("/api"),
                timeout=30,
                auth=OwnerAuth(sandbox),  # the bootstrap owner, unless a request says who it is
            ) as api,
            SandboxControl(arm_info["endpoint"], arm_info["ca_bundle"]) as control,
        ):
            yield Env(
                sandbox,
                api,
                Arm(
                    ResourceManagementClient(credential, sub, **options),
                    StorageManagementClient(credential, sub, **options),
                    ContainerRegistryManagementClient(credential, sub, **options),
                    control,
                ),
            )


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from start_env(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture
def clean(env: Env) -> Env:
    """No faults or throttling left over from another test."""
    env.arm.control.clear_faults()
    env.arm.control.clear_throttle()
    return env
