"""Options shared by the commands (typer ``Annotated`` types), so every command spells them the same way."""

from __future__ import annotations

from typing import Annotated

import typer

from regctl.client import DEFAULT_ENDPOINT, ENDPOINT_ENV
from regctl.output import OutputFormat, ViewFormat

DEFAULT_INTERVAL = 1.0

FileOption = Annotated[
    str,
    typer.Option(
        "--file",
        "-f",
        help="The registry YAML (JSON if the name ends in .json); - reads standard input.",
        show_default=False,
    ),
]
SpecOutputOption = Annotated[
    OutputFormat,
    typer.Option("--output", "-o", help="Output format.", case_sensitive=False),
]
OutputOption = Annotated[
    ViewFormat,
    typer.Option(
        "--output",
        "-o",
        help="table for people; json or yaml print the API's document as it is.",
        case_sensitive=False,
    ),
]
EndpointOption = Annotated[
    str,
    typer.Option(
        "--endpoint",
        envvar=ENDPOINT_ENV,
        help=f"Base URL of the regctl API (the CLI adds /api). Default {DEFAULT_ENDPOINT}.",
        show_default=False,
    ),
]
WaitOption = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="Follow the operation to its end, showing each region and resource; exit 1 if it fails.",
    ),
]
IntervalOption = Annotated[
    float,
    typer.Option("--interval", min=0.1, help="Seconds between polls with --wait."),
]
TimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0.0,
        help="With --wait: stop waiting after this many seconds (exit 1; the operation goes on).",
        show_default="no limit",
    ),
]
IdempotencyKeyOption = Annotated[
    str | None,
    typer.Option(
        "--idempotency-key",
        help="Send Idempotency-Key: repeating the command with the same key returns the same operation.",
        show_default=False,
    ),
]
YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask for confirmation (required when stdin is not a terminal)."),
]
