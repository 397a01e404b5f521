"""Reconcile a registry: observe ARM, diff against the newest spec, enqueue the ready steps.

Level-triggered (DESIGN.md section 2): a Reconcile message only names the registry; the newest stored
spec is what the loop works toward. When nothing is left the operation Succeeds; a permanent error from
planning fails it with the reason. With no ready step but resources still provisioning, a later
Reconcile is scheduled so progress never depends on one message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from shared.domain.decide import Action, StepContext, Verb, decide
from shared.domain.drift import drift
from shared.domain.errors import Conflict, PermanentError
from shared.domain.messages import Reconcile, Step
from shared.domain.naming import resource_group_name
from shared.domain.plan import Plan, PlannedStep, diff
from shared.domain.records import (
    OperationRecord,
    OperationStatus,
    ReconcilePolicy,
    RegistryRecord,
    RegistryStatus,
    StepRecord,
    StepState,
    utcnow,
)
from shared.domain.resources import Observed
from shared.domain.spec import RegistrySpec
from shared.ports import ArmGateway, StateStore
from shared.services.queueing import Dispatcher

log = logging.getLogger(__name__)

MAX_RUNS = 5
"""Times one operation may dispatch the same step; a step still needed after that means something outside
regctl keeps undoing it, and the operation fails with ``DidNotConverge`` instead of writing forever."""


OBSERVATION_WRITE_ATTEMPTS = 4


@dataclass(frozen=True)
class StepView:
    """What a reconcile saw, handed to the steps it plans: each carries the decision its step would make
    from this observation, so the step's first delivery need not read ARM again."""

    spec: RegistrySpec | None
    observed: Observed

    def action(self, planned: PlannedStep, step: StepRecord) -> Action | None:
        context = StepContext(planned.kind, planned.region, planned.index, self.spec, self.observed, step.name_attempt)
        decided = decide(context)
        return None if decided.verb in (Verb.NOOP, Verb.WAIT) else decided


@dataclass(frozen=True)
class ReconcileConfig:
    resource_group_prefix: str
    recheck_seconds: float  # when only waiting on ARM, reconcile again after this long


def summarize(observed: Observed) -> dict[str, object]:
    """Per-resource state for the registry document."""
    return {
        "resource_group": (
            {"name": observed.group.name, "location": observed.group.location, "state": observed.group.state}
            if observed.group
            else None
        ),
        "storage_accounts": [
            {
                "name": s.name,
                "region": s.region,
                "index": s.index,
                "sku": s.sku,
                "hns": s.hns,
                "state": s.state,
            }
            for s in sorted(observed.storage, key=lambda s: (s.region, s.index))
        ],
        "container_registry": (
            {
                "name": observed.acr.name,
                "location": observed.acr.location,
                "sku": observed.acr.sku,
                "state": observed.acr.state,
            }
            if observed.acr
            else None
        ),
        "replicas": [
            {"name": r.name, "location": r.location, "state": r.state}
            for r in sorted(observed.replicas, key=lambda r: r.location)
        ],
    }


