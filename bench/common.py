"""Shared pieces of the benchmarks: the machine they ran on, a sandbox, the ARM request log, creating many
registries through the API and waiting for them, waiting until the control plane is quiet, CPU use."""

from __future__ import annotations

import argparse
import math
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from azure.storage.queue import QueueClient

from sandbox.arm.control import RequestRecord, SandboxControl
from sandbox.harness import Sandbox
from sandbox.infra import host_environment
from shared.settings import Settings

WRITE_METHODS = frozenset({"PUT", "PATCH", "POST", "DELETE"})
REGION_ORDER = [
    "eastus",
    "westus",
    "northeurope",
    "westeurope",
    "southeastasia",
    "japaneast",
    "australiaeast",
    "brazilsouth",
    "canadacentral",
    "uksouth",
    "francecentral",
    "koreacentral",
    "centralindia",
    "swedencentral",
    "eastus2",
    "westus2",
]


def cpu_model() -> str | None:
    """The CPU's model name (Linux), None elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "processor": platform.machine(),
    }


def add_host_instances(parser: argparse.ArgumentParser) -> None:
    """``--host-instances N``: functions host processes serving the sandbox, as a scaled-out Function App
    runs several instances (``python -m sandbox up --host-instances``)."""
    parser.add_argument(
        "--host-instances",
        type=int,
        default=1,
        help="functions host processes, like instances of a scaled-out Function App (default 1)",
    )


@contextmanager
def sandbox(
    time_scale: float, env: dict[str, str] | None = None, host_instances: int = 1, azurite_memory: bool = False
) -> Iterator[tuple[Sandbox, SandboxControl]]:
    """A whole sandbox of its own (temporary ``SANDBOX_DIR``, free loopback ports) and a client of the ARM
    simulator's control surface; everything is stopped and removed on exit. ``azurite_memory``: Azurite
    keeps its data in memory (``python -m sandbox up --azurite-memory``)."""
    with (
        tempfile.TemporaryDirectory(prefix="regctl-bench-") as tmp,
        Sandbox(
            Path(tmp),
            time_scale=time_scale,
            env=env or {},
            host_instances=host_instances,
            azurite_memory=azurite_memory,
        ) as box,
        SandboxControl(box.info["arm"]["endpoint"], box.info["arm"]["ca_bundle"]) as control,
    ):
        yield box, control


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user + system) a process has used so far: this one by default, another from ``/proc``
    (Linux); None where it cannot be read."""
    if pid is None:
        times = os.times()
        return times.user + times.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
    except (OSError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def machine_busy_seconds() -> float | None:
    """CPU time every CPU of the machine has spent busy (not idle or waiting on I/O) since boot (Linux)."""
    try:
        line = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0]
    except (OSError, IndexError):
        return None
    ticks = [int(v) for v in line.split()[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU seconds used between ``start`` and ``stop`` by each sandbox process (``host``, ``arm``,
    ``azurite``), by this benchmark process (``client``) and by everything else on the machine (``other``:
    busy time not accounted to those; a busy ``other`` means the figures were measured on a loaded
    machine). On a two-CPU machine this tells who the bottleneck was. A process that was replaced meanwhile
    (the host restarted by ``up``) is named in ``replaced``; its CPU then shows under ``other``. Several host
    instances (``host``, ``host1``...) are summed under ``host``."""

    _NAMES = ("host", "arm", "azurite", "up")

    def __init__(self, box: Sandbox) -> None:
        self._box = box
        self._pids: dict[str, int | None] = {}
        self._start: dict[str, float | None] = {}
        self._busy: float | None = None
        self.replaced: list[str] = []

    def _current_pids(self) -> dict[str, int | None]:
        info = self._box.read_info() or self._box.info
        pids = info.get("pids", {})
        hosts = {name: pid for name, pid in pids.items() if name.startswith("host")}  # host, host1, ...
        return {**{name: pids.get(name) for name in self._NAMES}, **hosts, "client": None}

    def start(self) -> None:
        self._pids = self._current_pids()
        self._start = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        self._busy = machine_busy_seconds()

    def stop(self) -> dict[str, float]:
        used: dict[str, float] = {}
        now = self._current_pids()
        self.replaced = [name for name, pid in self._pids.items() if now.get(name) != pid]
        for name, pid in self._pids.items():
            before, after = self._start.get(name), cpu_seconds(pid)
            if before is not None and after is not None:
                group = "host" if name.startswith("host") else name
                used[group] = used.get(group, 0.0) + after - before
        busy = machine_busy_seconds()
        if busy is not None and self._busy is not None:
            used["other"] = max(0.0, busy - self._busy - sum(used.values()))
        used.pop("up", None)
        return used


def other_share(cpu: dict[str, float], seconds: float) -> float | None:
    """The share of the machine's CPU that something other than the sandbox and this process used over
    ``seconds`` (``CpuMeter``'s ``other``): near 0 on a quiet machine. Above ~0.1 the figures measured in
    that window understate this code."""
    cpus = os.cpu_count() or 1
    if "other" not in cpu or seconds <= 0:
        return None
    return round(cpu["other"] / (seconds * cpus), 2)


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries only the result)."""
    print(message, file=sys.stderr, flush=True)


def percentile_ms(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of durations in seconds, in milliseconds; 0.0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1] * 1000, 2)


def split_requests(records: list[RequestRecord]) -> tuple[int, int]:
    """(reads, writes) among logged ARM requests."""
    writes = sum(1 for r in records if r["method"] in WRITE_METHODS)
    return len(records) - writes, writes


_NAMED = re.compile(
    r"/(resourcegroups|storageaccounts|registries|replications|locations|asyncoperations|operationstatuses|"
    r"operationresults)/[^/]+",
    re.IGNORECASE,
)


def request_kind(record: RequestRecord) -> str:
    """``METHOD path`` with the subscription, names and ids left out: what kind of ARM call it was
    (``GET /resourceGroups/_/providers/Microsoft.Storage/storageAccounts`` is a LIST of a group's accounts)."""
    path = record["path"].split("?")[0]
    path = re.sub(r"^/subscriptions/[^/]+", "", path, flags=re.IGNORECASE)
    path = _NAMED.sub(lambda m: f"/{m.group(1)}/_", path)
    status = "" if record["status"] < 400 else f" -> {record['status']}"
    return f"{record['method']} {path or '/'}{status}"


def request_kinds(records: list[RequestRecord]) -> dict[str, int]:
    """How many requests of each ``request_kind``, most frequent first."""
    counts: dict[str, int] = {}
    for record in records:
        kind = request_kind(record)
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def registry_yaml(name: str, regions: list[str]) -> str:
    lines = [f"name: {name}", f"location: {regions[0]}", "replication_locations:"]
    lines += [f"  - location: {region}" for region in regions]
    return "\n".join(lines) + "\n"


def owner_headers(box: Sandbox) -> dict[str, str]:
    """``Authorization`` as the sandbox's bootstrap owner (a token minted by its Entra stand-in's key; it lives
    an hour, longer than any benchmark's use of one sandbox). The API refuses requests without one."""
    return {"Authorization": f"Bearer {box.owner_token()}"}


def api_client(box: Sandbox, timeout: float = 60.0) -> httpx.Client:
    """A client of the sandbox's API as its owner (``/api/...`` paths)."""
    return httpx.Client(
        base_url=box.api.removesuffix("/api"), timeout=timeout, trust_env=False, headers=owner_headers(box)
    )


def wait_for(api: httpx.Client, location: str, timeout: float, interval: float = 0.1) -> dict[str, Any]:
    """Poll an operation (its ``Location``) every ``interval`` s until it is terminal; its document."""
    deadline = time.monotonic() + timeout
    while True:
        doc: dict[str, Any] = api.get(location).json()
        if doc["status"] in ("Succeeded", "Failed", "Canceled"):
            return doc
        if time.monotonic() > deadline:
            raise TimeoutError(f"operation {location} still {doc['status']} after {timeout} s")
        time.sleep(interval)


# -- many registries ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """A create the API accepted: the registry, its operation's URL, and when the POST was sent (epoch s)."""

    name: str
    operation_url: str
    sent_at: float


def create_registries(box: Sandbox, names: list[str], regions: list[str], clients: int = 8) -> list[Submitted]:
    """POST one create per name from ``clients`` threads, as fast as the API accepts them; raise on any
    answer but 202."""

    def post(chunk: list[str]) -> list[Submitted]:
        accepted = []
        with api_client(box) as api:
            for name in chunk:
                sent_at = time.time()
                response = api.post(
                    "/api/registries",
                    content=registry_yaml(name, regions),
                    headers={"Content-Type": "application/yaml"},
                )
                if response.status_code != 202:
                    raise RuntimeError(f"create {name}: {response.status_code} {response.text[:300]}")
                accepted.append(Submitted(name, response.headers["Location"], sent_at))
        return accepted

    chunks = [names[i::clients] for i in range(clients) if names[i::clients]]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:
        return [item for batch in pool.map(post, chunks) for item in batch]


def wait_operations(
    box: Sandbox, submitted: list[Submitted], timeout: float, interval: float = 1.0
) -> dict[str, dict[str, Any]]:
    """Wait until every submitted operation is terminal; their documents by registry name.

    One ``GET /api/registries`` per ``interval`` (not one GET per operation) tells which registries have
    settled; only then is each operation read once, so waiting costs the host little."""
    deadline = time.monotonic() + timeout
    wanted = {s.name.lower() for s in submitted}
    with api_client(box) as api:
        while True:
            listing = api.get("/api/registries").json()["value"]
            settled = {r["name"].lower() for r in listing if r["status"] in ("Ready", "Failed")}
            if wanted <= settled:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(wanted - settled)} of {len(wanted)} registries not settled after {timeout} s")
            time.sleep(interval)
        return {
            s.name: wait_for(api, s.operation_url, timeout=max(10.0, deadline - time.monotonic())) for s in submitted
        }


def finished_at(operation: dict[str, Any]) -> float:
    """When an operation last changed (its terminal transition, once terminal), as epoch seconds."""
    return datetime.fromisoformat(str(operation["updatedAt"])).timestamp()


# -- quiet ----------------------------------------------------------------------------------------------


def app_settings(box: Sandbox) -> Settings:
    """The app settings the sandbox gives the host (queue and table names, connection strings, the Entra
    stand-in's token validation)."""
    connection = str(box.info["azurite"]["connection_string"])
    return host_environment({}, arm=box.info["arm"], connection=connection, overrides=box.env, identity=box.identity)[1]


def queued_messages(box: Sandbox) -> int:
    """Messages in the app's queues, including scheduled ones and those being processed (Azure Storage and
    Azurite count invisible messages too): 0 means no work is pending or in flight."""
    settings = app_settings(box)
    connection = str(box.info["azurite"]["connection_string"])
    total = 0
    for queue in (settings.reconcile_queue, settings.steps_queue):
        with QueueClient.from_connection_string(connection, queue) as client:
            total += int(client.get_queue_properties().approximate_message_count or 0)
    return total


def wait_quiet(box: Sandbox, control: SandboxControl, quiet: float = 1.0, timeout: float = 120.0) -> float:
    """Wait until the app's queues are empty (nothing pending, scheduled or in flight) and ARM has seen no
    request for ``quiet`` seconds; the seconds waited. Completed operations may still have scheduled
    follow-ups (rechecks, polls) that read ARM: this waits them out."""
    started = time.monotonic()
    seen = len(control.requests())
    last_change = time.monotonic()
    while True:
        time.sleep(min(0.25, quiet / 2))
        count = seen + len(control.requests(since=seen))
        if count != seen:
            seen, last_change = count, time.monotonic()
        if time.monotonic() - last_change >= quiet and queued_messages(box) == 0:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"the control plane was not quiet after {timeout} s ({queued_messages(box)} queued)")


# -- the host's log -------------------------------------------------------------------------------------

_SUCCEEDED_TIMER = re.compile(r"Succeeded function=(?P<name>\w+) trigger=timer duration_ms=(?P<ms>\d+)")


def host_log(box: Sandbox) -> str:
    path = box.log_dir / "host.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def run_timer(box: Sandbox, name: str, timeout: float = 120.0) -> float:
    """Fire a timer function through the host's admin API and wait until its invocation has returned
    (its ``Succeeded`` line in the host's log); the duration the host measured, in seconds."""
    failed = f"Failed function={name} trigger=timer"
    before = len([m for m in _SUCCEEDED_TIMER.finditer(host_log(box)) if m["name"] == name])
    failures = host_log(box).count(failed)
    status = box.run_function(name)
    if status != 202:
        raise RuntimeError(f"running {name} answered {status}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [m for m in _SUCCEEDED_TIMER.finditer(host_log(box)) if m["name"] == name]
        if len(runs) > before:
            return int(runs[before]["ms"]) / 1000
        if host_log(box).count(failed) > failures:
            raise RuntimeError(f"{name} failed:\n{box.logs()}")
        time.sleep(0.05)
    raise TimeoutError(f"{name} did not finish within {timeout} s")
