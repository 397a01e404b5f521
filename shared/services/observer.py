"""Observe and act on a registry's resources, whichever plane they live in.

``Observer`` reads what a decision looks at: ARM's LISTs for the resources, the blob data plane's LISTs for
asset copies (``Part.BLOBS``: one LIST per region's account and prefix, a page per 5,000 blobs). Work
that looks only at storage and blobs (an asset version's copies) takes the storage accounts from the
registry's last observation (its record's ``resources``) instead of ARM, so copying assets costs no
ARM request once the registry exists; the region sync and every registry reconcile refresh it.

The external sources promotion rules watch (``Part.SOURCES``) are read besides, each by its id: those the
rules into the registry name, and those the registry's last observation remembers something of its own on.

``Actuator`` performs a decision: an ARM write through the ARM port, a blob copy or delete through the
data plane; ``poll`` resumes whichever long-running operation a continuation names.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from shared.domain.kinds.sources import to_observe
from shared.domain.manifest import ASSET_CONTAINER, BlobListing
from shared.domain.naming import source_subscription_name
from shared.domain.records import RegistryRecord
from shared.domain.resources import SUCCEEDED, Observed, ObservedAcr, ObservedReplica, ObservedStorage, Part
from shared.domain.work import Action, ResourceType, Verb, Watch
from shared.ports import ArmGateway, DataPlane, LroState

ASSET_PARTS = frozenset({Part.STORAGE, Part.ACR, Part.REPLICAS, Part.BLOBS})
"""What asset work reads: taken from the registry's last observation, plus the blob LISTs."""


def from_summary(resources: dict[str, Any]) -> Observed:
    """The storage accounts, the ACR and its replicas that a registry's last observation recorded."""
    acr = resources.get("container_registry")
    replicas = resources.get("replicas")
    return Observed(
        storage=storage_from_summary(resources),
        acr=(
            ObservedAcr(str(acr["name"]), str(acr["location"]), str(acr.get("sku", "")), state=str(acr["state"]))
            if isinstance(acr, dict)
            else None
        ),
        replicas=tuple(
            ObservedReplica(str(r["name"]), str(r["location"]), str(r["state"]))
            for r in (replicas if isinstance(replicas, list) else [])
            if isinstance(r, dict)
        ),
    )


def storage_from_summary(resources: dict[str, Any]) -> tuple[ObservedStorage, ...]:
    """The storage accounts a registry's last observation recorded (``StorageKind.summary``)."""
    accounts = resources.get("storage_accounts")
    if not isinstance(accounts, list):
        return ()
    found: list[ObservedStorage] = []
    for raw in accounts:
        if not isinstance(raw, dict) or not raw.get("blob_endpoint"):
            continue
        found.append(
            ObservedStorage(
                name=str(raw["name"]),
                region=str(raw["region"]),
                index=int(raw.get("index", 0)),
                sku=str(raw.get("sku", "")),
                hns=bool(raw.get("hns", False)),
                state=str(raw.get("state", SUCCEEDED)),
                properties={"primaryEndpoints": {"blob": str(raw["blob_endpoint"])}},
            )
        )
    return tuple(found)


class Observer:
    def __init__(self, arm: ArmGateway, data: DataPlane) -> None:
        self._arm = arm
        self._data = data

    def observe(
        self,
        record: RegistryRecord,
        group: str,
        parts: frozenset[Part],
        prefix: str = "",
        watches: tuple[Watch, ...] = (),
    ) -> Observed:
        """What ``parts`` of ``record``'s registry look like now; blobs under ``prefix`` of each region's
        ``assets`` container; with ``Part.SOURCES`` the sources of ``watches`` and those remembered."""
        if Part.BLOBS in parts and parts <= ASSET_PARTS and storage_from_summary(record.resources):
            observed = from_summary(record.resources)
        else:
            observed = self._arm.observe(record.key, group, parts - {Part.BLOBS, Part.SOURCES})
        if Part.SOURCES in parts:
            observed = self.with_sources(record, observed, watches)
        if Part.BLOBS not in parts:
            return observed
        return replace(observed, blobs=self.blobs(observed, prefix))

    def with_sources(self, record: RegistryRecord, observed: Observed, watches: tuple[Watch, ...]) -> Observed:
        """``observed`` with the external sources of ``watches`` and those ``record`` remembers (none: no read)."""
        sources = to_observe(watches, record.resources)
        if not sources:
            return observed
        return replace(observed, sources=self._arm.observe_sources(sources, source_subscription_name(record.key)))

    def blobs(self, observed: Observed, prefix: str) -> dict[str, dict[str, BlobListing]]:
        listed: dict[str, dict[str, BlobListing]] = {}
        for account in observed.storage:
            if account.index == 0 and account.blob_endpoint and account.state == SUCCEEDED:
                listed[account.name] = self._data.list_blobs(account.blob_endpoint, ASSET_CONTAINER, prefix)
        return listed


class Actuator:
    def __init__(self, arm: ArmGateway, data: DataPlane) -> None:
        self._arm = arm
        self._data = data

    def act(self, action: Action) -> LroState:
        assert action.ref is not None
        if action.ref.type is ResourceType.BLOBS:
            if action.verb is Verb.DELETE:
                return self._data.delete_blobs(action.body)
            return self._data.copy(action.body)
        if action.verb is Verb.CREATE:
            return self._arm.put(action.ref, action.body)
        if action.verb is Verb.UPDATE:
            return self._arm.patch(action.ref, action.body)
        return self._arm.delete(action.ref)

    def poll(self, continuation: str) -> LroState:
        try:
            saved = json.loads(continuation)
        except ValueError:
            saved = None
        if isinstance(saved, dict) and "dataplane" in saved:
            return self._data.poll(continuation)
        return self._arm.poll(continuation)
