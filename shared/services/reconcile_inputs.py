"""What a reconcile reads: the registry's data-plane grants, asset versions and watched sources (each from a
port another service implements: ``GrantSource``, ``ItemLanes``, ``WatchSource``), which parts of ARM a lane
observes, and the observation itself (``Observer``). ``ReconcileInputs`` is this part of
``shared.services.reconcile.Reconciler``, which the region-sync pass and the steps read through too; the
reconciler plans from it and writes what it decides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from shared.domain.asset_records import ASSET_LANE, AssetVersionRecord
from shared.domain.kinds import eventgrid
from shared.domain.naming import resource_group_name
from shared.domain.plan import Plan
from shared.domain.records import RegistryRecord
from shared.domain.resources import ALL_PARTS, Observed, Part
from shared.domain.work import PRINCIPAL_LANE, REGISTRY_LANE, Grant, Kind, Watch
from shared.ports import GrantSource, WatchSource
from shared.services.observer import ASSET_PARTS, Observer


@dataclass(frozen=True)
class ReconcileConfig:
    resource_group_prefix: str
    recheck_seconds: float  # when only waiting on ARM, reconcile again after this long


class ItemLanes(Protocol):
    """The asset versions behind item lanes (``AssetLedger``): what a plan works on, and where each
    version's lane reports what it observed (its ledger) and that it is done."""

    def versions(self, registry: str, lane: str) -> tuple[AssetVersionRecord, ...]:
        """A version lane's own version; every version of the registry for the registry lane."""
        ...

    def progress(self, record: RegistryRecord, lane: str, observed: Observed, plan: Plan) -> bool:
        """Record what a version's lane observed; True when its operation may end (``plan.done``)."""
        ...

    def registry_deleted(self, registry: str) -> None:
        """The registry is gone, and its storage with it: forget its versions."""
        ...


class NoItemLanes:
    def versions(self, registry: str, lane: str) -> tuple[AssetVersionRecord, ...]:
        return ()

    def progress(self, record: RegistryRecord, lane: str, observed: Observed, plan: Plan) -> bool:
        return plan.done

    def registry_deleted(self, registry: str) -> None:
        return None


class ReconcileInputs:
    """Works with what ``Reconciler`` is built with."""

    _kinds: tuple[Kind, ...]
    _grants: GrantSource
    _watches: WatchSource
    _lanes: ItemLanes
    _observer: Observer
    _config: ReconcileConfig

    @property
    def kinds(self) -> tuple[Kind, ...]:
        return self._kinds

    def grants_for(self, registry: str) -> tuple[Grant, ...]:
        return self._grants.grants_for(registry)

    def versions_for(self, registry: str, lane: str) -> tuple[AssetVersionRecord, ...]:
        return self._lanes.versions(registry, lane)

    def watches_for(self, registry: str) -> tuple[Watch, ...]:
        """The external sources the promotion rules into ``registry`` watch (none read without Event Grid)."""
        return self._watches.watched_by(registry) if eventgrid.destination() else ()

    @staticmethod
    def parts_for(
        grants: tuple[Grant, ...], lane: str = REGISTRY_LANE, assets: tuple[AssetVersionRecord, ...] = ()
    ) -> frozenset[Part]:
        """What a reconcile reads: the registry's resources, their role assignments when it has data-plane
        grants or works on a principal's access, and the asset copies when it has versions (an asset
        version's lane reads only the storage accounts and its own copies); with Event Grid, the registry's
        topics and subscriptions, and in the registry lane the external sources its rules watch."""
        if lane.startswith(ASSET_LANE):
            return ASSET_PARTS
        parts = ALL_PARTS | {Part.BLOBS} if assets else ALL_PARTS
        if eventgrid.destination():
            parts |= {Part.EVENTS, Part.SOURCES} if lane == REGISTRY_LANE else {Part.EVENTS}
        if grants or lane.startswith(PRINCIPAL_LANE):
            return parts | {Part.ROLE_ASSIGNMENTS}
        return parts

    def observe(
        self,
        record: RegistryRecord,
        lane: str,
        parts: frozenset[Part],
        assets: tuple[AssetVersionRecord, ...],
        watches: tuple[Watch, ...] = (),
    ) -> Observed:
        """What ``parts`` look like now; the blobs of a version's lane under its folder only."""
        prefix = assets[0].prefix if lane.startswith(ASSET_LANE) and len(assets) == 1 else ""
        return self._observer.observe(record, self.group_of(record.key), parts, prefix, watches)

    def with_sources(self, record: RegistryRecord, observed: Observed, watches: tuple[Watch, ...]) -> Observed:
        """``observed`` (from ARM's subscription-wide LISTs) with the external sources of the registry."""
        return self._observer.with_sources(record, observed, watches) if eventgrid.destination() else observed

    def with_blobs(self, observed: Observed) -> Observed:
        """``observed`` (from ARM) with every region's asset copies listed."""
        return replace(observed, blobs=self._observer.blobs(observed, ""))

    def group_of(self, registry: str) -> str:
        return resource_group_name(registry, self._config.resource_group_prefix)
