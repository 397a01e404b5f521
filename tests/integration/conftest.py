"""Fixtures shared by the integration suites: one Azurite per session, started on first use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.azurite_proc import Azurite, AzuritePorts
from sandbox.harness import free_port


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    base = tmp_path_factory.mktemp("host-azurite")
    with (base / "azurite.log").open("ab") as log:
        emulator = Azurite(base / "data", AzuritePorts(free_port(), free_port(), free_port()), log=log)
        emulator.start()
        try:
            yield emulator
        finally:
            emulator.stop()
