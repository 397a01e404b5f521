"""``python -m sandbox tickets``: the ticketing simulator in the foreground, advertised in
``$SANDBOX_DIR/tickets.json`` (``python -m sandbox up`` copies it into ``sandbox.json`` as ``ticketing``).

Secrets and credentials are new at every start: the Jira webhook secret, the Standard Webhooks secrets
(``whsec_``) of the ServiceNow Business Rule and of ``std`` senders, and the REST credentials regctl writes
back with. Plain HTTP on 127.0.0.1 (the real services are HTTPS; docs/tickets.md says what differs).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import logging
import os
import secrets
from pathlib import Path
from typing import Any

import uvicorn

from sandbox.arm.server import bind, sandbox_dir_from_env
from sandbox.processes import remove_if_ours, write_json_atomically
from sandbox.tickets.app import create_app
from sandbox.tickets.state import Deliverer, Tickets

log = logging.getLogger(__name__)
TICKETS_JSON = "tickets.json"
DEFAULT_PORT = 8445


def _whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def add_tickets(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("tickets", help="run the ticketing simulator (Jira, ServiceNow) in the foreground")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free one")
    parser.add_argument("--hook-url", default="http://127.0.0.1:7071/api/hooks", help="where webhooks go")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=float(os.environ.get("SANDBOX_TIME_SCALE", "1.0")),
        help="multiplier of injected delivery delays and Jira's retry delays",
    )
    parser.set_defaults(func=lambda args: run(args, sandbox_dir_from_env()))


def run(args: argparse.Namespace, sandbox_dir: Path) -> int:
    sandbox_dir.mkdir(parents=True, exist_ok=True)
    sock = bind(args.host, args.port)
    base_url = f"http://{args.host}:{sock.getsockname()[1]}"
    hook_secrets = {"jira": secrets.token_urlsafe(32), "servicenow": _whsec(), "std": _whsec()}
    credentials = {
        "jira": ("regctl@example.com", secrets.token_urlsafe(24)),
        "servicenow": ("regctl.integration", secrets.token_urlsafe(24)),
    }
    tickets = Tickets(base_url, args.hook_url, Deliverer(hook_secrets, args.time_scale))
    server = uvicorn.Server(
        uvicorn.Config(create_app(tickets, credentials), lifespan="off", access_log=False, log_level="warning")
    )
    info: dict[str, Any] = {
        "endpoint": base_url,
        "hook_url": args.hook_url,
        "jira": {
            "base_url": base_url,
            "webhook_secret": hook_secrets["jira"],
            "user": credentials["jira"][0],
            "token": credentials["jira"][1],
        },
        "servicenow": {
            "base_url": base_url,
            "webhook_secret": hook_secrets["servicenow"],
            "user": credentials["servicenow"][0],
            "password": credentials["servicenow"][1],
        },
        "std": {"webhook_secret": hook_secrets["std"]},
        "pid": os.getpid(),
    }
    path = sandbox_dir / TICKETS_JSON

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if server.started:
            write_json_atomically(path, info)
            log.info("ticketing simulator on %s, webhooks to %s", base_url, args.hook_url)
        await task

    try:
        asyncio.run(serve())
    finally:
        remove_if_ours(path, info)
        sock.close()
    return 0 if server.started else 1
