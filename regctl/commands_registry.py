"""``regctl registry ...``: validate (offline), create, update, show, list, delete, sync, policy.

``create`` and ``update`` check the file offline with the rules and messages of ``validate`` before
sending anything; an invalid file exits 2 and nothing is sent. They send the file as it is (YAML as
``application/yaml``, a ``.json`` file as JSON): the API validates and normalises it again.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from regctl.client import DEFAULT_ENDPOINT
from regctl.commands_operation import report_accepted, waiting
from regctl.errors import EXIT_FAILED, EXIT_USAGE, UsageProblem
from regctl.files import load_source, read_spec
from regctl.options import (
    DEFAULT_INTERVAL,
    EndpointOption,
    FileOption,
    IdempotencyKeyOption,
    IntervalOption,
    OutputOption,
    SpecOutputOption,
    TimeoutOption,
    WaitOption,
    YesOption,
)
from regctl.output import (
    OutputFormat,
    ViewFormat,
    print_document,
    print_invalid,
    print_table,
    print_usage_error,
    print_warnings,
)
from regctl.runtime import confirm, connect, handled
from regctl.tables import registry_list, registry_view
from shared.domain.errors import InvalidSpec
from shared.domain.spec import parse_spec

NameArgument = Annotated[str, typer.Argument(metavar="NAME", help="The registry name (any case).")]


class Policy(StrEnum):
    MANAGE = "manage"
    OBSERVE = "observe"
    SKIP = "skip"


def validate(file: FileOption, output: SpecOutputOption = OutputFormat.YAML) -> None:
    """Check a registry.yml offline and print it normalised; exit 1 listing every offending field."""
    try:
        parsed = parse_spec(load_source(file))
    except UsageProblem as exc:
        print_usage_error(str(exc))
        raise typer.Exit(EXIT_USAGE) from None
    except InvalidSpec as exc:
        print_invalid(exc)
        raise typer.Exit(EXIT_FAILED) from None
    print_warnings(parsed.warnings)
    print_document(parsed.spec.to_document(), output)


def create(
    ctx: typer.Context,
    *,
    file: FileOption,
    wait: WaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Create a registry from a file (checked offline first); prints the operation, or follows it with --wait."""
    with handled():
        spec = read_spec(file)
        with connect(ctx, endpoint) as api:
            accepted = api.create_registry(spec.data, spec.media_type, idempotency_key)
            code = report_accepted(ctx, api, accepted, output, waiting(wait, interval, timeout))
    raise typer.Exit(code)


def update(
    ctx: typer.Context,
    *,
    file: FileOption,
    wait: WaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Replace a registry's spec with the file (PUT; the registry is the one the file names)."""
    with handled():
        spec = read_spec(file)
        with connect(ctx, endpoint) as api:
            accepted = api.replace_registry(spec.parsed.spec.name, spec.data, spec.media_type, idempotency_key)
            code = report_accepted(ctx, api, accepted, output, waiting(wait, interval, timeout))
    raise typer.Exit(code)


def show(
    ctx: typer.Context,
    *,
    name: NameArgument,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Show a registry: its spec, the resources last observed in each region, and drift."""
    with handled(), connect(ctx, endpoint) as api:
        document = api.get_registry(name)
    if output is ViewFormat.TABLE:
        print_table(registry_view(document))
    else:
        print_document(document, output)


def list_(
    ctx: typer.Context,
    *,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """List registries (json/yaml: the API's {"value": [...]} document)."""
    with handled(), connect(ctx, endpoint) as api:
        document = api.list_registries()
    if output is ViewFormat.TABLE:
        print_table(registry_list(document["value"]))
    else:
        print_document(document, output)


def confirm_delete(ctx: typer.Context, name: str) -> None:
    question = (
        f'Delete registry "{name}" and everything regctl created for it '
        "(replicas, container registry, storage accounts, resource group)?"
    )
    confirm(ctx, question, f'not deleting registry "{name}"')


def delete(
    ctx: typer.Context,
    *,
    name: NameArgument,
    yes: YesOption = False,
    wait: WaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    idempotency_key: IdempotencyKeyOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Delete a registry and every resource it owns; asks first unless --yes (required when not interactive)."""
    with handled():
        if not yes:
            confirm_delete(ctx, name)
        with connect(ctx, endpoint) as api:
            accepted = api.delete_registry(name, idempotency_key)
            code = report_accepted(ctx, api, accepted, output, waiting(wait, interval, timeout))
    raise typer.Exit(code)


def sync(
    ctx: typer.Context,
    *,
    name: NameArgument,
    wait: WaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Reconcile a registry now: observe it, report drift and (policy manage) heal it."""
    with handled(), connect(ctx, endpoint) as api:
        accepted = api.sync_registry(name)
        code = report_accepted(ctx, api, accepted, output, waiting(wait, interval, timeout))
    raise typer.Exit(code)


def policy(
    ctx: typer.Context,
    *,
    name: NameArgument,
    value: Annotated[Policy, typer.Argument(metavar="manage|observe|skip", case_sensitive=False)],
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Set the reconcile policy: manage heals drift, observe only reports it, skip does not look."""
    with handled(), connect(ctx, endpoint) as api:
        document = api.set_policy(name, value.value)
    if output is ViewFormat.TABLE:
        print_table(registry_view(document))
    else:
        print_document(document, output)
