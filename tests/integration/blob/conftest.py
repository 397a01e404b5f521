"""Fixtures: Azurite (in memory) with a small account pool, and one ARM simulator serving its blob proxy.

The simulator runs as ``python -m sandbox arm --blob-port 0 --azurite-blob-endpoint …`` with a pool of
``POOL_SIZE`` Azurite accounts and, through ``SANDBOX_EVENTS_CONNECTION``, the Event Grid stand-in
delivering onto Azurite's queues; the control surface is reset before every test, which frees the pool.
Storage accounts are created through the real ``StorageManagementClient``; blobs are reached with the
real ``azure-storage-blob`` clients over HTTPS with the simulator's CA bundle.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.arm.azurite import accounts_env
from sandbox.arm.control import SandboxControl
from sandbox.arm.launcher import ArmEndpoint, SimulatorProcess
from sandbox.azurite_proc import Azurite, AzuritePorts
from sandbox.harness import free_port
from tests.integration.arm.helpers import TIME_SCALE, Clients, make_clients
from tests.integration.blob.helpers import POOL_SIZE, Accounts


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    location = tmp_path_factory.mktemp("azurite")
    with (location / "azurite.log").open("wb") as log:
        process = Azurite(
            Path(location),
            AzuritePorts(free_port(), free_port(), free_port()),
            accounts=accounts_env(POOL_SIZE),
            log=log,
            in_memory=True,
        )
        process.start()
        try:
            yield process
        finally:
            process.stop()


@pytest.fixture(scope="session")
def arm(tmp_path_factory: pytest.TempPathFactory, azurite: Azurite) -> Iterator[ArmEndpoint]:
    extra = ("--azurite-blob-endpoint", azurite.blob_endpoint, "--blob-pool-size", str(POOL_SIZE))
    with SimulatorProcess(
        time_scale=TIME_SCALE,
        sandbox_dir=tmp_path_factory.mktemp("sandbox"),
        extra_args=extra,
        extra_env={"SANDBOX_EVENTS_CONNECTION": azurite.connection_string},
    ) as endpoint:
        yield endpoint


@pytest.fixture
def control(arm: ArmEndpoint) -> Iterator[SandboxControl]:
    with SandboxControl(arm.endpoint, arm.ca_bundle) as ctl:
        ctl.reset()
        yield ctl


@pytest.fixture
def clients(arm: ArmEndpoint, control: SandboxControl) -> Clients:
    return make_clients(arm)


@pytest.fixture
def accounts(arm: ArmEndpoint, clients: Clients) -> Accounts:
    return Accounts(arm, clients)
