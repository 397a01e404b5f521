"""Provisioning speed and ARM efficiency for one N-region registry.

``python -m bench.provision --regions N [--time-scale S]`` starts its own sandbox, creates a registry
with N regions (one storage account each) and reports, as one JSON object on the last line:

- ``makespan_s``: from the POST to the operation's Succeeded: its ``updatedAt`` (the host's clock, the
  same machine), so the client's polling (every 0.5 s, light on the host) does not blur it;
- ``critical_path_s``: the longest chain of simulated durations (group -> storage; group -> ACR ->
  replica), at the run's time scale;
- ``ratio_to_critical_path``: makespan / critical path;
- ``sequential_s``: the simulated durations of the same registry built one resource at a time (every
  storage account, the ACR, every replica, one after another), for comparison;
- ``arm_writes`` / ``arm_writes_minimum`` (1 group + N accounts + 1 ACR + N-1 replicas) and ``arm_reads``;
- ``cpu_s``: CPU seconds each sandbox process, this one and the rest of the machine (``other``) used
  meanwhile (``bench.common.CpuMeter``), and ``other_cpu_share``: the share of the machine's CPU the rest
  used (near 0 on a quiet machine).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from bench.common import (
    REGION_ORDER,
    CpuMeter,
    api_client,
    finished_at,
    machine,
    other_share,
    registry_yaml,
    sandbox,
    split_requests,
    wait_for,
)


def run(regions: int, time_scale: float) -> dict[str, Any]:
    chosen = REGION_ORDER[:regions]
    with sandbox(time_scale) as (box, control):
        durations = control.config()["durations"]
        storage, acr, replica = (
            float(durations[k]) for k in ("storage_create", "registry_create", "replication_create")
        )
        critical = time_scale * max(storage, acr + (replica if regions > 1 else 0.0))
        sequential = time_scale * (regions * storage + acr + (regions - 1) * replica)
        with api_client(box, timeout=30) as api:
            control.clear_requests()
            meter = CpuMeter(box)
            meter.start()
            started = time.time()
            response = api.post(
                "/api/registries",
                content=registry_yaml(f"Bench{regions}", chosen),
                headers={"Content-Type": "application/yaml"},
            )
            response.raise_for_status()
            operation = wait_for(api, response.headers["Location"], timeout=60 + 5 * sequential, interval=0.5)
            makespan = finished_at(operation) - started
            cpu = meter.stop()
        reads, writes = split_requests(control.requests())
    return {
        "benchmark": "provision",
        "regions": regions,
        "time_scale": time_scale,
        "status": operation["status"],
        "makespan_s": round(makespan, 3),
        "critical_path_s": round(critical, 3),
        "ratio_to_critical_path": round(makespan / critical, 3),
        "sequential_s": round(sequential, 3),
        "arm_writes": writes,
        "arm_writes_minimum": 1 + regions + 1 + (regions - 1),
        "arm_reads": reads,
        "cpu_s": {name: round(used, 1) for name, used in cpu.items()},
        "other_cpu_share": other_share(cpu, makespan),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.provision", description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, default=10)
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args(argv)
    if not 1 <= args.regions <= len(REGION_ORDER):
        parser.error(f"--regions must be 1-{len(REGION_ORDER)}")
    result = run(args.regions, args.time_scale)
    print(json.dumps(result))
    return 0 if result["status"] == "Succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
