"""Reconcile a registry: observe ARM, diff against the newest spec, enqueue the ready steps.

Level-triggered (DESIGN.md section 2): a Reconcile message only names the registry (and the lane of its
operation); the newest stored spec is what the loop works toward. When nothing is left the operation
Succeeds; a permanent error from planning fails it with the reason. With no ready step but resources still
provisioning, a later Reconcile is scheduled so progress never depends on one message.

The registry lane (create, update, delete, sync) is the registry's own: its newest operation owns it. An
operation of another lane (an item such as an asset version) plans only its own subjects and ends on its
own, beside whatever the registry lane does.

What a reconcile reads (grants, asset versions, watched sources, which parts of ARM, the observation) is the
part ``Reconciler`` inherits: ``shared.services.reconcile_inputs``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from shared.domain.asset_records import ASSET_LANE
from shared.domain.decide import StepView
from shared.domain.drift import drift, summarize
from shared.domain.errors import ConcurrentUpdate, PermanentError, TransientError
from shared.domain.kinds import KINDS
from shared.domain.messages import Reconcile, Step
from shared.domain.plan import Plan, diff
from shared.domain.records import (
    OperationKind,
    OperationRecord,
    OperationStatus,
    ReconcilePolicy,
    RegistryRecord,
    RegistryStatus,
    utcnow,
)
from shared.domain.resources import Observed
from shared.domain.spec import RegistrySpec
from shared.domain.work import REGISTRY_LANE, Grant, Kind, Watch
from shared.observability import ContextLog, context_log
from shared.ports import GrantSource, NoGrants, NoWatches, StateStore, WatchSource
from shared.services.lifecycle import OperationLifecycle
from shared.services.observer import Observer
from shared.services.queueing import Dispatcher
from shared.services.reconcile_inputs import ItemLanes, NoItemLanes, ReconcileConfig, ReconcileInputs
from shared.services.retry import RetryPolicy
from shared.services.stepbook import Refused, StepBook

log = logging.getLogger(__name__)

OBSERVATION_WRITE_ATTEMPTS = 4


def _log(registry: str, operation: str) -> ContextLog:
    return context_log(log, registry=registry, operation=operation, step="reconcile")


class Reconciler(ReconcileInputs):
    def __init__(
        self,
        store: StateStore,
        observer: Observer,
        dispatcher: Dispatcher,
        lifecycle: OperationLifecycle,
        *,
        config: ReconcileConfig,
        retry: RetryPolicy,
        kinds: tuple[Kind, ...] = KINDS,
        grants: GrantSource | None = None,
        lanes: ItemLanes | None = None,
        watches: WatchSource | None = None,
    ) -> None:
        self._kinds = kinds
        self._grants: GrantSource = grants or NoGrants()
        self._watches: WatchSource = watches or NoWatches()
        self._lanes: ItemLanes = lanes or NoItemLanes()
        self._store = store
        self._observer = observer
        self._dispatch = dispatcher
        self._lifecycle = lifecycle
        self._config = config
        self._retry = retry
        self._book = StepBook(store)

    def handle(self, message: Reconcile) -> None:
        """One delivery: reconcile, or reconcile again later after a transient failure (a lost ETag race
        with a request or another reconcile included: the next one reads fresh state)."""
        try:
            self.reconcile(message)
        except TransientError as exc:
            delay = self._retry.backoff(message.attempt + 1, exc.retry_after)
            _log(message.registry, message.operation_id).warning("transient %s; again in %.1fs", exc.code, delay)
            self.retry_later(message, delay)

    def reconcile(self, message: Reconcile) -> None:
        record = self._store.get_registry(message.registry)
        if record is None:
            _log(message.registry, message.operation_id).info("gone; nothing to do")
            return
        if message.lane != REGISTRY_LANE:
            self._reconcile_lane(record, message)
            return
        logger = _log(record.key, record.operation_id)
        operation = self._store.get_operation(record.operation_id)
        if operation is not None and operation.status is OperationStatus.FAILED:
            # A Failed operation is over: the loop stops until a new operation is accepted (found by
            # tests/chaos: steps still in flight re-ran the failed step under the Failed operation).
            logger.info("operation Failed; nothing to do until a new one")
        else:
            self._reconcile_registry(record, operation, message)

    def _reconcile_registry(
        self, record: RegistryRecord, operation: OperationRecord | None, message: Reconcile
    ) -> None:
        logger = _log(record.key, record.operation_id)
        converged = record.observed_generation == record.generation and not record.deleting
        if converged and record.policy is ReconcilePolicy.SKIP:
            logger.info("policy skip; not observed")
            self._lifecycle.succeed(operation)
            return
        spec = None if record.deleting else RegistrySpec.model_validate(record.spec)
        observed_at = utcnow()
        group = self.group_of(record.key)
        grants, watches = self.grants_for(record.key), self.watches_for(record.key)
        assets = self.versions_for(record.key, REGISTRY_LANE)
        parts = self.parts_for(grants, REGISTRY_LANE, assets)
        observed = self.observe(record, REGISTRY_LANE, parts, assets, watches)
        if spec is not None:
            record = self.record_observation(record, spec, observed, observed_at, grants=grants, watches=watches)
        if converged and record.policy is ReconcilePolicy.OBSERVE:
            logger.info("policy observe; drift=%d", len(record.drift))
            self._lifecycle.succeed(operation)
            return
        try:
            full = diff(spec, observed, group, self._kinds, grants=grants, assets=assets, watches=watches)
        except PermanentError as exc:
            self.fail(record, operation, exc.code, exc.message)
            return
        plan = full.for_lane(REGISTRY_LANE)
        if plan.done:
            self._converged(record, operation)
            if not record.deleting:
                self.start_lanes(record, full)
            return
        view = StepView(spec, observed, group, grants, assets, watches)
        self._progress(record, record.operation_id, operation, plan, message=message, view=view)

    def _reconcile_lane(self, record: RegistryRecord, message: Reconcile) -> None:
        """An operation of an item lane: plan its own subjects only, and end it when they are done."""
        operation = self._store.get_operation(message.operation_id)
        if operation is None or operation.status.terminal:
            return
        if self._store.get_lane_operation(record.key, message.lane) not in (None, operation.id):
            return  # superseded by a newer operation of the lane, which is cancelling this one
        spec = None if record.deleting else RegistrySpec.model_validate(record.spec)
        group = self.group_of(record.key)
        grants = self.grants_for(record.key)
        assets = self.versions_for(record.key, message.lane)
        observed = self.observe(record, message.lane, self.parts_for(grants, message.lane, assets), assets)
        try:
            plan = diff(spec, observed, group, self._kinds, grants=grants, assets=assets).for_lane(message.lane)
        except PermanentError as exc:
            self._lifecycle.fail(operation, exc.code, exc.message)
            return
        if self._lanes.progress(record, message.lane, observed, plan):
            self._book.settle(record.key, message.lane, operation.id)
            self._lifecycle.succeed(operation)
            return
        if plan.done:  # nothing to run, yet not settled (a version still being registered): look again
            later = message.model_copy(update={"trigger": "recheck", "attempt": message.attempt + 1})
            self._dispatch.send([later], delay_seconds=self._config.recheck_seconds)
            return
        view = StepView(spec, observed, group, grants, assets)
        self._progress(record, operation.id, operation, plan, message=message, view=view)

    def record_observation(
        self,
        record: RegistryRecord,
        spec: RegistrySpec,
        observed: Observed,
        observed_at: datetime,
        *,
        grants: tuple[Grant, ...] = (),
        watches: tuple[Watch, ...] = (),
    ) -> RegistryRecord:
        """Keep what ARM showed and the drift on the registry record (written only when it changed).

        ``observed_at`` is when the observation began. Observations of one registry run concurrently (a
        reconcile per finished step, the region-sync pass, a sync request), so they may reach the record
        out of order: one that began before the recorded one is dropped, never written over it (it could
        show a resource deleted since as still there). A write that loses the ETag race is applied to the
        fresh record under the same rule, as long as that record is still the same generation (a newer
        spec is the newer reconcile's business)."""
        resources = summarize(observed, self._kinds)
        found = [item.to_dict() for item in drift(spec, observed, self._kinds, grants, watches)]
        for _ in range(OBSERVATION_WRITE_ATTEMPTS):
            if record.observed_at is not None and record.observed_at > observed_at:
                context_log(log, registry=record.key, operation=record.operation_id, step="observe").info(
                    "a newer observation is recorded; dropped"
                )
                return record
            if resources == record.resources and found == record.drift:
                return record
            record.resources = resources
            record.drift = found
            record.observed_at = observed_at
            try:
                self._store.replace_registry(record)
                return record
            except ConcurrentUpdate:
                fresh = self._store.get_registry(record.key)
                if fresh is None or fresh.generation != record.generation:
                    raise
                record = fresh
        raise ConcurrentUpdate(f'registry "{record.name}" kept changing while its observation was written')

    def _progress(
        self,
        record: RegistryRecord,
        operation_id: str,
        operation: OperationRecord | None,
        plan: Plan,
        *,
        message: Reconcile,
        view: StepView,
    ) -> None:
        self._lifecycle.running(operation)
        steps: list[Reconcile | Step] = []
        for planned in plan.ready:
            claimed = self._book.claim(record.key, operation_id, planned)
            if isinstance(claimed, Refused):
                if message.lane == REGISTRY_LANE:
                    self.fail(record, self._store.get_operation(operation_id), claimed.code, claimed.message)
                else:
                    self._lifecycle.fail(self._store.get_operation(operation_id), claimed.code, claimed.message)
                return
            subject = planned.subject
            steps.append(
                Step(
                    registry=record.key,
                    generation=record.generation,
                    operation_id=operation_id,
                    kind=planned.kind,
                    goal=planned.goal,
                    region=subject.region,
                    index=subject.index,
                    item=subject.item,
                    target=subject.target,
                    run=claimed.step.run,
                    action=view.action(planned, claimed.step.name_attempt) if claimed.never_acted else None,
                )
            )
        _log(record.key, operation_id).info(
            "ready=%d waiting=%d busy=%d", len(plan.ready), len(plan.waiting), len(plan.busy)
        )
        self._dispatch.send(steps)
        if not plan.ready:
            later = message.model_copy(update={"trigger": "recheck", "attempt": message.attempt + 1})
            if message.lane == REGISTRY_LANE:
                later = later.model_copy(update={"generation": record.generation, "operation_id": operation_id})
            self._dispatch.send([later], delay_seconds=self._config.recheck_seconds)

    def retry_later(self, message: Reconcile, delay: float) -> None:
        """Reconcile again after ``delay`` seconds (a transient failure of this one)."""
        again = message.model_copy(update={"attempt": message.attempt + 1})
        self._dispatch.send([again], delay_seconds=delay)

    def kick(self, record: RegistryRecord, trigger: str) -> None:
        """Enqueue a reconcile of ``record`` toward its newest generation, under its newest operation."""
        message = Reconcile(
            registry=record.key, generation=record.generation, operation_id=record.operation_id, trigger=trigger
        )
        self._dispatch.send([message])

    def start_lanes(self, record: RegistryRecord, plan: Plan) -> list[str]:
        """Level-triggered item work: an operation for every item lane the plan has steps in (a principal's
        data-plane roles missing in a region just added, or removed by hand), unless one is running. The
        lanes it started."""
        started: list[str] = []
        for lane in sorted({s.subject.lane for s in plan.ready + plan.waiting} - {REGISTRY_LANE}):
            if self._lifecycle.current(record.key, lane) is not None:
                continue  # its running operation re-plans the lane anyway
            kind = OperationKind.REPLICATE if lane.startswith(ASSET_LANE) else OperationKind.GRANT
            operation = self._lifecycle.start(record, kind, lane, supersede=False)
            _log(record.key, operation.id).info("lane %s needs work; started", lane)
            started.append(lane)
        return started

    def _converged(self, record: RegistryRecord, operation: OperationRecord | None) -> None:
        self._book.settle(record.key, REGISTRY_LANE, record.operation_id)
        logger = _log(record.key, record.operation_id)
        if record.deleting:
            # Step records stay: the delete operation's document lists them; a registry created again
            # under the same name takes them over (a new operation resets each one).
            self._store.delete_registry(record)
            self._lanes.registry_deleted(record.key)
            logger.info("deleted")
        elif record.observed_generation != record.generation or record.status is not RegistryStatus.READY:
            record.observed_generation = record.generation
            record.status = RegistryStatus.READY
            record.updated_at = utcnow()
            self._store.replace_registry(record)
            logger.info("converged generation=%d", record.generation)
        self._lifecycle.succeed(operation)

    def fail(self, record: RegistryRecord, operation: OperationRecord | None, code: str, message: str) -> None:
        """Record a permanent failure on the operation and the registry; it stays visible in the API."""
        _log(record.key, record.operation_id).warning("failed code=%s: %s", code, message)
        self._lifecycle.fail(operation, code, message)
        fresh = self._store.get_registry(record.key)
        if fresh is not None and fresh.operation_id == record.operation_id:
            fresh.status = RegistryStatus.FAILED
            fresh.updated_at = utcnow()
            self._store.replace_registry(fresh)
