"""Shared pieces of the benchmarks: the machine they ran on, a sandbox, the ARM request log."""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from sandbox.arm.control import RequestRecord, SandboxControl
from sandbox.harness import Sandbox

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


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "processor": platform.machine(),
    }


@contextmanager
def sandbox(time_scale: float, env: dict[str, str] | None = None) -> Iterator[tuple[Sandbox, SandboxControl]]:
    with (
        tempfile.TemporaryDirectory(prefix="regctl-bench-") as tmp,
        Sandbox(Path(tmp), time_scale=time_scale, env=env or {}) as box,
        SandboxControl(box.info["arm"]["endpoint"], box.info["arm"]["ca_bundle"]) as control,
    ):
        yield box, control


def split_requests(records: list[RequestRecord]) -> tuple[int, int]:
    """(reads, writes) among logged ARM requests."""
    writes = sum(1 for r in records if r["method"] in WRITE_METHODS)
    return len(records) - writes, writes


def registry_yaml(name: str, regions: list[str]) -> str:
    lines = [f"name: {name}", f"location: {regions[0]}", "replication_locations:"]
    lines += [f"  - location: {region}" for region in regions]
    return "\n".join(lines) + "\n"


def wait_for(api: httpx.Client, location: str, timeout: float, interval: float = 0.1) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        doc: dict[str, Any] = api.get(location).json()
        if doc["status"] in ("Succeeded", "Failed", "Canceled"):
            return doc
        if time.monotonic() > deadline:
            raise TimeoutError(f"operation {location} still {doc['status']} after {timeout} s")
        time.sleep(interval)
