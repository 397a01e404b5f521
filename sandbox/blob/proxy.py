"""The blob proxy: an ASGI app in front of Azurite, one path-style endpoint per simulated account.

For every request: find the simulated account (an unknown account drops the connection, as a name
that does not resolve fails in Azure), classify the operation, apply a ``"service": "blob"`` fault
rule if one matches, authenticate and authorize (``auth.py``), then either answer Get User Delegation
Key itself or forward to the account's Azurite pool account: SAS parameters stripped, a copy source on
the proxy authorized and rewritten (``translate.py``), signed with Shared Key. The answer streams back
with Azurite's URLs translated in headers and (list, container, service and error) XML bodies; blob
content is never touched. Successful commits and blob deletes are announced to ``hooks``.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from sandbox.arm.app import drop_connection
from sandbox.arm.azurite import pool_account
from sandbox.arm.faults import FaultEngine
from sandbox.arm.state import Store
from sandbox.arm.storage_rules import READ_ACCESS_SKUS
from sandbox.blob import errors, sas
from sandbox.blob.auth import AuthInput, Caller, authenticate, authorize, utc_now
from sandbox.blob.delegation import user_delegation_key
from sandbox.blob.errors import SERVER, StorageError
from sandbox.blob.hooks import BlobCommitted, BlobDeleted, CommitHooks
from sandbox.blob.operations import Operation, Target, classify, parse_target
from sandbox.blob.sharedkey import signature, string_to_sign
from sandbox.blob.translate import Names, forwarded_query, split_query
from sandbox.blob.wire import (
    BlobRequest,
    ClientGoneError,
    Receive,
    RequestBody,
    Scope,
    Send,
    raw_headers,
    tag_values,
)

log = logging.getLogger(__name__)

_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "trailer", "proxy-authorization", "host"}
)
_NOT_FORWARDED = _HOP_BY_HOP | {"authorization", "x-ms-copy-source-authorization", "expect"}
_READ_SOURCE = Operation("GetBlob", "read", "blob", "r")
_COMMITS = frozenset({"PutBlob", "PutBlockList", "CopyBlob", "CopyBlobFromUrl"})
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class _Account:
    name: str
    keys: list[str]
    pool_index: int
    read_access: bool


class BlobProxy:
    """The ASGI app of the blob endpoint. ``store`` and ``faults`` are the ARM simulator's."""

    def __init__(self, store: Store, faults: FaultEngine, hooks: CommitHooks | None = None) -> None:
        self.store = store
        self.faults = faults
        self.hooks = hooks or CommitHooks()
        self._secret = secrets.token_bytes(32)
        settings = store.settings
        self.names = Names(
            settings.azurite_blob_endpoint, lambda: store.settings.blob_endpoint.rstrip("/"), self._holder
        )
        self._client: httpx.AsyncClient | None = None
        self._purges: dict[int, asyncio.Lock] = {}

    def _holder(self, index: int) -> str | None:
        with self.store.lock:
            return self.store.blob_pool.holder_of(index)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                trust_env=False,
                timeout=httpx.Timeout(300.0, connect=5.0),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
            )
        return self._client

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = BlobRequest.from_scope(scope)
        request_id = errors.new_request_id()
        body = RequestBody(receive)
        try:
            await self._serve(request, body, send, request_id)
        except StorageError as err:
            log.info("blob %s %s -> %d %s", request.method, request.raw_path, err.status, err.code)
            await self._answer_error(err, request, body, send, request_id)
        except ClientGoneError:
            log.info("blob %s %s: the client went away", request.method, request.raw_path)
        except httpx.HTTPError as err:
            log.warning("blob %s %s: Azurite failed: %r", request.method, request.raw_path, err)
            busy = StorageError(503, "ServerBusy", "The server is currently unable to receive requests.")
            await self._answer_error(busy, request, body, send, request_id)

    async def _answer_error(
        self, err: StorageError, request: BlobRequest, body: RequestBody, send: Send, request_id: str
    ) -> None:
        try:
            await body.read()  # drain what the client still sends
        except ClientGoneError:
            return
        status, headers, content = errors.error_response(err, request_id, request.headers.get("x-ms-version"))
        await send({"type": "http.response.start", "status": status, "headers": raw_headers(headers)})
        await send({"type": "http.response.body", "body": b"" if request.method == "HEAD" else content})

    # The request ----------------------------------------------------------------------------------

    def _account(self, name: str) -> _Account | None:
        with self.store.lock:
            acct = self.store.accounts.get(name)
            if acct is None:
                return None
            return _Account(acct.name.lower(), list(acct.keys), acct.pool_index, acct.sku in READ_ACCESS_SKUS)

    async def _serve(self, request: BlobRequest, body: RequestBody, send: Send, request_id: str) -> None:
        target = parse_target(request.raw_path)
        account = self._account(target.account) if target is not None else None
        if target is None or account is None or (target.secondary and not account.read_access):
            log.warning("blob request for an unknown account: %s %s", request.method, request.raw_path)
            await drop_connection(send)
            return
        items = split_query(request.query_string)
        query = {name.lower(): value for name, value, _ in reversed(items)}
        operation = classify(request.method, target, query, request.headers)
        with self.store.lock:
            self.store.count_blob_request(operation.name, account.name)
            rule = self.faults.blob_fault(request.method, operation.kind, account.name)
        if rule is not None:
            log.info("blob fault on %s %s: status %s after %ss", operation.name, account.name, rule.status, rule.delay)
            if rule.delay:
                await asyncio.sleep(rule.delay)
            if rule.status == 0:
                await drop_connection(send)
                return
            raise errors.fault_error(rule.status or 500, rule.error_code)
        now = utc_now()
        auth_input = AuthInput(
            request.method,
            request.raw_path,
            target,
            request.headers,
            [(name, value) for name, value, _ in items],
            query,
            request.client_ip,
        )
        caller = authenticate(auth_input, account.name, account.keys, self._secret, now)
        authorize(caller, operation, target)
        if operation.name == "GetUserDelegationKey":
            assert caller.oid is not None and caller.tid is not None
            answer = user_delegation_key(
                await body.read(),
                account=account.name,
                oid=caller.oid,
                tid=caller.tid,
                version=request.headers.get("x-ms-version", ""),
                secret=self._secret,
                now=now,
            )
            await self._send_xml(send, request, request_id, answer)
            return
        await self._ensure_clean(account.pool_index)
        headers = {k: v for k, v in request.headers.items() if k not in _NOT_FORWARDED}
        if "x-ms-copy-source" in headers:
            headers["x-ms-copy-source"] = await self._copy_source(request, account, caller)
        new_only = operation.creates and operation.name != "PutBlock" and caller.must_create
        if new_only and await self._exists(account.pool_index, target):
            raise errors.permission_mismatch()
        deleting = await self._before_delete(operation, account, target, query)
        url = self.names.upstream(account.pool_index, target.secondary, target.rest, forwarded_query(items))
        streamed = request.method in ("PUT", "POST") and headers.get("content-length") != "0"
        content = body.chunks() if streamed else None
        upstream = self._signed(request.method, url, account.pool_index, headers, content)
        response = await self.client.send(upstream, stream=True)
        try:
            await self._relay(
                response, send, request, operation=operation, caller=caller, account=account, deleting=deleting
            )
        finally:
            await response.aclose()

    async def _before_delete(
        self, operation: Operation, account: _Account, target: Target, query: Mapping[str, str]
    ) -> tuple[str, str] | None:
        """For a Delete Blob of the blob itself that someone listens to: its content type and blob type."""
        if operation.name != "DeleteBlob" or not self.hooks.wants_deletes or target.secondary:
            return None
        if "snapshot" in query or "versionid" in query:
            return None
        found = await self._call("HEAD", account.pool_index, target.rest, "")
        if found.status_code != 200:
            return None
        return (
            found.headers.get("content-type", "application/octet-stream"),
            found.headers.get("x-ms-blob-type", "BlockBlob"),
        )

    async def _copy_source(self, request: BlobRequest, destination: _Account, caller: Caller) -> str:
        """Authorize a copy source on the proxy (as Azure authorizes the source) and point it at Azurite."""
        source = request.headers["x-ms-copy-source"]
        parts = urlsplit(source)
        if not self._is_proxy(parts.hostname, parts.port):
            return source  # another service: Azurite fails it as unreachable, as Azure would
        not_found = StorageError(404, "CannotVerifyCopySource", "The specified resource does not exist.")
        target = parse_target(parts.path)
        account = self._account(target.account) if target is not None else None
        if target is None or account is None or target.container is None or target.blob is None:
            raise not_found
        query = {name.lower(): value for name, value, _ in reversed(split_query(parts.query))}
        if sas.is_sas(query):
            auth_input = AuthInput("GET", parts.path, target, {}, [], query, None)
            try:
                grant = authenticate(auth_input, account.name, account.keys, self._secret, utc_now())
                authorize(grant, _READ_SOURCE, target)
            except StorageError as err:
                raise StorageError(err.status, "CannotVerifyCopySource", err.message, err.details) from err
        elif request.headers.get("x-ms-copy-source-authorization", "").lower().startswith("bearer "):
            pass
        elif account.name != destination.name or caller.scheme == "sas":
            raise not_found  # a private blob without credentials reads as absent
        await self._ensure_clean(account.pool_index)
        return self.names.copy_source(account.pool_index, target.container, target.blob, target.rest, parts.query)

    def _is_proxy(self, host: str | None, port: int | None) -> bool:
        ours = urlsplit(self.store.settings.blob_endpoint)
        return host in _LOCAL_HOSTS and port == ours.port

    # Azurite --------------------------------------------------------------------------------------

    def _signed(
        self,
        method: str,
        url: str,
        index: int,
        headers: dict[str, str],
        content: AsyncIterator[bytes] | None = None,
    ) -> httpx.Request:
        """A request to Azurite signed with Shared Key of pool account ``index``."""
        name, key = pool_account(index)
        headers = {**headers, "x-ms-date": errors.http_date()}
        headers.setdefault("x-ms-version", "2025-11-05")
        headers.pop("date", None)
        parts = urlsplit(url)
        pairs = [(n, v) for n, v, _ in split_query(parts.query)]
        text = string_to_sign(method, headers, name, parts.path, pairs)
        headers["authorization"] = f"SharedKey {name}:{signature(key, text)}"
        return self.client.build_request(method, url, headers=headers, content=content)

    async def _call(self, method: str, index: int, rest: str, query: str) -> httpx.Response:
        request = self._signed(method, self.names.upstream(index, False, rest, query), index, {})
        return await self.client.send(request)

    async def _exists(self, index: int, target: Target) -> bool:
        return (await self._call("HEAD", index, target.rest, "")).status_code == 200

    async def _ensure_clean(self, index: int) -> None:
        """Empty pool account ``index`` once after it was handed out (it may hold an earlier holder's data)."""
        with self.store.lock:
            if not self.store.blob_pool.needs_purge(index):
                return
        async with self._purges.setdefault(index, asyncio.Lock()):
            with self.store.lock:
                if not self.store.blob_pool.needs_purge(index):
                    return
            marker = ""
            while True:
                listing = await self._call("GET", index, "/", "comp=list" + (f"&marker={marker}" if marker else ""))
                text = listing.text
                for name in tag_values(text, "Name"):
                    await self._call("DELETE", index, f"/{name}", "restype=container")
                next_markers = tag_values(text, "NextMarker")
                marker = next_markers[0] if next_markers else ""
                if not marker:
                    break
            with self.store.lock:
                self.store.blob_pool.mark_clean(index)
            log.info("blob pool account %s emptied for its new holder", pool_account(index)[0])

    # The answer -----------------------------------------------------------------------------------

    async def _relay(
        self,
        response: httpx.Response,
        send: Send,
        request: BlobRequest,
        *,
        operation: Operation,
        caller: Caller,
        account: _Account,
        deleting: tuple[str, str] | None = None,
    ) -> None:
        target = parse_target(request.raw_path)
        assert target is not None
        headers: dict[str, str] = {}
        for name, value in response.headers.multi_items():
            lower = name.lower()
            if lower in _HOP_BY_HOP or lower == "server":
                continue
            headers[lower] = self.names.to_client(value) if lower == "x-ms-copy-source" else value
        headers["server"] = SERVER
        if "x-ms-version" in request.headers:
            headers["x-ms-version"] = request.headers["x-ms-version"]
        ok = response.status_code < 300
        if ok and caller.grant is not None and request.method in ("GET", "HEAD"):
            headers.update(caller.grant.overrides)
        translate = response.status_code >= 400 or operation.level != "blob" or operation.kind == "list"
        if translate and request.method != "HEAD":
            body = self.names.body_to_client(await response.aread())
            headers["content-length"] = str(len(body))
            await send({"type": "http.response.start", "status": response.status_code, "headers": raw_headers(headers)})
            await send({"type": "http.response.body", "body": body, "more_body": False})
        else:
            await send({"type": "http.response.start", "status": response.status_code, "headers": raw_headers(headers)})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        committed = operation.name != "CopyBlob" or headers.get("x-ms-copy-status") == "success"
        if ok and committed and operation.name in _COMMITS:
            self._announce(operation, target, account, headers, request.headers)
        if ok and deleting is not None:
            assert target.container is not None and target.blob is not None
            content_type, blob_type = deleting
            self.hooks.announce(
                BlobDeleted(
                    account=account.name,
                    container=target.container,
                    blob=target.blob,
                    url=self._url(account, target),
                    content_type=content_type,
                    blob_type=blob_type,
                    request_id=headers.get("x-ms-request-id", ""),
                    client_request_id=headers.get("x-ms-client-request-id", ""),
                )
            )

    def _announce(
        self,
        operation: Operation,
        target: Target,
        account: _Account,
        headers: dict[str, str],
        sent: Mapping[str, str],
    ) -> None:
        """Announce a committed write (``headers``: the answer's, ``sent``: the request's)."""
        assert target.container is not None and target.blob is not None
        length = sent.get("content-length") if operation.name == "PutBlob" else None
        content_type = sent.get("x-ms-blob-content-type") or (sent.get("content-type") if length else None)
        self.hooks.announce(
            BlobCommitted(
                account=account.name,
                container=target.container,
                blob=target.blob,
                api=operation.name,
                url=self._url(account, target),
                etag=headers.get("etag"),
                content_length=int(length) if length and length.isdigit() else None,
                content_type=content_type or "application/octet-stream",
                request_id=headers.get("x-ms-request-id", ""),
                client_request_id=headers.get("x-ms-client-request-id", ""),
            )
        )

    def _url(self, account: _Account, target: Target) -> str:
        """The blob's URL on the proxy, as the client addressed it."""
        return f"{self.store.settings.blob_endpoint.rstrip('/')}/{account.name}{target.rest}"

    async def _send_xml(self, send: Send, request: BlobRequest, request_id: str, body: bytes) -> None:
        headers = {
            "content-type": "application/xml",
            "content-length": str(len(body)),
            "server": SERVER,
            "x-ms-request-id": request_id,
            "date": errors.http_date(),
        }
        if "x-ms-version" in request.headers:
            headers["x-ms-version"] = request.headers["x-ms-version"]
        await send({"type": "http.response.start", "status": 200, "headers": raw_headers(headers)})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
