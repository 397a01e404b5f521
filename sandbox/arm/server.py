"""Runs the simulator in the foreground under uvicorn and advertises it in ``$SANDBOX_DIR/arm.json``.

One server, two listening sockets: ARM on ``--port`` and the blob data plane of the simulated storage
accounts (``sandbox/blob``) on ``--blob-port``; requests go to one app or the other by the local port.
Both sockets are bound before uvicorn starts, so port 0 picks a free port and ``arm.json`` shows the
real ones (``endpoint``, ``blob_endpoint``). ``arm.json`` is written atomically once the server accepts
connections, and removed on a clean shutdown (SIGINT/SIGTERM) if it still describes this server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import uvicorn

from sandbox.arm.app import ArmApp, Receive, Scope, Send
from sandbox.arm.certs import make_certs
from sandbox.arm.config import Settings
from sandbox.blob.proxy import BlobProxy
from sandbox.processes import remove_if_ours, write_json_atomically

log = logging.getLogger(__name__)

ARM_JSON = "arm.json"


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    sandbox_dir: Path
    settings: Settings
    blob_port: int = 8445
    #: Azurite's connection string for the Event Grid stand-in's deliveries ("": no stand-in runs).
    events_connection: str = ""


class PortDispatcher:
    """ARM or the blob proxy, by the port the connection came in on."""

    def __init__(self, arm: ArmApp, blob: BlobProxy, blob_port: int) -> None:
        self.arm = arm
        self.blob = blob
        self.blob_port = blob_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] == "http" and server is not None and server[1] == self.blob_port:
            await self.blob(scope, receive, send)
        else:
            await self.arm(scope, receive, send)


def sandbox_dir_from_env() -> Path:
    return Path(os.environ.get("SANDBOX_DIR", ".sandbox"))


def bind(host: str, port: int) -> socket.socket:
    """A listening-ready TCP socket on ``host:port`` (0: a free port), Nagle off, inheritable."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only disables Nagle on accepted sockets whose proto says TCP,
    # and with Nagle plus delayed ACKs every response waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def run(options: ServerOptions) -> int:
    """Serve until interrupted. Returns the process exit code."""
    sandbox_dir = options.sandbox_dir.resolve()
    sock = bind(options.host, options.port)
    port = sock.getsockname()[1]
    blob_sock = bind(options.host, options.blob_port)
    blob_port = blob_sock.getsockname()[1]
    host = f"[{options.host}]" if ":" in options.host else options.host
    options.settings.blob_endpoint = f"https://{host}:{blob_port}"
    certs = make_certs(sandbox_dir)
    arm_app = ArmApp(options.settings)
    blob_proxy = BlobProxy(arm_app.store, arm_app.faults)
    standin = None
    if options.events_connection:
        from sandbox.eventgrid.standin import EventGridStandIn  # noqa: PLC0415
        from shared.adapters.storage_queue import StorageQueuePublisher  # noqa: PLC0415

        publisher = StorageQueuePublisher(options.events_connection)
        standin = EventGridStandIn(arm_app.store, publisher, arm_app.faults)
        blob_proxy.hooks.subscribe(standin.blob_committed)
        blob_proxy.hooks.subscribe_deletes(standin.blob_deleted)
        arm_app.image_hooks.subscribe(standin.image_changed)
        standin.start()
    config = uvicorn.Config(
        PortDispatcher(arm_app, blob_proxy, blob_port),
        ssl_certfile=str(certs.cert_chain),
        ssl_keyfile=str(certs.key),
        lifespan="off",
        access_log=False,
        server_header=False,
        date_header=True,
        proxy_headers=False,
        log_level="warning",
        timeout_keep_alive=30,
        # Idle keep-alive TLS connections wait for the peer's close_notify on shutdown (asyncio gives
        # them 30 s); clients in tests never send it, so stop waiting after a second.
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    info = {
        "endpoint": f"https://{host}:{port}",
        "blob_endpoint": options.settings.blob_endpoint,
        "ca_bundle": str(certs.ca_bundle),
        "subscription_id": options.settings.default_subscription_id,
    }
    arm_json = sandbox_dir / ARM_JSON

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock, blob_sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        certs.forget_key()
        if server.started:
            write_json_atomically(arm_json, info)
            log.info("ARM simulator listening on %s (time scale %s)", info["endpoint"], options.settings.time_scale)
        await task
        await blob_proxy.aclose()

    # uvicorn captures SIGINT/SIGTERM while serving and re-raises them once shut down; with these
    # handlers the re-raised signal is a no-op, so the cleanup below runs and the exit code is 0.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _ignore_signal)
    try:
        # The loop uvicorn would pick itself (uvloop when installed): ``asyncio.run`` would not.
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(serve())
    finally:
        if standin is not None:
            standin.stop()
        certs.forget_key()
        remove_if_ours(arm_json, info)
        sock.close()
        blob_sock.close()
    return 0 if server.started else 1


def _ignore_signal(signum: int, frame: FrameType | None) -> None:
    log.debug("signal %s after shutdown ignored", signum)
