"""``python -m sandbox entra`` (the stand-in in the foreground) and ``python -m sandbox token`` (mint one)."""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

from sandbox.entra import config
from sandbox.entra.offline import Minter, NoSandbox, find_identity, principal_for
from sandbox.entra.server import ServerOptions, run
from sandbox.entra.tokens import PrincipalType


def _guid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError as err:
        raise argparse.ArgumentTypeError("must be a GUID (an Entra object id)") from err


def _sandbox_dir() -> Path:
    return Path(os.environ.get("SANDBOX_DIR", ".sandbox"))


def add_entra(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    entra = sub.add_parser("entra", help="run the Entra ID stand-in (HTTPS) in the foreground")
    entra.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    entra.add_argument(
        "--port",
        type=int,
        default=config.DEFAULT_PORT,
        help=f"port; 0 picks a free one (default {config.DEFAULT_PORT})",
    )
    entra.add_argument(
        "--audience",
        action="append",
        default=[],
        metavar="URI",
        help=f"a resource tokens may be asked for (repeatable, the first is the default; {config.DEFAULT_AUDIENCE})",
    )
    entra.set_defaults(func=_cmd_entra)


def _cmd_entra(args: argparse.Namespace) -> int:
    audiences = tuple(args.audience) or (config.DEFAULT_AUDIENCE,)
    return run(ServerOptions(host=args.host, port=args.port, sandbox_dir=_sandbox_dir(), audiences=audiences))


def add_token(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    token = sub.add_parser(
        "token",
        help="print an access token of the running sandbox's Entra stand-in for a principal",
        description="Prints one access token (one line), signed with the running sandbox's key "
        "($SANDBOX_DIR, default .sandbox). Exit code 2 when no sandbox runs there.",
    )
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--principal-id", type=_guid, metavar="OID", help="the principal's object id (the token's oid)")
    who.add_argument("--owner", action="store_true", help="the bootstrap owner (REGCTL_BOOTSTRAP_OWNERS)")
    token.add_argument("--name", help="display name (the name claim)")
    token.add_argument(
        "--type",
        choices=[kind.value for kind in PrincipalType],
        help="User (default, unless the id is a known service principal), Group or ServicePrincipal",
    )
    token.add_argument("--username", help="preferred_username of a user (default <oid prefix>@<tenant domain>)")
    token.add_argument("--audience", help="aud (default: the sandbox's audience)")
    token.add_argument("--role", action="append", default=[], help="an app role for the roles claim (repeatable)")
    token.add_argument(
        "--group", action="append", default=[], help="a group object id for the groups claim (repeatable)"
    )
    token.set_defaults(func=_cmd_token)


def _cmd_token(args: argparse.Namespace) -> int:
    try:
        identity = find_identity(_sandbox_dir())
        minter = Minter(identity)
    except (NoSandbox, OSError, ValueError) as err:
        sys.stderr.write(f"sandbox token: {err}\n")
        return 2
    principal_id = str(identity["owner_principal_id"]) if args.owner else args.principal_id
    kind = PrincipalType(args.type) if args.type else None
    principal = principal_for(principal_id, name=args.name, type=kind, username=args.username)
    sys.stdout.write(minter.token(principal, audience=args.audience, roles=args.role, groups=args.group) + "\n")
    return 0
