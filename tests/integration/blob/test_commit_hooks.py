"""The proxy announces committed writes and deleted blobs to its subscribers (the Event Grid stand-in's hooks).

The proxy runs in-process here (the simulator subprocess would hide the callbacks), in front of the
same Azurite (whose pool it empties before use, as the simulator does), with storage accounts put
straight into its store.
"""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from sandbox.arm.config import Settings
from sandbox.arm.faults import FaultEngine
from sandbox.arm.state import StorageAccount, Store
from sandbox.azurite_proc import Azurite
from sandbox.blob.hooks import BlobCommitted, BlobDeleted
from sandbox.blob.proxy import BlobProxy

pytestmark = pytest.mark.integration

VERSION = {"x-ms-version": "2026-10-06", "authorization": "Bearer any"}
ENDPOINT = "https://127.0.0.1:9"


def _proxy(azurite: Azurite) -> BlobProxy:
    store = Store(Settings(azurite_blob_endpoint=azurite.blob_endpoint, blob_endpoint=ENDPOINT))
    for name in ("hookone", "hooktwo"):
        acct = StorageAccount("sub", "rg", name, "eastus", "StorageV2", "Standard_LRS", {}, {})
        acct.pool_index = store.blob_pool.assign(name)
        store.accounts[name] = acct
    return BlobProxy(store, FaultEngine())


async def _scenario(proxy: BlobProxy) -> list[int]:
    transport = httpx.ASGITransport(app=proxy)
    statuses = []
    async with httpx.AsyncClient(transport=transport, base_url=ENDPOINT) as client:
        for container in ("/hookone/cont1", "/hooktwo/cont2"):
            response = await client.put(f"{container}?restype=container", headers=VERSION)
            statuses.append(response.status_code)
        blob_headers = {**VERSION, "x-ms-blob-type": "BlockBlob"}
        statuses.append((await client.put("/hookone/cont1/a.bin", content=b"abc", headers=blob_headers)).status_code)
        block_id = base64.b64encode(b"block-000").decode()
        statuses.append(
            (
                await client.put(f"/hookone/cont1/b.bin?comp=block&blockid={block_id}", content=b"x", headers=VERSION)
            ).status_code
        )
        block_list = f"<BlockList><Latest>{block_id}</Latest></BlockList>".encode()
        statuses.append(
            (await client.put("/hookone/cont1/b.bin?comp=blocklist", content=block_list, headers=VERSION)).status_code
        )
        copy = {**VERSION, "x-ms-copy-source": f"{ENDPOINT}/hookone/cont1/a.bin", "x-ms-requires-sync": "true"}
        statuses.append((await client.put("/hookone/cont1/copy.bin", headers=copy)).status_code)
        statuses.append((await client.get("/hookone/cont1/a.bin", headers=VERSION)).status_code)
    await proxy.aclose()
    return statuses


def test_put_blob_put_block_list_and_copies_are_announced_reads_and_blocks_are_not(azurite: Azurite) -> None:
    proxy = _proxy(azurite)
    events: list[BlobCommitted] = []
    proxy.hooks.subscribe(events.append)

    statuses = asyncio.run(_scenario(proxy))

    assert statuses == [201, 201, 201, 201, 201, 202, 200]
    assert [(e.account, e.container, e.blob, e.api) for e in events] == [
        ("hookone", "cont1", "a.bin", "PutBlob"),
        ("hookone", "cont1", "b.bin", "PutBlockList"),
        ("hookone", "cont1", "copy.bin", "CopyBlobFromUrl"),
    ]
    assert events[0].url == f"{ENDPOINT}/hookone/cont1/a.bin"
    assert events[0].etag


def test_a_failing_subscriber_does_not_fail_the_request(azurite: Azurite) -> None:
    proxy = _proxy(azurite)
    seen: list[str] = []

    def broken(event: BlobCommitted) -> None:
        raise RuntimeError("subscriber bug")

    proxy.hooks.subscribe(broken)
    proxy.hooks.subscribe(lambda event: seen.append(event.blob))

    statuses = asyncio.run(_scenario(proxy))

    assert statuses[2] == 201
    assert seen == ["a.bin", "b.bin", "copy.bin"]


async def _delete_scenario(proxy: BlobProxy) -> list[int]:
    transport = httpx.ASGITransport(app=proxy)
    statuses = []
    async with httpx.AsyncClient(transport=transport, base_url=ENDPOINT) as client:
        statuses.append((await client.put("/hookone/gone?restype=container", headers=VERSION)).status_code)
        put = {**VERSION, "x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "text/yaml"}
        statuses.append((await client.put("/hookone/gone/dir/a.yml", content=b"a: 1", headers=put)).status_code)
        deleted = {**VERSION, "x-ms-client-request-id": "client-1"}
        statuses.append((await client.delete("/hookone/gone/dir/a.yml", headers=deleted)).status_code)
        statuses.append((await client.delete("/hookone/gone/dir/a.yml", headers=VERSION)).status_code)
    await proxy.aclose()
    return statuses


def test_a_deleted_blob_is_announced_to_delete_subscribers_with_what_it_was(azurite: Azurite) -> None:
    proxy = _proxy(azurite)
    commits: list[BlobCommitted] = []
    deletes: list[BlobDeleted] = []
    proxy.hooks.subscribe(commits.append)
    proxy.hooks.subscribe_deletes(deletes.append)

    statuses = asyncio.run(_delete_scenario(proxy))

    assert statuses == [201, 201, 202, 404]
    assert [c.blob for c in commits] == ["dir/a.yml"]
    [gone] = deletes
    assert (gone.account, gone.container, gone.blob) == ("hookone", "gone", "dir/a.yml")
    assert (gone.content_type, gone.blob_type) == ("text/yaml", "BlockBlob")
    assert gone.url == f"{ENDPOINT}/hookone/gone/dir/a.yml"
    assert gone.request_id and gone.client_request_id == "client-1"
