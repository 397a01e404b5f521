"""Long-running ARM operations without a waiting thread.

The SDK's ``begin_*`` methods return an ``LROPoller`` whose polling method normally loops and sleeps until
the operation ends. A function must not hold a thread for minutes, so ``StepPolling`` never sleeps:
``poll_now=False`` makes no status request at all (the initial call only), ``poll_now=True`` makes exactly
one; when the operation has ended it does ARMPolling's failure check but not its final GET of the resource
(the step does not use the body, and the next observation reads the resource anyway: one read fewer per
operation under ARM's read budget). The continuation token (JSON, made by azure-core) is saved by the step
and handed back for the next poll.
"""

from __future__ import annotations

from typing import Any

from azure.mgmt.core.polling.arm_polling import ARMPolling

from shared.adapters.arm_errors import retry_after_seconds

_ENDED_BADLY = frozenset({"failed", "canceled", "cancelled"})


class _Pause(Exception):
    """Stops ARMPolling's loop after the one status request this call may make."""


class StepPolling(ARMPolling):
    """An ARMPolling that makes at most one status request per call and never sleeps."""

    def __init__(self, *, poll_now: bool, **kwargs: Any) -> None:
        super().__init__(timeout=0, **kwargs)
        self._poll_now = poll_now
        self.retry_after: float | None = None

    def initialize(self, client: Any, initial_response: Any, deserialization_callback: Any) -> None:
        super().initialize(client, initial_response, deserialization_callback)
        self.retry_after = retry_after_seconds(initial_response.http_response.headers)

    def run(self) -> None:
        if not self._poll_now:
            return
        try:
            super().run()
        except _Pause:
            return

    def _delay(self) -> None:
        """ARMPolling's loop calls this between status requests: the one this call may make is done."""
        raise _Pause

    def request_status(self, status_link: str) -> Any:
        if self.finished() and self.status().lower() not in _ENDED_BADLY:
            return self._pipeline_response  # the final GET of the resource: not needed, not made
        response = super().request_status(status_link)
        self.retry_after = retry_after_seconds(response.http_response.headers)
        return response
