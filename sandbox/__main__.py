"""``python -m sandbox <command>``: the local stand-ins for Azure.

Commands:
  up    start Azurite, the ARM simulator and the functions host; write sandbox.json (docs/sandbox-host.md)
  arm   run the ARM simulator in the foreground (docs/sandbox.md)
  entra run the Entra ID stand-in in the foreground (docs/sandbox.md)
  token print an access token of the running sandbox's Entra stand-in
  tickets run the ticketing simulator (Jira, ServiceNow) in the foreground (docs/tickets.md)
  host  run the local functions host in the foreground (docs/sandbox-host.md)

Each command is one ``add_parser`` + one ``_cmd_*`` function, so more (e.g. ``up``) slot in beside it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence

from sandbox.arm.azurite import DEFAULT_POOL_SIZE
from sandbox.arm.config import DEFAULT_SUBSCRIPTION_ID, Settings
from sandbox.arm.server import ServerOptions, run, sandbox_dir_from_env
from sandbox.entra.cli import add_entra, add_token
from sandbox.tickets.server import add_tickets


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be > 0")
    return value


def _add_arm(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    arm = sub.add_parser("arm", help="run the ARM simulator (HTTPS) in the foreground")
    arm.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    arm.add_argument("--port", type=int, default=8443, help="port; 0 picks a free one (default 8443)")
    arm.add_argument(
        "--time-scale",
        type=_positive_float,
        default=float(os.environ.get("SANDBOX_TIME_SCALE", "1.0")),
        help="multiplier of every operation duration (default $SANDBOX_TIME_SCALE or 1.0)",
    )
    arm.add_argument(
        "--subscription-id",
        default=os.environ.get("SANDBOX_SUBSCRIPTION_ID", DEFAULT_SUBSCRIPTION_ID),
        help=f"subscription advertised in arm.json (default {DEFAULT_SUBSCRIPTION_ID}); any GUID works",
    )
    arm.add_argument(
        "--azurite-blob-endpoint",
        default=os.environ.get("SANDBOX_AZURITE_BLOB_ENDPOINT", "http://127.0.0.1:10000"),
        help="Azurite's blob endpoint, where the blob proxy sends the storage accounts' traffic "
        "(default $SANDBOX_AZURITE_BLOB_ENDPOINT)",
    )
    arm.add_argument(
        "--blob-port",
        type=int,
        default=8445,
        help="port of the storage accounts' blob endpoints (the blob proxy); 0 picks a free one (default 8445)",
    )
    arm.add_argument(
        "--events-connection",
        default=os.environ.get("SANDBOX_EVENTS_CONNECTION", ""),
        help="Azurite's connection string: the Event Grid stand-in sends BlobCreated, BlobDeleted, ImagePushed and "
        "ImageDeleted onto its queues for the system topics' event subscriptions (default "
        "$SANDBOX_EVENTS_CONNECTION; empty: no deliveries)",
    )
    arm.add_argument(
        "--blob-pool-size",
        type=int,
        default=DEFAULT_POOL_SIZE,
        help=f"Azurite pool accounts declared in AZURITE_ACCOUNTS (default {DEFAULT_POOL_SIZE}); "
        "storage accounts that may exist at once",
    )
    arm.add_argument(
        "--storage-quota",
        type=int,
        default=250,
        help="storage accounts per region per subscription (default 250)",
    )
    arm.add_argument(
        "--taken-storage-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a storage account name taken by someone else (repeatable)",
    )
    arm.add_argument(
        "--taken-registry-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a registry name taken by someone else (repeatable)",
    )
    arm.set_defaults(func=_cmd_arm)


def _cmd_arm(args: argparse.Namespace) -> int:
    settings = Settings(
        time_scale=args.time_scale,
        default_subscription_id=args.subscription_id,
        azurite_blob_endpoint=args.azurite_blob_endpoint.rstrip("/"),
        storage_account_quota=args.storage_quota,
        blob_pool_size=args.blob_pool_size,
        taken_storage_names={n.lower() for n in args.taken_storage_name},
        taken_registry_names={n.lower() for n in args.taken_registry_name},
    )
    options = ServerOptions(
        host=args.host,
        port=args.port,
        sandbox_dir=sandbox_dir_from_env(),
        settings=settings,
        blob_port=args.blob_port,
        events_connection=args.events_connection,
    )
    return run(options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0] if __doc__ else "")
    sub = parser.add_subparsers(dest="command", required=True)
    adders: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
        _add_arm,
        add_entra,
        add_token,
        add_tickets,
    ]
    for add in adders:
        add(sub)
    return parser


def _delegated(argv: Sequence[str]) -> Callable[[list[str]], int] | None:
    """``up`` and ``host`` own their argument parsing; everything after the command name goes to them."""
    if not argv:
        return None
    if argv[0] == "up":
        from sandbox.up import main as up_main  # noqa: PLC0415 - only loaded when used

        return up_main
    if argv[0] == "host":
        from sandbox.host.cli import main as host_main  # noqa: PLC0415

        return host_main
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    delegate = _delegated(args_list)
    if delegate is not None:
        return delegate(args_list[1:])
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("sandbox").setLevel(logging.INFO)
    args = build_parser().parse_args(args_list)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
