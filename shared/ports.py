"""Ports: the interfaces the services need, as ``typing.Protocol``. Adapters implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from shared.domain.access import Principal, RoleAssignment
from shared.domain.activity import ActivityEntry
from shared.domain.asset_records import AssetVersionRecord
from shared.domain.manifest import BlobListing
from shared.domain.promotions import Promotion, PromotionRule
from shared.domain.records import OperationRecord, RegistryRecord, StepRecord
from shared.domain.resources import ALL_PARTS, Observed, ObservedSource, Part
from shared.domain.roles import RoleDefinition
from shared.domain.rule_sources import WatchedSource
from shared.domain.tickets import DeliveryResult, TicketRecord, TicketRef
from shared.domain.work import Grant, ResourceRef, Watch


@dataclass(frozen=True)
class OutboundMessage:
    """A message to enqueue. ``message_id`` is the idempotency key (duplicate detection)."""

    queue: str
    message_id: str
    body: str
    subject: str = ""
    application_properties: dict[str, str | int] = field(default_factory=dict)
    delay_seconds: float = 0.0
    content_type: str = "application/json"


class MessagePublisher(Protocol):
    def publish(self, messages: Sequence[OutboundMessage]) -> None:
        """Enqueue every message (scheduled ones with their delay); raise on failure, send nothing twice."""
        ...

    def close(self) -> None: ...


class StateStore(Protocol):
    """Registries, operations and step records, with optimistic concurrency (ETags). Errors leave as
    regctl's: ``ConcurrentUpdate`` for a lost race, ``TransientError`` when the store is unavailable."""

    def ping(self) -> None:
        """One cheap read (health checks)."""
        ...

    def create_registry(self, registry: RegistryRecord, operation: OperationRecord) -> None:
        """Store a new registry and its first operation atomically; ``Conflict`` (``RegistryExists``) if the
        name exists."""
        ...

    def replace_registry(self, registry: RegistryRecord, operation: OperationRecord | None = None) -> None:
        """Replace the registry if its ETag still matches (``ConcurrentUpdate`` otherwise), with a new operation
        in the same transaction when given."""
        ...

    def delete_registry(self, registry: RegistryRecord) -> None: ...

    def get_registry(self, key: str) -> RegistryRecord | None: ...

    def list_registries(self) -> list[RegistryRecord]: ...

    def get_operation(self, operation_id: str) -> OperationRecord | None: ...

    def save_operation(self, operation: OperationRecord) -> None:
        """Replace the operation if its ETag matches (``ConcurrentUpdate`` otherwise)."""
        ...

    def list_pending_events(self) -> list[OperationRecord]:
        """Operations whose ``OperationFinished`` is written but not known to be sent (the outbox)."""
        ...

    def find_idempotent(self, registry: str, idempotency_key: str) -> OperationRecord | None: ...

    def get_step(self, registry: str, lane: str, key: str) -> StepRecord | None: ...

    def save_step(self, step: StepRecord) -> None:
        """Insert or replace (ETag-checked when the record carries one; ``ConcurrentUpdate`` on a lost race)."""
        ...

    def list_steps(self, registry: str, lane: str, operation_id: str | None = None) -> list[StepRecord]:
        """The step records of one lane of a registry, only ``operation_id``'s when given (one range read)."""
        ...

    def get_lane_operation(self, registry: str, lane: str) -> str | None:
        """The newest operation of an item lane of a registry (None before the first)."""
        ...

    def set_lane_operation(self, registry: str, lane: str, operation_id: str) -> None: ...

    def is_seen(self, scope: str, key: str) -> bool:
        """Whether ``mark_seen(scope, key)`` was recorded (deduplicating consumers of at-least-once
        deliveries)."""
        ...

    def mark_seen(self, scope: str, key: str) -> None: ...


@dataclass(frozen=True)
class LroState:
    """Where an ARM write stands: finished, or running with a continuation to poll later."""

    done: bool
    continuation: str | None = None
    retry_after: float | None = None


