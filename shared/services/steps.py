"""Run one step: observe -> decide -> act -> record (DESIGN.md sections 2 and 6).

- A running ARM operation's continuation is recorded on the step; a redelivered or later step polls it
  (one status request) instead of writing again. Polls are scheduled messages, never sleeps.
- Transient errors back off (Retry-After honoured, exponential with jitter, capped); after
  ``max_attempts`` the step is Failed. A globally unique name taken elsewhere in Azure moves the step to the
  next name of the naming sequence. Other permanent errors fail the step and its operation with the ARM
  code and message.
- When a step finishes, the registry is reconciled again (fan-in by re-evaluation): at once if other steps
  wait on it (group, ACR), otherwise when it is the last step of its operation still in flight. Two last
  steps that finish together send the same reconcile (one message id), so only one observes ARM.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass

from shared.domain.decide import OBSERVES, Action, StepContext, Verb, decide
from shared.domain.errors import PermanentError, StatusUnreadable, TransientError
from shared.domain.messages import Reconcile, Step
from shared.domain.naming import MAX_NAME_ATTEMPTS
from shared.domain.plan import StepKind
from shared.domain.records import RegistryRecord, StepRecord, StepState, utcnow
from shared.domain.spec import RegistrySpec
from shared.ports import ArmGateway, LroState, StateStore
from shared.services.queueing import Dispatcher
from shared.services.reconcile import Reconciler

log = logging.getLogger(__name__)

NAME_TAKEN_CODES = frozenset(
    {
        "StorageAccountAlreadyTaken",
        "StorageAccountAlreadyExists",
        "StorageAccountInAnotherResourceGroup",
        "AlreadyInUse",
        "RegistryNameNotAvailable",
    }
)


UNBLOCKING = frozenset({StepKind.ENSURE_GROUP, StepKind.ENSURE_ACR})
"""Steps other steps wait on (storage and the ACR on the group, replicas on the ACR): when one finishes, the
registry is reconciled at once, whatever else is in flight."""


def _others_in_flight(siblings: list[StepRecord], step_key: str) -> bool:
    """Whether another step of the operation is still Pending or Running. Each step saves its own
    Succeeded before it looks, so of the last two to finish at least one sees the other done: some step
    always reconciles, and the reconciles (each an observation of ARM) are not one per step."""
    return any(s.key != step_key and s.state in (StepState.PENDING, StepState.RUNNING) for s in siblings)


def _own_trigger(message: Step) -> str:
    """A reconcile trigger naming one step and its attempt."""
    return f"{message.step_key}:{message.attempt}"


def fan_in_trigger(siblings: list[StepRecord]) -> str:
    """The reconcile trigger of an operation whose steps are all done: the same for every step that sees
    the same steps at the same runs, different once the loop has run any step again."""
    runs = "|".join(sorted(f"{s.key}#{s.run}" for s in siblings))
    return "done:" + hashlib.sha256(runs.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float
    max_seconds: float
    poll_seconds: float
    max_attempts: int

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter, capped; never shorter than ARM's Retry-After."""
        ceiling = min(self.max_seconds, self.base_seconds * (2 ** max(0, attempts - 1)))
        delay = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not security
        return max(delay, retry_after or 0.0)


