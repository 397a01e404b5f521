"""Promotion by events: event-to-Available latency per target region, and the events handler's throughput.

``python -m bench.promote --versions V --regions N`` runs three phases, each figure against its bound:

1. **ceiling** (a sandbox of its own, its workers parked as in bench.api): bench.api's store+queue ceiling,
   ``RegistryService.create`` called directly by ``--clients`` threads (``ceiling_ops_per_s``).
2. **latency**: a source registry (one region) and a target (N regions) joined by a rule. V versions of F
   files of S MB are registered at once in the source; their ``AssetVersionAvailable`` events alone
   promote them. A poller (every ``POLL`` s) notes when each source version is first seen ``Available`` (the
   event is published just before, so this is the event's time within one poll) and when each target
   region is first seen ``Replicated``: ``latency_p50_s`` / ``latency_p99_s`` over V x N. Against
   ``copy_bound_s``: the same copies (every file from the source's account into every target region) made
   directly as in bench.assets, in the same run. Goal: p99 <= 1.5 x bound + one poll interval of the app
   (``LRO_POLL_SECONDS``, set to ``APP_POLL_SECONDS`` here). Also ``promotions`` / ``target_versions``
   (exactly V each).
3. **throughput**: 1,000 ``AssetVersionAvailable`` events of a registry, 30 % of them duplicates (the same
   event id again, under a new message id, so only the handler's deduplication stands, not Service Bus
   duplicate detection), all made visible on the events queue at the same moment (each sent with the
   visibility delay that ends then; Storage queues count it in whole seconds, rounded up, so they become
   visible within one second after it, and the clock starts at it: a conservative figure); a rule with
   ``approval: required`` matches them, so each new event makes one promotion waiting for approval (one
   insert; no copy). ``events_per_s``: events over the time
   from that moment until the queue is empty; ``dedupe_ratio``: duplicates that made no promotion over
   duplicates sent (goal 1.0); ``duplicate_promotions`` (goal 0); against the ceiling of phase 1 (goal
   ``events_per_s`` >= 0.7 x ``ceiling_ops_per_s``).

``--host-instances N`` runs phases 2 and 3 on N functions host processes, as a scaled-out Function App does
(default 1; ``make bench`` runs one, the conservative figure).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from azure.storage.queue import QueueClient

from bench.api import PAUSED_POLL_SECONDS, app_dependencies, ceiling_factory
from bench.assets import REGIONS, accounts, copy_bound, make_files, upload
from bench.common import (
    REGION_ORDER,
    add_host_instances,
    api_client,
    machine,
    percentile_ms,
    progress,
    registry_yaml,
    sandbox,
    wait_for,
)
from bench.load import drive
from sandbox.harness import Sandbox
from shared.adapters.storage_queue import StorageQueuePublisher
from shared.ports import OutboundMessage

SOURCE_REGION = "centralus"
POLL = 0.1
APP_POLL_SECONDS = 1.0
EVENTS_QUEUE = "regctl-events"
LEAD_SECONDS = 25  # sending 1,000 messages must take less: they all become visible this long after the start


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile of durations in seconds (``bench.common.percentile_ms``), in seconds."""
    return round(percentile_ms(values, q) / 1000, 3)


def ceiling(clients: int, seconds: float) -> dict[str, Any]:
    env = {"SANDBOX_POLL_MIN_SECONDS": PAUSED_POLL_SECONDS, "SANDBOX_POLL_MAX_SECONDS": PAUSED_POLL_SECONDS}
    with sandbox(1000.0, env) as (box, _control), app_dependencies(box) as deps:
        calls = ceiling_factory(deps.registries, REGION_ORDER[:3], False)
        drive(clients, 2.0, 0.0, calls, tag="warm")
        phase = drive(clients, seconds, 1.0, calls, tag="ceil")
    rate = len(phase.latencies) / phase.elapsed
    progress(f"promote: ceiling {rate:.1f} creates/s with {clients} clients")
    return {"ceiling_clients": clients, "ceiling_ops_per_s": round(rate, 1), "ceiling_errors": phase.errors}


