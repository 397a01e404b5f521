"""``python -m sandbox up``: Azurite, the ARM simulator, the Entra stand-in, the ticketing simulator and the
functions host, together.

Order: Azurite (with the pool of accounts behind the simulated storage accounts' blob endpoints, see
``sandbox/arm/azurite.py``), the ARM simulator (which serves those blob endpoints too, on
``--blob-proxy-port``) and the Entra stand-in (ready when they write ``arm.json`` / ``entra.json``), then
what infra creates in Azure (the queues with their dead-letter queues, the state tables), then the host with the app
settings Azure would give it (ARM, storage, and the identity provider to validate tokens against). When
all answer, ``$SANDBOX_DIR/sandbox.json`` says where everything is.

The host is supervised as the Functions runtime supervises its worker: if it dies it is started again
after a short backoff. Azurite, the simulator and the Entra stand-in stand for Azure services, so if one
of them dies the sandbox stops (exit 1) instead of pretending. SIGTERM or Ctrl-C stops them all, process groups and all,
and removes ``sandbox.json`` (its pids would be stale).

A storage outage on purpose (the reliability suite, ``Sandbox.stop_azurite``/``start_azurite``): SIGUSR1
stops Azurite (SIGTERM, so it saves its data) and leaves it down; SIGUSR2 starts it again on the same ports
and data directory. ``sandbox.json`` shows ``pids.azurite`` null while it is down. Only an Azurite death
that was not asked for stops the sandbox. With ``--azurite-memory`` (Azurite keeps its data in memory, for
benchmarks) there is no such outage: it would lose every table and queue, so SIGUSR1 is refused (logged).

This module is the command line; ``sandbox/supervisor.py`` starts, restarts and stops the processes, and
``sandbox/infra.py`` holds the host's app settings and creates its queues and tables.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from sandbox.entra import config as entra_config
from sandbox.processes import SandboxError
from sandbox.supervisor import Supervisor
from sandbox.tickets.server import DEFAULT_PORT as TICKETS_PORT

logger = logging.getLogger("sandbox.up")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox up", description=__doc__.splitlines()[0])
    parser.add_argument("--api-port", type=int, default=7071)
    parser.add_argument("--https-port", type=int, default=7072, help="the host's HTTPS listener (sandbox CA)")
    parser.add_argument("--arm-port", type=int, default=8443)
    parser.add_argument("--entra-port", type=int, default=entra_config.DEFAULT_PORT)
    parser.add_argument("--tickets-port", type=int, default=TICKETS_PORT)
    parser.add_argument("--blob-port", type=int, default=10000)
    parser.add_argument("--queue-port", type=int, default=10001)
    parser.add_argument("--table-port", type=int, default=10002)
    parser.add_argument(
        "--blob-proxy-port", type=int, default=8445, help="the simulated storage accounts' blob endpoints"
    )
    parser.add_argument("--time-scale", type=float, help="passed to the ARM simulator")
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="app setting for the host (repeatable)"
    )
    parser.add_argument("--queue", action="append", default=[], help="an extra queue to create (repeatable)")
    parser.add_argument("--app", default="function_app", help="function app module for the host")
    parser.add_argument("--app-dir", default=".", help="the function app's root directory")
    parser.add_argument("--log-dir", help="write each child's output to DIR/<name>.log instead of the console")
    parser.add_argument("--startup-timeout", type=float, default=90.0)
    parser.add_argument(
        "--host-instances",
        type=int,
        default=int(os.environ.get("SANDBOX_HOST_INSTANCES", "1")),
        help="functions host processes sharing the API port, like instances of a scaled-out Function App "
        "(default $SANDBOX_HOST_INSTANCES or 1)",
    )
    parser.add_argument(
        "--azurite-memory",
        action="store_true",
        default=os.environ.get("SANDBOX_AZURITE_MEMORY", "").lower() in ("1", "true", "yes"),
        help="Azurite keeps its data in memory, not under $SANDBOX_DIR/azurite: no periodic save stalls, "
        "nothing survives (default: on disk, unless $SANDBOX_AZURITE_MEMORY is 1/true)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    args = parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        logger.info("received %s: stopping the sandbox", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    supervisor = Supervisor(args, stop)
    signal.signal(signal.SIGUSR1, lambda signum, frame: supervisor.want_azurite(False))
    signal.signal(signal.SIGUSR2, lambda signum, frame: supervisor.want_azurite(True))
    try:
        return supervisor.run()
    except SandboxError as exc:
        if stop.is_set():  # asked to stop while starting: not a failure
            logger.info("%s", exc)
            return 0
        logger.error("%s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
