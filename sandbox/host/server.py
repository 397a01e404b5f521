"""HTTP: the app's own ASGI app under uvicorn, plus the host's admin endpoint for non-HTTP functions.

In Azure, ``AsgiFunctionApp`` forwards every request to the FastAPI app; serving the FastAPI app directly
gives the same routes (they carry the ``/api`` prefix themselves) without the Functions HTTP layer.
Next to it, as the Functions host (and Core Tools at port 7071) does, ``/admin/functions`` lists the
functions and ``POST /admin/functions/{name}`` runs a non-HTTP function now: the way to fire a timer in a
test without waiting for its schedule. Requests outside ``/admin/`` never see the admin app.

uvicorn runs in a thread so that the main thread owns the signals and orders the shutdown: triggers stop
first, in-flight invocations finish, then HTTP stops.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.host.runtime import TriggerRuntime

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

ADMIN_PREFIX = "/admin/"


def admin_app(runtime: TriggerRuntime) -> Starlette:
    async def list_functions(request: Request) -> Response:
        return JSONResponse(runtime.describe())

    async def run_function(request: Request) -> Response:
        name = request.path_params["name"]
        timer = runtime.timers.get(name)
        if timer is None:
            known = [entry["name"] for entry in runtime.describe()]
            if name in known:
                return JSONResponse(
                    {"error": f"the sandbox runs only timer functions through the admin endpoint: {name}"},
                    status_code=400,
                )
            return JSONResponse({"error": f"no function named {name!r}"}, status_code=404)
        timer.run_now()
        logger.info("admin: run requested function=%s", name)
        return Response(status_code=202)

    return Starlette(
        routes=[
            Route("/admin/functions", list_functions, methods=["GET"]),
            Route("/admin/functions/{name}", run_function, methods=["POST"]),
        ]
    )


def compose(api: ASGIApp, admin: ASGIApp) -> ASGIApp:
    """One ASGI app: ``/admin/`` to the host's admin endpoint, everything else (and lifespan) to ``api``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(ADMIN_PREFIX):
            await admin(scope, receive, send)
        else:
            await api(scope, receive, send)

    return app


def _shared_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ServerThread:
    """uvicorn on ``host:port`` in a background thread. ``shared``: several host instances serve the port,
    each binding it with ``SO_REUSEPORT`` (Linux), and the kernel spreads connections among them, as the
    front end of a scaled-out Function App spreads requests among its instances. ``tls``: (certificate chain,
    key) PEM files to serve HTTPS with, as a Function App's front end does."""

    def __init__(
        self, app: ASGIApp, host: str, port: int, *, shared: bool = False, tls: tuple[str, str] | None = None
    ) -> None:
        certfile, keyfile = tls or (None, None)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            lifespan="off" if tls else "auto",
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        self._server = uvicorn.Server(config)
        self._sockets = [_shared_socket(host, port)] if shared else None
        self._thread = threading.Thread(target=self._run, name="uvicorn", daemon=True)

    def _run(self) -> None:
        self._server.run(sockets=self._sockets)

    def start(self, timeout: float) -> bool:
        """Start serving; False if uvicorn did not come up (port taken, lifespan failure)."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._thread.is_alive():
            if self._server.started:
                return True
            time.sleep(0.05)
        return self._server.started

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float) -> None:
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(2.0)
