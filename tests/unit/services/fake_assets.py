"""In-memory fakes of the asset ports: the asset store and the blob data plane."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shared.domain.asset_records import AssetVersionRecord
from shared.domain.errors import ConcurrentUpdate, Conflict, InvalidSpec, NotFound, TransientError
from shared.domain.manifest import SYNC_COPY_LIMIT, BlobListing
from shared.ports import LroState


class FakeAssetStore:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], AssetVersionRecord] = {}
        self._etag = 0

    def _stamp(self, record: AssetVersionRecord) -> None:
        self._etag += 1
        record.etag = str(self._etag)

    def get(self, registry: str, row: str) -> AssetVersionRecord | None:
        found = self.rows.get((registry, row))
        return copy.deepcopy(found) if found else None

    def list_versions(self, registry: str, prefix: str = "") -> list[AssetVersionRecord]:
        return [
            copy.deepcopy(r)
            for (reg, row), r in sorted(self.rows.items())
            if reg == registry and row.startswith(prefix)
        ]

    def create(self, record: AssetVersionRecord) -> None:
        if (record.registry, record.row) in self.rows:
            raise Conflict("exists")
        self._stamp(record)
        self.rows[(record.registry, record.row)] = copy.deepcopy(record)

    def save(self, record: AssetVersionRecord) -> None:
        current = self.rows.get((record.registry, record.row))
        if current is None or current.etag != record.etag:
            raise ConcurrentUpdate("changed")
        self._stamp(record)
        self.rows[(record.registry, record.row)] = copy.deepcopy(record)

    def delete(self, record: AssetVersionRecord) -> None:
        self.rows.pop((record.registry, record.row), None)


def md5_of(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@dataclass
class Blob:
    data: bytes
    md5: str
    copy_status: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class FakeDataPlane:
    """Accounts by endpoint, containers, blobs. Copies are instant; ones over ``SYNC_COPY_LIMIT`` (or all,
    with ``async_copies``) stay ``pending`` until polled ``polls_to_finish`` times. ``fail_next`` raises a
    transient error on the next N calls of a kind (``list``, ``copy``, ``poll``, ``delete``)."""

    accounts: dict[str, dict[str, dict[str, Blob]]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)
    async_copies: bool = False
    polls_to_finish: int = 1
    fail_next: Counter[str] = field(default_factory=Counter)
    _pending: dict[tuple[str, str, str], tuple[Blob, int]] = field(default_factory=dict)

    def _fault(self, kind: str) -> None:
        self.requests[kind] += 1
        if self.fail_next[kind] > 0:
            self.fail_next[kind] -= 1
            raise TransientError(f"injected {kind} fault", code="ServerBusy")

    def container(self, endpoint: str, container: str) -> dict[str, Blob]:
        return self.accounts.setdefault(endpoint, {}).setdefault(container, {})

    def put(self, endpoint: str, container: str, name: str, data: bytes, *, md5: bool = True) -> None:
        self.container(endpoint, container)[name] = Blob(data, md5_of(data) if md5 else "")

    def list_blobs(self, endpoint: str, container: str, prefix: str) -> dict[str, BlobListing]:
        self._fault("list")
        blobs = self.accounts.get(endpoint, {}).get(container, {})
        return {
            n: BlobListing(n, b.size, b.md5, b.copy_status) for n, b in sorted(blobs.items()) if n.startswith(prefix)
        }

    def read_blob(self, endpoint: str, container: str, name: str, limit: int) -> bytes:
        self._fault("read")
        blob = self.accounts.get(endpoint, {}).get(container, {}).get(name)
        if blob is None:
            raise NotFound(f"{container}/{name} not found", code="BlobNotFound")
        if blob.size > limit:
            raise InvalidSpec(f"{container}/{name} holds {blob.size} bytes", [])
        return blob.data

    def copy(self, body: dict[str, Any]) -> LroState:
        source, target = body["source"], body["target"]
        pending: list[str] = []
        for entry in body["files"]:
            self._fault("copy")
            blob = self.accounts[source["endpoint"]][source["container"]][source["prefix"] + entry["path"]]
            name = target["prefix"] + entry["path"]
            destination = self.container(target["endpoint"], target["container"])
            if self.async_copies or entry["size"] > SYNC_COPY_LIMIT:
                destination[name] = Blob(b"", "", "pending")
                self._pending[(target["endpoint"], target["container"], name)] = (Blob(blob.data, blob.md5), 0)
                pending.append(name)
            else:
                destination[name] = Blob(blob.data, blob.md5)
        if not pending:
            return LroState(done=True)
        state = {
            "dataplane": "copy",
            "endpoint": target["endpoint"],
            "container": target["container"],
            "pending": pending,
        }
        return LroState(done=False, continuation=json.dumps(state), retry_after=1.0)

    def poll(self, continuation: str) -> LroState:
        self._fault("poll")
        state = json.loads(continuation)
        still = []
        for name in state["pending"]:
            key = (state["endpoint"], state["container"], name)
            if key not in self._pending:
                continue
            blob, polls = self._pending[key]
            if polls + 1 >= self.polls_to_finish:
                self.container(state["endpoint"], state["container"])[name] = Blob(blob.data, blob.md5, "success")
                del self._pending[key]
            else:
                self._pending[key] = (blob, polls + 1)
                still.append(name)
        if still:
            return LroState(done=False, continuation=json.dumps({**state, "pending": still}), retry_after=1.0)
        return LroState(done=True)

    def delete_blobs(self, body: dict[str, Any]) -> LroState:
        self._fault("delete")
        target = body["target"]
        blobs = self.accounts.get(target["endpoint"], {}).get(target["container"], {})
        for name in [n for n in blobs if n.startswith(target["prefix"])]:
            del blobs[name]
        return LroState(done=True)

    def create_container(self, endpoint: str, container: str) -> None:
        self.requests["create_container"] += 1
        self.container(endpoint, container)

    def delete_container(self, endpoint: str, container: str) -> None:
        self.requests["delete_container"] += 1
        self.accounts.get(endpoint, {}).pop(container, None)

    def container_url(self, endpoint: str, container: str, *, write: bool, minutes: int, prefix: str = "") -> str:
        self.requests["sas"] += 1
        return f"{endpoint.rstrip('/')}/{container}?sig={'w' if write else 'r'}{minutes}"
