"""Create-request throughput and latency of the HTTP API, against the ceiling of its own store and queue.

``python -m bench.api --seconds T [--clients C] [--sweep 1,2,4,16]`` starts its own sandbox and, from C
concurrent clients (threads, one keep-alive ``http.client`` connection each; default 8, the
``maxConcurrentCalls`` the app's host.json gives each queue function), sends ``POST /api/registries`` with
a valid YAML spec (3 regions), a unique registry name and the sandbox owner's bearer token (so each request
is authenticated and authorized, as in production), back to back for T seconds after an untimed
warm-up (and, once, after the sandbox came up, ``--sandbox-warmup`` seconds of the same calls: a fresh
sandbox answers slower for its first thousand or so requests, its JIT and heaps still warming; default 10).
Then the same C threads, for the same T seconds, do directly what ``RegistryService.create`` does behind
that endpoint, with the app's own ``RegistryService`` over ``TableStateStore`` and ``Dispatcher`` over
``StorageQueuePublisher``, built from the sandbox's settings as ``shared/bootstrap.build`` builds them and
shared by the threads as the host shares its container: parse the spec, ``find_idempotent`` (only with
``--idempotency-key``), one table insert (the registry row, its first operation inline) and one queue send.
One JSON object on the last line of stdout:

- ``requests_per_s``: requests answered 202 per second over the timed window;
- ``p50_ms`` / ``p99_ms``: client-side latency of those requests (nearest rank);
- ``errors``: requests not answered 202 (or failed on the wire) in the window;
- ``ceiling_ops_per_s`` (with ``ceiling_p50_ms``, ``ceiling_p99_ms``, ``ceiling_errors``): the same store
  writes and queue send per second, without HTTP, FastAPI or the host in between;
- ``ratio_to_ceiling``: requests_per_s / ceiling_ops_per_s, how close the API gets to what its own
  dependencies allow. Goal (issue 6): >= 0.7 with p99 <= 150 ms;
- ``cpu_ms_per_request`` / ``ceiling_cpu_ms_per_op``: CPU milliseconds per operation of each process
  (``host``: the functions host serving the API; ``azurite``; ``client``: this process; ``other``: the rest
  of the machine, which should be near 0), and ``other_cpu_share`` / ``ceiling_other_cpu_share``: the
  share of the machine's CPU that rest used during each phase (near 0 on a quiet machine);
- ``sweep`` (with ``--sweep``): the main figures again at each client count, in the same sandbox.

Azurite. On disk (the sandbox's default), Azurite's LokiJS stores serialise each whole database to a file
every 5 s on Node's one thread; as a benchmark creates thousands of registries that stall grows past 100 ms
and every request in flight waits for it. Azure Storage has no such pause, so ``--azurite-memory`` runs
Azurite in memory (``python -m sandbox up --azurite-memory``), as ``make bench`` does; both phases use the
same Azurite. ``azurite`` in the output says which.

Workers. Every accepted create enqueues a Reconcile that the host's queue workers would start
provisioning, on the same CPUs. By default (``--workers paused``) the host's queue receivers are parked:
the sandbox starts with ``SANDBOX_POLL_MIN_SECONDS``/``SANDBOX_POLL_MAX_SECONDS`` at one hour, so the first
poll finds the queues empty and the next comes after the benchmark. Both phases then measure the request
path alone, on a quiet machine. ``--workers live`` keeps the workers polling and slows ARM instead
(``--time-scale``, default 1000: every ARM operation takes 1000 times its Azure duration), so each create
still costs a first wave of reconcile and step invocations while the API is measured; the ceiling phase
then runs with that backlog still draining, so its figure is only indicative.

The clients and their timed window are ``bench/load.py``'s, shared with ``bench.hooks`` and ``bench.promote``,
which reuse this module's ceiling (``app_dependencies``, ``ceiling_factory``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.common import (
    REGION_ORDER,
    CpuMeter,
    add_host_instances,
    app_settings,
    machine,
    other_share,
    owner_headers,
    percentile_ms,
    progress,
    registry_yaml,
    sandbox,
)
from bench.load import Call, Connection, Phase, drive
from sandbox.harness import Sandbox
from shared.bootstrap import Container, build
from shared.domain.commands import CreateRegistry
from shared.domain.roles import Action
from shared.services.registries import RegistryService

PAUSED_POLL_SECONDS = "3600"
"""Pause between polls of an empty queue while workers are parked: longer than any run of this benchmark."""


def _document(name: str, regions: list[str]) -> dict[str, Any]:
    return {"name": name, "location": regions[0], "replication_locations": [{"location": r} for r in regions]}


def api_factory(
    base_url: str, regions: list[str], body: str, idempotency: bool, auth: dict[str, str]
) -> Callable[[int], tuple[Call, Callable[[], None]]]:
    """Each client: one keep-alive connection; a call is one POST /api/registries with ``auth`` (the owner's
    ``Authorization``, so every request is authenticated and authorized as a real one is), accepted when 202."""

    def factory(_: int) -> tuple[Call, Callable[[], None]]:
        api = Connection(base_url)

        def call(name: str) -> None:
            headers = dict(auth)
            if idempotency:
                headers["Idempotency-Key"] = uuid.uuid4().hex
            if body == "yaml":
                headers["Content-Type"] = "application/yaml"
                content = registry_yaml(name, regions).encode()
            else:
                headers["Content-Type"] = "application/json"
                content = json.dumps(_document(name, regions)).encode()
            status, answer = api.post("/api/registries", content, headers)
            if status != 202:
                raise RuntimeError(f"answered {status}: {answer[:200].decode(errors='replace')}")

        return call, api.close

    return factory


@contextmanager
def app_dependencies(box: Sandbox) -> Iterator[Container]:
    """The app's own dependencies, built by the composition root from the settings the sandbox gives the
    host (one per process, as the host has one container shared by its request threads)."""
    deps = build(app_settings(box))
    try:
        yield deps
    finally:
        deps.publisher.close()


AUTH_ROUNDS = 3000


def auth_cost(box: Sandbox, deps: Container) -> dict[str, float]:
    """CPU milliseconds that identifying and authorizing one request costs the host, with the app's own
    authenticator (RS256 over the stand-in's JWKS) and access service, in this process: for a client that
    sends the same token on every request (as every client does for its token's lifetime), and for a token
    seen for the first time (the signature check)."""
    headers = {"Authorization": f"Bearer {box.owner_token()}"}
    scope = "/registries/benchauth"
    principal = deps.authenticator.authenticate(headers)  # the JWKS fetch and the access snapshot: untimed
    deps.access.authorize(principal, Action.REGISTRIES_WRITE, scope)
    started = time.process_time()
    for _ in range(AUTH_ROUNDS):
        principal = deps.authenticator.authenticate(headers)
        deps.access.authorize(principal, Action.REGISTRIES_WRITE, scope).require()
    repeat = (time.process_time() - started) / AUTH_ROUNDS * 1000
    fresh = [{"Authorization": f"Bearer {box.owner_token()}"} for _ in range(200)]  # minted untimed
    started = time.process_time()
    for each in fresh:
        principal = deps.authenticator.authenticate(each)
        deps.access.authorize(principal, Action.REGISTRIES_WRITE, scope).require()
    first = (time.process_time() - started) / len(fresh) * 1000
    return {"auth_cpu_ms_per_request": round(repeat, 4), "auth_cpu_ms_new_token": round(first, 3)}


def ceiling_factory(
    service: RegistryService, regions: list[str], idempotency: bool
) -> Callable[[int], tuple[Call, Callable[[], None]]]:
    """Each client: ``RegistryService.create`` called directly for a new name, with the command parsed from
    the document as the endpoint parses it. The same code as behind the endpoint, so the ceiling follows any
    change to what a create costs."""

    def factory(_: int) -> tuple[Call, Callable[[], None]]:
        def call(name: str) -> None:
            key = uuid.uuid4().hex if idempotency else None
            accepted = service.create(CreateRegistry.from_document(_document(name, regions), key))
            if accepted.replayed:
                raise RuntimeError(f"registry {name} already existed")

        return call, lambda: None

    return factory


@dataclass(frozen=True)
class Options:
    """How the requests look and how the sandbox runs (the same for every client count)."""

    seconds: float = 20.0
    warmup: float = 2.0
    regions: int = 3
    body: str = "yaml"
    idempotency: bool = False
    workers: str = "paused"
    time_scale: float = 1000.0
    host_instances: int = 1
    azurite_memory: bool = False
    sandbox_warmup: float = 10.0


def measure(box: Sandbox, service: RegistryService, clients: int, options: Options) -> dict[str, Any]:
    """The API phase, then the ceiling phase, with ``clients`` clients; the figures of both."""
    chosen = REGION_ORDER[: options.regions]
    run_id = uuid.uuid4().hex[:4]
    meter = CpuMeter(box)
    calls = api_factory(box.api.removesuffix("/api"), chosen, options.body, options.idempotency, owner_headers(box))
    api = drive(clients, options.seconds, options.warmup, calls, tag=f"a{run_id}", meter=meter)
    progress(f"api: {clients} clients: {api.summary('')} cpu_s={_rounded(api.cpu)} {api.samples}")
    calls = ceiling_factory(service, chosen, options.idempotency)
    ceiling = drive(clients, options.seconds, options.warmup, calls, tag=f"c{run_id}", meter=meter)
    progress(f"api: {clients} clients: ceiling {ceiling.summary('')} cpu_s={_rounded(ceiling.cpu)} {ceiling.samples}")
    api_rate = len(api.latencies) / api.elapsed
    ceiling_rate = len(ceiling.latencies) / ceiling.elapsed
    return {
        "clients": clients,
        "requests": len(api.latencies),
        "requests_per_s": round(api_rate, 1),
        "p50_ms": percentile_ms(api.latencies, 50),
        "p99_ms": percentile_ms(api.latencies, 99),
        "errors": api.errors,
        "ceiling_ops": len(ceiling.latencies),
        "ceiling_ops_per_s": round(ceiling_rate, 1),
        "ceiling_p50_ms": percentile_ms(ceiling.latencies, 50),
        "ceiling_p99_ms": percentile_ms(ceiling.latencies, 99),
        "ceiling_errors": ceiling.errors,
        "ratio_to_ceiling": round(api_rate / ceiling_rate, 3) if ceiling_rate else 0.0,
        "cpu_ms_per_request": _per_op(api),
        "ceiling_cpu_ms_per_op": _per_op(ceiling),
        "other_cpu_share": other_share(api.cpu, api.elapsed),
        "ceiling_other_cpu_share": other_share(ceiling.cpu, ceiling.elapsed),
    }


def run(clients: int, options: Options, sweep: list[int] | None = None) -> dict[str, Any]:
    """The figures at ``clients``; with ``sweep``, the same figures at each of those client counts too
    (in ``sweep``, same sandbox, one after another)."""
    env = {}
    if options.workers == "paused":
        env = {"SANDBOX_POLL_MIN_SECONDS": PAUSED_POLL_SECONDS, "SANDBOX_POLL_MAX_SECONDS": PAUSED_POLL_SECONDS}
    with (
        sandbox(options.time_scale, env, options.host_instances, options.azurite_memory) as (box, _control),
        app_dependencies(box) as deps,
    ):
        service = deps.registries
        auth = auth_cost(box, deps)
        progress(f"api: authentication + authorization per request: {auth}")
        progress(
            f"api: sandbox up; {options.sandbox_warmup} s sandbox warm-up, then {options.warmup} s warm-up + "
            f"{options.seconds} s per phase, workers {options.workers}"
        )
        if options.sandbox_warmup > 0:  # a fresh sandbox is slower for a while (JIT, heaps growing): untimed
            base, regions = box.api.removesuffix("/api"), REGION_ORDER[: options.regions]
            calls = api_factory(base, regions, options.body, False, owner_headers(box))
            drive(clients, options.sandbox_warmup, 0.0, calls, tag="warm")
        primary = measure(box, service, clients, options)
        others = [measure(box, service, count, options) for count in sweep or [] if count != clients]
    swept = sorted([primary, *others], key=lambda r: int(r["clients"])) if others else []
    return {
        "benchmark": "api",
        "seconds": options.seconds,
        "warmup_s": options.warmup,
        "regions_per_spec": options.regions,
        "body": options.body,
        "idempotency_key": options.idempotency,
        "workers": options.workers,
        "time_scale": options.time_scale,
        "host_instances": options.host_instances,
        "azurite": "memory" if options.azurite_memory else "disk",
        "sandbox_warmup_s": options.sandbox_warmup,
        **primary,
        **auth,
        **({"sweep": [_brief(r) for r in swept]} if swept else {}),
        "machine": machine(),
    }


def _brief(figures: dict[str, Any]) -> dict[str, Any]:
    keys = ("clients", "requests_per_s", "p50_ms", "p99_ms", "ceiling_ops_per_s", "ceiling_p99_ms", "ratio_to_ceiling")
    return {key: figures[key] for key in keys}


def _rounded(cpu: dict[str, float]) -> dict[str, float]:
    return {name: round(seconds, 2) for name, seconds in cpu.items()}


def _per_op(phase: Phase) -> dict[str, float]:
    """CPU milliseconds each process spent per completed operation of the phase (all ops, errors included)."""
    ops = len(phase.latencies) + phase.errors
    return {name: round(seconds * 1000 / ops, 2) for name, seconds in phase.cpu.items()} if ops else {}


def _counts(text: str) -> list[int]:
    counts = [int(part) for part in text.split(",") if part.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of client counts >= 1")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="timed window of each phase (default 20)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument(
        "--sweep", type=_counts, help="also measure at these client counts, e.g. 1,2,4,16 (reported in sweep)"
    )
    parser.add_argument("--warmup", type=float, default=2.0, help="untimed seconds before each phase (default 2)")
    parser.add_argument("--regions", type=int, default=3, help="regions per registry spec (default 3)")
    parser.add_argument("--body", choices=("yaml", "json"), default="yaml", help="request body (default yaml)")
    parser.add_argument("--idempotency-key", action="store_true", help="send a unique Idempotency-Key each time")
    parser.add_argument("--workers", choices=("paused", "live"), default="paused", help="host queue workers")
    parser.add_argument("--time-scale", type=float, default=1000.0, help="ARM durations x this (default 1000)")
    parser.add_argument(
        "--sandbox-warmup",
        type=float,
        default=10.0,
        help="untimed seconds of API calls once the sandbox is up, before the first phase (default 10)",
    )
    parser.add_argument(
        "--azurite-memory",
        action="store_true",
        help="Azurite keeps its data in memory: without its save of each whole database every 5 s (default: disk)",
    )
    add_host_instances(parser)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.clients < 1 or args.sandbox_warmup < 0:
        parser.error("--seconds must be > 0, --clients >= 1 and --sandbox-warmup >= 0")
    if not 1 <= args.regions <= len(REGION_ORDER):
        parser.error(f"--regions must be 1-{len(REGION_ORDER)}")
    options = Options(
        seconds=args.seconds,
        warmup=args.warmup,
        regions=args.regions,
        body=args.body,
        idempotency=args.idempotency_key,
        workers=args.workers,
        time_scale=args.time_scale,
        host_instances=args.host_instances,
        azurite_memory=args.azurite_memory,
        sandbox_warmup=args.sandbox_warmup,
    )
    result = run(args.clients, options, args.sweep)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
