"""Run one step: observe -> decide -> act -> record (DESIGN.md section 6).

The decision is the step's kind's own (``shared/domain/decide.py``); the act is one ARM write through the
port, whatever the kind: the decision names the resource and the body. Long-running operations are polled
by scheduled messages, never waited on; a finished step reconciles its operation again (fan-in).
"""

from __future__ import annotations

import hashlib
import logging

from shared.domain.decide import StepContext, decide, reads
from shared.domain.errors import ConcurrentUpdate, NameTaken, PermanentError, StatusUnreadable, TransientError
from shared.domain.kinds import kind_named
from shared.domain.messages import Reconcile, Step
from shared.domain.naming import MAX_NAME_ATTEMPTS
from shared.domain.records import RegistryRecord, StepRecord, StepState, utcnow
from shared.domain.resources import Part
from shared.domain.spec import RegistrySpec
from shared.domain.work import REGISTRY_LANE, Action, Goal, Verb
from shared.observability import ContextLog, context_log
from shared.ports import LroState, StateStore
from shared.services.lifecycle import OperationLifecycle
from shared.services.observer import Actuator
from shared.services.queueing import Dispatcher
from shared.services.reconcile import Reconciler
from shared.services.retry import RetryPolicy
from shared.services.stepbook import IN_FLIGHT, StepBook

log = logging.getLogger(__name__)


def _others_in_flight(siblings: list[StepRecord], step_key: str) -> bool:
    """Whether another step of the operation is still Pending or Running. Each step saves its own
    Succeeded before it looks, so of the last two to finish at least one sees the other done: some step
    always reconciles, and the reconciles (each an observation of ARM) are not one per step."""
    return any(s.key != step_key and s.state in IN_FLIGHT for s in siblings)


def _own_trigger(message: Step) -> str:
    """A reconcile trigger naming one step and its attempt."""
    return f"{message.step_key}:{message.attempt}"


def fan_in_trigger(siblings: list[StepRecord]) -> str:
    """The reconcile trigger of an operation whose steps are all done: the same for every step that sees
    the same steps at the same runs, different once the loop has run any step again."""
    runs = "|".join(sorted(f"{s.key}#{s.run}" for s in siblings))
    return "done:" + hashlib.sha256(runs.encode()).hexdigest()[:16]


def _step_log(message: Step) -> ContextLog:
    return context_log(
        log, registry=message.registry, operation=message.operation_id, step=message.step_key, region=message.region
    )


