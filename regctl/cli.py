"""The ``regctl`` command line.

Commands are grouped by noun, as in ``az ml registry``: ``regctl registry <verb>`` and, when the HTTP API
lands, ``regctl operation show``. Each command lives on its sub-app below; output formatting is in
``regctl.output``.

Exit codes: 0 success, 1 the input is invalid (or the request failed), 2 usage error (bad option, file
missing or unreadable).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from regctl.output import (
    OutputFormat,
    print_document,
    print_invalid,
    print_usage_error,
    print_warnings,
)
from shared.domain.documents import MAX_DOCUMENT_BYTES, load_json, load_yaml
from shared.domain.errors import InvalidSpec
from shared.domain.spec import parse_spec

EXIT_INVALID = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="regctl",
    help="Manage multi-region ML asset registries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
registry_app = typer.Typer(
    help="Registries: validate a registry.yml (create, update, show, list, delete, sync follow).",
    no_args_is_help=True,
)
operation_app = typer.Typer(help="Operations started by registry commands.", no_args_is_help=True)

app.add_typer(registry_app, name="registry")
# Hidden until its first command (`operation show`) exists: an empty group would only confuse.
app.add_typer(operation_app, name="operation", hidden=True)

FileOption = Annotated[
    str,
    typer.Option(
        "--file",
        "-f",
        help="The registry YAML (JSON if the name ends in .json); - reads standard input.",
        show_default=False,
    ),
]
OutputOption = Annotated[
    OutputFormat,
    typer.Option("--output", "-o", help="Output format.", case_sensitive=False),
]


class UsageProblem(Exception):
    """The command cannot run as asked (exit 2)."""


def read_source(file: str) -> bytes:
    """The bytes of ``file`` (``-`` is standard input), read up to just over the document size cap."""
    limit = MAX_DOCUMENT_BYTES + 1
    if file == "-":
        return sys.stdin.buffer.read(limit)
    try:
        with Path(file).open("rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageProblem(f"cannot read {file!r}: {reason}") from None


def load_source(file: str) -> dict[str, object]:
    """Read and parse ``file``; raises ``InvalidSpec`` for a bad document, ``UsageProblem`` if unreadable."""
    data = read_source(file)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise InvalidSpec(
            f"the document is larger than the limit of {MAX_DOCUMENT_BYTES} bytes", code="DocumentTooLarge"
        )
    if file.lower().endswith(".json"):
        return load_json(data)
    return load_yaml(data)


@registry_app.command("validate")
def validate(file: FileOption, output: OutputOption = OutputFormat.YAML) -> None:
    """Check a registry.yml offline and print it normalised; exit 1 listing every offending field."""
    try:
        parsed = parse_spec(load_source(file))
    except UsageProblem as exc:
        print_usage_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except InvalidSpec as exc:
        print_invalid(exc)
        raise typer.Exit(EXIT_INVALID) from None
    print_warnings(parsed.warnings)
    print_document(parsed.spec.to_document(), output)


def main() -> None:
    """Console-script entry point (``regctl``)."""
    app()
