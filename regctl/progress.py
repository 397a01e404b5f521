"""``--wait``: follow an operation (``GET /api/operations/{id}``) to a terminal status, showing each step.

On a terminal, a live table (region, step, resource, state, attempts, last error) is redrawn on stderr after
every poll and cleared at the end, when the command prints the final document on stdout. Anywhere else
(CI logs, pipes) a line goes to stderr for each change of the operation's status or of a step. stdout
stays for the document only, so ``-o json --wait`` can be piped.

Once the API has answered (the 202 of the command, or a first poll), a poll that fails because it is
throttling, restarting or briefly unreachable is retried; after ``MAX_POLL_FAILURES`` in a row the wait
stops with that error. Before that, the first failure stops it: a wrong endpoint is reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from rich.console import Group, RenderableType
from rich.live import Live
from rich.text import Text

from regctl.client import ApiClient, Problem, Unreachable
from regctl.output import console, say
from regctl.tables import step_label, steps_table, styled, text

TERMINAL = frozenset({"Succeeded", "Failed", "Canceled"})
MAX_POLL_FAILURES = 5


class WaitTimedOut(Exception):
    """``--timeout`` ran out; ``last`` is the operation as last read (``None`` if no poll answered)."""

    def __init__(self, operation_id: str, last: dict[str, Any] | None, seconds: float) -> None:
        state = f"still {text(last.get('status'))}" if last else "not read"
        super().__init__(f"operation {operation_id} is {state} after {seconds:g} s")
        self.last = last


class Reporter(Protocol):
    def __enter__(self) -> Reporter: ...

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def update(self, operation: Mapping[str, Any], elapsed: float) -> None: ...

    def note(self, message: str) -> None: ...


def _steps(operation: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    steps = operation.get("steps")
    return [s for s in steps if isinstance(s, Mapping)] if isinstance(steps, list) else []


def step_line(step: Mapping[str, Any]) -> str:
    line = f"{text(step.get('region'))} {step_label(step)} {text(step.get('resource'))}: {text(step.get('state'))}"
    attempts = step.get("attempts")
    if isinstance(attempts, int) and attempts > 1:
        line += f" (attempt {attempts})"
    if step.get("lastError"):
        line += f" - {text(step.get('lastError'))}"
    return line


class LineReporter:
    """One stderr line per change: the operation's status, then each step whose state or error changed."""

    def __init__(self) -> None:
        self._status: object = None
        self._steps: dict[str, tuple[object, ...]] = {}

    def __enter__(self) -> LineReporter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        return None

    def update(self, operation: Mapping[str, Any], elapsed: float) -> None:
        status = operation.get("status")
        if status != self._status:
            self._status = status
            self.note(f"operation {text(operation.get('id'))}: {text(status)} ({elapsed:.0f} s)")
        for step in _steps(operation):
            key = text(step.get("step"))
            seen = (step.get("state"), step.get("attempts"), step.get("lastError"), step.get("resource"))
            if self._steps.get(key) != seen:
                self._steps[key] = seen
                self.note("  " + step_line(step))

    def note(self, message: str) -> None:
        say(message)


class LiveReporter:
    """A table redrawn in place on stderr after every poll; cleared when the wait ends."""

    def __init__(self) -> None:
        self._console = console(stderr=True)
        self._live = Live(console=self._console, auto_refresh=False, transient=True)

    def __enter__(self) -> LiveReporter:
        self._live.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._live.stop()

    def update(self, operation: Mapping[str, Any], elapsed: float) -> None:
        self._live.update(self.render(operation, elapsed), refresh=True)

    @staticmethod
    def render(operation: Mapping[str, Any], elapsed: float) -> RenderableType:
        steps = _steps(operation)
        done = sum(1 for s in steps if s.get("state") == "Succeeded")
        head = Text(f"{text(operation.get('kind'))} {text(operation.get('registry'))}: ")
        head.append(styled(operation.get("status")))
        head.append(f"  {done}/{len(steps)} steps done  {elapsed:.0f} s  (Ctrl-C stops following, not the operation)")
        return Group(head, steps_table(steps))

    def note(self, message: str) -> None:
        self._live.console.print(Text(message))


@dataclass
class Follower:
    api: ApiClient
    interval: float
    timeout: float | None
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    answered: bool = False
    """Whether the API has already answered in this command (so a failing poll is worth retrying)."""

    def follow(self, operation_id: str, reporter: Reporter) -> dict[str, Any]:
        """Poll until the operation ends; raises ``WaitTimedOut``, or the last error after repeated failures."""
        start = self.clock()
        failures = 0
        last: dict[str, Any] | None = None
        while True:
            try:
                last = self.api.get_operation(operation_id)
                failures = 0
            except (Unreachable, Problem) as exc:
                if isinstance(exc, Problem) and not exc.transient:
                    raise
                failures += 1
                if failures >= MAX_POLL_FAILURES or not (self.answered or last is not None):
                    raise
                reporter.note(f"poll failed ({exc.message}); trying again")
            elapsed = self.clock() - start
            if last is not None:
                reporter.update(last, elapsed)
                if last.get("status") in TERMINAL:
                    return last
            if self.timeout is not None and elapsed >= self.timeout:
                raise WaitTimedOut(operation_id, last, self.timeout)
            pause = self.interval if self.timeout is None else min(self.interval, self.timeout - elapsed)
            self.sleep(max(pause, 0.0))