class Reconciler:
    def __init__(self, store: StateStore, arm: ArmGateway, dispatcher: Dispatcher, config: ReconcileConfig) -> None:
        self._store = store
        self._arm = arm
        self._dispatch = dispatcher
        self._config = config

    def group_of(self, registry: str) -> str:
        return resource_group_name(registry, self._config.resource_group_prefix)

    def reconcile(self, message: Reconcile) -> None:
        record = self._store.get_registry(message.registry)
        if record is None:
            log.info(
                "registry=%s operation=%s step=reconcile region=- gone; nothing to do",
                message.registry,
                message.operation_id,
            )
            return
        operation = self._store.get_operation(record.operation_id)
        if operation is not None and operation.status is OperationStatus.FAILED:
            # A Failed operation is over: the loop stops until a new operation (sync, update, delete) is
            # accepted. Without this, steps still in flight when it failed triggered reconciles that ran the
            # failed step again under the Failed operation (new ARM writes after a permanent error, up to
            # MAX_RUNS), and could flip the step and the registry back to Succeeded/Ready behind the
            # operation's back (found by tests/chaos, permanent-failure scenario).
            log.info(
                "registry=%s operation=%s step=reconcile region=- operation Failed; nothing to do until a new one",
                record.key,
                record.operation_id,
            )
            return
        converged = record.observed_generation == record.generation and not record.deleting
        if converged and record.policy is ReconcilePolicy.SKIP:
            log.info(
                "registry=%s operation=%s step=reconcile region=- policy skip; not observed",
                record.key,
                record.operation_id,
            )
            self._finish(operation)
            return
        spec = None if record.deleting else RegistrySpec.model_validate(record.spec)
        observed_at = utcnow()
        observed = self._arm.observe(record.key, self.group_of(record.key))
        if spec is not None:
            record = self.record_observation(record, spec, observed, observed_at)
        if converged and record.policy is ReconcilePolicy.OBSERVE:
            log.info(
                "registry=%s operation=%s step=reconcile region=- policy observe; drift=%d",
                record.key,
                record.operation_id,
                len(record.drift),
            )
            self._finish(operation)
            return
        try:
            plan = diff(spec, observed)
        except PermanentError as exc:
            self.fail(record, operation, exc.code, exc.message)
            return
        if plan.done:
            self._converged(record, operation)
            return
        self._progress(record, operation, plan, message, StepView(spec, observed))

    def record_observation(
        self, record: RegistryRecord, spec: RegistrySpec, observed: Observed, observed_at: datetime
    ) -> RegistryRecord:
        """Keep what ARM showed and the drift on the registry record (written only when it changed).

        ``observed_at`` is when the observation began. Observations of one registry run concurrently (a
        reconcile per finished step, the region-sync pass, a sync request), so they may reach the record
        out of order: one that began before the recorded one is dropped, never written over it (it could
        show a resource deleted since as still there). A write that loses the ETag race is applied to the
        fresh record under the same rule, as long as that record is still the same generation (a newer
        spec is the newer reconcile's business)."""
        resources = summarize(observed)
        found = [item.to_dict() for item in drift(spec, observed)]
        for _ in range(OBSERVATION_WRITE_ATTEMPTS):
            if record.observed_at is not None and record.observed_at > observed_at:
                log.info(
                    "registry=%s operation=%s step=observe region=- a newer observation is recorded; dropped",
                    record.key,
                    record.operation_id,
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
            except Conflict:
                fresh = self._store.get_registry(record.key)
                if fresh is None or fresh.generation != record.generation:
                    raise
                record = fresh
        raise Conflict(
            f'registry "{record.name}" kept changing while its observation was written', code="ConcurrentUpdate"
        )

    def _finish(self, operation: OperationRecord | None) -> None:
        if operation is not None and not operation.status.terminal:
            operation.status = OperationStatus.SUCCEEDED
            operation.updated_at = utcnow()
            self._store.save_operation(operation)

    def _progress(
        self,
        record: RegistryRecord,
        operation: OperationRecord | None,
        plan: Plan,
        message: Reconcile,
        view: StepView,
    ) -> None:
        if operation is not None and operation.status is OperationStatus.ACCEPTED:
            operation.status = OperationStatus.RUNNING
            operation.updated_at = utcnow()
            self._store.save_operation(operation)
        steps: list[Reconcile | Step] = []
        for planned in plan.ready:
            claimed = self._claim(record, f"{planned.kind}:{planned.region}:{planned.index}", planned)
            if claimed is None:
                return
            step, never_acted = claimed
            steps.append(
                Step(
                    registry=record.key,
                    generation=record.generation,
                    operation_id=record.operation_id,
                    kind=planned.kind,
                    region=planned.region,
                    index=planned.index,
                    run=step.run,
                    action=view.action(planned, step) if never_acted else None,
                )
            )
        log.info(
            "registry=%s operation=%s step=reconcile region=- ready=%d waiting=%d busy=%d",
            record.key,
            record.operation_id,
            len(plan.ready),
            len(plan.waiting),
            len(plan.busy),
        )
        self._dispatch.send(steps)
        if not plan.ready:
            later = Reconcile(
                registry=record.key,
                generation=record.generation,
                operation_id=record.operation_id,
                trigger="recheck",
                attempt=message.attempt + 1,
            )
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

    def _claim(self, record: RegistryRecord, key: str, planned: PlannedStep) -> tuple[StepRecord, bool] | None:
        """The step record a ready step runs under: new, taken over from an older operation, or a new run of
        a step this operation already finished but needs again (at most ``MAX_RUNS``). The flag says whether
        the step has never acted (a new record, or this operation's, still Pending, never attempted): only
        then can it act on this reconcile's observation, which may predate what an earlier run or an older
        operation's step did."""
        current = self._store.get_step(record.key, key)
        if current is None:
            current = StepRecord(
                registry=record.key,
                key=key,
                operation_id=record.operation_id,
                kind=planned.kind.value,
                region=planned.region,
                index=planned.index,
            )
            self._store.save_step(current)
            return current, True
        same_operation = current.operation_id == record.operation_id
        if same_operation and current.state is StepState.FAILED:
            # The step failed permanently, and that fails its operation: never a new run under it. The step
            # records Failed before it fails the operation, and this reconcile checked the operation before
            # observing, so it can land in between (found by CI: a new run reset the Failed step to Pending,
            # and wrote to ARM again, after the permanent error).
            code, text = current.failure()
            self.fail(record, self._store.get_operation(record.operation_id), code, f"{key}: {text}")
            return None
        if same_operation and current.state in (StepState.RUNNING, StepState.PENDING):
            never_acted = current.state is StepState.PENDING and current.attempts == 0 and current.continuation is None
            return current, never_acted  # in flight: the message is a duplicate and dropped as one
        if same_operation:
            current.run += 1
            if current.run >= MAX_RUNS:
                operation = self._store.get_operation(record.operation_id)
                self.fail(
                    record,
                    operation,
                    "DidNotConverge",
                    f"{key} was still needed after {current.run} runs: {planned.reason}",
                )
                return None
        else:
            current.run = 0
        current.operation_id = record.operation_id
        if current.continuation is None:
            current.state = StepState.PENDING
            current.attempts = 0
            current.last_error = None
        current.updated_at = utcnow()
        self._store.save_step(current)
        return current, False

    def _converged(self, record: RegistryRecord, operation: OperationRecord | None) -> None:
        self._settle_steps(record)
        if record.deleting:
            # Step records stay: the delete operation's document lists them; a registry created again
            # under the same name takes them over (a new operation resets each one).
            self._store.delete_registry(record)
            log.info("registry=%s operation=%s step=reconcile region=- deleted", record.key, record.operation_id)
        elif record.observed_generation != record.generation or record.status is not RegistryStatus.READY:
            record.observed_generation = record.generation
            record.status = RegistryStatus.READY
            record.updated_at = utcnow()
            self._store.replace_registry(record)
            log.info(
                "registry=%s operation=%s step=reconcile region=- converged generation=%d",
                record.key,
                record.operation_id,
                record.generation,
            )
        self._finish(operation)

    def _settle_steps(self, record: RegistryRecord) -> None:
        """Converged: a step of this operation still waiting to look again has nothing left to do."""
        for step in self._store.list_steps(record.key):
            if step.operation_id == record.operation_id and step.state in (StepState.PENDING, StepState.RUNNING):
                step.state = StepState.SUCCEEDED
                step.continuation = None
                step.updated_at = utcnow()
                try:
                    self._store.save_step(step)
                except Conflict:
                    continue  # the step itself is finishing it

    def fail(self, record: RegistryRecord, operation: OperationRecord | None, code: str, message: str) -> None:
        """Record a permanent failure on the operation and the registry; it stays visible in the API."""
        log.warning(
            "registry=%s operation=%s step=reconcile region=- failed code=%s: %s",
            record.key,
            record.operation_id,
            code,
            message,
        )
        if operation is not None and not operation.status.terminal:
            operation.status = OperationStatus.FAILED
            operation.error_code = code
            operation.error_message = message
            operation.updated_at = utcnow()
            self._store.save_operation(operation)
        fresh = self._store.get_registry(record.key)
        if fresh is not None and fresh.operation_id == record.operation_id:
            fresh.status = RegistryStatus.FAILED
            fresh.updated_at = utcnow()
            self._store.replace_registry(fresh)