def registries(api: httpx.Client, targets: list[str]) -> None:
    made = [
        api.post("/api/registries", content=registry_yaml(name, regions), headers={"Content-Type": "application/yaml"})
        for name, regions in (("BenchSrc", [SOURCE_REGION]), ("BenchDst", targets))
    ]
    for answer in made:
        answer.raise_for_status()
        assert wait_for(api, answer.headers["Location"], timeout=300, interval=0.5)["status"] == "Succeeded"
    for name, count in (("BenchSrc", 1), ("BenchDst", len(targets))):
        deadline = time.monotonic() + 60
        while len([e for e in accounts(api, name).values() if e]) < count:
            assert time.monotonic() < deadline, f"{name}: storage accounts without a blob endpoint"
            time.sleep(0.5)


def rule(api: httpx.Client, name: str, glob: str, approval: str) -> None:
    body = {
        "source": {"registry": "BenchSrc"},
        "filter": {"name": glob},
        "target": {"registry": "BenchDst"},
        "approval": approval,
    }
    api.put(f"/api/promotionRules/{name}", json=body).raise_for_status()


def observe(api: httpx.Client, names: list[str], targets: list[str], timeout: float) -> dict[str, Any]:
    """Poll until every target region of every version is Replicated: when each source version was first
    seen Available, and when each target region was first seen Replicated (this clock)."""
    available: dict[str, float] = {}
    replicated: dict[tuple[str, str], float] = {}

    def doc(registry: str, name: str) -> dict[str, Any] | None:
        answer = api.get(f"/api/registries/{registry}/models/{name}/versions/1")
        return answer.json() if answer.status_code == 200 else None

    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=8) as pool:
        while len(replicated) < len(names) * len(targets):
            assert time.monotonic() < deadline, f"not promoted after {timeout} s: {len(replicated)} regions"
            wanted = [("BenchSrc", n) for n in names if n not in available]
            wanted += [("BenchDst", n) for n in names if any((n, r) not in replicated for r in targets)]
            for (registry, name), found in zip(wanted, pool.map(lambda w: doc(*w), wanted), strict=True):
                now = time.time()
                if found is None:
                    continue
                if registry == "BenchSrc" and found["status"] == "Available":
                    available[name] = now
                elif registry == "BenchDst":
                    for region, copy in found["replication"].items():
                        if copy["state"] == "Replicated":
                            replicated.setdefault((name, region), now)
            time.sleep(POLL)
    latencies = [at - available[name] for (name, _), at in replicated.items()]
    return {"latencies": latencies, "last": max(replicated.values()), "first": min(available.values())}


def latency(box: Sandbox, api: httpx.Client, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    targets = REGIONS[: args.regions]
    registries(api, targets)
    rule(api, "bench-promote", "m*", "none")
    local = make_files(tmp, args.files, args.size_mb)
    names = [f"m{i:03d}" for i in range(args.versions)]
    uploads = {name: upload(api, "BenchSrc", name, local, box.ca_bundle) for name in names}
    progress(f"promote: {args.versions} versions uploaded; registering them at once")

    def register(name: str) -> None:
        uri, listed = uploads[name]
        body = {"name": name, "version": "1", "path": uri, "files": listed}
        api.put(f"/api/registries/BenchSrc/models/{name}/versions/1", json=body).raise_for_status()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(register, names))
    seen = observe(api, names, targets, timeout=900)
    promotions = api.get("/api/promotions", params={"rule": "bench-promote"}).json()["value"]
    versions = api.get("/api/registries/BenchDst/models").json()["value"]
    progress(f"promote: {len(promotions)} promotions; now the copy bound")
    endpoints = {**accounts(api, "BenchDst"), SOURCE_REGION: accounts(api, "BenchSrc")[SOURCE_REGION]}
    sources = [f"models/{name}/1/" for name in names]
    bound = copy_bound(endpoints, SOURCE_REGION, sources, local, box.ca_bundle, targets=targets)
    p99 = percentile(seen["latencies"], 99)
    return {
        "latency_p50_s": percentile(seen["latencies"], 50),
        "latency_p99_s": p99,
        "latency_samples": len(seen["latencies"]),
        "makespan_s": round(seen["last"] - seen["first"], 3),
        "copy_bound_s": round(bound, 3),
        "app_poll_s": APP_POLL_SECONDS,
        "latency_p99_limit_s": round(1.5 * bound + APP_POLL_SECONDS, 3),
        "promotions": len(promotions),
        "promotion_statuses": sorted({p["status"] for p in promotions}),
        "target_versions": len(versions),
    }


