"""The reliability suite's workload and its end-state checks, shared by every scenario.

A ``Workload`` submits registry operations the way a careful client does (an ``Idempotency-Key`` on every
request, retried while the host restarts or storage is down), remembers every operation that was accepted
(202) and what each registry should look like in the end. ``assert_converged`` then checks, after the
chaos stopped:

- every accepted operation reached a terminal status and Succeeded (nothing lost, nothing stuck);
- ARM holds exactly the specs: each live registry provisioned exactly (``assert_provisioned_exactly`` plus
  exact tags and provisioning states), and, listing *everything* in the subscription (resource groups,
  storage accounts, container registries, their replications), nothing duplicated, leaked or left behind
  by a deleted registry;
- the API agrees (Ready at the newest generation, no drift; deleted registries answer 404);
- no message was dead-lettered.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import yaml
from azure.data.tables import TableClient
from azure.storage.queue import QueueClient

from shared.domain.documents import load_yaml
from shared.domain.resources import TAG_REGISTRY, registry_tags, storage_tags
from shared.domain.spec import RegistrySpec, parse_spec
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_provisioning import assert_provisioned_exactly

TERMINAL = ("Succeeded", "Failed", "Canceled")
RESOURCE_TYPES = (
    "Microsoft.Resources/resourceGroups",
    "Microsoft.Storage/storageAccounts",
    "Microsoft.ContainerRegistry/registries",
    "Microsoft.ContainerRegistry/registries/replications",
)
DEAD_LETTER_QUEUES = (
    "regctl-reconcile-deadletter",
    "regctl-steps-deadletter",
    "regctl-operation-events-deadletter",
)


def region(location: str, sku: str = "Standard_LRS", *, hns: bool = False, count: int = 1) -> dict[str, Any]:
    return {
        "location": location,
        "storage_config": {"storage_account_type": sku, "storage_account_hns": hns, "replication_count": count},
    }


def spec_document(name: str, location: str, regions: list[dict[str, Any]], **tags: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"chaos {name}",
        "tags": tags,
        "location": location,
        "replication_locations": regions,
    }


def parse(document: dict[str, Any]) -> RegistrySpec:
    return parse_spec(load_yaml(yaml.safe_dump(document))).spec


@dataclass
class Accepted:
    what: str  # "create Foo", "update Foo", ...
    location: str  # /api/operations/{id}


@dataclass
class Workload:
    env: Env
    accepted: list[Accepted] = field(default_factory=list)
    expected: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # name -> final spec, None: deleted
    submit_timeout: float = 90.0

    # -- submitting ------------------------------------------------------------------------------------

    def _submit(self, what: str, method: str, path: str, body: str | None, content_type: str) -> Accepted:
        """Send until answered: a refused connection or a 5xx (host restarting, storage down) is retried with
        the same Idempotency-Key, so an operation accepted before its answer was lost is not accepted twice."""
        headers = {"Idempotency-Key": uuid.uuid4().hex, "Content-Type": content_type}
        deadline = time.monotonic() + self.submit_timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                response = self.env.api.request(method, path, content=body, headers=headers)
            except httpx.TransportError as exc:
                last = repr(exc)
            else:
                if response.status_code == 202:
                    accepted = Accepted(what, response.headers["Location"])
                    self.accepted.append(accepted)
                    return accepted
                if response.status_code < 500:
                    raise AssertionError(f"{what}: {response.status_code} {response.text}")
                last = f"{response.status_code} {response.text[:300]}"
            time.sleep(0.3)
        raise AssertionError(f"{what} was never accepted; last answer {last}\n{self.env.sandbox.logs()}")

    def create(self, document: dict[str, Any]) -> Accepted:
        self.expected[document["name"]] = document
        return self._submit(
            f"create {document['name']}", "POST", "/api/registries", yaml.safe_dump(document), "application/yaml"
        )

    def update(self, document: dict[str, Any]) -> Accepted:
        self.expected[document["name"]] = document
        name = document["name"]
        return self._submit(
            f"update {name}", "PUT", f"/api/registries/{name}", yaml.safe_dump(document), "application/yaml"
        )

    def delete(self, name: str) -> Accepted:
        self.expected[name] = None
        return self._submit(f"delete {name}", "DELETE", f"/api/registries/{name}", None, "application/json")

    def sync(self, name: str) -> Accepted:
        return self._submit(f"sync {name}", "POST", f"/api/registries/{name}/sync", None, "application/json")

    def concurrently(self, *calls: Callable[[], object]) -> None:
        """Submit at the same time, from one client thread each."""
        with ThreadPoolExecutor(max_workers=len(calls)) as pool:
            for future in [pool.submit(call) for call in calls]:
                future.result()

    # -- waiting ---------------------------------------------------------------------------------------

    def get(self, path: str) -> httpx.Response | None:
        try:
            return self.env.api.get(path)
        except httpx.TransportError:
            return None  # the host is restarting

    def wait(self, operations: Iterable[Accepted], timeout: float) -> dict[str, dict[str, Any]]:
        """Follow operations to a terminal status (tolerating a restarting host); the documents by what."""
        pending = {a.location: a for a in operations}
        done: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while pending:
            for location, accepted in list(pending.items()):
                response = self.get(location)
                if response is None or response.status_code != 200:
                    continue
                document: dict[str, Any] = response.json()
                if document["status"] in TERMINAL:
                    done[accepted.what] = document
                    del pending[location]
            if not pending:
                break
            if time.monotonic() > deadline:
                states = {a.what: (self.get(loc).json() if self.get(loc) else None) for loc, a in pending.items()}
                raise AssertionError(
                    f"operations not terminal after {timeout}s (lost or stuck): {states}\n{self.env.sandbox.logs()}"
                )
            time.sleep(0.25)
        return done

    def wait_succeeded(self, operations: Iterable[Accepted], timeout: float) -> None:
        documents = self.wait(operations, timeout)
        failed = {what: doc for what, doc in documents.items() if doc["status"] != "Succeeded"}
        assert not failed, f"operations that did not succeed: {failed}"

    # -- the end state ---------------------------------------------------------------------------------

    def assert_converged(self, timeout: float = 120.0, *, except_: Iterable[str] = ()) -> None:
        """Every accepted operation Succeeded (but those whose Location is in ``except_``, which must still be
        terminal); ARM and the API hold exactly the expected registries; nothing dead-lettered."""
        skip = set(except_)
        self.wait([a for a in self.accepted if a.location in skip], timeout)
        self.wait_succeeded([a for a in self.accepted if a.location not in skip], timeout)
        assert_subscription_holds_exactly(self.env, self.live())
        assert_api_agrees(self.env, self.expected)
        assert_nothing_dead_lettered(self.env)

    def assert_every_finish_heard(self, timeout: float = 150.0) -> None:
        """Every accepted operation's terminal status reached the OperationFinished consumer, which records
        ``{operation}:{status}`` in the Seen table once its listeners ran: the event was published and
        delivered at least once, even when the host died between the status write and the send (the outbox
        relay sends it then)."""
        documents = self.wait(self.accepted, timeout)
        wanted = {f"{doc['id']}:{doc['status']}" for doc in documents.values()}
        connection = self.env.sandbox.info["azurite"]["connection_string"]
        deadline = time.monotonic() + timeout
        with TableClient.from_connection_string(connection, "regctlSeen") as seen:
            while True:
                heard = {str(e["RowKey"]) for e in seen.query_entities("PartitionKey eq 'finished'")}
                missing = wanted - heard
                if not missing:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"OperationFinished never heard for {sorted(missing)}")
                time.sleep(1.0)

    def live(self) -> dict[str, dict[str, Any]]:
        return {name: doc for name, doc in self.expected.items() if doc is not None}


def assert_subscription_holds_exactly(env: Env, live: dict[str, dict[str, Any]]) -> None:
    """List everything in the subscription and match it to the live registries: each one provisioned exactly,
    with exact tags and finished provisioning, and nothing else at all (no duplicate, no leak, nothing left
    by a deleted registry)."""
    specs = {name.lower(): parse(document) for name, document in live.items()}
    for document in live.values():
        assert_provisioned_exactly(env, yaml.safe_dump(document))

    groups = list(env.arm.resources.resource_groups.list())
    assert sorted(g.name or "" for g in groups) == sorted(f"regctl-{key}" for key in specs), "resource groups"
    for group in groups:
        spec = specs[(group.tags or {}).get(TAG_REGISTRY, "")]
        assert group.tags == registry_tags(spec.name, spec.tags), group.name
        assert group.properties.provisioning_state == "Succeeded", group.name

    accounts = list(env.arm.storage.storage_accounts.list())
    owners = Counter((a.tags or {}).get(TAG_REGISTRY) for a in accounts)
    wanted = {key: sum(e.storage.replication_count for e in spec.replication_locations) for key, spec in specs.items()}
    assert dict(owners) == {key: n for key, n in wanted.items() if n}, "storage accounts per registry"
    for account in accounts:
        spec = specs[account.tags[TAG_REGISTRY]]
        assert account.id.lower().split("/resourcegroups/")[1].startswith(f"regctl-{spec.key}/"), account.id
        region_tag, index = account.tags["regctl-region"], int(account.tags["regctl-index"])
        assert account.tags == storage_tags(spec.name, spec.tags, region_tag, index), account.name

    registries = list(env.arm.acr.registries.list())
    assert sorted((r.tags or {}).get(TAG_REGISTRY, "") for r in registries) == sorted(specs), "container registries"
    for registry in registries:
        spec = specs[registry.tags[TAG_REGISTRY]]
        group_name = f"regctl-{spec.key}"
        assert registry.id.lower().split("/resourcegroups/")[1].startswith(f"{group_name}/"), registry.id
        assert registry.tags == registry_tags(spec.name, spec.tags), registry.name
        state = getattr(registry.provisioning_state, "value", registry.provisioning_state)
        assert state == "Succeeded", f"{registry.name} is {state}"
        replicas = list(env.arm.acr.replications.list(group_name, registry.name or ""))
        locations = Counter(r.location for r in replicas)
        assert all(n == 1 for n in locations.values()), f"duplicate replicas of {registry.name}: {locations}"
        geo = set(locations) - {spec.location}
        assert geo == set(spec.regions) - {spec.location}, f"replicas of {registry.name}: {sorted(locations)}"
        for replica in replicas:
            state = getattr(replica.provisioning_state, "value", replica.provisioning_state)
            assert state == "Succeeded", f"{registry.name}/{replica.name} is {state}"


def assert_api_agrees(env: Env, expected: dict[str, dict[str, Any] | None]) -> None:
    listed = {r["name"].lower(): r for r in env.api.get("/api/registries").json()["value"]}
    live = {name.lower() for name, doc in expected.items() if doc is not None}
    assert set(listed) == live, "registries the API lists"
    for name, document in expected.items():
        response = env.api.get(f"/api/registries/{name}")
        if document is None:
            assert response.status_code == 404, response.text
            continue
        registry = response.json()
        assert registry["status"] == "Ready", registry
        assert registry["generation"] == registry["observedGeneration"], registry
        assert registry["drift"] == [], registry
        assert registry["spec"] == parse(document).to_document(), registry


def assert_nothing_dead_lettered(env: Env) -> None:
    connection = env.sandbox.info["azurite"]["connection_string"]
    for queue in DEAD_LETTER_QUEUES:
        with QueueClient.from_connection_string(connection, queue) as client:
            letters = [m.content[:500] for m in client.peek_messages(max_messages=32)]
        assert letters == [], f"{queue}: {letters}"


# -- the standard workload: two phases, every kind of change, several registries at once ------------------

UPDATED, DELETED = "ChaosUpdated", "ChaosDeleted"


def first_phase_specs() -> list[dict[str, Any]]:
    """Registries that exist before the second phase changes them."""
    return [
        spec_document(
            UPDATED,
            "eastus",
            [region("eastus"), region("westus"), region("northeurope", "Standard_GRS")],
            team="ml",
        ),
        spec_document(DELETED, "westeurope", [region("westeurope"), region("northeurope", hns=True)], team="gone"),
    ]


def second_phase_creates() -> list[dict[str, Any]]:
    return [
        spec_document("ChaosA", "eastus", [region("eastus"), region("eastus2"), region("westus")], foo="bar"),
        spec_document(
            "ChaosB",
            "westus2",
            [region("westus2", "Standard_RAGRS", count=2), region("centralus", hns=True)],
            team="b",
        ),
        spec_document("ChaosC", "northeurope", [region("northeurope", "Standard_ZRS")]),
    ]


def updated_spec() -> dict[str, Any]:
    """Tags changed (group PUT, storage and ACR PATCH), a SKU converted in place (PATCH), a region removed
    (replica and storage DELETE) and one added with two accounts (storage and replica PUT)."""
    return spec_document(
        UPDATED,
        "eastus",
        [region("eastus", "Standard_GRS"), region("westus"), region("westeurope", count=2)],
        team="ml",
        stage="prod",
    )


def first_phase(workload: Workload) -> list[Accepted]:
    return [workload.create(document) for document in first_phase_specs()]


def second_phase(workload: Workload) -> None:
    """Creates, an update and a delete, submitted at the same time."""
    calls: list[Callable[[], object]] = [functools.partial(workload.create, d) for d in second_phase_creates()]
    calls += [lambda: workload.update(updated_spec()), lambda: workload.delete(DELETED)]
    workload.concurrently(*calls)
