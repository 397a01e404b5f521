"""The trigger runtime: every queue pump and timer of the indexed app, started and stopped together.

It creates nothing that infra creates: the function queues and their dead-letter queues must exist
(``python -m sandbox up`` makes them, as Bicep does in Azure), and a missing one fails the start with its
name, instead of a function silently never firing. The duplicate-detection table is the emulator's own
state (the broker's history in Azure), so the runtime creates it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueClient

from sandbox.host.bindings import IndexedApp
from sandbox.host.config import HostJson, QueueOptions
from sandbox.host.dedup import DuplicateDetector
from sandbox.host.invoker import Invoker, Watchdog
from sandbox.host.queues import QueuePump, dead_letter_queue
from sandbox.host.timers import TimerRunner

logger = logging.getLogger(__name__)

#: The app setting whose connection string reaches the Storage queues that stand in for Service Bus.
QUEUE_CONNECTION_SETTING = "QueueStorageConnection"
_PURGE_EVERY_SECONDS = 300.0


class RuntimeStartError(Exception):
    """The runtime cannot start (missing queue, missing connection setting)."""


class TriggerRuntime:
    def __init__(
        self,
        indexed: IndexedApp,
        *,
        host: HostJson,
        options: QueueOptions,
        settings: Mapping[str, str],
        schedules: bool = True,
    ) -> None:
        self._indexed = indexed
        self._schedules = schedules  # False in every host instance but the first: timers fire there
        self._host = host
        self._options = options
        self._settings = settings
        self._invoker = Invoker()
        self._watchdog = Watchdog(host.function_timeout_seconds)
        self._dedup: DuplicateDetector | None = None
        self._pumps: list[QueuePump] = []
        self._timers: dict[str, TimerRunner] = {}
        self._stop = threading.Event()

    @property
    def timers(self) -> Mapping[str, TimerRunner]:
        return self._timers

    def describe(self) -> list[dict[str, object]]:
        """The functions the runtime drives (for the admin listing and the startup log)."""
        described: list[dict[str, object]] = [
            {"name": f.name, "trigger": "serviceBusTrigger", "queue": f.queue, "connection": f.connection}
            for f in self._indexed.queue_functions
        ]
        described += [
            {
                "name": f.name,
                "trigger": "timerTrigger",
                "schedule": str(f.schedule),
                "runOnStartup": f.run_on_startup,
            }
            for f in self._indexed.timer_functions
        ]
        return described

    def start(self) -> None:
        if self._indexed.queue_functions:
            connection = self._settings.get(QUEUE_CONNECTION_SETTING)
            if not connection:
                raise RuntimeStartError(f"{QUEUE_CONNECTION_SETTING} is not set: queue triggers have no queues")
            self._build_pumps(connection)
        for function in self._indexed.timer_functions:
            self._timers[function.name] = TimerRunner(
                function, invoker=self._invoker, watchdog=self._watchdog, scheduled=self._schedules
            )
        self._watchdog.start()
        for pump in self._pumps:
            pump.start()
        for timer in self._timers.values():
            timer.start()
        if self._dedup is not None:
            threading.Thread(target=self._purge_loop, name="dedup-purge", daemon=True).start()
        for entry in self.describe():
            logger.info("function %s", " ".join(f"{key}={value}" for key, value in entry.items()))

    def _build_pumps(self, connection: str) -> None:
        window = self._options.duplicate_detection_window_seconds
        if window > 0:
            self._dedup = DuplicateDetector.open(connection, self._options.duplicate_detection_table, window)
        for function in self._indexed.queue_functions:
            queue = QueueClient.from_connection_string(connection, function.queue)
            dead_letter = QueueClient.from_connection_string(connection, dead_letter_queue(function.queue))
            for client in (queue, dead_letter):
                try:
                    client.get_queue_properties()
                except ResourceNotFoundError as exc:
                    raise RuntimeStartError(
                        f"queue {client.queue_name!r} of function {function.name!r} does not exist; "
                        "create it (python -m sandbox up does) as infra does in Azure"
                    ) from exc
            self._pumps.append(
                QueuePump(
                    function,
                    queue=queue,
                    dead_letter=dead_letter,
                    host=self._host,
                    options=self._options,
                    invoker=self._invoker,
                    watchdog=self._watchdog,
                    dedup=self._dedup,
                )
            )

    def stop(self, grace_seconds: float) -> bool:
        """Stop receiving and firing, then wait (bounded) for running invocations. True if all ended."""
        self._stop.set()
        deadline = time.monotonic() + grace_seconds
        for pump in self._pumps:
            pump.stop_receiving()
        drained = True
        for timer in self._timers.values():
            drained &= timer.stop(max(0.0, deadline - time.monotonic()))
        for pump in self._pumps:
            drained &= pump.wait_idle(max(0.0, deadline - time.monotonic()))
            pump.close()
        self._watchdog.stop()
        if drained:
            self._invoker.close()
        if self._dedup is not None:
            self._dedup.close()
        return drained

    def _purge_loop(self) -> None:
        while not self._stop.wait(_PURGE_EVERY_SECONDS):
            try:
                assert self._dedup is not None
                removed = self._dedup.purge()
                if removed:
                    logger.debug("duplicate detection forgot %d expired message ids", removed)
            except Exception:
                logger.exception("duplicate detection purge failed")
