"""Region sync (the timer): observe every registry with subscription-wide LIST calls, report drift, and
start a sync operation only for the registries that need healing.

One pass costs 3 LIST calls for the subscription plus one replication LIST per registry, whatever the
number of registries; registries already converged cost no further ARM call and no message. A registry
with asset versions costs one data-plane LIST per region besides (a page per 5,000 blobs), which verifies
every copy; a copy lost or changed by hand starts that version's lane. A registry whose promotion rules
watch external sources (with Event Grid configured) costs a GET and two LISTs per source besides.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from shared.domain.commands import SyncRegistry
from shared.domain.errors import PermanentError
from shared.domain.plan import diff
from shared.domain.records import ReconcilePolicy, utcnow
from shared.domain.resources import Observed
from shared.domain.spec import RegistrySpec
from shared.domain.work import REGISTRY_LANE
from shared.observability import context_log
from shared.ports import ArmGateway, StateStore
from shared.services.reconcile import Reconciler
from shared.services.registries import RegistryService

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    checked: int = 0
    in_sync: list[str] = field(default_factory=list)
    healing: list[str] = field(default_factory=list)  # a sync operation was started
    observed_only: list[str] = field(default_factory=list)  # policy observe: drift reported
    skipped: list[str] = field(default_factory=list)  # policy skip
    in_progress: list[str] = field(default_factory=list)  # an operation is converging it already
    failed: list[str] = field(default_factory=list)


class RegionSync:
    def __init__(self, store: StateStore, arm: ArmGateway, registries: RegistryService, reconciler: Reconciler) -> None:
        self._store = store
        self._arm = arm
        self._registries = registries
        self._reconciler = reconciler

    def run(self) -> SyncReport:
        report = SyncReport()
        records = self._store.list_registries()
        if not records:
            return report
        observed_at = utcnow()
        grants = {record.key: self._reconciler.grants_for(record.key) for record in records}
        parts = self._reconciler.parts_for(tuple(g for found in grants.values() for g in found))
        observed_all = self._arm.observe_all(parts)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S")
        for record in records:
            report.checked += 1
            if record.deleting or record.observed_generation != record.generation:
                self._reconciler.kick(record, trigger=f"sync:{stamp}")
                report.in_progress.append(record.key)
                continue
            if record.policy is ReconcilePolicy.SKIP:
                report.skipped.append(record.key)
                continue
            spec = RegistrySpec.model_validate(record.spec)
            assets = self._reconciler.versions_for(record.key, REGISTRY_LANE)
            watches = self._reconciler.watches_for(record.key)
            observed = observed_all.get(record.key, Observed())
            if assets:  # verify every copy: one LIST per region's account (a page per 5,000 blobs)
                observed = self._reconciler.with_blobs(observed)
            observed = self._reconciler.with_sources(record, observed, watches)  # each by id: 3 reads a source
            current = self._reconciler.record_observation(
                record, spec, observed, observed_at, grants=grants[record.key], watches=watches
            )
            if current.policy is ReconcilePolicy.OBSERVE:
                report.observed_only.append(current.key)
                continue
            try:
                group = self._reconciler.group_of(current.key)
                kinds = self._reconciler.kinds
                full = diff(spec, observed, group, kinds, grants=grants[record.key], assets=assets, watches=watches)
            except PermanentError as exc:
                self._reconciler.fail(current, None, exc.code, exc.message)
                report.failed.append(current.key)
                continue
            plan = full.for_lane(REGISTRY_LANE)
            if plan.done:
                lanes = self._reconciler.start_lanes(current, full)
                (report.healing if lanes else report.in_sync).append(current.key)
                continue
            accepted = self._registries.sync(SyncRegistry(current.name))
            context_log(log, registry=current.key, operation=accepted.operation.id, step="region_sync").info(
                "drift found; healing (%d steps ready)", len(plan.ready)
            )
            report.healing.append(current.key)
        return report
