"""The service loop over in-memory fakes: the API service, the reconciler, the step runner and region sync,
with a queue that delivers in order (delays ignored: every step is level-triggered)."""

from __future__ import annotations

from shared.domain.messages import Reconcile, Step, decode_message
from shared.services.queueing import Dispatcher, Queues
from shared.services.reconcile import ReconcileConfig, Reconciler
from shared.services.region_sync import RegionSync
from shared.services.registries import RegistryService
from shared.services.steps import RetryPolicy, StepRunner
from tests.unit.services.fakes import FakeArm, FakePublisher, FakeStore

MAX_DELIVERIES = 2000


class World:
    def __init__(self, arm: FakeArm | None = None, store: FakeStore | None = None) -> None:
        self.store = store or FakeStore()
        self.publisher = FakePublisher()
        self.arm = arm or FakeArm()
        dispatcher = Dispatcher(self.publisher, Queues("reconcile", "steps"))
        self.reconciler = Reconciler(self.store, self.arm, dispatcher, ReconcileConfig("regctl-", 5.0))
        self.steps = StepRunner(
            self.store,
            self.arm,
            dispatcher,
            self.reconciler,
            RetryPolicy(base_seconds=1, max_seconds=10, poll_seconds=1, max_attempts=5),
        )
        self.api = RegistryService(self.store, dispatcher)
        self.region_sync = RegionSync(self.store, self.arm, self.api, self.reconciler)
        self.delivered = 0
        self._seen: set[str] = set()

    def deliver(self, message: Reconcile | Step, times: int = 1) -> None:
        """Deliver ``message`` ``times`` times; a message delivered before counts as a redelivery (its
        delivery count is over one), as the queue reports it."""
        for _ in range(times):
            self.delivered += 1
            redelivered = message.message_id in self._seen
            self._seen.add(message.message_id)
            if isinstance(message, Reconcile):
                self.reconciler.reconcile(message)
            else:
                self.steps.run(message, redelivered=redelivered)

    def deliver_next(self, times: int = 1) -> bool:
        """Deliver the oldest queued message ``times`` times; False when the queue is empty."""
        if not self.publisher.sent:
            return False
        assert self.delivered < MAX_DELIVERIES, "the loop does not converge"
        self.deliver(decode_message(self.publisher.sent.pop(0).body), times)
        return True

    def drain(self, times: int = 1) -> None:
        while self.deliver_next(times):
            pass
