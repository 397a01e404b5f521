"""The benchmarks ``python -m bench`` runs, in order: each one's module and command-line arguments (the
documented run and the ``--quick`` smoke run), its timeout, the goals of issue 6 its result is checked
against, and the other figures docs/performance.md shows for it.
"""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Result = dict[str, Any]


@dataclass(frozen=True)
class Goal:
    """One goal of issue 6: what it says, the figure it reads, and whether a result meets it."""

    text: str
    figure: Callable[[Result], object]
    met: Callable[[Result], bool]


@dataclass(frozen=True)
class Benchmark:
    name: str  # also the module (bench.<name>) unless ``module`` says otherwise
    what: str
    args: list[str]
    quick_args: list[str]
    timeout: float
    goals: list[Goal] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)  # other keys worth a line on the page
    module: str = ""

    def command(self, quick: bool) -> list[str]:
        module = self.module or self.name
        return [sys.executable, "-m", f"bench.{module}", *(self.quick_args if quick else self.args)]


def _num(result: Result, key: str) -> float:
    value = result.get(key)
    return float(value) if isinstance(value, int | float) else float("nan")


_COMPARE: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}


def _bound(key: str, compare: str, limit: float) -> Goal:
    """The goal "`key` <= limit" (or >=, ==) on one figure of the result."""
    return Goal(f"`{key}` {compare} {limit}", lambda r: r.get(key), lambda r: _COMPARE[compare](_num(r, key), limit))


_QUICK_API = ["--seconds", "3", "--clients", "4", "--warmup", "1", "--sandbox-warmup", "1", "--azurite-memory"]
"""The smoke-run options both API benchmarks share."""

