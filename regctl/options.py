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

# -- access ----------------------------------------------------------------------------------------------

RegistryScopeOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        help="The registry: the scope /registries/NAME (exclusive with --scope).",
        show_default=False,
    ),
]
ScopeOption = Annotated[
    str | None,
    typer.Option(
        "--scope",
        help='The scope: "/" (every registry) or /registries/NAME (exclusive with --registry).',
        show_default=False,
    ),
]
PrincipalIdOption = Annotated[
    str | None,
    typer.Option(
        "--principal-id",
        help="The Entra object id of the user, group or service principal.",
        show_default=False,
    ),
]
RoleOption = Annotated[
    str | None,
    typer.Option(
        "--role",
        help='A role name (Reader, Contributor, Owner, "AzureML Registry User", a custom role) or its id.',
        show_default=False,
    ),
]
RoleFileOption = Annotated[
    str,
    typer.Option(
        "--file",
        "-f",
        help="The role definition YAML (JSON if the name ends in .json); - reads standard input.",
        show_default=False,
    ),
]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Only entries at or after this time (ISO 8601, e.g. 2026-05-01T12:00:00Z; UTC unless it says).",
        show_default=False,
    ),
]

# -- assets ----------------------------------------------------------------------------------------------

RegistryOption = Annotated[
    str,
    typer.Option("--registry", "--registry-name", help="The registry (any case).", show_default=False),
]
AssetNameOption = Annotated[str, typer.Option("--name", "-n", help="The asset name.", show_default=False)]
AssetVersionOption = Annotated[str, typer.Option("--version", "-v", help="The version.", show_default=False)]
AssetFileOption = Annotated[
    str,
    typer.Option(
        "--file",
        "-f",
        help="The asset YAML that az ml ... create --file takes (JSON if the name ends in .json); - reads standard "
        "input. Local paths in it are relative to its folder.",
        show_default=False,
    ),
]
IncludeArchivedOption = Annotated[
    bool, typer.Option("--include-archived", help="List archived versions (and assets) too.")
]
RegionOption = Annotated[
    str | None,
    typer.Option(
        "--region", help="Read the copy in this region. Default: the registry's primary region.", show_default=False
    ),
]
DirectoryOption = Annotated[
    str,
    typer.Option("--dir", "-d", help="Where to write the files (created if need be).", show_default=False),
]
