"""``regctl model|data|component|environment create|show|list|update|archive|restore|delete|download``.

One set of commands serves the four asset types; the group each runs under (``regctl model ...``) sets the
type (``selecting``). ``create`` takes the YAML of ``az ml <type> create --registry-name``, checks it offline
(``regctl.asset_files``: invalid, or naming local content that is missing, holds ``..``, links outside its
folder or breaks the limits, exits 2 with nothing sent), asks the API for a pending upload, uploads the
files (``regctl.transfer``), and registers the version with the list of files it uploaded. An environment
from an ``image`` only, or a component without ``code``, uploads nothing. ``download`` reads the copy in one
region and writes a file only once its MD5 matches the manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from regctl.asset_files import AssetFile, plan_download, read_asset, registration, verify
from regctl.asset_tables import asset_list, download_view, size_text, version_list, version_view
from regctl.client import DEFAULT_ENDPOINT, ApiClient, Registration
from regctl.commands_operation import Waiting, follow, report_accepted, waiting
from regctl.errors import EXIT_FAILED, EXIT_OK, UsageProblem
from regctl.options import (
    DEFAULT_INTERVAL,
    AssetFileOption,
    AssetNameOption,
    AssetVersionOption,
    DirectoryOption,
    EndpointOption,
    IncludeArchivedOption,
    IntervalOption,
    OutputOption,
    RegionOption,
    RegistryOption,
    TimeoutOption,
    WaitOption,
    YesOption,
)
from regctl.output import ViewFormat, print_document, print_table, say
from regctl.runtime import confirm, connect, handled, runtime_of
from shared.domain.asset_spec import AssetType

ASSET_TYPE = "regctl.asset_type"
CREATING = "Creating"
ASSET_NOTES = """\
download exits 1 when a file does not match the manifest's size and MD5 (that file is not written).
Blob uploads and downloads go straight to the registry's storage with the SAS the API hands out; their
TLS trusts the CA bundle in $REQUESTS_CA_BUNDLE when it is set (the sandbox's, for instance).
"""


def selecting(asset_type: AssetType) -> Callable[[typer.Context], None]:
    """The callback of ``regctl <type>``: the commands below it act on ``asset_type``."""

    def select(ctx: typer.Context) -> None:
        ctx.meta[ASSET_TYPE] = asset_type

    return select


def asset_type_of(ctx: typer.Context) -> AssetType:
    return AssetType(ctx.meta[ASSET_TYPE])


def show_version(document: Mapping[str, Any], output: ViewFormat, follow_with: str | None = None) -> None:
    if output is ViewFormat.TABLE:
        print_table(version_view(document, follow_with))
    else:
        print_document(dict(document), output)


# -- create -----------------------------------------------------------------------------------------------


def upload(ctx: typer.Context, api: ApiClient, registry: str, asset: AssetFile) -> str:
    """Upload the asset's files into a new pending upload; its ``blobUri``."""
    definition = asset.definition
    blob_uri, sas_url = api.start_pending_upload(registry, definition.type, definition.name, definition.version)
    say(f"regctl: uploading {len(asset.files)} file(s), {size_text(asset.total_bytes)}")
    runtime_of(ctx).transfer().upload(sas_url, asset.files)
    return blob_uri


def report_registered(
    ctx: typer.Context,
    api: ApiClient,
    registry: str,
    answer: Registration,
    *,
    output: ViewFormat,
    wait: Waiting | None,
) -> int:
    """Print the registered version; with ``--wait`` follow its copies first, then print it as it ends."""
    doc = answer.document
    asset_type, name, version = asset_type_of(ctx), str(doc.get("name")), str(doc.get("version"))
    if answer.status == 200:
        say(f"regctl: {asset_type.singular} {name} version {version} is registered with this content already")
    location = doc.get("operation")
    operation_id = location.rsplit("/", 1)[-1] if isinstance(location, str) else None
    if operation_id is None or doc.get("status") != CREATING:
        show_version(doc, output)
        return EXIT_OK
    if wait is None:
        show_version(doc, output, f"regctl operation show {operation_id} --wait")
        return EXIT_OK

    def present(_: Mapping[str, Any]) -> None:
        show_version(api.get_asset_version(registry, asset_type, name, version), output)

    return follow(ctx, api, operation_id, output, wait, answered=True, present=present)


def create(
    ctx: typer.Context,
    *,
    registry: RegistryOption,
    file: AssetFileOption,
    wait: WaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Register a version from its YAML: checked offline, its local files uploaded (each with its
    Content-MD5), then registered; with --wait, follow its copy to every region."""
    with handled():
        asset = read_asset(file, asset_type_of(ctx))
        definition = asset.definition
        with connect(ctx, endpoint) as api:
            blob_uri = upload(ctx, api, registry, asset) if asset.files else None
            body, dropped = registration(asset, blob_uri)
            if dropped:
                say("regctl: the list of files is too long to send; the API records the files as they arrived")
            answer = api.register_asset(registry, definition.type, definition.name, definition.version, body)
            code = report_registered(ctx, api, registry, answer, output=output, wait=waiting(wait, interval, timeout))
    raise typer.Exit(code)


# -- reads and changes ------------------------------------------------------------------------------------


def show(
    ctx: typer.Context,
    *,
    registry: RegistryOption,
    name: AssetNameOption,
    version: AssetVersionOption,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Show a version: its fields, status, and the state of its copy in each region."""
    with handled(), connect(ctx, endpoint) as api:
        document = api.get_asset_version(registry, asset_type_of(ctx), name, version)
    show_version(document, output)


def list_(
    ctx: typer.Context,
    *,
    registry: RegistryOption,
    name: Annotated[str | None, typer.Option("--name", "-n", help="List this asset's versions.")] = None,
    include_archived: IncludeArchivedOption = False,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """List the assets of a registry (each with its latest version), or with --name the versions of one;
    archived ones only with --include-archived."""
    asset_type = asset_type_of(ctx)
    with handled(), connect(ctx, endpoint) as api:
        if name is None:
            document = api.list_assets(registry, asset_type, include_archived)
        else:
            document = api.list_asset_versions(registry, asset_type, name, include_archived)
    if output is not ViewFormat.TABLE:
        print_document(document, output)
    elif name is None:
        print_table(asset_list(document["value"], asset_type.value))
    else:
        print_table(version_list(document["value"]))


def _change(
    ctx: typer.Context,
    registry: str,
    name: str,
    version: str,
    *,
    changes: dict[str, Any],
    output: ViewFormat,
    endpoint: str,
) -> None:
    with handled(), connect(ctx, endpoint) as api:
        document = api.update_asset_version(registry, asset_type_of(ctx), name, version, changes)
    show_version(document, output)


def update(
    ctx: typer.Context,
    *,
    registry: RegistryOption,
    name: AssetNameOption,
    version: AssetVersionOption,
    description: Annotated[str | None, typer.Option("--set-description", help="The new description.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Set a tag: KEY=VALUE (repeatable).")] = None,
    remove_tag: Annotated[
        list[str] | None, typer.Option("--remove-tag", help="Remove a tag: KEY (repeatable).")
    ] = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Change a version's description or tags (the rest of a version is immutable: register a new one)."""
    asset_type = asset_type_of(ctx)
    with handled():
        added = dict(_tag(item) for item in tag or [])
        if description is None and not added and not remove_tag:
            raise UsageProblem("nothing to change: give --set-description, --tag KEY=VALUE or --remove-tag KEY")
        changes: dict[str, Any] = {} if description is None else {"description": description}
        with connect(ctx, endpoint) as api:
            if added or remove_tag:
                current = api.get_asset_version(registry, asset_type, name, version).get("tags") or {}
                tags = {**current, **added}
                changes["tags"] = {k: v for k, v in tags.items() if k not in set(remove_tag or [])}
            document = api.update_asset_version(registry, asset_type, name, version, changes)
    show_version(document, output)


def _tag(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise UsageProblem(f"--tag takes KEY=VALUE, not {item!r}")
    return key, value


def archive(
    ctx: typer.Context,
    *,
    registry: RegistryOption,
    name: AssetNameOption,
    version: AssetVersionOption,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Archive a version: it stays readable and downloadable, and list hides it unless --include-archived."""
    _change(ctx, registry, name, version, changes={"isArchived": True}, output=output, endpoint=endpoint)


def restore(
    ctx: typer.Context,
    *,
    registry: RegistryOption,
    name: AssetNameOption,
    version: AssetVersionOption,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Restore an archived version: list shows it again."""
    _change(ctx, registry, name, version, changes={"isArchived": False}, output=output, endpoint=endpoint)


def delete(
    ctx: typer.Context,
    *,
    registry: RegistryOption,
    name: AssetNameOption,
    version: AssetVersionOption,
    yes: YesOption = False,
    wait: WaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Delete a version and its copies in every region; asks first unless --yes (required when not interactive)."""
    asset_type = asset_type_of(ctx)
    what = f"{asset_type.singular} {name} version {version}"
    with handled():
        if not yes:
            confirm(ctx, f"Delete {what} and its copies in every region of {registry}?", f"not deleting {what}")
        with connect(ctx, endpoint) as api:
            accepted = api.delete_asset_version(registry, asset_type, name, version)
            code = report_accepted(ctx, api, accepted, output, waiting(wait, interval, timeout))
    raise typer.Exit(code)


# -- download ---------------------------------------------------------------------------------------------


def fetch(ctx: typer.Context, grant: Mapping[str, Any], directory: Path) -> tuple[list[dict[str, Any]], int]:
    """Download every manifest file of ``grant`` into ``directory``; the files written and the exit code."""
    planned = plan_download(directory, grant["files"])
    prefix = str(grant.get("prefix") or "")
    try:
        for item in planned:
            item.target.parent.mkdir(parents=True, exist_ok=True)
        runtime_of(ctx).transfer().download(str(grant["containerUri"]), [(prefix + p.path, p.part) for p in planned])
        refused = [(item, why) for item in planned if (why := verify(item)) is not None]
    except OSError as exc:
        raise UsageProblem(f"cannot write below {directory}: {exc.strerror or exc}") from None
    finally:
        for item in planned:
            item.part.unlink(missing_ok=True)
    for item, why in refused:
        say(f"regctl: {item.path}: {why}; not written")
    bad = {item.path for item, _ in refused}
    written = [{"path": p.path, "size": p.size, "md5": p.md5} for p in planned if p.path not in bad]
    return written, (EXIT_FAILED if refused else EXIT_OK)


def download(
    ctx: typer.Context,
    *,
    registry: RegistryOption,
    name: AssetNameOption,
    version: AssetVersionOption,
    directory: DirectoryOption,
    region: RegionOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Download a version's files from its copy in one region into --dir (paths kept), each verified
    against the manifest's MD5; a region whose copy is not Replicated yet answers CopyNotReady."""
    with handled():
        with connect(ctx, endpoint) as api:
            grant = api.download_asset(registry, asset_type_of(ctx), name, version, region)
        written, code = fetch(ctx, grant, Path(directory))
    summary = {"region": grant.get("region"), "directory": str(Path(directory).resolve()), "files": written}
    if output is ViewFormat.TABLE:
        print_table(download_view(summary))
    else:
        print_document(summary, output)
    raise typer.Exit(code)


COMMANDS: dict[str, Callable[..., None]] = {
    "create": create,
    "show": show,
    "list": list_,
    "update": update,
    "archive": archive,
    "restore": restore,
    "delete": delete,
    "download": download,
}
