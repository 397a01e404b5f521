"""Run every benchmark and write docs/performance.md: each figure against its goal (issue 6).

``python -m bench`` (``make bench``) runs, one after another and each as its own process with its own
sandbox: ``provision`` (10 regions), ``api``, ``hooks``, ``sync``, ``burst`` (100 x 5 under ARM throttling),
``arm_gets``, ``assets`` (asset copies) and ``promote`` (promotion by events). Each prints one JSON object
as its last line of stdout (progress goes to stderr and is passed through); this collects them, prints a
summary to stderr, writes the page, and prints all results as one JSON object on its last line. ``--only
NAME`` (repeatable) runs a subset; ``--quick`` runs smaller sizes (a smoke run: its figures are not the
documented ones, and the page says so).

Before each benchmark it waits (up to ``--settle`` seconds) for the machine to be quiet: less than a
quarter of its CPU time busy over two seconds. The busy share it found is recorded next to each figure,
since on a two-CPU machine anything else running moves every number.

The page keeps one hand-written part: the text between ``<!-- analysis:start -->`` and
``<!-- analysis:end -->`` of the existing page (profiling findings, causes, proposed fixes) is carried
over; everything else is regenerated. With ``--only``, the other benchmarks' results already on the page
(kept as JSON at its end) stay, each with its own date. Exit code 1 if a benchmark could not run; missed goals are
reported, not failed on.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import machine, machine_busy_seconds, progress

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGE = REPO_ROOT / "docs" / "performance.md"
ANALYSIS_START, ANALYSIS_END = "<!-- analysis:start -->", "<!-- analysis:end -->"
RESULTS_START, RESULTS_END = "<!-- results:start -->", "<!-- results:end -->"
QUIET_BUSY_SHARE = 0.25

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
            Goal(
                "`ratio_to_critical_path` <= 1.15",
                lambda r: r.get("ratio_to_critical_path"),
                lambda r: _num(r, "ratio_to_critical_path") <= 1.15,
            ),
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
            Goal(
                "`ratio_to_ceiling` >= 0.7",
                lambda r: r.get("ratio_to_ceiling"),
                lambda r: _num(r, "ratio_to_ceiling") >= 0.7,
            ),
            Goal("`p99_ms` <= 150", lambda r: r.get("p99_ms"), lambda r: _num(r, "p99_ms") <= 150),
            Goal(
                "`auth_cpu_ms_per_request` <= 1",
                lambda r: r.get("auth_cpu_ms_per_request"),
                lambda r: _num(r, "auth_cpu_ms_per_request") <= 1,
            ),
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
            Goal("`p99_ms` <= 100", lambda r: r.get("p99_ms"), lambda r: _num(r, "p99_ms") <= 100),
            Goal(
                "`ratio_to_ceiling` >= 0.7",
                lambda r: r.get("ratio_to_ceiling"),
                lambda r: _num(r, "ratio_to_ceiling") >= 0.7,
            ),
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
        goals=[
            Goal(
                "`arm_reads_per_registry` <= 1.5",
                lambda r: r.get("arm_reads_per_registry"),
                lambda r: _num(r, "arm_reads_per_registry") <= 1.5,
            )
        ],
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
            Goal(
                "`ratio_to_throttle_bound` <= 1.3",
                lambda r: r.get("ratio_to_throttle_bound"),
                lambda r: _num(r, "ratio_to_throttle_bound") <= 1.3,
            ),
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
            Goal(
                "`ratio_to_copy_bound` <= 1.3",
                lambda r: r.get("ratio_to_copy_bound"),
                lambda r: _num(r, "ratio_to_copy_bound") <= 1.3,
            ),
            Goal(
                "`data_requests_per_file_region` <= 1.5",
                lambda r: r.get("data_requests_per_file_region"),
                lambda r: _num(r, "data_requests_per_file_region") <= 1.5,
            ),
            Goal(
                "`arm_requests_per_version` == 0",
                lambda r: r.get("arm_requests_per_version"),
                lambda r: _num(r, "arm_requests_per_version") == 0,
            ),
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


# -- running -------------------------------------------------------------------------------------------


def busy_share(seconds: float = 2.0) -> float | None:
    """The share of the machine's CPU time that was busy over ``seconds`` (Linux), None if unknown."""
    before, started = machine_busy_seconds(), time.monotonic()
    time.sleep(seconds)
    after = machine_busy_seconds()
    cpus = machine()["cpus"] or 1
    if before is None or after is None:
        return None
    return (after - before) / ((time.monotonic() - started) * cpus)


