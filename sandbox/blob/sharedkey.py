"""Shared Key authorization of Blob Storage ("Authorize with Shared Key", Microsoft Learn).

``string_to_sign`` builds the documented string for versions 2009-09-19 and later: the verb, eleven
standard headers (``Content-Length`` empty when 0, as from version 2015-02-21), the ``x-ms-*`` headers
lowercased and sorted, and the canonicalized resource: ``/{account}{encoded path}`` then each query
parameter lowercased and sorted, ``\\nname:value[,value]`` with decoded values. For path-style (IP)
endpoints the path itself begins with the account, so it appears twice, as the docs say for the emulator.
The proxy uses it both to check a client's signature and to sign what it sends to Azurite.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping

_STANDARD_HEADERS = (
    "content-encoding",
    "content-language",
    "content-length",
    "content-md5",
    "content-type",
    "date",
    "if-modified-since",
    "if-match",
    "if-none-match",
    "if-unmodified-since",
    "range",
)


def canonicalized_resource(account: str, raw_path: str, query: Iterable[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {}
    for name, value in query:
        grouped.setdefault(name.lower(), []).append(value)
    resource = f"/{account}{raw_path or '/'}"
    for name in sorted(grouped):
        resource += f"\n{name}:{','.join(sorted(grouped[name]))}"
    return resource


def string_to_sign(
    method: str, headers: Mapping[str, str], account: str, raw_path: str, query: Iterable[tuple[str, str]]
) -> str:
    """``headers`` with lowercase names; ``query`` as decoded ``(name, value)`` pairs."""
    standard = []
    for name in _STANDARD_HEADERS:
        value = headers.get(name, "")
        if name == "content-length" and value == "0":
            value = ""
        standard.append(value)
    ms_headers = sorted((name, value.strip()) for name, value in headers.items() if name.startswith("x-ms-"))
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in ms_headers)
    return (
        method.upper()
        + "\n"
        + "\n".join(standard)
        + "\n"
        + canonical_headers
        + canonicalized_resource(account, raw_path, query)
    )


def signature(key: str, text: str) -> str:
    """Base64 HMAC-SHA256 of ``text`` with the base64 account ``key``."""
    digest = hmac.new(base64.b64decode(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def matches_any(given: str, keys: Iterable[str], text: str) -> bool:
    return any(hmac.compare_digest(given, signature(key, text)) for key in keys)
