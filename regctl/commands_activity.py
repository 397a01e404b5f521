"""``regctl activity list``: who did what, where, and how it ended (``GET /api/activity``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated

import typer

from regctl.access_tables import activity_list
from regctl.client import DEFAULT_ENDPOINT
from regctl.errors import UsageProblem
from regctl.options import EndpointOption, OutputOption, SinceOption
from regctl.output import ViewFormat, print_document, print_table
from regctl.runtime import connect, handled

RegistryFilterOption = Annotated[
    str | None,
    typer.Option("--registry", help="Only what was done to this registry (any case).", show_default=False),
]


def since_value(raw: str) -> str:
    """``--since`` as an ISO 8601 time with its offset (a time without one is UTC); ``UsageProblem`` otherwise."""
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise UsageProblem(f"--since must be an ISO 8601 time such as 2026-05-01T12:00:00Z, not {raw[:60]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


def list_(
    ctx: typer.Context,
    *,
    registry: RegistryFilterOption = None,
    since: SinceOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """List the activity log: time, principal, action, scope, result, operation (json/yaml: {"value": [...]})."""
    with handled():
        after = since_value(since) if since is not None else None
        with connect(ctx, endpoint) as api:
            document = api.list_activity(registry, after)
    if output is ViewFormat.TABLE:
        print_table(activity_list([e for e in document["value"] if isinstance(e, Mapping)]))
    else:
        print_document(document, output)