BENCHMARKS = [
    Benchmark(
        name="provision",
        what="one registry of many regions: makespan against the critical path of simulated durations, ARM writes",
        args=["--regions", "10", "--time-scale", "0.3"],
        quick_args=["--regions", "3", "--time-scale", "0.05"],
        timeout=600,
        goals=[
            _bound("ratio_to_critical_path", "<=", 1.15),
            Goal(
                "`arm_writes` == `arm_writes_minimum`",
                lambda r: f"{r.get('arm_writes')} / {r.get('arm_writes_minimum')}",
                lambda r: r.get("arm_writes") == r.get("arm_writes_minimum"),
            ),
        ],
        figures=["status", "makespan_s", "critical_path_s", "sequential_s", "arm_reads", "cpu_s", "other_cpu_share"],
    ),
    Benchmark(
        name="api",
        what="POST /api/registries from concurrent clients against the same store writes and queue send done directly",
        args=["--seconds", "15", "--clients", "8", "--sweep", "1,2,4,16", "--host-instances", "2", "--azurite-memory"],
        quick_args=[*_QUICK_API, "--sweep", "1", "--host-instances", "2"],
        timeout=600,
        goals=[
            _bound("ratio_to_ceiling", ">=", 0.7),
            _bound("p99_ms", "<=", 150),
            _bound("auth_cpu_ms_per_request", "<=", 1),
        ],
        figures=[
            "host_instances",
            "azurite",
            "clients",
            "requests_per_s",
            "p50_ms",
            "errors",
            "ceiling_ops_per_s",
            "ceiling_p50_ms",
            "ceiling_p99_ms",
            "cpu_ms_per_request",
            "ceiling_cpu_ms_per_op",
            "other_cpu_share",
            "ceiling_other_cpu_share",
            "sweep",
        ],
    ),
    Benchmark(
        name="api_live",
        module="api",
        what="the same with the host's queue workers live (ARM 1000 times slower): creates competing with the "
        "provisioning they start, in one host process (no goal: shows the contention)",
        args=["--seconds", "10", "--clients", "8", "--workers", "live", "--azurite-memory"],
        quick_args=[*_QUICK_API, "--workers", "live"],
        timeout=600,
        figures=[
            "clients",
            "requests_per_s",
            "p50_ms",
            "p99_ms",
            "errors",
            "ceiling_ops_per_s",
            "ratio_to_ceiling",
            "cpu_ms_per_request",
            "other_cpu_share",
        ],
    ),
    Benchmark(
        name="hooks",
        what="signed Jira webhooks (a share of them duplicates) from concurrent senders against the store+queue "
        "ceiling of bench.api",
        args=["--seconds", "15", "--clients", "8", "--azurite-memory"],
        quick_args=["--seconds", "3", "--clients", "8", "--warmup", "1", "--azurite-memory"],
        timeout=600,
        goals=[
            _bound("p99_ms", "<=", 100),
            _bound("ratio_to_ceiling", ">=", 0.7),
        ],
        figures=[
            "clients",
            "accepted_per_s",
            "p50_ms",
            "errors",
            "duplicate_ratio",
            "duplicates_answered_200",
            "ceiling_ops_per_s",
            "ceiling_p99_ms",
        ],
    ),
    Benchmark(
        name="sync",
        what="one region-sync pass over registries already in sync: ARM reads",
        args=["--registries", "50", "--regions", "3"],
        quick_args=["--registries", "5", "--regions", "2"],
        timeout=900,
        goals=[_bound("arm_reads_per_registry", "<=", 1.5)],
        figures=["seconds", "arm_reads", "expected_reads", "arm_writes", "report", "settle_s", "settle_arm_requests"],
    ),
    Benchmark(
        name="burst",
        what="many registries created at once under ARM throttling, against the least time the write budget allows",
        args=[
            *["--registries", "100", "--regions", "5", "--throttle-scale", "1", "--time-scale", "0.05"],
            *["--host-instances", "2"],
        ],
        quick_args=[
            *["--registries", "10", "--regions", "3", "--throttle-scale", "0.25", "--time-scale", "0.05"],
            *["--host-instances", "2"],
        ],
        timeout=1800,
        goals=[
            Goal(
                "100% succeed",
                lambda r: f"{r.get('succeeded')} / {r.get('registries')}",
                lambda r: r.get("failed") == 0 and r.get("succeeded") == r.get("registries"),
            ),
            _bound("ratio_to_throttle_bound", "<=", 1.3),
        ],
        figures=[
            "host_instances",
            "seconds",
            "throttle_bound_s",
            "read_bound_s",
            "write_bucket",
            "write_refill_per_s",
            "arm_writes",
            "arm_writes_minimum",
            "arm_reads",
            "throttled_429s",
            "throttled",
            "critical_path_s",
            "cpu_s",
            "other_cpu_share",
            "replaced_processes",
        ],
    ),
    Benchmark(
        name="arm_gets",
        what="sequential GETs against the ARM simulator alone (no goal: how fast the simulator answers)",
        args=[],
        quick_args=["--requests", "300", "--warmup", "50"],
        timeout=300,
        figures=["gets_per_s", "http_client", "requests_session"],
    ),
    Benchmark(
        name="assets",
        what="asset versions registered at once into a 3-region registry, copied to every region, against the "
        "same copies made directly (issue 12)",
        args=["--versions", "10", "--regions", "3", "--files", "8", "--size-mb", "8"],
        quick_args=["--versions", "3", "--regions", "2", "--files", "4", "--size-mb", "1"],
        timeout=900,
        goals=[
            _bound("ratio_to_copy_bound", "<=", 1.3),
            _bound("data_requests_per_file_region", "<=", 1.5),
            _bound("arm_requests_per_version", "==", 0),
        ],
        figures=["statuses", "makespan_s", "copy_bound_s", "data_requests_by_operation", "arm_requests"],
    ),
    Benchmark(
        name="promote",
        what="versions promoted by events alone into a 3-region registry, event to Available per region, against "
        "the same copies made directly; then 1,000 events at once, 30 % duplicates, against bench.api's store+"
        "queue ceiling (issue 13)",
        args=["--versions", "10", "--regions", "3"],
        quick_args=["--versions", "3", "--regions", "2", "--files", "2", "--size-mb", "0.5", "--events", "200"],
        timeout=900,
        goals=[
            Goal(
                "`latency_p99_s` <= 1.5 x `copy_bound_s` + one poll interval (`latency_p99_limit_s`)",
                lambda r: f"{r.get('latency_p99_s')} (limit {r.get('latency_p99_limit_s')})",
                lambda r: _num(r, "latency_p99_s") <= _num(r, "latency_p99_limit_s"),
            ),
            Goal(
                "no duplicate promotions (`duplicate_promotions` == 0, `promotions` == `target_versions` == V)",
                lambda r: f"{r.get('duplicate_promotions')}; {r.get('promotions')}/{r.get('target_versions')}",
                lambda r: (
                    r.get("duplicate_promotions") == 0
                    and r.get("promotions") == r.get("target_versions") == r.get("versions")
                ),
            ),
            Goal(
                "`events_per_s` >= 0.7 x `ceiling_ops_per_s` (`ratio_to_ceiling` >= 0.7)",
                lambda r: r.get("ratio_to_ceiling"),
                lambda r: _num(r, "ratio_to_ceiling") >= 0.7,
            ),
        ],
        figures=[
            "latency_p50_s",
            "copy_bound_s",
            "makespan_s",
            "events_per_s",
            "ceiling_ops_per_s",
            "dedupe_ratio",
            "duplicates_dropped_by_seen_record",
        ],
    ),
]
