"""How regctl prints: documents as YAML or JSON on stdout, warnings and errors on stderr.

Kept apart from the commands so that every command renders the same way. Messages go out as plain text
(no rich markup), one finding per line, so scripts can read them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

import typer
import yaml

from shared.domain.errors import InvalidSpec


class OutputFormat(StrEnum):
    YAML = "yaml"
    JSON = "json"


def render(document: Any, fmt: OutputFormat) -> str:
    """``document`` (plain data) as YAML or JSON text, ending with a newline."""
    if fmt is OutputFormat.JSON:
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)


def print_document(document: Any, fmt: OutputFormat) -> None:
    typer.echo(render(document, fmt), nl=False)


def print_warnings(warnings: Iterable[str]) -> None:
    for warning in warnings:
        typer.echo(f"warning: {warning}", err=True)


def error_lines(exc: InvalidSpec) -> list[str]:
    """One line per offending field (``path: message``); the summary alone when no field is named."""
    if any(error.path for error in exc.errors):
        return [str(error) for error in exc.errors]
    return [exc.message]


def print_invalid(exc: InvalidSpec) -> None:
    for line in error_lines(exc):
        typer.echo(line, err=True)


def print_usage_error(message: str) -> None:
    typer.echo(f"regctl: error: {message}", err=True)
