"""The ``regctl`` command line: composition only (commands live in ``commands_*``).

Commands are grouped by noun, as in ``az ml registry``: ``regctl registry <verb>``, ``regctl operation
show``, ``regctl access grant|revoke|list``, ``regctl role create|list|delete``, ``regctl activity list``, and
for registry assets ``regctl model|data|component|environment create|show|list|update|archive|restore|
delete|download|promote``, ``regctl rule create|list|delete`` and ``regctl promotion list|show|approve|
reject`` (docs/events.md).
They talk to the HTTP API (``regctl.client``) at ``--endpoint`` or ``$REGCTL_ENDPOINT`` (default
http://127.0.0.1:7071; the CLI adds ``/api``), sending ``$REGCTL_TOKEN`` as a bearer token, or one for
``$REGCTL_SCOPE`` from ``DefaultAzureCredential`` (``regctl.auth``); ``registry validate`` works offline.
Output is ``-o table|json|yaml``; json and yaml print the API's documents as they are.
"""

from __future__ import annotations

import typer

from regctl import (
    commands_access,
    commands_activity,
    commands_asset,
    commands_operation,
    commands_promotion,
    commands_registry,
    commands_role,
)
from shared.domain.asset_spec import AssetType

EXIT_CODES = """\
Exit codes: 0 success (a read answered, a request accepted, or with --wait the operation Succeeded);
1 the operation ended Failed or Canceled, or --timeout ran out (the error goes to stderr);
2 nothing was done: usage error, invalid file, or an error answer from the API (401 no or bad token,
403 not allowed, 404 not found, 409 conflict, 422 invalid, 5xx) or no answer at all. `registry validate`
exits 1 for an invalid file. The token: $REGCTL_TOKEN, else one for $REGCTL_SCOPE from DefaultAzureCredential.
"""

app = typer.Typer(
    name="regctl",
    help="Manage multi-region ML asset registries.\n\n" + EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
registry_app = typer.Typer(
    help="Registries: validate a registry.yml, create, update, show, list, delete, sync, set the policy.",
    no_args_is_help=True,
)
operation_app = typer.Typer(help="Operations started by registry, access and asset commands.", no_args_is_help=True)
access_app = typer.Typer(
    help="Role assignments: grant a role to a principal on a registry or on every registry, revoke, list.",
    no_args_is_help=True,
)
role_app = typer.Typer(help="Role definitions: create a custom role, list roles, delete one.", no_args_is_help=True)
activity_app = typer.Typer(help="The activity log: who did what, where, and how it ended.", no_args_is_help=True)
rule_app = typer.Typer(help="Promotion rules: what becomes available where is promoted where.", no_args_is_help=True)
promotion_app = typer.Typer(help="Promotions: list, show, approve, reject.", no_args_is_help=True)

app.add_typer(registry_app, name="registry")
app.add_typer(operation_app, name="operation")
app.add_typer(access_app, name="access")
app.add_typer(role_app, name="role")
app.add_typer(activity_app, name="activity")
app.add_typer(rule_app, name="rule")
app.add_typer(promotion_app, name="promotion")

registry_app.command("validate")(commands_registry.validate)
registry_app.command("create", epilog=EXIT_CODES)(commands_registry.create)
registry_app.command("update", epilog=EXIT_CODES)(commands_registry.update)
registry_app.command("show", epilog=EXIT_CODES)(commands_registry.show)
registry_app.command("list", epilog=EXIT_CODES)(commands_registry.list_)
registry_app.command("delete", epilog=EXIT_CODES)(commands_registry.delete)
registry_app.command("sync", epilog=EXIT_CODES)(commands_registry.sync)
registry_app.command("policy", epilog=EXIT_CODES)(commands_registry.policy)
operation_app.command("show", epilog=EXIT_CODES)(commands_operation.show)
access_app.command("grant", epilog=EXIT_CODES)(commands_access.grant)
access_app.command("revoke", epilog=EXIT_CODES)(commands_access.revoke)
access_app.command("list", epilog=EXIT_CODES)(commands_access.list_)
role_app.command("create", epilog=EXIT_CODES)(commands_role.create)
role_app.command("list", epilog=EXIT_CODES)(commands_role.list_)
role_app.command("delete", epilog=EXIT_CODES)(commands_role.delete)
activity_app.command("list", epilog=EXIT_CODES)(commands_activity.list_)
rule_app.command("create", epilog=EXIT_CODES)(commands_promotion.rule_create)
rule_app.command("list", epilog=EXIT_CODES)(commands_promotion.rule_list)
rule_app.command("delete", epilog=EXIT_CODES)(commands_promotion.rule_delete)
promotion_app.command("list", epilog=EXIT_CODES)(commands_promotion.promotion_list)
promotion_app.command("show", epilog=EXIT_CODES)(commands_promotion.promotion_decide(""))
promotion_app.command("approve", epilog=EXIT_CODES)(commands_promotion.promotion_decide("approve"))
promotion_app.command("reject", epilog=EXIT_CODES)(commands_promotion.promotion_decide("reject"))

for asset_type in AssetType:
    asset_app = typer.Typer(
        help=f"Registry {asset_type.value}: create a version from its YAML (uploading its files), show, list, "
        "update, archive, restore, delete, download from a region.",
        no_args_is_help=True,
        callback=commands_asset.selecting(asset_type),
    )
    app.add_typer(asset_app, name=asset_type.singular)
    for verb, command in commands_asset.COMMANDS.items():
        asset_app.command(verb, epilog=EXIT_CODES + "\n" + commands_asset.ASSET_NOTES)(command)
    asset_app.command("promote", epilog=EXIT_CODES)(commands_promotion.promote)


def main() -> None:
    """Console-script entry point (``regctl``)."""
    app()
