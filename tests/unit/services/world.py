"""The service loop over in-memory fakes: the API service, the reconciler, the step runner, region sync and
the operation lifecycle, built by the same composition root as production (``bootstrap.build`` with fakes
of the ports), with a queue that delivers in order (delays ignored: every step is level-triggered)."""

from __future__ import annotations

from typing import Any

from handlers.auth import Gate
from shared.bootstrap import build
from shared.domain.commands import (
    CreateRegistry,
    DeleteRegistry,
    MergePatch,
    PatchRegistry,
    ReplaceRegistry,
    SetPolicy,
    SyncRegistry,
)
from shared.domain.messages import OperationFinished, Reconcile, Step, decode_message
from shared.domain.records import ReconcilePolicy, RegistryRecord
from shared.domain.work import Kind
from shared.ports import GrantSource
from shared.services.registries import OperationView, RegistryService
from shared.services.registry_operations import Accepted
from shared.settings import Settings
from tests.unit.services.fake_access import OWNER_ID, FakeAccessStore, FakeAuthenticator
from tests.unit.services.fake_assets import FakeAssetStore, FakeDataPlane
from tests.unit.services.fake_promotions import FakeEventPublisher, FakePromotionStore
from tests.unit.services.fake_tickets import FakeTicketStore, FakeTicketSystem
from tests.unit.services.fakes import FakeArm, FakePublisher, FakeStore

MAX_DELIVERIES = 2000

SETTINGS = Settings.model_validate(
    {
        "REGCTL_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
        "MESSAGE_TRANSPORT": "storagequeue",
        "QueueStorageConnection": "UseDevelopmentStorage=true",
        "StateStorageConnection": "UseDevelopmentStorage=true",
        "RECONCILE_QUEUE_NAME": "reconcile",
        "STEPS_QUEUE_NAME": "steps",
        "OPERATION_EVENTS_QUEUE_NAME": "operation-events",
        "RETRY_BASE_SECONDS": "1",
        "RETRY_MAX_SECONDS": "10",
        "LRO_POLL_SECONDS": "1",
        "MAX_STEP_ATTEMPTS": "5",
        "REGCTL_BOOTSTRAP_OWNERS": OWNER_ID,
    }
)


class DocumentApi:
    """The registry service called with request documents, translated into commands as the HTTP edge does."""

    def __init__(self, service: RegistryService) -> None:
        self.service = service

    def create(self, document: dict[str, Any], idempotency_key: str | None = None) -> Accepted:
        return self.service.create(CreateRegistry.from_document(document, idempotency_key))

    def replace(self, name: str, document: dict[str, Any], idempotency_key: str | None = None) -> Accepted:
        return self.service.replace(ReplaceRegistry.from_document(name, document, idempotency_key))

    def patch(self, name: str, patch: Any, idempotency_key: str | None = None) -> Accepted:
        return self.service.patch(PatchRegistry(name, MergePatch.parse(patch), idempotency_key))

    def delete(self, name: str, idempotency_key: str | None = None) -> Accepted:
        return self.service.delete(DeleteRegistry(name, idempotency_key))

    def sync(self, name: str) -> Accepted:
        return self.service.sync(SyncRegistry(name))

    def set_policy(self, name: str, policy: ReconcilePolicy) -> RegistryRecord:
        return self.service.set_policy(SetPolicy(name, policy))

    def get(self, name: str) -> RegistryRecord:
        return self.service.get(name)

    def list(self) -> list[RegistryRecord]:
        return self.service.list()

    def operation(self, operation_id: str) -> OperationView:
        return self.service.operation(operation_id)


class World:
    def __init__(
        self,
        arm: FakeArm | None = None,
        store: FakeStore | None = None,
        publisher: FakePublisher | None = None,
        kinds: tuple[Kind, ...] | None = None,
        grants: GrantSource | None = None,
        data: FakeDataPlane | None = None,
        settings: Settings = SETTINGS,
    ) -> None:
        self.store = store or FakeStore()
        self.data = data or FakeDataPlane()
        self.asset_store = FakeAssetStore()
        self.publisher = publisher or FakePublisher()
        self.arm = arm or FakeArm()
        self.access_store = FakeAccessStore()
        self.authenticator = FakeAuthenticator()
        self.ticket_store = FakeTicketStore()
        self.jira = FakeTicketSystem()
        self.promotion_store = FakePromotionStore()
        self.grid = FakeEventPublisher()
        self.container = build(
            settings,
            store=self.store,
            arm=self.arm,
            publisher=self.publisher,
            credential=object(),
            kinds=kinds,
            grants=grants,
            access_store=self.access_store,
            authenticator=self.authenticator,
            data_plane=self.data,
            asset_store=self.asset_store,
            ticket_store=self.ticket_store,
            ticket_clients={"jira": self.jira},
            promotion_store=self.promotion_store,
            event_publisher=self.grid,
        )
        self.assets = self.container.assets
        self.access = self.container.access
        self.gate = Gate(authenticator=lambda: self.authenticator, access=lambda: self.access)
        self.reconciler = self.container.reconciler
        self.steps = self.container.steps
        self.lifecycle = self.container.lifecycle
        self.api = DocumentApi(self.container.registries)
        self.region_sync = self.container.region_sync
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
                self.reconciler.handle(message)
            else:
                self.steps.handle(message, redelivered=redelivered)

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

    @property
    def events(self) -> list[OperationFinished]:
        """Every OperationFinished published, in order (re-sends included)."""
        return [OperationFinished.model_validate_json(m.body) for m in self.publisher.events]
