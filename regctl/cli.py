"""The ``regctl`` command line: composition only (commands live in ``commands_*``).

Commands are grouped by noun, as in ``az ml registry``: ``regctl registry <verb>`` and
``regctl operation show``. They talk to the HTTP API (``regctl.client``) at ``--endpoint`` or
``$REGCTL_ENDPOINT`` (default http://127.0.0.1:7071; the CLI adds ``/api``); ``registry validate`` works
offline. Output is ``-o table|json|yaml``; json and yaml print the API's documents as they are.
"""

from __future__ import annotations

import typer

from regctl import commands_operation, commands_registry

EXIT_CODES = """\
Exit codes: 0 success (a read answered, a request accepted, or with --wait the operation Succeeded);
1 the operation ended Failed or Canceled, or --timeout ran out (the error goes to stderr);
2 nothing was done: usage error, invalid file, or an error answer from the API (404 not found, 409
conflict, 422 invalid, 5xx) or no answer at all. `registry validate` exits 1 for an invalid file.
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
operation_app = typer.Typer(help="Operations started by registry commands.", no_args_is_help=True)

app.add_typer(registry_app, name="registry")
app.add_typer(operation_app, name="operation")

registry_app.command("validate")(commands_registry.validate)
registry_app.command("create", epilog=EXIT_CODES)(commands_registry.create)
registry_app.command("update", epilog=EXIT_CODES)(commands_registry.update)
registry_app.command("show", epilog=EXIT_CODES)(commands_registry.show)
registry_app.command("list", epilog=EXIT_CODES)(commands_registry.list_)
registry_app.command("delete", epilog=EXIT_CODES)(commands_registry.delete)
registry_app.command("sync", epilog=EXIT_CODES)(commands_registry.sync)
registry_app.command("policy", epilog=EXIT_CODES)(commands_registry.policy)
operation_app.command("show", epilog=EXIT_CODES)(commands_operation.show)


def main() -> None:
    """Console-script entry point (``regctl``)."""
    app()
