"""The CLI against the real FastAPI app over in-memory fakes, in process.

``CliWorld`` wires ``handlers.http_api.create_api`` to the services of a ``World`` (the loop driver of the
service tests) and hands the CLI a ``TestClient`` (an ``httpx.Client``) and a blob transfer over the World's
fake data plane (``FakeTransfer``) through the ``Runtime``. Before
each ``GET /api/operations/{id}`` it delivers ``per_poll`` queued messages, so ``--wait`` sees the
operation move step by step; sleep and clock are fakes, so nothing waits.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from handlers.http_api import create_api
from regctl.cli import app
from regctl.runtime import Runtime
from tests.unit.cli.fake_transfer import FakeTransfer
from tests.unit.services.fake_access import OWNER_TOKEN
from tests.unit.services.fakes import FakeArm
from tests.unit.services.world import World

SEEDS = Path(__file__).resolve().parents[1] / "domain" / "data"
DEMO_1 = SEEDS / "demo-registry-1.yml"
DEMO_2 = SEEDS / "demo-registry-2.yml"
# Variables of the developer's shell that would change what the CLI does; each run starts without them.
CLEAN_ENV: dict[str, str | None] = {
    "REGCTL_ENDPOINT": None,
    "REGCTL_FUNCTION_KEY": None,
    "REGCTL_TOKEN": None,
    "REGCTL_SCOPE": None,
    "COLUMNS": None,
}

MAX_SLEEPS = 1000
runner = CliRunner()


class CliWorld:
    def __init__(self, arm: FakeArm | None = None, per_poll: int | None = 1) -> None:
        self.world = World(arm)
        self.api = create_api(
            lambda: self.world.api.service, lambda: {"store": True}, self.world.gate, assets=lambda: self.world.assets
        )
        self.transfer = FakeTransfer(self.world.data)
        # sent when the CLI sends no Authorization header itself (None: the request goes without one)
        self.default_token: str | None = OWNER_TOKEN
        self.per_poll = per_poll  # messages delivered before each operation poll; None: all of them
        self.requests: list[httpx.Request] = []
        self.endpoints: list[str] = []
        self.polls = 0
        self.failing_polls: set[int] = set()  # polls (counted from 1) that fail as if the host were down
        self.sleeps: list[float] = []
        self.interrupt_at_sleep: int | None = None  # Ctrl-C during that sleep (counted from 1)
        self.now = 0.0
        self.interactive = False
        self.live = False
        self.runtime = Runtime(
            http_client=self.http_client,
            sleep=self.sleep,
            clock=lambda: self.now,
            interactive=lambda: self.interactive,
            live_progress=lambda: self.live,
            transfer=lambda: self.transfer,
        )

    # -- what the CLI gets from its Runtime ---------------------------------------------------------

    def http_client(self, endpoint: str) -> httpx.Client:
        self.endpoints.append(endpoint)
        client = TestClient(self.api, raise_server_exceptions=False)
        client.event_hooks["request"] = [self.authorize, self.before_request]
        return client

    def authorize(self, request: httpx.Request) -> None:
        if "authorization" not in request.headers and self.default_token is not None:
            request.headers["Authorization"] = f"Bearer {self.default_token}"

    def before_request(self, request: httpx.Request) -> None:
        self.requests.append(request)
        if request.method == "GET" and request.url.path.startswith("/api/operations/"):
            self.polls += 1
            if self.polls in self.failing_polls:
                raise httpx.ConnectError("connection refused", request=request)
            self.deliver(self.per_poll)

    def sleep(self, seconds: float) -> None:
        assert len(self.sleeps) < MAX_SLEEPS, "the wait does not end"
        self.sleeps.append(seconds)
        if len(self.sleeps) == self.interrupt_at_sleep:
            raise KeyboardInterrupt
        self.now += seconds

    # -- driving ------------------------------------------------------------------------------------

    def deliver(self, count: int | None = None) -> None:
        """Deliver up to ``count`` queued messages (all, and what they enqueue, when ``None``)."""
        if count is None:
            self.world.drain()
            return
        for _ in range(count):
            if not self.world.deliver_next():
                return

    def run(self, *args: str, input: str | None = None, env: dict[str, str | None] | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, env={**CLEAN_ENV, **(env or {})}, obj=self.runtime)

    def created(self, file: Path = DEMO_1) -> str:
        """Create through the CLI and converge; the operation id."""
        result = self.run("registry", "create", "--file", str(file), "-o", "json")
        assert result.exit_code == 0, result.stderr
        self.deliver()
        return str(json.loads(result.stdout)["id"])

    def get(self, path: str) -> Any:
        """A document read from the API directly (not through the CLI), to compare with what the CLI printed."""
        return TestClient(self.api, headers={"Authorization": f"Bearer {OWNER_TOKEN}"}).get(path).json()

    def sent(self, method: str, predicate: Callable[[httpx.Request], bool] = lambda r: True) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and predicate(r)]


def write(tmp_path: Path, text: str, name: str = "registry.yml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)
