"""Simple GETs per second against the sandbox ARM simulator.

``python -m bench.arm_gets [--requests N]`` starts its own simulator (temporary ``SANDBOX_DIR``),
creates one resource group, then times N sequential ``GET .../resourcegroups/{rg}`` over one
keep-alive HTTPS connection (``http.client``: the lightest client, so the figure is the simulator's),
and the same over a ``requests`` session (closer to what the SDK costs). Prints one JSON object as its
last line; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import ssl
import statistics
import sys
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests

from sandbox.arm.launcher import ArmEndpoint, SimulatorProcess

RG_API = "2025-04-01"
HEADERS = {"Authorization": "Bearer bench-token"}


def _time_calls(call: Callable[[], int], count: int) -> list[float]:
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        status = call()
        latencies.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"GET answered {status}")
    return latencies


def _http_client_get(arm: ArmEndpoint, path: str) -> tuple[Callable[[], int], Callable[[], None]]:
    parts = urlsplit(arm.endpoint)
    context = ssl.create_default_context(cafile=arm.ca_bundle)
    conn = http.client.HTTPSConnection(parts.hostname or "127.0.0.1", parts.port, context=context, timeout=10)

    def get() -> int:
        conn.request("GET", path, headers=HEADERS)
        response = conn.getresponse()
        response.read()
        return response.status

    return get, conn.close


def _requests_get(arm: ArmEndpoint, path: str) -> tuple[Callable[[], int], Callable[[], None]]:
    session = requests.Session()
    session.trust_env = False
    session.verify = arm.ca_bundle
    session.headers.update(HEADERS)
    url = arm.endpoint + path

    def get() -> int:
        return session.get(url, timeout=10).status_code

    return get, session.close


def _summary(latencies: list[float]) -> dict[str, float]:
    total = sum(latencies)
    ordered = sorted(latencies)
    return {
        "gets_per_s": round(len(latencies) / total, 1),
        "seconds": round(total, 3),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.arm_gets", description=__doc__)
    parser.add_argument("--requests", type=int, default=3000, help="timed GETs per client (default 3000)")
    parser.add_argument("--warmup", type=int, default=300, help="untimed GETs first (default 300)")
    args = parser.parse_args(argv)

    with SimulatorProcess(time_scale=0.01) as arm:
        path = f"/subscriptions/{arm.subscription_id}/resourcegroups/rg-bench?api-version={RG_API}"
        setup = requests.put(
            arm.endpoint + path, json={"location": "eastus"}, headers=HEADERS, verify=arm.ca_bundle, timeout=10
        )
        setup.raise_for_status()
        results: dict[str, dict[str, float]] = {}
        for name, factory in (("http_client", _http_client_get), ("requests_session", _requests_get)):
            get, close = factory(arm, path)
            try:
                _time_calls(get, args.warmup)
                results[name] = _summary(_time_calls(get, args.requests))
            finally:
                close()
            print(f"{name}: {results[name]}", file=sys.stderr)

    result = {
        "benchmark": "arm_gets",
        "what": "sequential GET resource group over one keep-alive HTTPS connection",
        "requests": args.requests,
        "gets_per_s": results["http_client"]["gets_per_s"],
        "http_client": results["http_client"],
        "requests_session": results["requests_session"],
        "server": {
            "http": "httptools" if importlib.util.find_spec("httptools") else "h11",
            "loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
