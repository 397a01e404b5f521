"""The load generator of the throughput benchmarks (``bench.api``, ``bench.hooks``, ``bench.promote``): C client
threads that warm up untimed, then call back to back inside one timed window opened for all of them at once
(``drive``, what they did in a ``Phase``), and the cheap keep-alive HTTP connection a client sends its
requests on (``Connection``).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bench.common import CpuMeter, percentile_ms

Call = Callable[[str], None]
"""One timed operation for a registry name; raises if it was not accepted."""


@dataclass
class Phase:
    """What the C clients of one phase did inside the timed window."""

    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0
    samples: list[str] = field(default_factory=list)  # the first few error descriptions
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process in the window

    def summary(self, prefix: str) -> dict[str, Any]:
        ok = len(self.latencies)
        return {
            f"{prefix}ops": ok,
            f"{prefix}ops_per_s": round(ok / self.elapsed, 1) if self.elapsed else 0.0,
            f"{prefix}p50_ms": percentile_ms(self.latencies, 50),
            f"{prefix}p99_ms": percentile_ms(self.latencies, 99),
            f"{prefix}errors": self.errors,
        }


@dataclass
class _Window:
    """The timed window shared by a phase's clients, opened when all of them have warmed up."""

    seconds: float
    meter: CpuMeter | None
    start: float = 0.0
    end: float = 0.0
    last: float = 0.0

    def open(self) -> None:
        self.start = time.perf_counter()
        self.end = self.start + self.seconds
        if self.meter is not None:
            self.meter.start()


class _Client:
    """One client thread: untimed calls until ``warm_until``, then timed calls until the window ends."""

    def __init__(self, call: Call, prefix: str) -> None:
        self.call, self.prefix = call, prefix
        self.count = 0
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def one(self, *, timed: bool) -> None:
        self.count += 1
        started = time.perf_counter()
        ok, reason = True, ""
        try:
            self.call(f"{self.prefix}n{self.count:06d}")
        except Exception as exc:  # a failed request is an error of the phase, not of the benchmark
            ok, reason = False, f"{type(exc).__name__}: {exc}"[:300]
        if timed and ok:
            self.latencies.append(time.perf_counter() - started)
        elif timed:
            self.errors.append(reason)

    def run(self, warm_until: float, barrier: threading.Barrier, window: _Window) -> float:
        while time.monotonic() < warm_until:
            self.one(timed=False)
        barrier.wait()
        while time.perf_counter() < window.end:
            self.one(timed=True)
        return time.perf_counter()


def drive(
    clients: int,
    seconds: float,
    warmup: float,
    factory: Callable[[int], tuple[Call, Callable[[], None]]],
    *,
    tag: str,
    meter: CpuMeter | None = None,
) -> Phase:
    """Run ``clients`` threads: each warms up for ``warmup`` s untimed, then all start the timed window of
    ``seconds`` together and call back to back until it ends (a call in flight at the end still counts).
    Registry names are unique per phase (``tag``), client and call."""
    phase = Phase()
    lock = threading.Lock()
    window = _Window(seconds, meter)
    barrier = threading.Barrier(clients, action=window.open)
    warm_until = time.monotonic() + warmup

    def thread_main(index: int) -> None:
        call, close = factory(index)
        client = _Client(call, f"b{tag}{index:02d}")
        try:
            finished = client.run(warm_until, barrier, window)
        except BaseException:
            barrier.abort()  # the other clients stop waiting; the phase fails below
            raise
        finally:
            close()
        with lock:
            phase.latencies.extend(client.latencies)
            phase.errors += len(client.errors)
            phase.samples.extend(client.errors[: max(0, 3 - len(phase.samples))])
            window.last = max(window.last, finished)

    threads = [threading.Thread(target=thread_main, args=(i,), name=f"bench-{tag}-{i}") for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if meter is not None:
        phase.cpu = meter.stop()
    if not window.last:
        raise RuntimeError(f"phase {tag}: no client finished the timed window (see the tracebacks above)")
    phase.elapsed = window.last - window.start
    return phase


class Connection:
    """One keep-alive HTTP/1.1 connection to the API over ``http.client``: the load generator shares the
    machine's CPUs with the sandbox, so it should cost as little as it can: 0.4-0.5 ms of CPU per request
    against 1.6-1.8 ms with an ``httpx.Client``, measured on the 2-CPU machine of docs/performance.md.
    Reconnects after an error."""

    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._connection: http.client.HTTPConnection | None = None

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
        try:
            self._connection.request("POST", path, body=body, headers=headers)
            response = self._connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