def throughput(box: Sandbox, api: httpx.Client, events: int, duplicate_share: float) -> dict[str, Any]:
    rule(api, "bench-gate", "e*", "required")
    unique = round(events * (1 - duplicate_share))
    rng = random.Random(13)
    ids = [f"bench-e{i:05d}" for i in range(unique)]
    chosen = ids + [rng.choice(ids) for _ in range(events - unique)]
    rng.shuffle(chosen)
    connection = str(box.info["azurite"]["connection_string"])
    publisher = StorageQueuePublisher(connection)
    visible_at = time.time() + LEAD_SECONDS
    for i, event_id in enumerate(chosen):
        name = event_id.removeprefix("bench-")
        body = {
            "id": event_id,
            "eventType": "Regctl.Registries.AssetVersionAvailable",
            "subject": f"/registries/benchsrc/models/{name}/versions/1",
            "eventTime": "2026-12-07T00:00:00Z",
            "data": {},
            "dataVersion": "1.0",
        }
        delay = visible_at - time.time()
        assert delay > 0, f"sending {events} messages took longer than {LEAD_SECONDS} s"
        message = OutboundMessage(EVENTS_QUEUE, f"m{i:05d}-{event_id}", json.dumps(body), delay_seconds=delay)
        publisher.publish([message])
    left = visible_at - time.time()
    progress(f"promote: {events} events sent ({events - unique} duplicates); visible in {left:.1f} s")
    queue = QueueClient.from_connection_string(connection, EVENTS_QUEUE)
    while time.time() < visible_at:
        time.sleep(0.05)
    while queue.get_queue_properties().approximate_message_count:
        time.sleep(0.05)
    elapsed = time.time() - visible_at
    made = len(api.get("/api/promotions", params={"rule": "bench-gate"}, timeout=300).json()["value"])
    logged = sum(path.read_text(errors="replace").count("duplicate event") for path in box.log_dir.glob("*.log"))
    duplicates = events - unique
    return {
        "events": events,
        "duplicates_sent": duplicates,
        "events_per_s": round(events / elapsed, 1),
        "drain_s": round(elapsed, 3),
        "gate_promotions": made,
        "duplicate_promotions": made - unique,
        "dedupe_ratio": round((events - made) / duplicates, 3) if duplicates else 1.0,
        "duplicates_dropped_by_seen_record": logged,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    bound = ceiling(args.clients, args.ceiling_seconds)
    env = {"LRO_POLL_SECONDS": str(APP_POLL_SECONDS)}
    with (
        tempfile.TemporaryDirectory(prefix="regctl-bench-promote-") as tmp,
        sandbox(args.time_scale, env, args.host_instances) as (box, _control),
        api_client(box, timeout=120) as api,
    ):
        figures = latency(box, api, Path(tmp), args)
        figures |= throughput(box, api, args.events, args.duplicates)
    return {
        "benchmark": "promote",
        "versions": args.versions,
        "regions": args.regions,
        "files": args.files,
        "size_mb": args.size_mb,
        "host_instances": args.host_instances,
        **figures,
        **bound,
        "ratio_to_ceiling": round(figures["events_per_s"] / bound["ceiling_ops_per_s"], 3),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.promote", description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--size-mb", type=float, default=2.0)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--duplicates", type=float, default=0.3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--ceiling-seconds", type=float, default=5.0)
    parser.add_argument("--time-scale", type=float, default=0.02)
    add_host_instances(parser)
    args = parser.parse_args(argv)
    if not 1 <= args.regions <= len(REGIONS):
        parser.error(f"--regions must be 1-{len(REGIONS)}")
    result = run(args)
    print(json.dumps(result))
    exact = result["promotions"] == result["target_versions"] == args.versions
    return 0 if exact and result["duplicate_promotions"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
