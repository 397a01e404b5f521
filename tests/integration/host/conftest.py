"""Fixtures: per test, fixture-app hosts on queues of their own (Azurite comes from tests/integration)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sandbox.azurite_proc import Azurite
from tests.integration.host.support import FixtureHost


@pytest.fixture
def start_host(azurite: Azurite, tmp_path: Path) -> Iterator[Callable[..., FixtureHost]]:
    """``start_host(SANDBOX_X="1", UNSET=None)`` starts a host; the hosts of one test share queues.
    ``start_host(started=False)`` makes its queues only: send, then ``host.start()``."""
    suffix = uuid.uuid4().hex[:10]
    hosts: list[FixtureHost] = []

    def start(*, wait: bool = True, started: bool = True, **env: str | None) -> FixtureHost:
        host = FixtureHost(azurite, tmp_path, suffix, env)
        hosts.append(host)
        return host.start(wait=wait) if started else host

    yield start
    for host in hosts:
        host.stop()
