"""Fixtures: one ARM simulator subprocess for these tests, reset before every test.

The simulator runs as ``python -m sandbox arm --port 0 --time-scale 0.01`` with its own temporary
``SANDBOX_DIR``; the launcher waits for the ``arm.json`` it writes and stops the process at the end.
The real azure-mgmt clients talk to it over HTTPS with the CA bundle it wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from sandbox.arm.control import SandboxControl
from sandbox.arm.launcher import ArmEndpoint, SimulatorProcess
from tests.integration.arm.helpers import TIME_SCALE, Clients, RawArm, make_clients


@pytest.fixture(scope="session")
def arm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArmEndpoint]:
    sandbox_dir = tmp_path_factory.mktemp("sandbox")
    with SimulatorProcess(time_scale=TIME_SCALE, sandbox_dir=sandbox_dir) as endpoint:
        yield endpoint


@pytest.fixture
def control(arm: ArmEndpoint) -> Iterator[SandboxControl]:
    """The control surface, after a reset: no resources, faults, throttling or logged requests."""
    with SandboxControl(arm.endpoint, arm.ca_bundle) as ctl:
        ctl.reset()
        yield ctl


@pytest.fixture
def clients(arm: ArmEndpoint, control: SandboxControl) -> Clients:
    return make_clients(arm)


@pytest.fixture
def rg(clients: Clients) -> str:
    """A fresh resource group in eastus."""
    name = f"rg-{uuid.uuid4().hex[:8]}"
    clients.resources.resource_groups.create_or_update(name, {"location": "eastus"})
    return name


@pytest.fixture
def raw(arm: ArmEndpoint, control: SandboxControl) -> Iterator[RawArm]:
    client = RawArm(arm)
    yield client
    client.session.close()
