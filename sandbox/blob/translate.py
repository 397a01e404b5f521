"""Names between the simulated accounts (what clients see) and Azurite's pool accounts (what it stores).

Toward Azurite: the account segment becomes the pool account, SAS parameters leave the query (the proxy
re-signs with Shared Key), and a copy source on the proxy becomes the pool account's Azurite URL with a
read SAS Azurite accepts. Back to the client: any Azurite URL of a pool account, in headers
(``x-ms-copy-source``) or XML bodies (List Blobs' ``ServiceEndpoint``, ``CopySource``), becomes the
proxy URL of the account holding it, without Azurite's SAS.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from azure.storage.blob import generate_blob_sas

from sandbox.arm.azurite import SECONDARY_SUFFIX, pool_account, pool_index
from sandbox.blob.sas import SAS_PARAMETERS

#: How long the read SAS of a rewritten copy source is valid (Azurite reads the source at once).
_COPY_SAS_LIFETIME = timedelta(hours=1)


def split_query(query_string: str) -> list[tuple[str, str, str]]:
    """``(name, decoded value, raw item)`` for each ``name=value`` of a raw query string."""
    items = []
    for raw in query_string.split("&"):
        if not raw:
            continue
        name, _, value = raw.partition("=")
        items.append((unquote(name), unquote(value), raw))
    return items


def forwarded_query(items: list[tuple[str, str, str]]) -> str:
    """The raw query without SAS parameters."""
    return "&".join(raw for name, _, raw in items if name.lower() not in SAS_PARAMETERS)


class Names:
    """Translates URLs between the proxy's simulated accounts and Azurite's pool accounts."""

    def __init__(self, azurite_base: str, proxy_base: Callable[[], str], holder: Callable[[int], str | None]) -> None:
        self.azurite_base = azurite_base.rstrip("/")
        self._proxy_base = proxy_base
        self._holder = holder
        self._azurite_url = re.compile(re.escape(self.azurite_base) + r"/[^\s<>\"']*")

    def upstream(self, index: int, secondary: bool, rest: str, query: str) -> str:
        name, _ = pool_account(index)
        suffix = SECONDARY_SUFFIX if secondary else ""
        return f"{self.azurite_base}/{name}{suffix}{rest}" + (f"?{query}" if query else "")

    def copy_source(self, index: int, container: str, blob: str, rest: str, query: str) -> str:
        """The Azurite URL of a proxy copy source, with a one-hour read SAS of its pool account."""
        name, key = pool_account(index)
        sas = generate_blob_sas(
            name, container, blob, account_key=key, permission="r", expiry=datetime.now(UTC) + _COPY_SAS_LIFETIME
        )
        kept = forwarded_query(split_query(query))
        return f"{self.azurite_base}/{name}{rest}?{sas}" + (f"&{kept}" if kept else "")

    def to_client(self, url: str) -> str:
        """An Azurite URL as the client must see it (unchanged when it is not a held pool account's)."""
        if not url.startswith(self.azurite_base + "/"):
            return url
        parts = urlsplit(url)
        account_segment, _, rest = parts.path.lstrip("/").partition("/")
        secondary = account_segment.endswith(SECONDARY_SUFFIX)
        index = pool_index(account_segment.removesuffix(SECONDARY_SUFFIX))
        holder = self._holder(index) if index is not None else None
        if holder is None:
            return url
        query = forwarded_query(split_query(parts.query))
        suffix = SECONDARY_SUFFIX if secondary else ""
        return f"{self._proxy_base()}/{holder}{suffix}/{rest}" + (f"?{query}" if query else "")

    def body_to_client(self, body: bytes) -> bytes:
        """Every Azurite URL in an XML body, translated (XML-escaped as it was)."""
        text = body.decode("utf-8")
        if self.azurite_base not in text:
            return body
        return self._azurite_url.sub(
            lambda m: html.escape(self.to_client(html.unescape(m.group(0))), quote=False), text
        ).encode("utf-8")
