"""What a command takes from outside the process, replaceable in tests, and the error-to-exit-code mapping.

Tests pass a ``Runtime`` as the click context object (``CliRunner().invoke(app, args, obj=Runtime(...))``):
an ``httpx.Client`` factory bound to the ASGI app, a sleep and a clock that do not wait, whether the
terminal is interactive, the credential that ``REGCTL_SCOPE`` gets tokens from, and the blob transfer of
asset files. Without one, commands use the real network, ``time``, the real streams,
``DefaultAzureCredential`` and azure-storage-blob.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import typer

from regctl.auth import NoToken, TokenCredentialLike, default_credential, missing_token_hint, token_source
from regctl.client import (
    CONNECT_TIMEOUT,
    FUNCTION_KEY_ENV,
    REQUEST_TIMEOUT,
    ApiClient,
    ApiError,
    Problem,
    normalise_endpoint,
)
from regctl.errors import EXIT_USAGE, UsageProblem
from regctl.output import print_invalid, print_problem, print_usage_error, say
from regctl.transfer import BlobTransfer, Transfer
from shared.domain.errors import InvalidSpec

USER_AGENT = "regctl/0.1.0"


def default_http_client(endpoint: str) -> httpx.Client:
    """The real client: bounded timeouts, no redirects (a redirect would drop the body of a POST)."""
    del endpoint  # every request carries an absolute URL
    return httpx.Client(
        timeout=httpx.Timeout(REQUEST_TIMEOUT, connect=CONNECT_TIMEOUT),
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
    )


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


@dataclass
class Runtime:
    http_client: Callable[[str], httpx.Client] = default_http_client
    """``endpoint -> httpx.Client``; the command closes the client when it is done."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    interactive: Callable[[], bool] = stdin_is_terminal
    """Whether a confirmation can be asked for (``registry delete`` without ``--yes``)."""
    live_progress: Callable[[], bool] = stderr_is_terminal
    """Whether ``--wait`` redraws a live table (a terminal) or prints one line per change (a log)."""
    credential: Callable[[], TokenCredentialLike] = default_credential
    """Made on the first request when ``REGCTL_SCOPE`` asks for a token (and ``REGCTL_TOKEN`` is not set)."""
    transfer: Callable[[], Transfer] = BlobTransfer
    """Moves asset files to and from blob storage (``asset create``, ``asset download``)."""


def runtime_of(ctx: typer.Context) -> Runtime:
    found = ctx.find_object(Runtime)
    return found if found is not None else Runtime()


def confirm(ctx: typer.Context, question: str, refusal: str) -> None:
    """Ask ``question``, as `az ... delete` does; without a terminal to ask on, refuse (exit 2) rather than
    guess. ``refusal`` starts the message of a refusal (``not deleting ...``)."""
    if not runtime_of(ctx).interactive():
        raise UsageProblem(
            f"{refusal}: confirmation is needed and standard input is not a terminal; "
            "pass --yes to delete without asking"
        )
    try:
        confirmed = typer.confirm(question, default=False, err=True)
    except typer.Abort:  # end of input or Ctrl-C at the prompt
        confirmed = False
        typer.echo("", err=True)
    if not confirmed:
        raise UsageProblem(f"{refusal}: not confirmed")


@contextmanager
def connect(ctx: typer.Context, endpoint: str) -> Iterator[ApiClient]:
    """A client of the API at ``endpoint`` sending ``$REGCTL_FUNCTION_KEY`` and the bearer token
    (``regctl.auth``: ``$REGCTL_TOKEN``, else one for ``$REGCTL_SCOPE``, else none)."""
    base = normalise_endpoint(endpoint)
    runtime = runtime_of(ctx)
    tokens = token_source(os.environ, runtime.credential)
    try:
        with runtime.http_client(base) as http:
            yield ApiClient(http, base, os.environ.get(FUNCTION_KEY_ENV) or None, tokens)
    finally:
        close = getattr(tokens, "close", None)
        if callable(close):
            close()


@contextmanager
def handled() -> Iterator[None]:
    """Turn the errors a command expects into a message on stderr and exit 2 (no traceback)."""
    try:
        yield
    except UsageProblem as exc:
        print_usage_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except InvalidSpec as exc:  # the file, checked offline: the same lines `registry validate` prints
        print_invalid(exc)
        raise typer.Exit(EXIT_USAGE) from None
    except Problem as exc:
        print_problem(exc.code, exc.detail, [str(e) for e in exc.errors], exc.warnings)
        hint = missing_token_hint(os.environ) if exc.status == 401 else None
        if hint:
            say(hint)
        raise typer.Exit(EXIT_USAGE) from None
    except NoToken as exc:  # the credential's reason spans lines (DefaultAzureCredential lists each one it tried)
        first, *rest = exc.message.splitlines() or [""]
        print_usage_error(first)
        for line in rest:
            if line.strip():
                say(line.rstrip().replace("\t", "  "))
        raise typer.Exit(EXIT_USAGE) from None
    except ApiError as exc:
        print_usage_error(exc.message)
        raise typer.Exit(EXIT_USAGE) from None
