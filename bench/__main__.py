"""Run every benchmark and write docs/performance.md: each figure against its goal (issue 6).

``python -m bench`` (``make bench``) runs, one after another and each as its own process with its own
sandbox: ``provision`` (10 regions), ``api``, ``hooks``, ``sync``, ``burst`` (100 x 5 under ARM throttling),
``arm_gets``, ``assets`` (asset copies) and ``promote`` (promotion by events). Each prints one JSON object
as its last line of stdout (progress goes to stderr and is passed through); this collects them, prints a
summary to stderr, writes the page, and prints all results as one JSON object on its last line. ``--only
NAME`` (repeatable) runs a subset; ``--quick`` runs smaller sizes (a smoke run: its figures are not the
documented ones, and the page says so). The benchmarks, with their arguments, goals and figures, are
listed in ``bench/suite.py``.

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import machine, machine_busy_seconds, progress
from bench.suite import BENCHMARKS, Benchmark, Result

REPO_ROOT = Path(__file__).resolve().parent.parent
PAGE = REPO_ROOT / "docs" / "performance.md"
ANALYSIS_START, ANALYSIS_END = "<!-- analysis:start -->", "<!-- analysis:end -->"
RESULTS_START, RESULTS_END = "<!-- results:start -->", "<!-- results:end -->"
QUIET_BUSY_SHARE = 0.25


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
