"""The events handler's service: every event on the events queue, once (docs/events.md).

1. Parse: Event Grid schema or CloudEvents 1.0, one event per message. Anything else is dead-lettered
   with its reason (kept in the promotion store) and completed: retrying cannot fix it.
2. Deduplicate by event id (the ``Seen`` table, scope ``event``), besides Service Bus duplicate detection
   on the message id (= the event id). The id is recorded only after the event was handled, so a crash in
   between delivers it again, and handling it again is harmless (promotions are keyed by their cause).
   An event that made promotions is recorded by them instead (each keyed by its cause and carrying the
   event id): a duplicate of it finds them made and makes none, and is recorded then. The ids this process
   handled or found recorded lately are remembered (``RECENT_IDS``), so a duplicate it already knows costs
   no read; a record is never taken back, so remembering it is never wrong.
3. Ignore what regctl itself wrote: blobs in containers named ``assets`` or ``upload-*`` (the containers
   regctl writes in; the account is not checked), images in ``environments/`` repositories.
4. Route: ``Regctl.Registries.AssetVersionAvailable`` of a registry, ``ImagePushed`` of a watched ACR
   and ``BlobCreated`` of an ``asset.yml`` under a watched prefix to the promotion rules; the other
   events of the subscribed types are ignored. Foreign event types are dead-lettered (nothing subscribed
   them), and so is an event of a watched source that cannot become a version (an untagged push, say).

The trigger takes the queue in batches (``cardinality: many``): ``handle_all`` runs a batch's events side
by side, up to ``EVENTS_IN_PARALLEL`` at once. One failed event fails the call after the others ran, so
Service Bus delivers the whole batch again; the events handled are then duplicates this process knows.
When every event that failed was on its last delivery (``EVENTS_MAX_DELIVERY_COUNT``, the queue's
``maxDeliveryCount``), they are dead-lettered here with the code of their last error and the call
succeeds: Service Bus would otherwise dead-letter the whole batch, the neighbours that were handled too.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from shared.domain.errors import TransientError
from shared.domain.events import (
    ASSET_VERSION_AVAILABLE,
    BLOB_CREATED,
    BLOB_DELETED,
    IMAGE_DELETED,
    IMAGE_PUSHED,
    REGCTL_TYPES,
    Event,
    MalformedEvent,
    parse_asset_subject,
    parse_event,
)
from shared.domain.rule_sources import ASSET_FILE
from shared.domain.source_events import NotUsable
from shared.observability import context_log, continued
from shared.ports import PromotionStore, StateStore
from shared.services.promotions import PromotionService

log = logging.getLogger(__name__)
SEEN_SCOPE = "event"
RECENT_IDS = 20_000
_WATCHED = frozenset({BLOB_CREATED, BLOB_DELETED, IMAGE_PUSHED, IMAGE_DELETED})


@dataclass(frozen=True)
class Delivered:
    """One message of the events queue, as the trigger hands it over."""

    body: bytes
    properties: Mapping[str, object] = field(default_factory=dict)
    message_id: str | None = None
    #: Service Bus's delivery count: 1 on the first delivery.
    delivery_count: int = 1


class EventsFailed(TransientError):
    """Some events of a batch could not be handled now: the batch is delivered again."""

    code = "EventsFailed"


@dataclass(frozen=True)
class Outcome:
    what: str  # dead-lettered, duplicate, ignored, handled
    detail: str = ""
    recorded: bool = False  # the promotions it made record it: no Seen row is written


def regctl_wrote(event: Event) -> bool:
    """Whether ``event`` is about regctl's own writes (its copies, uploads and image imports)."""
    if event.type in (BLOB_CREATED, BLOB_DELETED):
        return "/containers/assets/" in event.subject or "/containers/upload-" in event.subject
    if event.type in (IMAGE_PUSHED, IMAGE_DELETED):
        target = event.data.get("target")
        repository = target.get("repository", "") if isinstance(target, dict) else ""
        return str(repository).startswith("environments/")
    return False


