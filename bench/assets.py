"""Asset copies: V versions of F files of S MB registered at once into an N-region registry.

``python -m bench.assets --versions V --regions N --files F --size-mb S`` creates the registry, uploads
every version's files to its pending upload (not timed), then registers all of them at once and waits
until every region of every version is ``Replicated``. It reports:

- ``makespan_s``: from the first registration to the last version ``Available``;
- ``copy_bound_s``: the same copies (every file into every region's account, from the same pending
  uploads) made directly with the same SDK and the same parallelism per destination account, and verified
  with one LIST per account and version, with no regctl in between, in the same run (like bench.api's
  ceiling); and ``ratio_to_copy_bound`` (goal <= 1.3);
- ``data_requests_per_file_region``: every blob request the sandbox's blob proxy served during the
  registrations, over V x F x N (goal <= 1.5, polls and verification included);
- ``arm_requests`` during the registrations (goal: 0 per version once the registry exists).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import (
    BlobServiceClient,
    ContainerClient,
    ContainerSasPermissions,
    ContentSettings,
    generate_container_sas,
)

from bench.common import api_client, machine, progress, registry_yaml, request_kinds, sandbox, wait_for
from shared.adapters.credentials import StaticTokenCredential
from shared.domain.manifest import SYNC_COPY_LIMIT

REGIONS = ["eastus", "westus", "westeurope", "southeastasia", "australiaeast", "japaneast"]
PER_ACCOUNT = 8  # ASSET_COPIES_PER_ACCOUNT's default: the same parallelism for the bound


def make_files(folder: Path, files: int, size_mb: float) -> list[tuple[str, Path, str]]:
    """``files`` files of random bytes: (name, path, base64 Content-MD5)."""
    made = []
    size = int(size_mb * 1024 * 1024)
    for i in range(files):
        path = folder / f"part-{i:04d}.bin"
        data = os.urandom(size)
        path.write_bytes(data)
        made.append((path.name, path, base64.b64encode(hashlib.md5(data).digest()).decode()))
    return made


def upload(
    api: Any, registry: str, name: str, files: list[tuple[str, Path, str]], ca: str
) -> tuple[str, list[dict[str, Any]]]:
    started = api.post(f"/api/registries/{registry}/models/{name}/versions/1/startPendingUpload")
    started.raise_for_status()
    reference = started.json()["blobReferenceForConsumption"]
    container = ContainerClient.from_container_url(reference["credential"]["sasUri"], connection_verify=ca)
    for blob, path, md5 in files:
        with path.open("rb") as handle:
            container.upload_blob(
                blob,
                handle,
                overwrite=True,
                content_settings=ContentSettings(content_md5=bytearray(base64.b64decode(md5))),
            )
    listed = [{"path": blob, "size": path.stat().st_size, "md5": md5} for blob, path, md5 in files]
    return str(reference["blobUri"]), listed


def accounts(api: Any, registry: str) -> dict[str, str]:
    """Region -> blob endpoint of the account holding its copies."""
    record = api.get(f"/api/registries/{registry}").json()
    return {a["region"]: a["blob_endpoint"] for a in record["resources"]["storage_accounts"] if a["index"] == 0}


def copy_bound(
    endpoints: dict[str, str],
    primary: str,
    sources: list[str],
    files: list[tuple[str, Path, str]],
    ca: str,
    *,
    targets: list[str] | None = None,
) -> float:
    """The same copies without regctl: every file of every version into every region, PER_ACCOUNT at a time
    per destination account, then one LIST per account and version to verify. ``sources`` are the versions'
    folders in the primary's ``assets`` container (regctl has deleted the pending uploads by then; the
    copies are the same server-side copies of the same bytes). ``targets``: the regions copied into (default:
    every region of ``endpoints``, the primary included)."""
    credential = StaticTokenCredential("bench")
    clients = {r: BlobServiceClient(e, credential=credential, connection_verify=ca) for r, e in endpoints.items()}
    primary_client = clients[primary]
    now = datetime.now(UTC)
    key = primary_client.get_user_delegation_key(now - timedelta(minutes=5), now + timedelta(hours=1))
    into = {r: clients[r] for r in (targets if targets is not None else list(clients))}
    for client in into.values():
        with contextlib.suppress(ResourceExistsError):
            client.create_container("bound")
    slots = {r: threading.BoundedSemaphore(PER_ACCOUNT) for r in clients}

    sas = generate_container_sas(
        primary_client.account_name or "",
        "assets",
        user_delegation_key=key,
        permission=ContainerSasPermissions(read=True),
        expiry=now + timedelta(hours=1),
    )
    base = primary_client.url.rstrip("/") + "/assets/"

    def one(task: tuple[str, str, str, int]) -> None:
        region, source, blob, size = task
        target = clients[region].get_blob_client("bound", f"{source}{blob}")
        with slots[region]:
            result = target.start_copy_from_url(f"{base}{source}{blob}?{sas}", requires_sync=size <= SYNC_COPY_LIMIT)
            status = str(result.get("copy_status") or "")
            while status == "pending":
                time.sleep(0.5)
                status = str(target.get_blob_properties().copy.status or "")

    tasks = [(r, s, blob, path.stat().st_size) for s in sources for r in into for blob, path, _ in files]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=PER_ACCOUNT * len(into)) as pool:
        list(pool.map(one, tasks))
    for source in sources:
        for client in into.values():
            listed = list(client.get_container_client("bound").list_blobs(name_starts_with=source))
            assert len(listed) == len(files)
    return time.monotonic() - started


def run(versions: int, regions: int, files: int, size_mb: float, time_scale: float) -> dict[str, Any]:
    chosen = REGIONS[:regions]
    with tempfile.TemporaryDirectory(prefix="regctl-bench-assets-") as tmp, sandbox(time_scale) as (box, control):
        ca = box.ca_bundle
        local = make_files(Path(tmp), files, size_mb)
        with api_client(box, timeout=120) as api:
            created = api.post(
                "/api/registries",
                content=registry_yaml("BenchAssets", chosen),
                headers={"Content-Type": "application/yaml"},
            )
            created.raise_for_status()
            assert wait_for(api, created.headers["Location"], timeout=300, interval=0.5)["status"] == "Succeeded"
            progress(f"registry ready in {regions} regions; uploading {versions} x {files} files")
            uploads = [upload(api, "BenchAssets", f"m{i:03d}", local, ca) for i in range(versions)]
            control.clear_requests()
            control.clear_blob_requests()
            started = time.time()

            def register(i: int) -> str:
                uri, listed = uploads[i]
                body = {"name": f"m{i:03d}", "version": "1", "path": uri, "files": listed}
                answer = api.put(f"/api/registries/BenchAssets/models/m{i:03d}/versions/1", json=body)
                answer.raise_for_status()
                return str(answer.headers["Location"])

            with ThreadPoolExecutor(max_workers=8) as pool:
                locations = list(pool.map(register, range(versions)))
            finished = [wait_for(api, loc, timeout=600, interval=0.2) for loc in locations]
            ended = max(datetime.fromisoformat(op["updatedAt"]).timestamp() for op in finished)
            makespan = ended - started
            arm_log = control.requests()
            arm = len(arm_log)
            data = sum(int(r["count"]) for r in control.blob_requests())
            by_operation: dict[str, int] = {}
            for r in control.blob_requests():
                by_operation[r["operation"]] = by_operation.get(r["operation"], 0) + int(r["count"])
            statuses = sorted({op["status"] for op in finished})
            progress(f"regctl: {makespan:.2f} s; now the bound")
            sources = [f"models/m{i:03d}/1/" for i in range(versions)]
            bound = copy_bound(accounts(api, "BenchAssets"), chosen[0], sources, local, ca)
    copies = versions * files * regions
    return {
        "benchmark": "assets",
        "versions": versions,
        "regions": regions,
        "files": files,
        "size_mb": size_mb,
        "statuses": statuses,
        "makespan_s": round(makespan, 3),
        "copy_bound_s": round(bound, 3),
        "ratio_to_copy_bound": round(makespan / bound, 3) if bound else None,
        "data_requests": data,
        "data_requests_by_operation": dict(sorted(by_operation.items(), key=lambda kv: -kv[1])),
        "data_requests_per_file_region": round(data / copies, 3),
        "arm_requests": arm,
        "arm_requests_per_version": round(arm / versions, 3),
        "arm_requests_by_kind": request_kinds(arm_log),
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.assets", description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=10)
    parser.add_argument("--regions", type=int, default=3)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--size-mb", type=float, default=4.0)
    parser.add_argument("--time-scale", type=float, default=0.02)
    args = parser.parse_args(argv)
    if not 1 <= args.regions <= len(REGIONS):
        parser.error(f"--regions must be 1-{len(REGIONS)}")
    result = run(args.versions, args.regions, args.files, args.size_mb, args.time_scale)
    print(json.dumps(result))
    return 0 if result["statuses"] == ["Succeeded"] else 1


if __name__ == "__main__":
    sys.exit(main())
