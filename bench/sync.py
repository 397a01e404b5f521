"""ARM reads of one region-sync pass over R registries that are already in sync.

``python -m bench.sync --registries R --regions N [--time-scale S]`` starts its own sandbox, creates R
registries of N regions each through the API (ARM durations times S, small so setup is quick) and waits
until every create has Succeeded. Then it waits until the control plane is quiet: the app's queues are
empty (Azure Storage and Azurite count scheduled and in-flight messages, so this includes the delayed
"recheck" reconciles and LRO polls a finished create may still have pending) and ARM has seen no request
for a second. Only then is the ARM request log cleared, so the window holds the sync pass and nothing else.

The pass is the ``region_sync`` timer function, fired through the host's admin API
(``Sandbox.run_function``, which answers 202 at once). It is done when the host logs the invocation's
``Succeeded`` line; the benchmark then waits for quiet again, so reads caused by anything the pass
enqueued (a reconcile for a registry it found drifted or still converging) would be counted too. The
registries' ``observedAt`` cannot tell when the pass is done: ``Reconciler.record_observation`` rewrites a
registry only when what it observed changed, so a registry in sync keeps its old ``observedAt``; and a
quiet request log alone could be "quiet" before the pass has even started. One JSON object on the last
line:

- ``seconds``: how long the timer invocation ran (the host's own measure);
- ``arm_reads`` / ``arm_writes``: ARM requests in the window (writes should be 0: nothing drifted);
- ``arm_reads_per_registry``: arm_reads / R. The design's cost is 3 subscription-wide LIST calls (more
  pages past 100 items each) plus one replication LIST per registry: 1 + 3/R. Goal (issue 6): <= 1.5;
- ``expected_reads``: that cost for this run, counting LIST pages at the simulator's page size;
- ``settle_s`` / ``settle_arm_requests``: how long the wait for quiet took after the last create
  Succeeded, and the ARM requests made meanwhile (rechecks and polls of finished creates), which the
  cleared log keeps out of the figure;
- ``report``: what the pass logged (checked, in_sync, healing, ...);
- ``reads_by_kind``: the reads grouped by what they asked for.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import uuid
from typing import Any

from bench.common import (
    REGION_ORDER,
    create_registries,
    host_log,
    machine,
    progress,
    request_kinds,
    run_timer,
    sandbox,
    split_requests,
    wait_operations,
    wait_quiet,
)

_REPORT = re.compile(r"step=region_sync region=- (?P<fields>checked=\d+(?: \w+=\d+)*)")


def sync_report(log: str) -> dict[str, int]:
    """The counts of the last region-sync pass the host logged."""
    found = _REPORT.findall(log)
    if not found:
        return {}
    return {key: int(value) for key, value in (pair.split("=") for pair in found[-1].split())}


def run(registries: int, regions: int, time_scale: float) -> dict[str, Any]:
    chosen = REGION_ORDER[:regions]
    tag = uuid.uuid4().hex[:4]
    names = [f"Sync{tag}n{i:04d}" for i in range(registries)]
    with sandbox(time_scale) as (box, control):
        started = time.monotonic()
        submitted = create_registries(box, names, chosen)
        operations = wait_operations(box, submitted, timeout=120 + 10 * registries)
        failed = sorted(name for name, doc in operations.items() if doc["status"] != "Succeeded")
        if failed:
            raise RuntimeError(f"setup: {len(failed)} creates did not succeed, e.g. {failed[:3]}")
        progress(f"sync: {registries} registries x {regions} regions Succeeded in {time.monotonic() - started:.1f} s")
        at_success = len(control.requests())
        waited = wait_quiet(box, control)
        late = control.requests(since=at_success)
        progress(
            f"sync: quiet after {waited:.1f} s more ({len(late)} ARM requests after the last Succeeded); "
            "clearing the ARM request log and running region_sync"
        )
        control.clear_requests()
        seconds = run_timer(box, "region_sync")
        wait_quiet(box, control)
        records = control.requests()
        report = sync_report(host_log(box))
        page_size = int(control.config().get("page_size", 100))
    reads, writes = split_requests(records)
    lists = sum(math.ceil(max(1, count) / page_size) for count in (registries, registries * regions, registries))
    return {
        "benchmark": "sync",
        "registries": registries,
        "regions": regions,
        "time_scale": time_scale,
        "seconds": round(seconds, 3),
        "arm_reads": reads,
        "arm_writes": writes,
        "arm_reads_per_registry": round(reads / registries, 3),
        "expected_reads": lists + registries,
        "settle_s": round(waited, 1),
        "settle_arm_requests": len(late),
        "report": report,
        "reads_by_kind": request_kinds(records),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__.splitlines()[0])
    parser.add_argument("--registries", type=int, default=20, help="registries in sync (default 20)")
    parser.add_argument("--regions", type=int, default=3, help="regions per registry (default 3)")
    parser.add_argument("--time-scale", type=float, default=0.02, help="ARM durations x this (default 0.02)")
    args = parser.parse_args(argv)
    if args.registries < 1:
        parser.error("--registries must be >= 1")
    if not 1 <= args.regions <= len(REGION_ORDER):
        parser.error(f"--regions must be 1-{len(REGION_ORDER)}")
    result = run(args.registries, args.regions, args.time_scale)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
