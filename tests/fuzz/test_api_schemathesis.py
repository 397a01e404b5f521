"""Schemathesis against the app's own ``/api/openapi.json``, in process (the ASGI app over the in-memory fakes
of ``tests/unit/services/fakes.py``), so it is fast and deterministic.

For every generated request, valid and invalid:
- no 5xx;
- every rejection is a 4xx ``application/problem+json`` with a ``code`` and a ``detail`` (and its status);
- a rejected request stores nothing and enqueues nothing (the fakes are compared before and after);
- a rejection quotes at most a short excerpt of what was sent.

The app's OpenAPI document does not describe the bodies of the routes that read a spec (they parse YAML or
JSON themselves), so the schema is fetched from the app and those bodies are added to it here: otherwise
only headers and path parameters would be fuzzed. Each example starts from the same state: one registry,
``DemoRegistry1``, whose name and operation id the path parameters are biased towards.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.python import asgi

from handlers.auth import Gate
from handlers.http_api import create_api
from shared.domain.commands import CreateRegistry
from shared.domain.spec_fields import NAME_PATTERN, StorageSku
from shared.services import registries
from shared.services.registries import RegistryService
from tests.fuzz.excerpts import assert_no_long_excerpt, long_strings, strings_in
from tests.fuzz.strategies import yaml_like
from tests.unit.services.fake_access import OWNER_TOKEN
from tests.unit.services.fakes import FakePublisher, FakeStore
from tests.unit.services.world import World as UnitWorld

EXISTING = "DemoRegistry1"
EXISTING_SPEC = {
    "name": EXISTING,
    "tags": {"foo": "bar"},
    "location": "eastus",
    "replication_locations": [{"location": "eastus"}, {"location": "westus"}],
}
FIRST_OPERATION = f"demoregistry1.{1:032x}"
MAX_EXAMPLES = 25  # per operation and phase; the whole module runs in a few seconds


@dataclass
class State:
    """The fakes behind the app, fresh for every example."""

    store: FakeStore = field(default_factory=FakeStore)
    publisher: FakePublisher = field(default_factory=FakePublisher)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.world = UnitWorld(store=self.store, publisher=self.publisher)

    def service(self) -> RegistryService:
        return self.world.api.service

    def snapshot(self) -> tuple[object, ...]:
        s = self.store
        sent = [m.body for m in self.publisher.sent]
        return copy.deepcopy((s.registries, s.operations, s.steps, s.idem, sent, self.world.asset_store.rows))


class World:
    """The app, wired to whatever ``state`` is current (``reset`` replaces it before every example)."""

    def __init__(self) -> None:
        self.state = State()
        gate = Gate(authenticator=lambda: self.state.world.authenticator, access=lambda: self.state.world.access)
        self.app = create_api(
            self.service,
            lambda: {"store": True},
            gate,
            assets=lambda: self.state.world.assets,
            promotions=lambda: self.state.world.container.promotions,
            tickets=lambda: self.state.world.container.tickets,
            webhook_secrets=lambda source: [],  # no secret: every delivery is refused unsigned
        )

    def service(self) -> RegistryService:
        return self.state.service()

    def reset(self) -> None:
        self.state = State()
        self.state.service().create(CreateRegistry.from_document(copy.deepcopy(EXISTING_SPEC)))

    def next_id(self, registry: str) -> str:
        return f"{registry}.{next(self.state.ids):032x}"


WORLD = World()


def _one_of(*known: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(known)}


NAME = {"type": "string", "pattern": NAME_PATTERN.pattern.replace("\\Z", "$")}
REGION = _one_of("eastus", "westus", "eastus2", "northeurope", "East US")  # a display name is refused
STORAGE_CONFIG = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "storage_account_type": _one_of(*(s.value for s in StorageSku), "standard_grs"),
        "storage_account_hns": {"type": "boolean"},
        "replication_count": {"type": "integer", "minimum": 1, "maximum": 10},
    },
}
#: Valid documents in positive mode (mostly: a region listed twice, a name that exists with another spec or
#: a forbidden change are refused by rules a schema cannot say), invalid ones in negative mode.
REGISTRY_DOCUMENT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "location", "replication_locations"],
    "properties": {
        "name": {"anyOf": [_one_of(EXISTING, EXISTING.lower()), NAME]},
        "description": {"type": "string", "maxLength": 40},
        "tags": {
            "type": "object",
            "maxProperties": 3,
            "propertyNames": {"pattern": "^[a-z]{1,8}$"},
            "additionalProperties": {"type": "string", "maxLength": 16},
        },
        "location": REGION,
        "public_network_access": _one_of("Enabled", "disabled"),
        "replication_locations": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["location"],
                "properties": {"location": REGION, "storage_config": STORAGE_CONFIG},
            },
        },
    },
}
MERGE_PATCH = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        key: {"anyOf": [value, {"type": "null"}]}
        for key, value in REGISTRY_DOCUMENT["properties"].items()  # type: ignore[attr-defined]
    },
}
IDEMPOTENCY_KEY = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[A-Za-z0-9-]+$"}


def schema_with_bodies(app: Any) -> dict[str, Any]:
    """``/api/openapi.json`` as the app serves it, plus the request bodies of the spec-reading routes."""
    with TestClient(app) as client:
        raw: dict[str, Any] = client.get("/api/openapi.json").json()
    paths = raw["paths"]
    spec_body = {
        "required": True,
        "content": {
            "application/json": {"schema": REGISTRY_DOCUMENT},
            "application/yaml": {"schema": REGISTRY_DOCUMENT},
            "text/plain": {"schema": {"type": "string"}},  # not a spec media type: 415
        },
    }
    paths["/api/registries"]["post"]["requestBody"] = spec_body
    paths["/api/registries/{name}"]["put"]["requestBody"] = spec_body
    paths["/api/registries/{name}"]["patch"]["requestBody"] = {
        "required": True,
        "content": {"application/merge-patch+json": {"schema": MERGE_PATCH}},
    }
    for operations in paths.values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] == "name":
                    parameter["schema"] = _one_of(EXISTING, EXISTING.upper(), "nope")
                elif parameter["name"] == "operation_id":
                    parameter["schema"] = _one_of(FIRST_OPERATION, "nope")
                elif parameter["name"] == "Idempotency-Key":
                    parameter["schema"] = IDEMPOTENCY_KEY
    return raw


schema = schemathesis.openapi.from_dict(
    schema_with_bodies(WORLD.app),
    config=schemathesis.Config.from_dict(
        {
            "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)
schema.app = WORLD.app


OWNER = {"Authorization": f"Bearer {OWNER_TOKEN}"}  # every example runs as the bootstrap owner


def header(response: schemathesis.Response, name: str) -> str:
    values = response.headers.get(name) or [""]  # header names are lowercase, each with its list of values
    return str(values[0])


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """One in-process client for every call (schemathesis would start one per call)."""
    with asgi.get_client(cast(Any, WORLD.app)) as session:
        yield session


@pytest.fixture(autouse=True)
def deterministic_operation_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registries, "new_operation_id", WORLD.next_id)


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_api_never_fails_and_every_rejection_is_a_problem_that_changed_nothing(
    case: schemathesis.Case[Any], client: Any
) -> None:
    WORLD.reset()
    before = WORLD.state.snapshot()

    response = case.call(session=client, headers={**dict(case.headers or {}), **OWNER})

    sent = long_strings(case.body, case.path_parameters, case.headers)
    answer = Answer(response.status_code, header(response, "content-type"), header(response, "location"), response.text)
    assert_well_behaved(f"{case.method} {case.formatted_path}", answer, before, sent)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    location: str
    text: str


def assert_well_behaved(request: str, answer: Answer, before: tuple[object, ...], sent: list[str]) -> None:
    """No 5xx; an accepted change names its operation; a rejection is a problem that changed nothing."""
    assert answer.status < 500, f"{request}: {answer.status} {answer.text[:500]}"
    if answer.status == 202:
        operation_id = answer.location.removeprefix("/api/operations/")
        assert WORLD.state.store.get_operation(operation_id) is not None, f"{request}: {answer.location}"
    if answer.status < 400:
        return
    assert answer.content_type.startswith("application/problem+json"), f"{request}: {answer.content_type}"
    problem = json.loads(answer.text)
    assert isinstance(problem.get("code"), str) and problem["code"], problem
    assert isinstance(problem.get("detail"), str) and problem["detail"], problem
    assert problem["status"] == answer.status, problem
    assert WORLD.state.snapshot() == before, f"a rejected {request} changed what is stored or enqueued"
    assert_no_long_excerpt(list(strings_in(problem)), sent)


@settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(body=yaml_like, method=st.sampled_from(["POST", "PUT"]), key=st.sampled_from([None, "k1"]))
def test_raw_yaml_bodies_never_fail_the_api_and_a_rejected_one_changes_nothing(
    body: str, method: str, key: str | None, client: Any
) -> None:
    """Schemathesis sends data dumped as YAML; this sends YAML text with tags, anchors, aliases and merge keys."""
    WORLD.reset()
    before = WORLD.state.snapshot()
    path = "/api/registries" if method == "POST" else f"/api/registries/{EXISTING}"
    headers = {"Content-Type": "application/yaml", **OWNER, **({"Idempotency-Key": key} if key else {})}

    response = client.request(method, f"http://{asgi.HOST}{path}", data=body.encode(), headers=headers)

    answer = Answer(
        response.status_code,
        response.headers.get("content-type", ""),
        response.headers.get("location", ""),
        response.text,
    )
    assert_well_behaved(f"{method} {path}", answer, before, long_strings(body))
