"""Tables for people (``-o table``): registries, a registry, an operation and its steps (rich renderables),
and the helpers the other tables share (``regctl.asset_tables``, ``regctl.access_tables``).

Everything shown comes from the API's documents (``registry_document``, ``operation_document``, the 202
answer). Values are rendered as plain ``Text``, never as markup, and a missing or odd field shows as ``-``
rather than failing: a table is a view, the JSON is the contract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

NONE = "-"
STATE_STYLES = {
    "Succeeded": "green",
    "Ready": "green",
    "Failed": "red",
    "Canceled": "yellow",
    "Running": "cyan",
    "Provisioning": "cyan",
    "Deleting": "magenta",
    "Accepted": "cyan",
    "Pending": "dim",
    "Applied": "green",
    "Denied": "red",
    "Available": "green",
    "Replicated": "green",
    "Creating": "cyan",
    "Copying": "cyan",
}


def text(value: object) -> str:
    if value is None or value == "":
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def styled(value: object) -> Text:
    shown = text(value)
    return Text(shown, style=STATE_STYLES.get(shown, ""))


def as_mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_items(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def section(title: str, body: RenderableType) -> Group:
    return Group(Text("\n" + title, style="bold"), body)


def _cell(value: object) -> Text:
    """Plain text: API values are never read as rich markup."""
    return value if isinstance(value, Text) else Text(text(value))


def _width(value: Text) -> int:
    """The widest line of a cell (a cell may hold several lines, e.g. a role's actions)."""
    return max((cell_len(line) for line in value.plain.split("\n")), default=0)


def grid(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Table:
    """As ``az -o table``: the header, a rule of dashes under each column, then the rows."""
    cells = [[_cell(value) for value in row] for row in rows]
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    widths = [max([len(column)] + [_width(row[i]) for row in cells]) for i, column in enumerate(columns)]
    table.add_row(*(Text("-" * width, no_wrap=True, overflow="crop") for width in widths))  # cut, not folded
    for row in cells:
        table.add_row(*row)
    return table


def field_lines(rows: Iterable[tuple[str, object]]) -> Text:
    """``Label  value`` lines (no padding after the value, so the lines grep and diff cleanly)."""
    pairs = list(rows)
    width = max((len(label) for label, _ in pairs), default=0) + 2
    out = Text()
    for i, (label, value) in enumerate(pairs):
        if i:
            out.append("\n")
        out.append(label.ljust(width), style="bold")
        out.append(_cell(value))
    return out


def regions_of(spec: Mapping[str, Any]) -> list[str]:
    return [text(r.get("location")) for r in as_items(spec.get("replication_locations"))]


def tags_text(tags: object) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(as_mapping(tags).items())) or NONE


# -- registries -----------------------------------------------------------------------------------------


REGISTRY_COLUMNS = ("Name", "Status", "Policy", "Primary", "Regions", "Generation", "Observed", "Drift")


def registry_list(documents: Sequence[Mapping[str, Any]]) -> RenderableType:
    if not documents:
        return Text("No registries.")
    rows = [
        (
            doc.get("name"),
            styled(doc.get("status")),
            doc.get("reconcilePolicy"),
            as_mapping(doc.get("spec")).get("location"),
            ", ".join(regions_of(as_mapping(doc.get("spec")))),
            doc.get("generation"),
            doc.get("observedGeneration"),
            len(as_items(doc.get("drift"))),
        )
        for doc in documents
    ]
    return grid(REGISTRY_COLUMNS, rows)


def drift_line(item: Mapping[str, Any]) -> str:
    resource, name = text(item.get("resource")), text(item.get("field"))
    desired, actual = text(item.get("desired")), text(item.get("actual"))
    if name == "exists" and actual == "missing":
        return f"{resource}: missing"
    if name == "exists" and desired == "absent":
        return f"{resource}: present but not in the spec"
    return f"{resource}: {name} is {actual}, the spec says {desired}"


def _resource_rows(resources: Mapping[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(region, resource, name, sku, state) for everything last observed."""
    rows: list[tuple[str, str, str, str, str]] = []
    group = as_mapping(resources.get("resource_group"))
    if group:
        rows.append(
            (text(group.get("location")), "resource group", text(group.get("name")), NONE, text(group.get("state")))
        )
    acr = as_mapping(resources.get("container_registry"))
    if acr:
        rows.append(
            (
                text(acr.get("location")),
                "container registry",
                text(acr.get("name")),
                text(acr.get("sku")),
                text(acr.get("state")),
            )
        )
    for account in as_items(resources.get("storage_accounts")):
        sku = text(account.get("sku")) + (" (HNS)" if account.get("hns") is True else "")
        label = f"storage [{text(account.get('index'))}]"
        rows.append((text(account.get("region")), label, text(account.get("name")), sku, text(account.get("state"))))
    rows.extend(
        (text(r.get("location")), "replica", text(r.get("name")), NONE, text(r.get("state")))
        for r in as_items(resources.get("replicas"))
    )
    return rows


def registry_view(doc: Mapping[str, Any]) -> RenderableType:
    spec = as_mapping(doc.get("spec"))
    primary = text(spec.get("location"))
    drift = as_items(doc.get("drift"))
    summary = field_lines(
        [
            ("Name", doc.get("name")),
            ("Description", spec.get("description")),
            ("Status", styled(doc.get("status"))),
            ("Reconcile policy", doc.get("reconcilePolicy")),
            ("Generation", f"{text(doc.get('generation'))} (observed {text(doc.get('observedGeneration'))})"),
            ("Primary region", primary),
            ("Tags", tags_text(spec.get("tags"))),
            ("Operation", doc.get("operation")),
            ("Observed at", doc.get("observedAt") or "not observed yet"),
        ]
    )
    wanted = grid(
        ("Region", "Role", "Storage type", "HNS", "Accounts"),
        (
            (
                entry.get("location"),
                "primary" if text(entry.get("location")) == primary else "replica",
                as_mapping(entry.get("storage_config")).get("storage_account_type"),
                as_mapping(entry.get("storage_config")).get("storage_account_hns"),
                as_mapping(entry.get("storage_config")).get("replication_count"),
            )
            for entry in as_items(spec.get("replication_locations"))
        ),
    )
    order = {region: i for i, region in enumerate(regions_of(spec))}
    rows = sorted(_resource_rows(as_mapping(doc.get("resources"))), key=lambda r: (order.get(r[0], len(order)), r[0]))
    parts: list[RenderableType] = [summary, section("Spec", wanted)]
    if rows:
        observed = grid(("Region", "Resource", "Name", "SKU", "State"), ((*r[:4], styled(r[4])) for r in rows))
        parts.append(section("Resources (last observed)", observed))
    else:
        parts.append(Text("\nResources: none observed yet."))
    if drift:
        lines = Text(f"\nDrift ({len(drift)}):", style="bold")
        for item in drift:
            lines.append("\n  " + drift_line(item))
        parts.append(lines)
    else:
        parts.append(Text("\nDrift: none."))
    return Group(*parts)


# -- operations -----------------------------------------------------------------------------------------


def error_text(doc: Mapping[str, Any]) -> str | None:
    error = as_mapping(doc.get("error"))
    if not error:
        return None
    return f"{text(error.get('code'))}: {text(error.get('message'))}"


def step_label(step: Mapping[str, Any]) -> str:
    """``ensure_storage[0]``: the step's goal and kind of work, and a storage account's index."""
    kind = text(step.get("kind"))
    if step.get("goal"):
        kind = f"{step['goal']}_{kind}"
    index = step.get("index")
    return f"{kind}[{index}]" if isinstance(index, int) and "storage" in kind else kind


def steps_table(steps: Sequence[Mapping[str, Any]], *, ended: bool = False) -> RenderableType:
    """Steps grouped by region (the API lists them by step key)."""
    if not steps:
        return Text("\nSteps: none." if ended else "\nSteps: none yet.")
    rows = (
        (
            step.get("region"),
            step_label(step),
            step.get("resource"),
            styled(step.get("state")),
            step.get("attempts"),
            step.get("lastError"),
        )
        for step in sorted(steps, key=lambda s: (text(s.get("region")), text(s.get("step"))))
    )
    return section("Steps", grid(("Region", "Step", "Resource", "State", "Attempts", "Last error"), rows))


def operation_summary(doc: Mapping[str, Any]) -> Text:
    rows: list[tuple[str, object]] = [
        ("Operation", doc.get("id")),
        ("Registry", doc.get("registry")),
        ("Kind", doc.get("kind")),
        ("Status", styled(doc.get("status"))),
        ("Generation", doc.get("generation")),
        ("Created", doc.get("createdAt")),
        ("Updated", doc.get("updatedAt")),
    ]
    error = error_text(doc)
    if error:
        rows.append(("Error", Text(error, style="red")))
    return field_lines(rows)


def operation_view(doc: Mapping[str, Any]) -> RenderableType:
    ended = doc.get("status") in ("Succeeded", "Failed", "Canceled")
    return Group(operation_summary(doc), steps_table(as_items(doc.get("steps")), ended=ended))


def accepted_view(body: Mapping[str, Any], location: str) -> RenderableType:
    """A 202 answer: the operation, where to read it, and how to follow it."""
    operation = text(body.get("id"))
    return field_lines(
        [
            ("Operation", operation),
            ("Status", styled(body.get("status"))),
            ("Location", location),
            ("Follow with", f"regctl operation show {operation} --wait"),
        ]
    )
