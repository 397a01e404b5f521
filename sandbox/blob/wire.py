"""The ASGI side of the blob proxy: the request as received, its body (read once), raw headers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class ClientGoneError(Exception):
    """The client disconnected while its request body was being read."""


@dataclass
class BlobRequest:
    method: str
    raw_path: str
    query_string: str
    headers: dict[str, str]
    client_ip: str | None

    @classmethod
    def from_scope(cls, scope: Scope) -> BlobRequest:
        headers: dict[str, str] = {}
        for key, value in scope["headers"]:
            name, text = key.decode("latin-1").lower(), value.decode("latin-1")
            headers[name] = f"{headers[name]},{text}" if name in headers else text
        raw = scope.get("raw_path")
        raw_path = raw.decode("latin-1").split("?", 1)[0] if raw else scope["path"]
        client = scope.get("client")
        return cls(
            scope["method"].upper(),
            raw_path,
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            client[0] if client else None,
        )


class RequestBody:
    """The request body, read at most once (streamed to Azurite, read whole, or drained)."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._done = False

    async def chunks(self) -> AsyncIterator[bytes]:
        while not self._done:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                raise ClientGoneError
            chunk = message.get("body", b"")
            self._done = not message.get("more_body", False)
            if chunk:
                yield chunk

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])


def raw_headers(headers: dict[str, str] | list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    pairs = headers.items() if isinstance(headers, dict) else headers
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


def tag_values(xml: str, tag: str) -> list[str]:
    """Values of ``<tag>…</tag>`` in a List Containers answer (names are plain text there)."""
    values, start = [], 0
    opening, closing = f"<{tag}>", f"</{tag}>"
    while (begin := xml.find(opening, start)) != -1:
        end = xml.find(closing, begin)
        values.append(xml[begin + len(opening) : end])
        start = end
    return values