class StepRunner:
    def __init__(
        self,
        store: StateStore,
        actuator: Actuator,
        dispatcher: Dispatcher,
        reconciler: Reconciler,
        *,
        lifecycle: OperationLifecycle,
        policy: RetryPolicy,
    ) -> None:
        self._store = store
        self._actuator = actuator
        self._dispatch = dispatcher
        self._reconciler = reconciler
        self._lifecycle = lifecycle
        self._policy = policy
        self._book = StepBook(store)

    def handle(self, message: Step, *, redelivered: bool = False) -> None:
        """One delivery; a lost ETag race with another delivery or a reconcile runs it again shortly, on fresh
        state (level-triggered; a duplicate chain is dropped by its message id)."""
        try:
            self.run(message, redelivered=redelivered)
        except ConcurrentUpdate as exc:
            _step_log(message).info("%s; again shortly", exc.code)
            self.retry_later(message, self._policy.backoff(1))

    def _current_operation(self, record: RegistryRecord, message: Step) -> str | None:
        """The operation that owns ``message``'s lane now, or None when its own operation has ended."""
        if message.lane == REGISTRY_LANE:
            return record.operation_id
        operation = self._store.get_operation(message.operation_id)
        if operation is None or operation.status.terminal:
            return None
        newest = self._store.get_lane_operation(record.key, message.lane)
        return operation.id if newest in (None, operation.id) else None

    def run(self, message: Step, *, redelivered: bool = False) -> None:
        """Run one delivery of ``message``; ``redelivered`` when the queue delivered it before (its delivery
        count is over one): then whatever it carries was decided before a crash, so it observes afresh."""
        record = self._store.get_registry(message.registry)
        if record is None:
            return
        current = self._current_operation(record, message)
        if current is None:
            _step_log(message).info("its operation has ended; ignored")
            return
        step = self._book.load(message, current)
        same_run = step.operation_id == current and message.run == step.run
        if message.operation_id == step.operation_id and message.run < step.run:
            _step_log(message).info("run %d superseded by run %d; ignored", message.run, step.run)
            return
        if same_run and step.state in (StepState.SUCCEEDED, StepState.FAILED):
            # Recording a finished step and telling the loop are two writes; a crash between them is
            # redelivered as this duplicate, so tell the loop again instead of dropping it (found by
            # tests/chaos: the host killed mid-run). The reconcile re-sent has the first one's message id.
            _step_log(message).info("already %s; duplicate delivery, telling the loop again", step.state.value)
            if step.state is StepState.SUCCEEDED:
                self._notify_succeeded(message, record, self._fan_in(message, record) or _own_trigger(message))
            else:
                self._notify_failed(message, *step.failure())
            return
        superseded = message.lane == REGISTRY_LANE and (
            message.generation < record.generation or message.operation_id != record.operation_id
        )
        if superseded and step.continuation is None:
            # A late message (a poll, a retry) of an operation that is no longer the registry's own: acting
            # on it would change ARM behind the current operation's back (found by CI: the create's last
            # replica poll recreated a replica deleted by hand under an observe-policy sync). The loop
            # decides instead.
            _step_log(message).info(
                "stale: generation %d, operation %s; the registry is at generation %d, operation %s; reconciling",
                message.generation,
                message.operation_id,
                record.generation,
                record.operation_id,
            )
            self._reconciler.kick(record, trigger=f"stale:{message.step_key}:{message.generation}")
            return
        step.state = StepState.RUNNING
        try:
            if step.continuation is not None:
                self._poll(message, step)
            else:
                spec = None if record.deleting else RegistrySpec.model_validate(record.spec)
                carried = message.action if message.attempt == 0 and not redelivered else None
                self._execute(message, step, spec, carried)
        except ConcurrentUpdate:
            raise
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
        logger = _step_log(message)
        if carried is not None:
            action = carried  # decided by the reconcile from the observation it just made
            logger.info("acting as planned: %s %s %s", action.verb.value, action.name, action.why)
        else:
            record = self._store.get_registry(message.registry)
            if record is None:
                return
            grants = self._reconciler.grants_for(message.registry)
            assets = self._reconciler.versions_for(message.registry, message.lane)
            parts = reads(message.kind)
            watches = self._reconciler.watches_for(message.registry) if Part.SOURCES in parts else ()
            observed = self._reconciler.observe(record, message.lane, parts, assets, watches)
            context = StepContext(
                message.kind,
                message.goal,
                message.subject,
                spec,
                observed,
                group,
                step.name_attempt,
                grants,
                assets,
                watches,
            )
            action = decide(context)
            logger.info("decided %s %s %s", action.verb.value, action.name, action.why)
        if action.verb is Verb.FAIL:
            raise PermanentError(action.why, code=action.code or "StepRefused")
        if action.verb is Verb.NOOP:
            self._succeed(message, step)
            return
        if action.verb is Verb.WAIT:
            self._later(message, step, self._policy.poll_seconds)
            return
        step.resource_name = action.name or step.resource_name
        state = self._act(action)
        if state.done:
            self._succeed(message, step)
        else:
            step.continuation = state.continuation
            self._later(message, step, state.retry_after or self._policy.poll_seconds)

    def _act(self, action: Action) -> LroState:
        return self._actuator.act(action)

    def _poll(self, message: Step, step: StepRecord) -> None:
        assert step.continuation is not None
        try:
            state = self._actuator.poll(step.continuation)
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
            # step (``max_attempts`` is for failures in a row).
            step.attempts = 0
            step.last_error = None
            self._later(message, step, state.retry_after or self._policy.poll_seconds)

    # -- record -----------------------------------------------------------------------------------

    def _succeed(self, message: Step, step: StepRecord) -> None:
        self._book.record(step, StepState.SUCCEEDED)
        record = self._store.get_registry(message.registry)
        trigger = self._fan_in(message, record)
        if trigger is None:
            _step_log(message).info("succeeded; the last step of the operation to finish reconciles")
            return
        _step_log(message).info("succeeded")
        self._notify_succeeded(message, record, trigger)

    def _fan_in(self, message: Step, record: RegistryRecord | None) -> str | None:
        """The trigger a finished step reconciles under, or None while another step of its operation is
        still in flight (the last one to finish reconciles). A step others wait on (the group, the ACR)
        reconciles at once under its own trigger, as does one whose operation no longer owns the registry.
        The last step reconciles under ``fan_in_trigger``: when the last two finish together and each sees
        the other done, both send that same message id and duplicate detection drops one."""
        unblocks = message.goal is Goal.ENSURE and kind_named(message.kind).unblocks
        if unblocks or record is None:
            return _own_trigger(message)
        if message.lane == REGISTRY_LANE and record.operation_id != message.operation_id:
            return _own_trigger(message)
        siblings = self._book.of_operation(message.registry, message.lane, message.operation_id)
        return None if _others_in_flight(siblings, message.step_key) else fan_in_trigger(siblings)

    def _notify_succeeded(self, message: Step, record: RegistryRecord | None, trigger: str) -> None:
        """Fan-in: reconcile the step's operation again, under ``trigger``."""
        if record is None:
            return
        if message.lane == REGISTRY_LANE:
            self._reconciler.kick(record, trigger)
            return
        self._dispatch.send(
            [
                Reconcile(
                    registry=record.key,
                    generation=record.generation,
                    operation_id=message.operation_id,
                    lane=message.lane,
                    trigger=trigger,
                )
            ]
        )

    def _later(self, message: Step, step: StepRecord, delay: float) -> None:
        step.state = StepState.RUNNING
        step.updated_at = utcnow()
        self._store.save_step(step)
        self.retry_later(message, delay)

    def _retry(self, message: Step, step: StepRecord, exc: TransientError) -> None:
        step.attempts += 1
        step.last_error = f"{exc.code}: {exc.message}"[:1000]
        if step.attempts >= self._policy.max_attempts:
            final = f"gave up after {step.attempts} attempts; last error {exc.code}: {exc.message}"
            self._permanent(message, step, PermanentError(final, code=exc.code))
            return
        delay = self._policy.backoff(step.attempts, exc.retry_after)
        _step_log(message).info("transient %s; retry %d in %.1fs", exc.code, step.attempts, delay)
        self._later(message, step, delay)

    def _permanent(self, message: Step, step: StepRecord, exc: PermanentError) -> None:
        if isinstance(exc, NameTaken) and step.name_attempt + 1 < MAX_NAME_ATTEMPTS:
            step.name_attempt += 1
            _step_log(message).info(
                "name %s taken elsewhere (%s); trying name attempt %d", step.resource_name, exc.code, step.name_attempt
            )
            self._later(message, step, 0.0)
            return
        self._book.record(step, StepState.FAILED, f"{exc.code}: {exc.message}")
        self._notify_failed(message, exc.code, exc.message)

    def _notify_failed(self, message: Step, code: str, text: str) -> None:
        """Fail the step's operation with the step's reason (a no-op once the operation is terminal)."""
        reason = f"{message.step_key}: {text}"
        if message.lane != REGISTRY_LANE:
            self._lifecycle.fail(self._store.get_operation(message.operation_id), code, reason)
            return
        record = self._store.get_registry(message.registry)
        if record is not None:
            self._reconciler.fail(record, self._store.get_operation(record.operation_id), code, reason)
