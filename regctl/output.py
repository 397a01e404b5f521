"""How regctl prints: documents on stdout (a rich table, YAML or JSON), warnings and errors on stderr.

Kept apart from the commands so that every command renders the same way. Messages go out as plain text
(no rich markup), one finding per line, so scripts can read them. JSON and YAML print the API's documents
as they are; the tables (``regctl.tables``) are for people.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import typer
import yaml
from rich.console import Console, RenderableType

from shared.domain.errors import InvalidSpec

WIDTH_WHEN_PIPED = 200
"""Tables written to a pipe or a file are not cut at 80 columns (``COLUMNS`` still wins)."""


class OutputFormat(StrEnum):
    """``registry validate``: the normalised spec."""

    YAML = "yaml"
    JSON = "json"


class ViewFormat(StrEnum):
    """Commands that talk to the API, as ``az -o``: a table for people, or the API's document."""

    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


def render(document: Any, fmt: OutputFormat | ViewFormat) -> str:
    """``document`` (plain data) as YAML or JSON text, ending with a newline."""
    if fmt.value == "json":
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)


def print_document(document: Any, fmt: OutputFormat | ViewFormat) -> None:
    typer.echo(render(document, fmt), nl=False)


def console(*, stderr: bool = False) -> Console:
    """A rich console on the current stdout (or stderr); markup is off: API text is printed as it is."""
    made = Console(stderr=stderr, highlight=False, markup=False, emoji=False)
    if not made.is_terminal and "COLUMNS" not in os.environ:
        made = Console(stderr=stderr, highlight=False, markup=False, emoji=False, width=WIDTH_WHEN_PIPED)
    return made


def print_table(renderable: RenderableType) -> None:
    console().print(renderable)


def clean(message: str) -> str:
    """One line of printable text: text from the API cannot move the cursor or recolour the terminal."""
    return "".join(ch if ch.isprintable() else "?" for ch in message)


def say(message: str) -> None:
    """A message on stderr, one line."""
    typer.echo(clean(message), err=True)


def print_warnings(warnings: Iterable[str]) -> None:
    for warning in warnings:
        say(f"warning: {warning}")


def error_lines(exc: InvalidSpec) -> list[str]:
    """One line per offending field (``path: message``); the summary alone when no field is named."""
    if any(error.path for error in exc.errors):
        return [str(error) for error in exc.errors]
    return [exc.message]


def print_invalid(exc: InvalidSpec) -> None:
    for line in error_lines(exc):
        typer.echo(line, err=True)


def print_usage_error(message: str) -> None:
    say(f"regctl: error: {message}")


def print_problem(code: str, detail: str, field_lines: Iterable[str], warnings: Iterable[str] = ()) -> None:
    """A problem answer: ``code: detail``, then one ``field: message`` line per offending field."""
    say(f"{code}: {detail}")
    for line in field_lines:
        say(line)
    print_warnings(warnings)
