"""A burst of creates under ARM throttling, against the least time ARM's write budget allows.

``python -m bench.burst --registries 100 --regions 5 [--throttle-scale S] [--time-scale T]`` starts its
own sandbox, turns the simulator's ARM token buckets on (``set_throttle(enabled=True, scale=S)``: every
bucket's size and refill times S; reads 250 + 25/s, writes 200 + 10/s, deletes 200 + 10/s at S = 1, as
Azure), sends every create through the API as fast as it accepts them (16 client threads), and waits
until every operation is terminal. One JSON object on the last line:

- ``seconds``: from the first POST to the last operation's terminal transition (its ``updatedAt``);
- ``succeeded`` / ``failed``: operations by outcome (all must succeed);
- ``arm_writes``: write requests ARM admitted (PUT/PATCH/POST not answered 429), against
  ``arm_writes_minimum`` = registries x (1 group + N accounts + 1 ACR + N-1 replicas);
- ``throttled_429s`` (and by operation type in ``throttled``): requests ARM refused for the budget;
- ``throttle_bound_s``: the least time the write budget allows for the minimum writes,
  ``max(0, (arm_writes_minimum - bucket) / refill)`` with the write bucket at this scale
  (``write_bucket``, ``write_refill_per_s``);
- ``ratio_to_throttle_bound``: seconds / throttle_bound_s. Goal (issue 6): all succeed and <= 1.3;
- ``read_bound_s``: the same bound for the reads that were admitted (reads share the scale: when it
  exceeds the write bound, reads, not writes, were the budget that limited the run);
- ``critical_path_s``: the longest chain of simulated durations of one registry at this time scale (the
  time scale is chosen so that it is small next to the throttle bound);
- ``cpu_s``: CPU seconds each process used during the run (``bench.common.CpuMeter``: ``host`` near the
  run's length means the functions host, one Python process, was the bottleneck; ``other`` is anything
  else that ran on the machine meanwhile, ``other_cpu_share`` its share of the machine: near 0 when quiet);
- ``requests_by_kind``: every ARM request, grouped by kind.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from typing import Any

from bench.common import (
    REGION_ORDER,
    CpuMeter,
    add_host_instances,
    create_registries,
    finished_at,
    machine,
    other_share,
    progress,
    request_kinds,
    sandbox,
    wait_operations,
)
from sandbox.arm.control import RequestRecord

#: Write bucket (size, refill per second) at throttle scale 1: sandbox/arm/throttle.py, ARM's figures.
WRITE_BUCKET = (200.0, 10.0)
READ_BUCKET = (250.0, 25.0)


def writes_minimum(registries: int, regions: int) -> int:
    return registries * (1 + regions + 1 + (regions - 1))


def budget_bound(requests: int, bucket: tuple[float, float], scale: float) -> float:
    """The least seconds a token bucket (size, refill at scale 1) lets ``requests`` through, starting full."""
    size, refill = bucket[0] * scale, bucket[1] * scale
    return max(0.0, (requests - size) / refill)


def tally(records: list[RequestRecord]) -> dict[str, int]:
    admitted = [r for r in records if r["status"] not in (0, 429)]
    throttled = [r for r in records if r["status"] == 429]
    return {
        "reads": sum(1 for r in admitted if r["op"] == "read"),
        "writes": sum(1 for r in admitted if r["op"] == "write"),
        "deletes": sum(1 for r in admitted if r["op"] == "delete"),
        "throttled": len(throttled),
        "throttled_reads": sum(1 for r in throttled if r["op"] == "read"),
        "throttled_writes": sum(1 for r in throttled if r["op"] == "write"),
        "dropped": sum(1 for r in records if r["status"] == 0),
    }


def run(
    registries: int, regions: int, throttle_scale: float, time_scale: float, timeout: float, *, host_instances: int = 1
) -> dict[str, Any]:
    chosen = REGION_ORDER[:regions]
    tag = uuid.uuid4().hex[:4]
    names = [f"Burst{tag}n{i:04d}" for i in range(registries)]
    with sandbox(time_scale, host_instances=host_instances) as (box, control):
        durations = control.config()["durations"]
        acr, replica, storage = (
            float(durations[k]) for k in ("registry_create", "replication_create", "storage_create")
        )
        if throttle_scale > 0:
            control.set_throttle(enabled=True, scale=throttle_scale)
        control.clear_requests()
        meter = CpuMeter(box)
        meter.start()
        started = time.time()
        submitted = create_registries(box, names, chosen, clients=16)
        progress(f"burst: {registries} creates accepted in {time.time() - started:.1f} s; waiting for them")
        operations = wait_operations(box, submitted, timeout=timeout, interval=2.0)
        seconds = max(finished_at(doc) for doc in operations.values()) - started
        cpu = meter.stop()
        records = control.requests()
    counts = tally(records)
    minimum = writes_minimum(registries, regions)
    scale = throttle_scale if throttle_scale > 0 else 0.0
    bound = budget_bound(minimum, WRITE_BUCKET, scale) if scale else 0.0
    statuses = [doc["status"] for doc in operations.values()]
    return {
        "benchmark": "burst",
        "registries": registries,
        "regions": regions,
        "throttle": bool(scale),
        "throttle_scale": scale,
        "time_scale": time_scale,
        "host_instances": host_instances,
        "seconds": round(seconds, 1),
        "succeeded": statuses.count("Succeeded"),
        "failed": len(statuses) - statuses.count("Succeeded"),
        "arm_writes": counts["writes"],
        "arm_writes_minimum": minimum,
        "arm_reads": counts["reads"],
        "throttled_429s": counts["throttled"],
        "throttled": {"reads": counts["throttled_reads"], "writes": counts["throttled_writes"]},
        "dropped_connections": counts["dropped"],
        "write_bucket": WRITE_BUCKET[0] * scale,
        "write_refill_per_s": WRITE_BUCKET[1] * scale,
        "throttle_bound_s": round(bound, 1),
        "ratio_to_throttle_bound": round(seconds / bound, 3) if bound else None,
        "read_bound_s": round(budget_bound(counts["reads"], READ_BUCKET, scale), 1) if scale else None,
        "critical_path_s": round(time_scale * max(storage, acr + (replica if regions > 1 else 0.0)), 2),
        "cpu_s": {name: round(used, 1) for name, used in cpu.items()},
        "replaced_processes": meter.replaced,
        "other_cpu_share": other_share(cpu, seconds),
        "requests_by_kind": request_kinds(records),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__.splitlines()[0])
    parser.add_argument("--registries", type=int, default=100)
    parser.add_argument("--regions", type=int, default=5)
    parser.add_argument(
        "--throttle-scale", type=float, default=1.0, help="ARM token buckets x this; 0 turns throttling off (default 1)"
    )
    parser.add_argument("--time-scale", type=float, default=0.05, help="ARM durations x this (default 0.05)")
    parser.add_argument("--timeout", type=float, default=1500.0, help="give up after this many seconds (default 1500)")
    add_host_instances(parser)
    args = parser.parse_args(argv)
    if args.registries < 1 or args.throttle_scale < 0:
        parser.error("--registries must be >= 1 and --throttle-scale >= 0")
    if not 1 <= args.regions <= len(REGION_ORDER):
        parser.error(f"--regions must be 1-{len(REGION_ORDER)}")
    result = run(
        args.registries,
        args.regions,
        args.throttle_scale,
        args.time_scale,
        args.timeout,
        host_instances=args.host_instances,
    )
    print(json.dumps(result))
    return 0 if result["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