class EventIntake:
    def __init__(
        self,
        store: StateStore,
        promotions: PromotionService,
        dead: PromotionStore,
        *,
        parallel: int = 16,
        max_deliveries: int = 10,
    ) -> None:
        self._store = store
        self._promotions = promotions
        self._dead = dead
        self._max_deliveries = max_deliveries
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max(1, parallel), "events")

    def handle_all(self, deliveries: Sequence[Delivered]) -> list[Outcome]:
        """Every event of one batch, side by side, each in the trace its message carries; their outcomes in
        the batch's order. Raises ``EventsFailed`` after all ran when any of them raised (the first is its
        cause), unless every one that raised was on its last delivery: those are dead-lettered here."""
        futures = [self._pool.submit(self._traced, delivery) for delivery in deliveries]
        outcomes: list[Outcome | None] = []
        failed: list[tuple[int, Delivered, BaseException]] = []
        for delivery, future in zip(deliveries, futures, strict=True):
            error = future.exception()
            if error is None:
                outcomes.append(future.result())
            else:
                failed.append((len(outcomes), delivery, error))
                outcomes.append(None)
        if failed and all(delivery.delivery_count >= self._max_deliveries for _, delivery, _ in failed):
            for index, delivery, error in failed:
                outcomes[index] = self._give_up(delivery, error)
        elif failed:
            _, first_delivery, first = failed[0]
            context_log(log, step="events").warning(
                "%d of %d events failed (first %s: %s): the batch is delivered again",
                len(failed),
                len(deliveries),
                first_delivery.message_id,
                type(first).__name__,
            )
            raise EventsFailed(f"{len(failed)} of {len(deliveries)} events failed") from first
        return [outcome for outcome in outcomes if outcome is not None]

    def _give_up(self, delivery: Delivered, error: BaseException) -> Outcome:
        """Dead-letter an event that failed on its last delivery, naming its last error by code or type only
        (an error's text may hold a URL with a SAS token)."""
        code = getattr(error, "code", None) or type(error).__name__
        count, most = delivery.delivery_count, self._max_deliveries
        reason = f"MaxDeliveryCountExceeded: delivery {count} of at most {most} failed ({code})"
        return self._dead_letter(delivery.message_id, reason, delivery.body)

    def _traced(self, delivery: Delivered) -> Outcome:
        with continued(delivery.properties, "event"):
            return self.handle(delivery.body, delivery.message_id)

    def _known(self, seen: str) -> bool:
        with self._lock:
            if seen in self._recent:
                self._recent.move_to_end(seen)
                return True
        if not self._store.is_seen(SEEN_SCOPE, seen):
            return False
        self._remember(seen)
        return True

    def _remember(self, seen: str) -> None:
        with self._lock:
            self._recent[seen] = None
            while len(self._recent) > RECENT_IDS:
                self._recent.popitem(last=False)

    def _dead_letter(self, message_id: str | None, reason: str, body: bytes) -> Outcome:
        key = message_id or hashlib.sha256(body).hexdigest()
        self._dead.dead_letter(key, reason, body.decode("utf-8", errors="replace"))
        context_log(log, step="events").warning("dead-lettered event %s: %s", key, reason)
        return Outcome("dead-lettered", reason)

    def handle(self, body: bytes, message_id: str | None = None) -> Outcome:
        try:
            event = parse_event(body)
        except MalformedEvent as exc:
            return self._dead_letter(message_id, exc.reason, body)
        logger = context_log(log, step="events", operation=event.id)
        seen = hashlib.sha256(event.id.encode()).hexdigest()
        if self._known(seen):
            logger.info("duplicate event %s (%s); dropped", event.id, event.type)
            return Outcome("duplicate", event.type)
        if event.type not in REGCTL_TYPES | _WATCHED:
            return self._dead_letter(message_id or event.id, f"foreign event type {event.type[:100]}", body)
        if event.type == ASSET_VERSION_AVAILABLE and parse_asset_subject(event.subject) is None:
            return self._dead_letter(message_id or event.id, f"not an asset subject: {event.subject[:200]}", body)
        try:
            outcome = self._route(event)
        except NotUsable as exc:
            return self._dead_letter(message_id or event.id, f"{exc.code}: {exc}", body)
        if not outcome.recorded:
            self._store.mark_seen(SEEN_SCOPE, seen)
        self._remember(seen)
        logger.info("event %s %s: %s %s", event.type, event.subject, outcome.what, outcome.detail)
        return outcome

    def _route(self, event: Event) -> Outcome:
        if regctl_wrote(event):
            return Outcome("ignored", "regctl's own write")
        if event.type == ASSET_VERSION_AVAILABLE:
            made = self._promotions.on_available(event)
        elif event.type == IMAGE_PUSHED:
            made = self._promotions.on_image_pushed(event)
        elif event.type == BLOB_CREATED and event.subject.endswith("/" + ASSET_FILE):
            made = self._promotions.on_blob_created(event)
        else:
            return Outcome("ignored", "no rule acts on it")
        return Outcome("handled", f"{len(made)} promotion(s)", recorded=bool(made))
