"""A world of several registries for promotions: registering a model, pumping regctl's own events back into
the events handler (as the custom topic's subscription on the events queue does), granting and revoking."""

from __future__ import annotations

import json
import uuid
from typing import Any

from shared.domain.access import Principal
from shared.domain.asset_spec import AssetType, parse_asset
from shared.domain.manifest import ASSET_CONTAINER
from shared.domain.naming import resource_group_name
from shared.domain.resources import ALL_PARTS, Observed, Part
from shared.domain.roles import CONTRIBUTOR, READER
from shared.domain.work import ResourceRef
from shared.ports import LroState
from shared.services.assets import RegisterAsset, VersionView
from shared.services.event_intake import Outcome
from tests.unit.services.fake_access import OWNER_ID
from tests.unit.services.fakes import FakeArm
from tests.unit.services.world import World

OWNER = Principal(OWNER_ID, "owner@example.com")
ALICE = Principal("a11ce000-0000-4000-8000-000000000002", "alice@example.com")
FILES = {"MLmodel": b"flavors: {}\n", "model.pkl": b"\x07" * 2048}


def spec(name: str, *regions: str) -> dict[str, Any]:
    return {"name": name, "location": regions[0], "replication_locations": [{"location": r} for r in regions]}


class MultiArm:
    """One ``FakeArm`` per registry (each holds one), routed by registry and resource group."""

    def __init__(self, registries: list[str]) -> None:
        self.arms = {name: FakeArm(registry=name) for name in registries}
        self._by_group = {resource_group_name(name, "regctl-"): name for name in registries}

    def _of(self, group: str) -> FakeArm:
        return self.arms[self._by_group[group]]

    def observe(self, registry: str, resource_group: str, parts: frozenset[Part] = ALL_PARTS) -> Observed:
        return self.arms[registry].observe(registry, resource_group, parts)

    def observe_all(self, parts: frozenset[Part] = ALL_PARTS) -> dict[str, Observed]:
        found: dict[str, Observed] = {}
        for arm in self.arms.values():
            found |= arm.observe_all(parts)
        return found

    def _routed(self, registry: str, state: LroState) -> LroState:
        if state.continuation is None:
            return state
        return LroState(state.done, f"{registry}|{state.continuation}", state.retry_after)

    def put(self, ref: ResourceRef, body: dict[str, Any]) -> LroState:
        return self._routed(self._by_group[ref.group], self._of(ref.group).put(ref, body))

    def patch(self, ref: ResourceRef, body: dict[str, Any]) -> LroState:
        return self._routed(self._by_group[ref.group], self._of(ref.group).patch(ref, body))

    def delete(self, ref: ResourceRef) -> LroState:
        return self._routed(self._by_group[ref.group], self._of(ref.group).delete(ref))

    def poll(self, continuation: str) -> LroState:
        registry, _, token = continuation.partition("|")
        return self._routed(registry, self.arms[registry].poll(token))


class PromotionWorld(World):
    def __init__(self, registries: dict[str, tuple[str, ...]]) -> None:
        super().__init__(arm=MultiArm(list(registries)))  # type: ignore[arg-type]
        for name, regions in registries.items():
            self.api.create(spec(name, *regions))
        self.drain()
        self.pumped = 0
        self.outcomes: list[Outcome] = []

    def register(
        self,
        registry: str,
        files: dict[str, bytes] = FILES,
        *,
        name: str = "fraud",
        version: str = "1",
        tags: dict[str, str] | None = None,
    ) -> VersionView:
        started = self.assets.start_upload(registry, AssetType.MODELS, name, version)
        blob_uri = started["blobReferenceForConsumption"]["blobUri"]
        endpoint, _, container = blob_uri.rpartition("/")
        for path, data in files.items():
            self.data.put(endpoint + "/", container, path, data)
        document = {"name": name, "version": version, "path": blob_uri, "tags": tags or {}}
        self.assets.register(RegisterAsset(registry, parse_asset(AssetType.MODELS, document), caller=OWNER))
        self.drain()
        return self.assets.get(registry, AssetType.MODELS, name, version)

    def arm_of(self, registry: str) -> FakeArm:
        """The fake ARM holding ``registry``'s resources."""
        multi: MultiArm = self.arm  # type: ignore[assignment]
        return multi.arms[registry]

    def deliver_event(self, event: dict[str, Any], message_id: str | None = None) -> Outcome:
        outcome = self.container.event_intake.handle(json.dumps(event).encode(), message_id or str(event["id"]))
        self.outcomes.append(outcome)
        return outcome

    def pump(self, times: int = 1, *, reverse: bool = False) -> int:
        """Deliver every event published since the last pump ``times`` times (in reverse order when asked),
        then run the work they caused; repeat until no new event comes. How many events were new."""
        new_total = 0
        while self.pumped < len(self.grid.events):
            batch = self.grid.events[self.pumped :]
            self.pumped = len(self.grid.events)
            new_total += len(batch)
            ordered = list(reversed(batch)) if reverse else batch
            for _ in range(times):
                for event in ordered:
                    self.deliver_event(event)
            self.drain()
        return new_total

    def grant(self, who: Principal, registry: str | None, role: str = CONTRIBUTOR.id) -> str:
        assignment = str(uuid.uuid4())
        scope = f"/registries/{registry}" if registry else "/"
        body = {"scope": scope, "principalId": who.id, "principalType": "User", "roleDefinitionId": role}
        self.access.put_assignment(assignment, body, OWNER)
        self.drain()
        return assignment

    def revoke(self, assignment: str) -> None:
        self.access.delete_assignment(assignment, OWNER)
        self.drain()

    def reader(self, who: Principal, registry: str) -> str:
        return self.grant(who, registry, READER.id)

    def copies(self, registry: str, region: str, prefix: str = "models/fraud/1/") -> dict[str, bytes]:
        record = self.store.get_registry(registry.lower())
        assert record is not None
        account = next(a for a in record.resources["storage_accounts"] if a["region"] == region)
        blobs = self.data.accounts.get(account["blob_endpoint"], {}).get(ASSET_CONTAINER, {})
        return {n.removeprefix(prefix): b.data for n, b in blobs.items() if n.startswith(prefix)}

    def versions(self, registry: str) -> list[str]:
        record = self.store.get_registry(registry.lower())
        assert record is not None
        return [v.row for v in self.asset_store.list_versions(record.key)]
