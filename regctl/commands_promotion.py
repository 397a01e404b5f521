"""``regctl model|data|component|environment promote``, ``regctl rule create|list|delete`` and
``regctl promotion list|show|approve|reject`` (docs/events.md).

``promote --from dev --to prod --name N --version V`` asks the API to copy version V of N from registry
``dev`` into ``prod`` server-side; with ``--wait`` it follows the copy's operation to its end. A rule
promotes what becomes available in its source registry into its target, by events alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from regctl.client import DEFAULT_ENDPOINT, ApiClient
from regctl.commands_asset import asset_type_of
from regctl.commands_operation import follow, waiting
from regctl.errors import EXIT_FAILED, EXIT_OK
from regctl.options import (
    DEFAULT_INTERVAL,
    AssetNameOption,
    AssetVersionOption,
    EndpointOption,
    IntervalOption,
    OutputOption,
    TimeoutOption,
    WaitOption,
)
from regctl.output import ViewFormat, print_document, print_table, say
from regctl.runtime import connect, handled
from regctl.tables import field_lines, grid, text
from shared.domain.asset_spec import asset_id

SUCCEEDED, FAILED, REJECTED = "Succeeded", "Failed", "Rejected"
RuleNameOption = Annotated[str, typer.Option("--name", "-n", help="The rule's name.", show_default=False)]


def _promotion_view(doc: Mapping[str, Any]) -> Any:
    raw = doc.get("error")
    error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    return field_lines(
        [
            ("Id", doc.get("id")),
            ("Status", doc.get("status")),
            ("Rule", doc.get("rule")),
            ("Source", doc.get("source")),
            ("Target", doc.get("target")),
            ("Event", doc.get("event")),
            ("Operation", doc.get("operation")),
            ("Error", f"{error.get('code')}: {error.get('message')}" if error else None),
        ]
    )


def _show_promotion(doc: Mapping[str, Any], output: ViewFormat) -> None:
    if output is ViewFormat.TABLE:
        print_table(_promotion_view(doc))
    else:
        print_document(dict(doc), output)


def _exit_of(doc: Mapping[str, Any]) -> int:
    if doc.get("status") in (FAILED, REJECTED):
        raw = doc.get("error")
        error: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
        say(f"regctl: promotion {text(doc.get('id'))} {text(doc.get('status'))}: {text(error.get('message'))}")
        return EXIT_FAILED
    return EXIT_OK


def promote(
    ctx: typer.Context,
    *,
    source: Annotated[str, typer.Option("--from", help="The source registry.", show_default=False)],
    target: Annotated[str, typer.Option("--to", help="The target registry.", show_default=False)],
    name: AssetNameOption,
    version: AssetVersionOption,
    wait: WaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Promote a version from one registry into another: a server-side copy into every target region,
    with lineage (properties.promotedFrom). The same content already there is a success with no copy."""
    asset_type = asset_type_of(ctx)
    with handled(), connect(ctx, endpoint) as api:
        doc = api.promote(target, asset_type, name, version, asset_id(source, asset_type, name, version))
        code = _follow(ctx, api, doc, output, waiting(wait, interval, timeout))
    raise typer.Exit(code)


def _follow(ctx: typer.Context, api: ApiClient, doc: dict[str, Any], output: ViewFormat, wait: Any) -> int:
    operation = str(doc.get("operation") or "")
    if wait is None or doc.get("status") != "Running" or not operation:
        _show_promotion(doc, output)
        return _exit_of(doc)
    code = follow(ctx, api, operation.rsplit("/", 1)[-1], output, wait, answered=True, present=lambda _: None)
    final = api.get_promotion(str(doc["id"]))
    _show_promotion(final, output)
    return code if code != EXIT_OK else _exit_of(final)