class StepRunner:
    def __init__(
        self,
        store: StateStore,
        arm: ArmGateway,
        dispatcher: Dispatcher,
        reconciler: Reconciler,
        policy: RetryPolicy,
    ) -> None:
        self._store = store
        self._arm = arm
        self._dispatch = dispatcher
        self._reconciler = reconciler
        self._policy = policy

    def run(self, message: Step, *, redelivered: bool = False) -> None:
        """Run one delivery of ``message``; ``redelivered`` when the queue delivered it before (its delivery
        count is over one): then whatever it carries was decided before a crash, so it observes afresh."""
        record = self._store.get_registry(message.registry)
        if record is None:
            return
        step = self._store.get_step(record.key, message.step_key)
        if step is None:
            step = StepRecord(
                registry=record.key,
                key=message.step_key,
                operation_id=record.operation_id,
                kind=message.kind.value,
                region=message.region,
                index=message.index,
            )
        same_run = step.operation_id == record.operation_id and message.run == step.run
        if message.operation_id == step.operation_id and message.run < step.run:
            self._log(message, "run %d superseded by run %d; ignored", message.run, step.run)
            return
        if same_run and step.state in (StepState.SUCCEEDED, StepState.FAILED):
            # Recording a finished step and telling the loop (a reconcile, or failing the operation) are two
            # writes; a crash between them is redelivered as this duplicate, so tell the loop again instead of
            # dropping it, or the operation waits for the region-sync timer (found by tests/chaos: the host
            # killed mid-run). The reconcile re-sent has the first one's message id: if that one went out,
            # duplicate detection drops this one.
            self._log(message, "already %s; duplicate delivery, telling the loop again", step.state.value)
            if step.state is StepState.SUCCEEDED:
                self._notify_succeeded(record, self._fan_in(message, record) or _own_trigger(message))
            else:
                self._notify_failed(message, *step.failure())
            return
        superseded = message.generation < record.generation or message.operation_id != record.operation_id
        if superseded and step.continuation is None:
            # A late message (a poll, a retry) of an operation that is no longer the registry's own: a newer
            # spec, or a newer operation at the same generation (a sync), owns the registry now. Acting on it
            # would change ARM behind the current operation's back, even under the observe policy (found by
            # CI: the create's last replica poll, still queued when the create Succeeded, recreated a replica
            # deleted by hand after a sync under the observe policy had started). The loop decides instead.
            self._log(
                message,
                "stale: generation %d, operation %s; the registry is at generation %d, operation %s; reconciling",
                message.generation,
                message.operation_id,
                record.generation,
                record.operation_id,
            )
            self._reconcile(
                record.key,
                record.generation,
                record.operation_id,
                trigger=f"stale:{message.step_key}:{message.generation}",
            )
            return
        step.state = StepState.RUNNING
        try:
            if step.continuation is not None:
                self._poll(message, step)
            else:
                spec = None if record.deleting else RegistrySpec.model_validate(record.spec)
                carried = message.action if message.attempt == 0 and not redelivered else None
                self._execute(message, step, spec, carried)
        except TransientError as exc:
            self._retry(message, step, exc)
        except PermanentError as exc:
            self._permanent(message, step, exc)

    def retry_later(self, message: Step, delay: float) -> None:
        """Deliver ``message`` again after ``delay`` seconds, as its next attempt."""
        self._dispatch.send([message.model_copy(update={"attempt": message.attempt + 1})], delay_seconds=delay)

    # -- observe, decide, act ---------------------------------------------------------------------

    def _execute(self, message: Step, step: StepRecord, spec: RegistrySpec | None, carried: Action | None) -> None:
        group = self._reconciler.group_of(message.registry)
        if carried is not None:
            action = carried  # decided by the reconcile from the observation it just made
            self._log(message, "acting as planned: %s %s %s", action.verb.value, action.name, action.why)
        else:
            observed = self._arm.observe(message.registry, group, OBSERVES[message.kind])
            context = StepContext(message.kind, message.region, message.index, spec, observed, step.name_attempt)
            action = decide(context)
            self._log(message, "decided %s %s %s", action.verb.value, action.name, action.why)
        if action.verb is Verb.NOOP:
            self._succeed(message, step)
            return
        if action.verb is Verb.WAIT:
            self._later(message, step, self._policy.poll_seconds)
            return
        step.resource_name = action.name or step.resource_name
        state = self._act(group, action)
        if state.done:
            self._succeed(message, step)
        else:
            step.continuation = state.continuation
            self._later(message, step, state.retry_after or self._policy.poll_seconds)

    def _act(self, group: str, a: Action) -> LroState:
        arm = self._arm
        if a.verb is Verb.ENSURE_GROUP:
            arm.ensure_group(group, a.location, a.tags)
            return LroState(done=True)
        if a.verb is Verb.CREATE_STORAGE:
            return arm.create_storage(group, a.name, location=a.location, sku=a.sku, hns=a.hns, tags=a.tags)
        if a.verb is Verb.UPDATE_STORAGE:
            arm.update_storage(group, a.name, a.sku, a.tags)
            return LroState(done=True)
        if a.verb is Verb.DELETE_STORAGE:
            arm.delete_storage(group, a.name)
            return LroState(done=True)
        starts = {
            Verb.CREATE_ACR: lambda: arm.create_acr(group, a.name, a.location, a.tags),
            Verb.UPDATE_ACR: lambda: arm.update_acr(group, a.name, a.tags),
            Verb.DELETE_ACR: lambda: arm.delete_acr(group, a.name),
            Verb.CREATE_REPLICA: lambda: arm.create_replica(group, a.parent, a.location, a.tags),
            Verb.DELETE_REPLICA: lambda: arm.delete_replica(group, a.parent, a.location),
            Verb.DELETE_GROUP: lambda: arm.delete_group(group),
        }
        return starts[a.verb]()

    def _poll(self, message: Step, step: StepRecord) -> None:
        assert step.continuation is not None
        try:
            state = self._arm.poll(step.continuation)
        except StatusUnreadable:
            raise  # the operation may still be running: keep the continuation and poll it again later
        except (TransientError, PermanentError):
            # The operation ended Failed/Canceled: forget it. The retry observes ARM afresh and decides
            # again (level-triggered), so nothing is written twice.
            step.continuation = None
            raise
        if state.done:
            step.continuation = None
            self._succeed(message, step)
        else:
            # The status was read: the operation is alive, so earlier failed reads do not count against the
            # step (``max_attempts`` is for failures in a row; a long operation polled through throttling
            # would otherwise run out of attempts while it progresses).
            step.attempts = 0
            step.last_error = None
            self._later(message, step, state.retry_after or self._policy.poll_seconds)

    # -- record -----------------------------------------------------------------------------------

    def _succeed(self, message: Step, step: StepRecord) -> None:
        step.state = StepState.SUCCEEDED
        step.continuation = None
        step.last_error = None
        step.updated_at = utcnow()
        self._store.save_step(step)
        record = self._store.get_registry(message.registry)
        trigger = self._fan_in(message, record)
        if trigger is None:
            self._log(message, "succeeded; the last step of the operation to finish reconciles")
            return
        self._log(message, "succeeded")
        self._notify_succeeded(record, trigger)

    def _fan_in(self, message: Step, record: RegistryRecord | None) -> str | None:
        """The trigger a finished step reconciles under, or None while another step of its operation is
        still in flight (the last one to finish reconciles). A step others wait on (group, ACR) reconciles at
        once under its own trigger, as does one whose operation is no longer the registry's own. The last
        step reconciles under ``fan_in_trigger``: when the last two finish together and each sees the other
        done, both send that same message id and duplicate detection drops one."""
        if message.kind in UNBLOCKING or record is None or record.operation_id != message.operation_id:
            return _own_trigger(message)
        siblings = [s for s in self._store.list_steps(message.registry) if s.operation_id == message.operation_id]
        return None if _others_in_flight(siblings, message.step_key) else fan_in_trigger(siblings)

    def _notify_succeeded(self, record: RegistryRecord | None, trigger: str) -> None:
        """Fan-in: reconcile again, under ``trigger``."""
        if record is not None:
            self._reconcile(record.key, record.generation, record.operation_id, trigger=trigger)

    def _later(self, message: Step, step: StepRecord, delay: float) -> None:
        step.state = StepState.RUNNING
        step.updated_at = utcnow()
        self._store.save_step(step)
        self._dispatch.send([message.model_copy(update={"attempt": message.attempt + 1})], delay_seconds=delay)

    def _retry(self, message: Step, step: StepRecord, exc: TransientError) -> None:
        step.attempts += 1
        step.last_error = f"{exc.code}: {exc.message}"[:1000]
        if step.attempts >= self._policy.max_attempts:
            self._permanent(
                message,
                step,
                PermanentError(
                    f"gave up after {step.attempts} attempts; last error {exc.code}: {exc.message}",
                    code=exc.code,
                ),
            )
            return
        delay = self._policy.backoff(step.attempts, exc.retry_after)
        self._log(message, "transient %s; retry %d in %.1fs", exc.code, step.attempts, delay)
        self._later(message, step, delay)

    def _permanent(self, message: Step, step: StepRecord, exc: PermanentError) -> None:
        if exc.code in NAME_TAKEN_CODES and step.name_attempt + 1 < MAX_NAME_ATTEMPTS:
            step.name_attempt += 1
            self._log(
                message,
                "name %s taken elsewhere (%s); trying name attempt %d",
                step.resource_name,
                exc.code,
                step.name_attempt,
            )
            self._later(message, step, 0.0)
            return
        step.state = StepState.FAILED
        step.continuation = None
        step.last_error = f"{exc.code}: {exc.message}"[:1000]
        step.updated_at = utcnow()
        self._store.save_step(step)
        self._notify_failed(message, exc.code, exc.message)

    def _notify_failed(self, message: Step, code: str, text: str) -> None:
        """Fail the registry's operation with the step's reason (a no-op once the operation is terminal)."""
        record = self._store.get_registry(message.registry)
        if record is not None:
            operation = self._store.get_operation(record.operation_id)
            self._reconciler.fail(record, operation, code, f"{message.step_key}: {text}")

    def _reconcile(self, registry: str, generation: int, operation_id: str, trigger: str) -> None:
        self._dispatch.send(
            [Reconcile(registry=registry, generation=generation, operation_id=operation_id, trigger=trigger)]
        )

    @staticmethod
    def _log(message: Step, text: str, *args: object) -> None:
        log.info(
            "registry=%s operation=%s step=%s region=%s " + text,  # noqa: G003
            message.registry,
            message.operation_id,
            message.step_key,
            message.region,
            *args,
        )