def wait_for_quiet(settle: float) -> float | None:
    """Wait up to ``settle`` seconds for the machine to be quiet; the busy share last seen."""
    deadline = time.monotonic() + settle
    share = busy_share()
    while share is not None and share > QUIET_BUSY_SHARE and time.monotonic() < deadline:
        progress(f"bench: machine {share:.0%} busy; waiting for it to be quiet")
        share = busy_share()
    return share


def run_one(bench: Benchmark, quick: bool, settle: float) -> Result:
    busy = wait_for_quiet(settle)
    command = bench.command(quick)
    shown = " ".join(["python", *(shlex.quote(a) for a in command[1:])])
    progress(f"bench: {shown}")
    started = time.monotonic()
    try:
        done = subprocess.run(  # stderr (progress) passes through
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True, timeout=bench.timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"benchmark": bench.name, "error": f"timed out after {bench.timeout} s", "command": shown}
    wall = time.monotonic() - started
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    try:
        result: Result = json.loads(lines[-1]) if lines else {}
    except ValueError:
        result = {}
    if not isinstance(result, dict) or not result:
        return {"benchmark": bench.name, "error": f"exit {done.returncode}, no JSON result", "command": shown}
    when = datetime.now(UTC).astimezone().isoformat(timespec="seconds")
    result.update({"command": shown, "date": when, "wall_s": round(wall, 1), "busy_before": _share(busy)})
    if done.returncode != 0:
        result["exit_code"] = done.returncode
    return result