class ArmGateway(Protocol):
    """The ARM calls the steps make. Errors are raised as ``TransientError`` / ``PermanentError``.

    Writes take a ``ResourceRef`` and an ARM request body (wire names), so a new kind of work on a resource
    type the adapter knows needs no new method here."""

    def observe(self, registry: str, resource_group: str, parts: frozenset[Part] = ALL_PARTS) -> Observed:
        """What regctl manages for one registry, read with LIST calls: the ``parts`` asked for (the group,
        when not asked for, is reported as existing, details unread, or missing)."""
        ...

    def observe_all(self, parts: frozenset[Part] = ALL_PARTS) -> dict[str, Observed]:
        """Every registry regctl manages in the subscription, keyed by registry, read with subscription-wide
        LIST calls (region sync); role assignments only when ``parts`` asks for them."""
        ...

    def observe_sources(self, sources: Sequence[WatchedSource], subscription: str) -> tuple[ObservedSource, ...]:
        """Each external source as ARM shows it: a GET of the resource, a LIST of the system topics in its
        resource group (the one whose ``source`` it is), and a LIST of that topic's event subscriptions, of
        which the one named ``subscription`` is the registry's own."""
        ...

    def put(self, ref: ResourceRef, body: dict[str, Any]) -> LroState:
        """Create or replace the resource."""
        ...

    def patch(self, ref: ResourceRef, body: dict[str, Any]) -> LroState:
        """Update the properties ``body`` names."""
        ...

    def delete(self, ref: ResourceRef) -> LroState:
        """Delete the resource; one already gone is done."""
        ...

    def poll(self, continuation: str) -> LroState:
        """One status request for a running operation; raises if it ended Failed or Canceled."""
        ...


class GrantSource(Protocol):
    """The data-plane grants of a registry, from the role assignments that reach it (the access service)."""

    def grants_for(self, registry: str) -> tuple[Grant, ...]: ...


class NoGrants:
    """A GrantSource with no grants (a control plane with no role assignments store)."""

    def grants_for(self, registry: str) -> tuple[Grant, ...]:
        return ()


class WatchSource(Protocol):
    """The external sources promotion rules into a registry watch (from the promotion store's rules)."""

    def watched_by(self, registry: str) -> tuple[Watch, ...]: ...


class NoWatches:
    """A WatchSource with nothing watched (a control plane without promotion rules)."""

    def watched_by(self, registry: str) -> tuple[Watch, ...]:
        return ()


class DataPlane(Protocol):
    """The blob data plane of the registries' storage accounts (asset uploads, copies, verification).

    Accounts are named by their blob endpoint (ARM's ``primaryEndpoints.blob``). Copies are server-side
    (Copy Blob From URL up to 256 MiB, else Copy Blob polled); the source is read with a short-lived
    user-delegation SAS under the app's identity. Errors are classified as the ARM adapter's are."""

    def list_blobs(self, endpoint: str, container: str, prefix: str) -> dict[str, BlobListing]:
        """Every blob of ``container`` under ``prefix``, by full name (paged LISTs); {} without the container."""
        ...

    def read_blob(self, endpoint: str, container: str, name: str, limit: int) -> bytes:
        """A small blob's content (an ``asset.yml``); ``NotFound`` when absent, ``InvalidSpec`` over ``limit``."""
        ...

    def copy(self, body: dict[str, Any]) -> LroState:
        """Copy ``body["files"]`` from ``body["source"]`` to ``body["target"]`` (``kinds/assets.py``); not
        done while an asynchronous copy is pending (the continuation polls them)."""
        ...

    def poll(self, continuation: str) -> LroState:
        """Look at the pending copies a ``copy`` left; done when every one has ended well."""
        ...

    def delete_blobs(self, body: dict[str, Any]) -> LroState:
        """Delete every blob under ``body["target"]``'s prefix."""
        ...

    def create_container(self, endpoint: str, container: str) -> None:
        """Create ``container`` (nothing when it exists)."""
        ...

    def delete_container(self, endpoint: str, container: str) -> None:
        """Delete ``container`` (nothing when it is gone)."""
        ...

    def container_url(self, endpoint: str, container: str, *, write: bool, minutes: int, prefix: str = "") -> str:
        """The container's URL with a SAS: read and list, plus create and write when ``write``; valid
        ``minutes`` from now."""
        ...


class AssetStore(Protocol):
    """Asset versions (with their manifests and ledgers) per registry. Writes are ETag-checked:
    ``create`` raises ``Conflict`` when the version exists, ``save`` ``ConcurrentUpdate`` when it changed."""

    def get(self, registry: str, row: str) -> AssetVersionRecord | None:
        """The version ``row`` (``{type}:{name}:{version}``), with its files."""
        ...

    def list_versions(self, registry: str, prefix: str = "") -> list[AssetVersionRecord]:
        """The registry's versions whose row starts with ``prefix``, with their files."""
        ...

    def create(self, record: AssetVersionRecord) -> None: ...

    def save(self, record: AssetVersionRecord) -> None: ...

    def delete(self, record: AssetVersionRecord) -> None: ...


