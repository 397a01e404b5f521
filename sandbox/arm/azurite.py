"""Azurite blob accounts that stand in for the simulated storage accounts' data plane.

One Azurite account per region: every storage account the simulator creates in a region gets that
region's Azurite account as ``primaryEndpoints.blob`` and its key from ``listKeys``. Registries keep
their assets in containers of their own, so sharing an account per region is enough. Start Azurite
with ``AZURITE_ACCOUNTS=accounts_env(regions)`` so it knows the accounts.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from urllib.parse import urlsplit

#: Azurite's built-in account and its well-known key (public, documented by Azurite).
DEFAULT_ACCOUNT = "devstoreaccount1"
DEFAULT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

_PREFIX = "sbx"
_MAX_NAME = 24


def account_for_region(region: str) -> tuple[str, str]:
    """``(account_name, account_key)`` for ``region``: deterministic, valid for Azurite and Azure.

    The name is ``sbx`` + the region name (lowercase letters and digits, at most 24 characters); the
    key is 64 bytes derived from the region, base64-encoded like a real account key (88 characters).
    """
    cleaned = "".join(ch for ch in region.lower() if ch.isascii() and ch.isalnum())
    if not cleaned:
        raise ValueError(f"not a region name: {region!r}")
    name = (_PREFIX + cleaned)[:_MAX_NAME]
    digest = hashlib.sha512(f"regctl-sandbox-azurite:{cleaned}".encode()).digest()
    return name, base64.b64encode(digest).decode("ascii")


def accounts_env(regions: Iterable[str]) -> str:
    """The ``AZURITE_ACCOUNTS`` value (``name:key;name2:key2``) for ``regions``, plus Azurite's default."""
    pairs: dict[str, str] = {DEFAULT_ACCOUNT: DEFAULT_KEY}
    for region in regions:
        name, key = account_for_region(region)
        pairs[name] = key
    return ";".join(f"{name}:{key}" for name, key in pairs.items())


#: What Azurite appends to an account name to address its read-only secondary (RA-GRS): "access the
#: secondary location by appending -secondary to the account name" (Microsoft Learn, "Use the Azurite
#: emulator", RA-GRS).
SECONDARY_SUFFIX = "-secondary"


def blob_endpoint(base: str, region: str, *, secondary: bool = False) -> str:
    """``primaryEndpoints.blob`` for an account in ``region``: Azurite's path-style URL.

    ``secondary`` gives the read-only secondary (``secondaryEndpoints.blob`` of an RA-GRS account).
    """
    name, _ = account_for_region(region)
    suffix = SECONDARY_SUFFIX if secondary else ""
    return f"{base.rstrip('/')}/{name}{suffix}/"


def service_endpoint(blob_base: str, region: str, port_offset: int, *, secondary: bool = False) -> str:
    """Queue (offset 1) or table (offset 2) endpoint next to the blob one, as Azurite lays them out.

    Azurite listens on 10000 (blob), 10001 (queue) and 10002 (table); a blob endpoint without an
    explicit port is reused as is. ``secondary`` addresses the read-only secondary.
    """
    parsed = urlsplit(blob_base.rstrip("/"))
    netloc = parsed.netloc
    if parsed.port is not None and parsed.hostname is not None:
        host = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
        netloc = f"{host}:{parsed.port + port_offset}"
    name, _ = account_for_region(region)
    suffix = SECONDARY_SUFFIX if secondary else ""
    return f"{parsed.scheme}://{netloc}{parsed.path}/{name}{suffix}/"
