"""``python -m sandbox.host``: the local Functions host (see docs/sandbox-host.md).

Start order mirrors the Functions host: read host.json, import the app, index its functions (resolving
``%SETTING%`` expressions; an unresolved one stops the start), start the triggers, then serve HTTP. On
SIGTERM or SIGINT: stop receiving and firing, let running invocations finish within the grace period,
stop HTTP, exit 0. Exit 2 means the app could not be indexed or its queues are missing; exit 1 that HTTP
could not be served.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from sandbox.host.bindings import IndexingError, index_app
from sandbox.host.config import HostConfigError, HostJson, QueueOptions
from sandbox.host.runtime import RuntimeStartError, TriggerRuntime
from sandbox.host.server import ASGIApp, ServerThread, admin_app, compose

logger = logging.getLogger("sandbox.host")

EXIT_OK = 0
EXIT_HTTP_FAILED = 1
EXIT_CANNOT_START = 2


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox.host", description=__doc__.splitlines()[0])
    parser.add_argument("--app", default="function_app", help="module that defines `app` and `api`")
    parser.add_argument("--app-dir", default=".", help="the app's root: holds the module and host.json")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve HTTP on")
    parser.add_argument("--port", type=int, default=7071, help="HTTP port (7071, as Core Tools)")
    parser.add_argument("--log-level", default=os.environ.get("SANDBOX_LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--instances",
        type=int,
        default=1,
        help="host instances sharing the port (each binds it with SO_REUSEPORT when more than one)",
    )
    parser.add_argument("--instance", type=int, default=0, help="this instance's index; timers fire in 0 only")
    parser.add_argument("--https-port", type=int, help="also serve HTTPS on this port (needs --tls-cert, --tls-key)")
    parser.add_argument("--tls-cert", help="PEM certificate chain of the HTTPS listener")
    parser.add_argument("--tls-key", help="PEM private key of the HTTPS listener")
    args = parser.parse_args(argv)
    if args.https_port is not None and not (args.tls_cert and args.tls_key):
        parser.error("--https-port needs --tls-cert and --tls-key")
    if not 0 <= args.instance < max(1, args.instances):
        parser.error(f"--instance {args.instance} is not one of the {args.instances} instances")
    return args


def configure_logging(level: str, instance: str = "") -> None:
    """``instance`` (``host1:``...) prefixes the thread name when several instances share one log."""
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format=f"%(asctime)s %(levelname)s %(name)s [{instance}%(threadName)s] %(message)s",
    )
    # The SDKs' HTTP logging is noise here (headers are redacted, but URLs and timings flood the log).
    logging.getLogger("azure").setLevel(logging.WARNING)


def load_app(module_name: str, app_dir: Path) -> tuple[Any, ASGIApp]:
    """Import the function app module from the app root, as the worker does; its ``app`` and ``api``."""
    sys.path.insert(0, str(app_dir))
    module = importlib.import_module(module_name)
    app = getattr(module, "app", None)
    if app is None or not callable(getattr(app, "get_functions", None)):
        raise IndexingError(f"module {module_name!r} has no Functions app named 'app'")
    api = getattr(module, "api", None)
    if api is None or not callable(api):
        raise IndexingError(f"module {module_name!r} exposes no ASGI app named 'api' to serve")
    return app, api


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(args.log_level, f"host{args.instance}:" if args.instances > 1 else "")
    settings = dict(os.environ)
    app_dir = Path(args.app_dir).resolve()
    try:
        host_json = HostJson.load(app_dir / "host.json")
        options = QueueOptions.from_env(settings)
        app, api = load_app(args.app, app_dir)
        runtime = TriggerRuntime(
            index_app(app, settings),
            host=host_json,
            options=options,
            settings=settings,
            schedules=args.instance == 0,
        )
        runtime.start()
    except (IndexingError, HostConfigError, RuntimeStartError) as exc:
        logger.error("host cannot start: %s", exc)
        return EXIT_CANNOT_START
    logger.info(
        "host.json maxConcurrentCalls=%d maxAutoLockRenewalDuration=%ss functionTimeout=%s; "
        "lock=%ss maxDeliveryCount=%d duplicateDetectionWindow=%ss deliver_twice=%s",
        host_json.max_concurrent_calls,
        host_json.max_auto_lock_renewal_seconds,
        host_json.function_timeout_seconds,
        options.lock_duration_seconds,
        options.max_delivery_count,
        options.duplicate_detection_window_seconds,
        options.deliver_twice,
    )

    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: shutting down", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    app = compose(api, admin_app(runtime))
    shared = args.instances > 1
    servers = [ServerThread(app, args.host, args.port, shared=shared)]
    if args.https_port is not None:  # clients that refuse bearer tokens over plain HTTP (azure-core's)
        # started first: once plain HTTP answers (what `up` waits for), HTTPS does too
        servers.insert(
            0, ServerThread(app, args.host, args.https_port, shared=shared, tls=(args.tls_cert, args.tls_key))
        )
    code = EXIT_OK
    if all(server.start(timeout=30) for server in servers):
        logger.info(
            "host listening on http://%s:%d (app %s, instance %d of %d)",
            args.host,
            args.port,
            args.app,
            args.instance,
            args.instances,
        )
        if args.https_port is not None:
            logger.info("host listening on https://%s:%d too", args.host, args.https_port)
        while not stop.wait(0.5):
            if not all(server.alive for server in servers):
                logger.error("the HTTP server stopped unexpectedly")
                code = EXIT_HTTP_FAILED
                break
    else:
        logger.error("could not serve HTTP on %s:%d", args.host, args.port)
        code = EXIT_HTTP_FAILED

    drained = runtime.stop(options.shutdown_grace_seconds)
    for server in servers:
        server.stop(timeout=10)
    if not drained:
        logger.warning(
            "invocations still running after %ss; exiting anyway (their messages are redelivered)",
            options.shutdown_grace_seconds,
        )
        logging.shutdown()
        os._exit(code)  # worker threads cannot be interrupted; do not wait for them at exit
    logger.info("host stopped")
    return code
