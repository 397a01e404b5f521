"""The ledger of each asset version: where its copy stands in every region (``ItemLanes`` of the reconciler).

Each reconcile of a version's lane observes its copies (one LIST per region) and records, per region of
the registry: ``Replicated`` when every file of the manifest is there with its size and Content-MD5,
``Copying`` while a step of the lane's operation is at work, ``Failed`` when that step gave up, else
``Pending``. The version is ``Available`` once every region is replicated; its pending upload is deleted
then (the copies are the source from now on). A version being deleted is forgotten once no copy is left.
"""

from __future__ import annotations

import logging

from shared.domain.asset_records import (
    ASSET_LANE,
    AssetStatus,
    AssetVersionRecord,
    CopyState,
    RegionCopy,
    lane_version,
)
from shared.domain.kinds.assets import KIND as COPY
from shared.domain.kinds.assets import accounts, files_in
from shared.domain.manifest import ASSET_CONTAINER, differences
from shared.domain.plan import Plan
from shared.domain.records import RegistryRecord, StepRecord, StepState, utcnow
from shared.domain.resources import Observed
from shared.domain.spec import RegistrySpec
from shared.domain.work import REGISTRY_LANE, Context
from shared.observability import context_log
from shared.ports import AssetStore, DataPlane, StateStore

log = logging.getLogger(__name__)
COPY_KIND = COPY.name


class AssetLedger:
    def __init__(self, store: StateStore, assets: AssetStore, data: DataPlane) -> None:
        self._store = store
        self._assets = assets
        self._data = data

    def versions(self, registry: str, lane: str) -> tuple[AssetVersionRecord, ...]:
        if lane == REGISTRY_LANE:
            return tuple(self._assets.list_versions(registry))
        named = lane_version(lane)
        if named is None:
            return ()
        found = self._assets.get(registry, f"{named[0].value}:{named[1]}:{named[2]}")
        return (found,) if found is not None else ()

    def registry_deleted(self, registry: str) -> None:
        for version in self._assets.list_versions(registry):
            self._assets.delete(version)

    def progress(self, record: RegistryRecord, lane: str, observed: Observed, plan: Plan) -> bool:
        if not lane.startswith(ASSET_LANE):
            return plan.done
        versions = self.versions(record.key, lane)
        if not versions:
            return True  # forgotten meanwhile: nothing left to do
        version = versions[0]
        logger = context_log(log, registry=record.key, operation=version.lane, step="ledger")
        if version.status is AssetStatus.DELETING:
            if plan.done:
                self._forget(record, version, observed)
                logger.info("every copy deleted; version forgotten")
            return plan.done
        spec = RegistrySpec.model_validate(record.spec) if not record.deleting else None
        ledger = self.ledger(record, spec, version, observed)
        complete = bool(ledger) and all(c.state is CopyState.REPLICATED for c in ledger.values())
        status = AssetStatus.AVAILABLE if complete else version.status
        changed = ledger != version.ledger or status is not version.status
        upload = version.upload_source if complete else None
        if changed or upload is not None:
            version.ledger = ledger
            version.status = status
            version.upload = "" if complete else version.upload
            version.updated_at = utcnow()
            self._assets.save(version)  # ConcurrentUpdate: the reconcile runs again on fresh records
            logger.info("ledger %s", {r: c.state.value for r, c in ledger.items()})
        if upload is not None:
            self._drop_upload(observed, spec, upload[0])
        return plan.done and complete

    def ledger(
        self, record: RegistryRecord, spec: RegistrySpec | None, version: AssetVersionRecord, observed: Observed
    ) -> dict[str, RegionCopy]:
        if spec is None:
            return dict(version.ledger)
        ctx = Context(spec, observed, "")
        by_region = accounts(ctx)
        steps: dict[str, StepRecord] = {}
        operation = self._store.get_lane_operation(record.key, version.lane)
        if operation is not None:
            for record_step in self._store.list_steps(record.key, version.lane, operation):
                if record_step.kind == COPY_KIND:
                    steps[record_step.region] = record_step
        ledger: dict[str, RegionCopy] = {}
        for location in spec.replication_locations:
            region = location.location
            account = by_region.get(region)
            if account is None:
                ledger[region] = RegionCopy(CopyState.PENDING)
                continue
            uri = f"{account.blob_endpoint.rstrip('/')}/{ASSET_CONTAINER}/{version.prefix}"
            have = files_in(ctx, account, version.prefix) or {}
            lacking = differences(version.files, have)
            done_files = len(version.files) - len(lacking)
            done_bytes = version.total_bytes - sum(f.size for f in lacking)
            step = steps.get(region)
            if version.files and not lacking:
                state, error = CopyState.REPLICATED, None
            elif step is not None and step.state is StepState.FAILED:
                state, error = CopyState.FAILED, step.last_error
            elif step is not None and step.state in (StepState.PENDING, StepState.RUNNING):
                state, error = CopyState.COPYING, step.last_error
            else:
                state, error = CopyState.PENDING, None
            ledger[region] = RegionCopy(state, uri, done_files, done_bytes, error)
        return ledger

    def _forget(self, record: RegistryRecord, version: AssetVersionRecord, observed: Observed) -> None:
        spec = RegistrySpec.model_validate(record.spec) if not record.deleting else None
        upload = version.upload_source
        if upload is not None:
            self._drop_upload(observed, spec, upload[0])
        self._assets.delete(version)

    def _drop_upload(self, observed: Observed, spec: RegistrySpec | None, container: str) -> None:
        if spec is None:
            return
        account = accounts(Context(spec, observed, "")).get(spec.location)
        if account is not None:
            self._data.delete_container(account.blob_endpoint, container)
