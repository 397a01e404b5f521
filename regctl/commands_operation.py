"""``regctl operation show ID [--wait]``, and what every command that starts an operation prints.

A 202 answer prints as the operation (its id and ``Location``), or with ``--wait`` is followed to its end:
the final operation document is printed, and the exit code is 0 if it Succeeded, 1 if it Failed or was
Canceled (its error code and message on stderr) or ``--timeout`` ran out.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from regctl.client import DEFAULT_ENDPOINT, ApiClient
from regctl.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from regctl.options import (
    DEFAULT_INTERVAL,
    EndpointOption,
    IntervalOption,
    OutputOption,
    TimeoutOption,
    WaitOption,
)
from regctl.output import ViewFormat, print_document, print_table, print_warnings, say
from regctl.progress import Follower, LineReporter, LiveReporter, Reporter, WaitTimedOut
from regctl.runtime import connect, handled, runtime_of
from regctl.tables import accepted_view, error_text, operation_view, text
from shared.domain.records import OperationStatus

SUCCEEDED = OperationStatus.SUCCEEDED.value


@dataclass(frozen=True)
class Waiting:
    """``--wait`` and its settings."""

    interval: float = DEFAULT_INTERVAL
    timeout: float | None = None


def waiting(wait: bool, interval: float, timeout: float | None) -> Waiting | None:
    return Waiting(interval, timeout) if wait else None


def show_operation(document: Mapping[str, Any], output: ViewFormat) -> None:
    if output is ViewFormat.TABLE:
        print_table(operation_view(document))
    else:
        print_document(document, output)


def outcome(document: Mapping[str, Any]) -> int:
    """0 if the operation Succeeded; else its error on stderr and 1."""
    status = document.get("status")
    if status == SUCCEEDED:
        return EXIT_OK
    reason = error_text(document) or "no reason given"
    say(f"regctl: operation {text(document.get('id'))} {text(status)}: {reason}")
    return EXIT_FAILED


def follow(
    ctx: typer.Context,
    api: ApiClient,
    operation_id: str,
    output: ViewFormat,
    wait: Waiting,
    *,
    answered: bool,
    present: Callable[[Mapping[str, Any]], None] | None = None,
) -> int:
    """Follow the operation to its end, print it, and return the exit code. ``present`` prints, given the
    operation, what the command prints at the end (by default the operation itself; ``access grant
    --wait``: the role assignment as it is then)."""
    if present is None:
        present = functools.partial(show_operation, output=output)
    runtime = runtime_of(ctx)
    follower = Follower(api, wait.interval, wait.timeout, runtime.sleep, runtime.clock, answered)
    reporter: Reporter = LiveReporter() if runtime.live_progress() else LineReporter()
    again = f"regctl operation show {operation_id} --wait"
    try:
        with reporter:
            final = follower.follow(operation_id, reporter)
    except WaitTimedOut as exc:
        if exc.last is not None:
            present(exc.last)
        say(f"regctl: stopped waiting: {exc}; it goes on. Follow it with: {again}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        say(f"regctl: stopped following operation {operation_id}; it goes on. Follow it with: {again}")
        return EXIT_INTERRUPTED
    present(final)
    return outcome(final)


def report_accepted(
    ctx: typer.Context, api: ApiClient, accepted: Mapping[str, Any], output: ViewFormat, wait: Waiting | None
) -> int:
    """Print a 202 answer (warnings on stderr), or follow its operation with ``--wait``."""
    print_warnings(str(w) for w in accepted.get("warnings") or [])
    if wait is not None:
        return follow(ctx, api, str(accepted["id"]), output, wait, answered=True)
    if output is ViewFormat.TABLE:
        print_table(accepted_view(accepted, api.url(str(accepted["operation"]))))
    else:
        print_document(dict(accepted), output)
    return EXIT_OK


def show(
    ctx: typer.Context,
    *,
    operation_id: Annotated[str, typer.Argument(metavar="ID", help="The operation id (from a 202 answer).")],
    wait: WaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Show an operation and its steps; with --wait, follow it to its end (exit 1 if it fails)."""
    code = EXIT_OK
    with handled(), connect(ctx, endpoint) as api:
        plan = waiting(wait, interval, timeout)
        if plan is None:
            show_operation(api.get_operation(operation_id), output)
        else:
            code = follow(ctx, api, operation_id, output, plan, answered=False)
    raise typer.Exit(code)
