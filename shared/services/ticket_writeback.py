"""Write-back: acceptance, per-region progress and the outcome of a ticket's operation, on the ticket.

Every write rides the ticket queue (``TicketWrite`` messages) and never touches the operation itself
(the queue's ``start`` messages go to ``starter``, ``TicketService.start``, with the same retries):
- ``on_finished`` is an ``OperationEventConsumer`` listener: an operation that belongs to a ticket gets a
  ``final`` write (message id per operation, so duplicate detection drops a re-send);
- ``handle`` performs one write. Each part of it is recorded once done (``TicketStore.mark_written``)
  and skipped when found recorded, so a redelivered or retried write posts nothing twice;
- a ticket system that is down, throttles (429) or fails (5xx) raises ``TransientError``: the write is
  enqueued again with backoff, at least the ``Retry-After`` asked for, up to ``max_attempts`` times;
- ``progress`` looks at the operation's steps: regions whose every step succeeded and that were not
  reported yet are reported, at most once per ``progress_seconds`` per ticket, and the check is scheduled
  again while the operation runs. The final write reports what is left first (when the interval allows;
  otherwise the final comment follows the last progress comment anyway).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from shared.domain.errors import ConcurrentUpdate, PermanentError, TransientError
from shared.domain.messages import OperationFinished
from shared.domain.records import OperationStatus, utcnow
from shared.domain.ticket_writes import TicketWrite, final_text, progress_text, region_progress
from shared.domain.tickets import TicketRef
from shared.observability import context_log
from shared.ports import StateStore, TicketClient, TicketStore
from shared.services.ticket_queue import WriteQueue

log = logging.getLogger(__name__)


class TicketWriteBack:
    def __init__(
        self,
        tickets: TicketStore,
        state: StateStore,
        clients: Mapping[str, TicketClient],
        writes: WriteQueue,
        *,
        progress_seconds: float,
        retry_base_seconds: float,
        retry_max_seconds: float,
        max_attempts: int,
        starter: Callable[[TicketWrite], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._tickets = tickets
        self._state = state
        self._clients = dict(clients)
        self._writes = writes
        self._progress = timedelta(seconds=progress_seconds)
        self._base = retry_base_seconds
        self._max = retry_max_seconds
        self._max_attempts = max_attempts
        self._clock = clock
        self._starter = starter

    def on_finished(self, event: OperationFinished) -> None:
        ref = self._tickets.ticket_of(event.operation_id)
        if ref is None:
            return
        error = f"{event.error_code}: {event.error_message}" if event.error_code else ""
        base = {"source": ref.source, "key": ref.key, "display": ref.display, "table": ref.table}
        self._writes.send(
            TicketWrite(**base, write="final", operation_id=event.operation_id, status=event.status, text=error[:4000])
        )

    def handle(self, write: TicketWrite) -> None:
        logger = context_log(log, operation=write.operation_id, step=f"ticket {write.source}:{write.key}")
        starter, client = self._starter, self._clients.get(write.source)
        perform: Callable[[], None]
        if write.write == "start":
            if starter is None:
                logger.error("no starter for %s; dropped", write.write_id)
                return
            perform = functools.partial(starter, write)
        elif client is None:
            logger.info("no ticket system is configured for %s; %s not written", write.source, write.write)
            return
        else:
            perform = functools.partial(self._perform, write, client)
        try:
            perform()
        except TransientError as exc:
            if write.attempt + 1 >= self._max_attempts:
                logger.error("giving up %s after %d attempts (%s)", write.write_id, write.attempt + 1, exc.code)
                return
            delay = max(exc.retry_after or 0.0, min(self._max, self._base * 2**write.attempt))
            logger.warning("%s not written (%s); again in %.1f s", write.write_id, exc.code, delay)
            self._writes.send(write.model_copy(update={"attempt": write.attempt + 1}), delay)
        except PermanentError as exc:
            logger.error("%s refused by %s: %s", write.write_id, write.source, exc.code)

    # -- the writes --------------------------------------------------------------------------------

    def _once(self, ref: TicketRef, write_id: str, act: Callable[[], None]) -> None:
        if self._tickets.is_written(ref, write_id):
            return
        act()
        self._tickets.mark_written(ref, write_id)

    def _perform(self, write: TicketWrite, client: TicketClient) -> None:
        ref = write.ref
        if write.write in ("accepted", "note"):
            self._once(ref, write.write_id, lambda: client.comment(ref, write.text))
        elif write.write == "progress":
            self._progress_round(write, client)
        else:
            assert write.operation_id is not None and write.status is not None
            self._report_regions(write, client, final=True)
            text = final_text(write.operation_id, write.status, write.text or None)
            self._once(ref, f"{write.write_id}:comment", lambda: client.comment(ref, text))
            if write.status in (OperationStatus.SUCCEEDED.value, OperationStatus.FAILED.value):
                succeeded = write.status == OperationStatus.SUCCEEDED.value
                self._once(ref, f"{write.write_id}:finish", lambda: client.finish(ref, succeeded))

    def _progress_round(self, write: TicketWrite, client: TicketClient) -> None:
        assert write.operation_id is not None
        operation = self._state.get_operation(write.operation_id)
        if operation is None or operation.status.terminal:
            return  # the final write reports what is left
        self._report_regions(write, client, final=False)
        following = write.model_copy(update={"round": write.round + 1, "attempt": 0})
        self._writes.send(following, self._progress.total_seconds())

    def _report_regions(self, write: TicketWrite, client: TicketClient, *, final: bool) -> None:
        """Comment the regions done and not yet reported, when the last such comment is old enough."""
        assert write.operation_id is not None
        operation = self._state.get_operation(write.operation_id)
        record = self._tickets.get_ticket(write.source, write.key)
        if operation is None or record is None:
            return
        done, regions = region_progress(self._state.list_steps(operation.registry, operation.lane, operation.id))
        new = [r for r in done if r not in record.reported_regions]
        now = self._clock()
        if not new or (record.progress_at is not None and now - record.progress_at < self._progress):
            return
        text = progress_text(write.operation_id, done, len(regions))
        write_id = f"{write.write_id}:progress" if final else write.write_id
        self._once(write.ref, write_id, lambda: client.comment(write.ref, text))
        for _ in range(8):
            try:
                record.reported_regions = sorted({*record.reported_regions, *done})
                record.progress_at, record.updated_at = now, now
                self._tickets.save_ticket(record)
                return
            except ConcurrentUpdate:
                fresh = self._tickets.get_ticket(write.source, write.key)
                if fresh is None:
                    return
                record = fresh
