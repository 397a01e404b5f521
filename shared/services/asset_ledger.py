"""The ledger of each asset version: where its copy stands in every region (``ItemLanes`` of the reconciler).

Each reconcile of a version's lane observes its copies (one LIST per region) and records, per region of
the registry: ``Replicated`` when every file of the manifest is there with its size and Content-MD5,
``Copying`` while a step of the lane's operation is at work, ``Failed`` when that step gave up, else
``Pending``. The version is ``Available`` once every region is replicated; its pending upload is deleted
then (the copies are the source from now on). A version being deleted is forgotten once no copy is left.
Becoming Available and being forgotten are announced (``RegctlEvents``) before they are recorded, so a
crash in between announces them again, with the same event id.
"""

from __future__ import annotations

import logging
from dataclasses import replace

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
from shared.domain.kinds.images import KIND as IMAGE
from shared.domain.kinds.images import target_tag
from shared.domain.manifest import ASSET_CONTAINER, differences
from shared.domain.plan import Plan
from shared.domain.records import RegistryRecord, StepRecord, StepState, utcnow
from shared.domain.resources import SUCCEEDED, Observed
from shared.domain.spec import RegistrySpec
from shared.domain.work import REGISTRY_LANE, Context
from shared.observability import context_log
from shared.ports import AssetStore, DataPlane, StateStore
from shared.services.regctl_events import RegctlEvents

log = logging.getLogger(__name__)
COPY_KIND = COPY.name
IMAGE_KIND = IMAGE.name


def _state(verified: bool, step: StepRecord | None) -> tuple[CopyState, str | None]:
    if verified:
        return CopyState.REPLICATED, None
    if step is not None and step.state is StepState.FAILED:
        return CopyState.FAILED, step.last_error
    if step is not None and step.state in (StepState.PENDING, StepState.RUNNING):
        return CopyState.COPYING, step.last_error
    return CopyState.PENDING, None


def _image_served(observed: Observed, primary: str, region: str) -> bool:
    """The ACR serves ``region``: its home is there, or its replica there has been created."""
    if observed.acr is None or observed.acr.state != SUCCEEDED:
        return False
    if region == primary:
        return True
    replica = observed.replica_in(region)
    return replica is not None and replica.state == SUCCEEDED


_RANK = {CopyState.FAILED: 0, CopyState.COPYING: 1, CopyState.PENDING: 2, CopyState.REPLICATED: 3}


def _combined(parts: list[RegionCopy]) -> RegionCopy:
    """A region is as far as its least advanced part (files, image)."""
    if not parts:
        return RegionCopy(CopyState.REPLICATED)
    worst = min(parts, key=lambda p: _RANK[p.state])
    first = parts[0]  # the files' copy when the version has files, else the image
    return RegionCopy(worst.state, first.uri, first.files, first.bytes, worst.error)


class AssetLedger:
    def __init__(
        self, store: StateStore, assets: AssetStore, data: DataPlane, events: RegctlEvents | None = None
    ) -> None:
        self._store = store
        self._assets = assets
        self._data = data
        self._events = events

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
        imported = version.imported
        ledger = self.ledger(record, spec, version, observed)
        complete = bool(ledger) and all(c.state is CopyState.REPLICATED for c in ledger.values())
        status = AssetStatus.AVAILABLE if complete else version.status
        changed = ledger != version.ledger or status is not version.status or imported != version.imported
        upload = version.upload_source if complete else None
        if status is AssetStatus.AVAILABLE and version.status is not AssetStatus.AVAILABLE and self._events:
            self._events.available(record.name, replace(version, ledger=ledger))
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

    def _steps(self, record: RegistryRecord, version: AssetVersionRecord) -> dict[tuple[str, str], StepRecord]:
        """The lane's current operation's steps, by (kind, region)."""
        operation = self._store.get_lane_operation(record.key, version.lane)
        if operation is None:
            return {}
        return {(s.kind, s.region): s for s in self._store.list_steps(record.key, version.lane, operation)}

    def ledger(
        self, record: RegistryRecord, spec: RegistrySpec | None, version: AssetVersionRecord, observed: Observed
    ) -> dict[str, RegionCopy]:
        """Per region: the files' copy (when the version has files) and the image (when it has one)."""
        if spec is None:
            return dict(version.ledger)
        ctx = Context(spec, observed, "")
        by_region = accounts(ctx)
        steps = self._steps(record, version)
        import_step = steps.get((IMAGE_KIND, spec.location))
        if version.image and not version.imported and import_step and import_step.state is StepState.SUCCEEDED:
            version.imported = target_tag(version)
        ledger: dict[str, RegionCopy] = {}
        for location in spec.replication_locations:
            region = location.location
            parts: list[RegionCopy] = []
            if version.files:
                account = by_region.get(region)
                if account is None:
                    parts.append(RegionCopy(CopyState.PENDING))
                else:
                    uri = f"{account.blob_endpoint.rstrip('/')}/{ASSET_CONTAINER}/{version.prefix}"
                    lacking = differences(version.files, files_in(ctx, account, version.prefix) or {})
                    done = (len(version.files) - len(lacking), version.total_bytes - sum(f.size for f in lacking))
                    state, error = _state(not lacking, steps.get((COPY_KIND, region)))
                    parts.append(RegionCopy(state, uri, done[0], done[1], error))
            if version.image:
                served = _image_served(observed, spec.location, region)
                state, error = _state(bool(version.imported) and served, import_step)
                parts.append(RegionCopy(state, version.imported, 0, 0, error))
            ledger[region] = _combined(parts)
        return ledger

    def _forget(self, record: RegistryRecord, version: AssetVersionRecord, observed: Observed) -> None:
        spec = RegistrySpec.model_validate(record.spec) if not record.deleting else None
        upload = version.upload_source
        if upload is not None:
            self._drop_upload(observed, spec, upload[0])
        if self._events is not None:
            self._events.deleted(record.name, version)
        self._assets.delete(version)

    def _drop_upload(self, observed: Observed, spec: RegistrySpec | None, container: str) -> None:
        if spec is None:
            return
        account = accounts(Context(spec, observed, "")).get(spec.location)
        if account is not None:
            self._data.delete_container(account.blob_endpoint, container)
