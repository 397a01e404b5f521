"""Step records: the bookkeeping the reconciler and the step runner share.

A step record is keyed by its lane and step key (``{goal}_{kind}:{subject}``). Within the registry lane
each new operation takes the records of the one before over (a running ARM operation's continuation goes
with it, so it is polled, never started twice); records of different lanes never meet.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.errors import ConcurrentUpdate
from shared.domain.messages import Step
from shared.domain.plan import PlannedStep
from shared.domain.records import StepRecord, StepState, utcnow
from shared.ports import StateStore

MAX_RUNS = 5
"""Times one operation may dispatch the same step; a step still needed after that means something outside
regctl keeps undoing it, and the operation fails with ``DidNotConverge`` instead of writing forever."""

IN_FLIGHT = (StepState.PENDING, StepState.RUNNING)


@dataclass(frozen=True)
class Claimed:
    step: StepRecord
    never_acted: bool  # a new record, or this operation's, still Pending and never attempted


@dataclass(frozen=True)
class Refused:
    """The step cannot run again under this operation: the operation fails with this reason."""

    code: str
    message: str


class StepBook:
    def __init__(self, store: StateStore) -> None:
        self._store = store

    @staticmethod
    def new(registry: str, operation_id: str, step: Step | PlannedStep) -> StepRecord:
        subject = step.subject
        return StepRecord(
            registry=registry,
            key=step.key if isinstance(step, PlannedStep) else step.step_key,
            operation_id=operation_id,
            kind=step.kind,
            goal=step.goal.value,
            region=subject.region,
            index=subject.index,
            item=subject.item,
        )

    def load(self, message: Step, operation_id: str) -> StepRecord:
        """The record ``message`` runs under: stored, or new under ``operation_id``."""
        found = self._store.get_step(message.registry, message.lane, message.step_key)
        if found is not None:
            return found
        return self.new(message.registry, operation_id, message)

    def claim(self, registry: str, operation_id: str, planned: PlannedStep) -> Claimed | Refused:
        """The step record a ready step runs under: new, taken over from an older operation of its lane, or a
        new run of a step this operation already finished but needs again (at most ``MAX_RUNS``). Only a step
        that never acted can act on the planning reconcile's observation, which may predate what an earlier
        run or an older operation's step did."""
        current = self._store.get_step(registry, planned.subject.lane, planned.key)
        if current is None:
            current = self.new(registry, operation_id, planned)
            self._store.save_step(current)
            return Claimed(current, True)
        same_operation = current.operation_id == operation_id
        if same_operation and current.state is StepState.FAILED:
            # The step failed permanently, and that fails its operation: never a new run under it (found by
            # CI: a reconcile landing between the step recording Failed and failing the operation reset the
            # step to Pending and wrote to ARM again).
            code, text = current.failure()
            return Refused(code, f"{planned.key}: {text}")
        if same_operation and current.state in IN_FLIGHT:
            never_acted = current.state is StepState.PENDING and current.attempts == 0 and current.continuation is None
            return Claimed(current, never_acted)  # in flight: the message is a duplicate and dropped as one
        if same_operation:
            current.run += 1
            if current.run >= MAX_RUNS:
                return Refused(
                    "DidNotConverge", f"{planned.key} was still needed after {current.run} runs: {planned.reason}"
                )
        else:
            current.run = 0
        current.operation_id = operation_id
        if current.continuation is None:
            current.state = StepState.PENDING
            current.attempts = 0
            current.last_error = None
        current.updated_at = utcnow()
        self._store.save_step(current)
        return Claimed(current, False)

    def of_operation(self, registry: str, lane: str, operation_id: str) -> list[StepRecord]:
        return self._store.list_steps(registry, lane, operation_id)

    def settle(self, registry: str, lane: str, operation_id: str) -> None:
        """The operation converged: a step of it still waiting to look again has nothing left to do."""
        for step in self.of_operation(registry, lane, operation_id):
            if step.state in IN_FLIGHT:
                step.state = StepState.SUCCEEDED
                step.continuation = None
                step.updated_at = utcnow()
                try:
                    self._store.save_step(step)
                except ConcurrentUpdate:
                    continue  # the step itself is finishing it

    def record(self, step: StepRecord, state: StepState, error: str | None = None) -> None:
        """Save ``step`` as ended (Succeeded, or Failed with ``error``): no continuation is left."""
        step.state = state
        step.continuation = None
        step.last_error = error[:1000] if error else None
        step.updated_at = utcnow()
        self._store.save_step(step)