def _share(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


# -- the page ------------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_cell(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:g}"
    return "n/a" if value is None else str(value).replace("|", "\\|")


def _is_table(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def _table(items: list[dict[str, Any]]) -> list[str]:
    keys = list(items[0])
    return [
        "| " + " | ".join(keys) + " |",
        "|" + "---|" * len(keys),
        *("| " + " | ".join(_cell(item.get(k)) for k in keys) + " |" for item in items),
    ]


def goal_rows(results: dict[str, Result]) -> list[str]:
    rows = ["| benchmark | goal | measured | met |", "|---|---|---|---|"]
    for bench in BENCHMARKS:
        result = results.get(bench.name)
        for goal in bench.goals:
            if result is None:
                continue
            if "error" in result:
                rows.append(f"| {bench.name} | {goal.text} | {_cell(result['error'])} | **not run** |")
                continue
            met = goal.met(result)
            rows.append(f"| {bench.name} | {goal.text} | {_cell(goal.figure(result))} | {'yes' if met else '**no**'} |")
    return rows


def _between(text: str, start: str, end: str) -> str | None:
    if start in text and end in text:
        return text[text.index(start) + len(start) : text.index(end)]
    return None


def existing_analysis(page: Path) -> str:
    """The hand-written analysis of the page, markers included (a placeholder for a new page)."""
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    found = _between(text, ANALYSIS_START, ANALYSIS_END)
    return f"{ANALYSIS_START}{found if found is not None else chr(10) + '_No analysis yet._' + chr(10)}{ANALYSIS_END}"


def existing_results(page: Path) -> dict[str, Result]:
    """The results the page holds, so that ``--only`` replaces some and keeps the others."""
    text = page.read_text(encoding="utf-8") if page.exists() else ""
    found = _between(text, RESULTS_START, RESULTS_END)
    if not found:
        return {}
    try:
        loaded = json.loads(found.strip().removeprefix("```json").removesuffix("```"))
    except ValueError:
        return {}
    return {k: v for k, v in loaded.items() if isinstance(v, dict)} if isinstance(loaded, dict) else {}


def render(results: dict[str, Result], quick: bool, analysis: str, when: datetime) -> str:
    box = machine()
    lines = [
        "# Performance",
        "",
        "Generated by `python -m bench` (`make bench`); do not edit by hand except between the analysis markers.",
        "Each benchmark starts its own sandbox (Azurite, the ARM simulator, the functions host) on free loopback",
        "ports and prints one JSON object; the figures below are those objects. What each figure means is in",
        "the docstring of its module (`bench/<name>.py`).",
        "",
    ]
    if quick:
        lines += ["**Quick run (`--quick`): smaller sizes than the documented ones; not the reference figures.**", ""]
    lines += [
        f"- date: {when.isoformat(timespec='seconds')}",
        f"- machine: {box['cpus']} CPUs ({box.get('cpu_model') or box['processor']}), Python {box['python']}, "
        f"{box['platform']}",
        "- `busy_before`: share of the machine's CPU busy just before a benchmark started (the runner waits",
        f"  for it to fall under {QUIET_BUSY_SHARE:.0%}); `other_cpu_share`: share of the machine's CPU used",
        "  *during* the run by anything but the sandbox and the benchmark. Near 0 means a clean measurement;",
        "  above ~0.1 the time figures understate this code (counts such as ARM reads and writes do not",
        "  depend on it).",
        "",
        "## Goals (issue 6)",
        "",
        *goal_rows(results),
        "",
    ]
    for bench in BENCHMARKS:
        result = results.get(bench.name)
        if result is None:
            continue
        lines += [f"## {bench.name}", "", bench.what + ".", "", "```sh", result.get("command", ""), "```", ""]
        if "error" in result:
            lines += [f"Did not run: {result['error']}.", ""]
            continue
        shown = [*(k for k in bench.figures if k in result), "date", "wall_s", "busy_before"]
        tables = [k for k in shown if _is_table(result.get(k))]
        rows = [f"| `{k}` | {_cell(result.get(k))} |" for k in shown if k not in tables]
        lines += ["| figure | value |", "|---|---|", *rows, ""]
        for key in tables:
            lines += [f"`{key}`:", "", *_table(result[key]), ""]
    raw = json.dumps(results, indent=1)
    lines += [
        "## Analysis",
        "",
        analysis,
        "",
        "## Raw results",
        "",
        RESULTS_START,
        "```json",
        raw,
        "```",
        RESULTS_END,
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    names = [b.name for b in BENCHMARKS]
    parser.add_argument("--only", action="append", choices=names, help="run only this benchmark (repeatable)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes: a smoke run, not the reference figures")
    parser.add_argument("--settle", type=float, default=120.0, help="seconds to wait for a quiet machine (default 120)")
    parser.add_argument("--output", type=Path, default=PAGE, help="the page to write (default docs/performance.md)")
    parser.add_argument("--no-write", action="store_true", help="do not write the page")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only]
    results: dict[str, Result] = existing_results(args.output) if args.only and not args.quick else {}
    for bench in chosen:
        results[bench.name] = run_one(bench, args.quick, args.settle)
        progress(f"bench: {bench.name}: {json.dumps(results[bench.name])[:400]}")
    progress("bench: goals\n" + "\n".join(goal_rows(results)))
    if not args.no_write:
        page = render(results, args.quick, existing_analysis(args.output), datetime.now(UTC).astimezone())
        args.output.write_text(page, encoding="utf-8")
        progress(f"bench: wrote {args.output}")
    print(json.dumps({"benchmark": "all", "quick": args.quick, "results": results, "machine": machine()}))
    return 1 if any("error" in results[b.name] for b in chosen) else 0


if __name__ == "__main__":
    sys.exit(main())