class Authenticator(Protocol):
    """Who a request is: from its headers (a bearer token, or App Service Authentication's headers),
    ``Unauthenticated`` when there is none or it is invalid."""

    def authenticate(self, headers: Mapping[str, str]) -> Principal: ...


class AccessStore(Protocol):
    """Custom role definitions, role assignments, the access version and the activity log."""

    def version(self) -> int:
        """A number every change of a definition or an assignment increases (cache invalidation)."""
        ...

    def bump_version(self) -> int: ...

    def list_definitions(self) -> list[RoleDefinition]: ...

    def save_definition(self, definition: RoleDefinition) -> None: ...

    def delete_definition(self, role_id: str) -> None: ...

    def list_assignments(self) -> list[RoleAssignment]: ...

    def data_plane_operations(self, assignment_id: str) -> dict[str, str]:
        """The operations (registry key -> operation id) that apply an assignment's data-plane roles."""
        ...

    def save_assignment(self, assignment: RoleAssignment, data_plane: dict[str, str]) -> None: ...

    def delete_assignment(self, assignment_id: str) -> None: ...

    def record_activity(self, entry: ActivityEntry) -> None: ...

    def list_activity(self, registry: str | None, since: datetime | None, limit: int) -> list[ActivityEntry]: ...


class TicketStore(Protocol):
    """Tickets, the webhook deliveries seen, the operation -> ticket index, and the writes done to tickets
    (docs/tickets.md). ``save_ticket`` is ETag-checked (``ConcurrentUpdate`` on a lost race; a record without
    an ETag is inserted, and one already there is a lost race too)."""

    def get_delivery(self, source: str, delivery_id: str) -> DeliveryResult | None: ...

    def record_delivery(
        self, source: str, delivery_id: str, result: DeliveryResult, ticket: TicketRecord | None = None
    ) -> DeliveryResult | None:
        """Keep ``result`` as the first answer to a delivery, with ``ticket`` (when given) saved in the same
        write: a new ticket is one insert that carries the answer (its ``first_delivery``), an existing one
        an ETag-checked transaction of the delivery row and the ticket. None when stored; the first answer
        when the delivery was answered before (nothing written); ``ConcurrentUpdate`` when the ticket was
        made or changed meanwhile (nothing written)."""
        ...

    def get_ticket(self, source: str, key: str) -> TicketRecord | None: ...

    def save_ticket(self, record: TicketRecord) -> None: ...

    def link_operation(self, operation_id: str, ref: TicketRef) -> None: ...

    def ticket_of(self, operation_id: str) -> TicketRef | None: ...

    def is_written(self, ref: TicketRef, write_id: str) -> bool: ...

    def mark_written(self, ref: TicketRef, write_id: str) -> None: ...


class TicketClient(Protocol):
    """Writing to a ticket system (Jira Cloud REST v3, the ServiceNow Table API). Errors leave as regctl's:
    ``TransientError`` (with ``retry_after``) for 429, 5xx and no answer; ``PermanentError`` otherwise."""

    def comment(self, ref: TicketRef, text: str) -> None: ...

    def finish(self, ref: TicketRef, succeeded: bool) -> None:
        """The final transition (Jira, by name) or state (ServiceNow)."""
        ...


class EventPublisher(Protocol):
    """regctl's own events out (docs/events.md): Event Grid schema dicts, each with a stable ``id``. An Event
    Grid custom topic in Azure; in the sandbox a stand-in topic that delivers them to the events queue.
    Raises ``TransientError`` when the topic cannot take them (the caller retries; ids deduplicate)."""

    def publish(self, events: Sequence[dict[str, Any]]) -> None: ...


class PromotionStore(Protocol):
    """Promotion rules, promotions and dead-lettered events. ``create_promotion`` raises ``Conflict`` when
    the id exists (at most one promotion per id); saves are ETag-checked (``ConcurrentUpdate``)."""

    def get_rule(self, name: str) -> PromotionRule | None: ...

    def list_rules(self) -> list[PromotionRule]: ...

    def save_rule(self, rule: PromotionRule) -> None: ...

    def delete_rule(self, name: str) -> None: ...

    def get_promotion(self, promotion_id: str) -> Promotion | None: ...

    def list_promotions(self) -> list[Promotion]: ...

    def create_promotion(self, promotion: Promotion) -> None: ...

    def save_promotion(self, promotion: Promotion) -> None: ...

    def dead_letter(self, message_id: str, reason: str, body: str) -> None:
        """Keep an event that could not be used, with the reason (never retried)."""
        ...

    def dead_letters(self) -> list[dict[str, str]]: ...
