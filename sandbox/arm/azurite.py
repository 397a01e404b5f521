"""The Azurite accounts behind the simulated storage accounts, and the pool that hands them out.

Azurite learns its accounts only from ``AZURITE_ACCOUNTS`` when it starts, while the simulator creates
storage accounts at any time. So Azurite starts with a pool of accounts (``sbxpool000`` …, each with a
key derived from its name) and every simulated storage account is given one of them when it is created,
for as long as it exists (``BlobPool``). Clients never see these names: the account's
``primaryEndpoints.blob`` is the simulator's blob proxy (``sandbox/blob``), which translates the
simulated name to the pool account and re-signs the request toward Azurite. A pool account handed out
again is emptied first (the proxy purges it on first use), and so is every one after a restart of the
simulator, whose state lives in memory only. Start Azurite with ``AZURITE_ACCOUNTS=accounts_env(size)``.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
from urllib.parse import urlsplit

#: Azurite's built-in account and its well-known key (public, documented by Azurite).
DEFAULT_ACCOUNT = "devstoreaccount1"
DEFAULT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

#: Pool accounts Azurite declares by default: storage accounts that may exist at once. bench.burst makes
#: 100 registries of 5 regions (500 accounts); ``AZURITE_ACCOUNTS`` then holds about 65 KB, under Linux's
#: 128 KiB limit on one environment string.
DEFAULT_POOL_SIZE = 640
_PREFIX = "sbxpool"

#: What Azurite appends to an account name to address its read-only secondary (RA-GRS): "access the
#: secondary location by appending -secondary to the account name" (Microsoft Learn, "Use the Azurite
#: emulator", RA-GRS).
SECONDARY_SUFFIX = "-secondary"


def pool_account(index: int) -> tuple[str, str]:
    """``(name, key)`` of pool account ``index``: a valid account name and a 64-byte key, derived."""
    name = f"{_PREFIX}{index:03d}"
    digest = hashlib.sha512(f"regctl-sandbox-azurite:{name}".encode()).digest()
    return name, base64.b64encode(digest).decode("ascii")


def pool_index(name: str) -> int | None:
    """The index of a pool account name, or ``None`` for any other name."""
    if not name.startswith(_PREFIX) or not name[len(_PREFIX) :].isdigit():
        return None
    return int(name[len(_PREFIX) :])


def accounts_env(pool_size: int = DEFAULT_POOL_SIZE) -> str:
    """The ``AZURITE_ACCOUNTS`` value (``name:key;name2:key2``): Azurite's default plus the pool."""
    pairs = [f"{DEFAULT_ACCOUNT}:{DEFAULT_KEY}"]
    pairs += [":".join(pool_account(index)) for index in range(pool_size)]
    return ";".join(pairs)


def service_endpoint(blob_base: str, account: str, port_offset: int, *, secondary: bool = False) -> str:
    """Azurite's queue (offset 1) or table (offset 2) endpoint of ``account``, next to its blob port.

    Azurite listens on 10000 (blob), 10001 (queue) and 10002 (table); a blob endpoint without an
    explicit port is reused as is. ``secondary`` addresses the read-only secondary.
    """
    parsed = urlsplit(blob_base.rstrip("/"))
    netloc = parsed.netloc
    if parsed.port is not None and parsed.hostname is not None:
        host = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
        netloc = f"{host}:{parsed.port + port_offset}"
    suffix = SECONDARY_SUFFIX if secondary else ""
    return f"{parsed.scheme}://{netloc}{parsed.path}/{account}{suffix}/"


class PoolExhaustedError(Exception):
    """Every pool account is taken by a storage account."""


class BlobPool:
    """Which pool account each simulated storage account holds (guarded by the store lock).

    ``needs_purge`` is true for a pool account until the proxy emptied it since it was last handed out;
    at start nothing is known to be empty (Azurite may keep data of an earlier run on disk).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.reset()

    def reset(self) -> None:
        """Every pool account free and of unknown content."""
        self._free = list(range(self.size))
        self._held: dict[str, int] = {}
        self._holders: dict[int, str] = {}
        self._clean: set[int] = set()

    def assign(self, account: str) -> int:
        """The pool index held by ``account`` (lowercased name), taking the lowest free one."""
        key = account.lower()
        if key in self._held:
            return self._held[key]
        if not self._free:
            raise PoolExhaustedError(f"all {self.size} Azurite pool accounts are in use")
        index = heapq.heappop(self._free)
        self._held[key] = index
        self._holders[index] = key
        return index

    def release(self, account: str) -> None:
        index = self._held.pop(account.lower(), None)
        if index is not None:
            del self._holders[index]
            self._clean.discard(index)
            heapq.heappush(self._free, index)

    def index_of(self, account: str) -> int | None:
        return self._held.get(account.lower())

    def holder_of(self, index: int) -> str | None:
        """The (lowercased) storage account holding pool account ``index``, if any."""
        return self._holders.get(index)

    def needs_purge(self, index: int) -> bool:
        return index not in self._clean

    def mark_clean(self, index: int) -> None:
        """Called by the proxy once it emptied ``index``; ignored if it changed hands meanwhile."""
        if index in self._holders:
            self._clean.add(index)