def _tag(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise typer.BadParameter(f"{item!r} is not KEY=VALUE")
    return key, value


def rule_create(
    ctx: typer.Context,
    *,
    name: RuleNameOption,
    target: Annotated[str, typer.Option("--target", help="The target registry.", show_default=False)],
    source: Annotated[str | None, typer.Option("--source", help="The source registry.", show_default=False)] = None,
    source_acr: Annotated[
        str | None, typer.Option("--source-acr", help="The ARM id of a build ACR to watch.", show_default=False)
    ] = None,
    repository: Annotated[str, typer.Option("--repository", help="With --source-acr: a repository glob.")] = "*",
    source_storage: Annotated[
        str | None,
        typer.Option("--source-storage", help="The ARM id of a storage account to watch.", show_default=False),
    ] = None,
    container: Annotated[str, typer.Option("--container", help="With --source-storage: the container.")] = "",
    prefix: Annotated[str, typer.Option("--prefix", help="With --source-storage: the blob prefix.")] = "",
    types: Annotated[list[str] | None, typer.Option("--type", help="An asset type to promote (repeatable).")] = None,
    asset: Annotated[str, typer.Option("--asset-name", help="A glob of asset names, e.g. fraud-*.")] = "*",
    tags: Annotated[list[str] | None, typer.Option("--tag", help="A required tag KEY=VALUE (repeatable).")] = None,
    approval: Annotated[str, typer.Option("--approval", help="none or required.")] = "none",
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Create or replace a promotion rule; it runs with your rights (assets/read on the source, assets/write
    on the target; registries/write on the target for a watched ACR or storage account), checked now and at
    each promotion. The source is one of --source, --source-acr or --source-storage."""
    given = [s for s in (source, source_acr, source_storage) if s]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --source, --source-acr and --source-storage")
    rule_source: dict[str, str] = {"registry": source or ""}
    if source_acr:
        rule_source = {"acr": source_acr, "repository": repository}
    elif source_storage:
        rule_source = {"storage": source_storage, "container": container, "prefix": prefix}
    body = {
        "source": rule_source,
        "target": {"registry": target},
        "filter": {"types": types or [], "name": asset, "tags": dict(_tag(t) for t in tags or [])},
        "approval": approval,
    }
    with handled(), connect(ctx, endpoint) as api:
        doc = api.put_rule(name, body)
    print_document(doc, ViewFormat.YAML if output is ViewFormat.TABLE else output)


def source_label(source: dict[str, str]) -> str:
    if "acr" in source:
        return f"acr {source['acr'].rsplit('/', 1)[-1]} {source.get('repository', '*')}"
    if "storage" in source:
        return (
            f"storage {source['storage'].rsplit('/', 1)[-1]}/{source.get('container', '')}/{source.get('prefix', '')}"
        )
    return str(source.get("registry", ""))


def rule_list(
    ctx: typer.Context, *, output: OutputOption = ViewFormat.TABLE, endpoint: EndpointOption = DEFAULT_ENDPOINT
) -> None:
    """The promotion rules, with the last error of each."""
    with handled(), connect(ctx, endpoint) as api:
        doc = api.list_rules()
    if output is not ViewFormat.TABLE:
        print_document(doc, output)
        return
    rows = [
        (
            r.get("name"),
            source_label(r["source"]),
            r["target"]["registry"],
            r.get("approval"),
            (r.get("lastError") or {}).get("code"),
        )
        for r in doc["value"]
    ]
    print_table(grid(("Name", "Source", "Target", "Approval", "Last error"), rows))


def rule_delete(ctx: typer.Context, *, name: RuleNameOption, endpoint: EndpointOption = DEFAULT_ENDPOINT) -> None:
    """Delete a promotion rule (promotions it made stay)."""
    with handled(), connect(ctx, endpoint) as api:
        api.delete_rule(name)
    say(f"regctl: rule {name} deleted")


def promotion_list(
    ctx: typer.Context,
    *,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Promotions: what happened and why."""
    with handled(), connect(ctx, endpoint) as api:
        doc = api.list_promotions(rule, status)
    if output is not ViewFormat.TABLE:
        print_document(doc, output)
        return
    rows = [(p.get("id"), p.get("status"), p.get("rule"), p.get("source"), p.get("target")) for p in doc["value"]]
    print_table(grid(("Id", "Status", "Rule", "Source", "Target"), rows))


def promotion_decide(verb: str) -> Any:
    def decide(
        ctx: typer.Context,
        promotion_id: Annotated[str, typer.Argument(help="The promotion's id.", show_default=False)],
        *,
        output: OutputOption = ViewFormat.TABLE,
        endpoint: EndpointOption = DEFAULT_ENDPOINT,
    ) -> None:
        with handled(), connect(ctx, endpoint) as api:
            doc = api.decide_promotion(promotion_id, verb) if verb else api.get_promotion(promotion_id)
        _show_promotion(doc, output)

    decide.__doc__ = f"{verb.capitalize()} a promotion waiting for approval." if verb else "Show a promotion."
    return decide
