"""Deterministic Azure resource names for a registry (pure).

- Resource group: ``{prefix}{registry name in lowercase}``, so people find it by the registry's name.
- Storage account (3-24 lowercase letters and digits, globally unique in Azure), one per region and index:
  ``{readable}{registry hash}{region code}{index}{attempt}`` where
  * ``readable`` is up to 6 leading letters/digits of the lowercased registry name (for people),
  * ``registry hash`` is 8 base-36 characters of SHA-256 over the lowercased registry name,
  * ``region code`` is 3 base-36 characters of SHA-256 over the region (unique over the catalog; a unit
    test checks it),
  * ``index`` is one base-36 character (``replication_count`` is at most 10),
  * ``attempt`` is one base-36 character: ``0`` first; when Azure answers that the name is taken by
    someone else, the step moves to attempt ``1``, ``2``, ... up to ``z`` (36 names), then fails.
- Container registry (5-50 letters and digits, globally unique): ``{readable}{registry hash}{attempt}``
  with up to 40 readable characters, the same hash and the same attempt sequence.
- Event subscription of a registry on an external source's system topic (3-64 letters, digits and hyphens,
  unique per topic): ``regctl-{readable}-{registry hash}`` with up to 24 readable characters.
"""

from __future__ import annotations

import hashlib
import re

BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
MAX_NAME_ATTEMPTS = len(BASE36)
DEFAULT_RESOURCE_GROUP_PREFIX = "regctl-"

_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def _base36(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    out = []
    for _ in range(length):
        number, digit = divmod(number, 36)
        out.append(BASE36[digit])
    return "".join(out)


def _hash36(text: str, length: int) -> str:
    return _base36(hashlib.sha256(text.encode("utf-8")).digest(), length)


def _readable(registry: str, length: int) -> str:
    return _NOT_ALNUM.sub("", registry.lower())[:length]


def registry_hash(registry: str) -> str:
    return _hash36("registry:" + registry.lower(), 8)


def region_code(region: str) -> str:
    return _hash36("region:" + region.lower(), 3)


def _attempt_char(attempt: int) -> str:
    if not 0 <= attempt < MAX_NAME_ATTEMPTS:
        raise ValueError(f"attempt must be in [0, {MAX_NAME_ATTEMPTS}), got {attempt}")
    return BASE36[attempt]


def resource_group_name(registry: str, prefix: str = DEFAULT_RESOURCE_GROUP_PREFIX) -> str:
    """The registry's resource group: the prefix and the registry name in lowercase (at most 90 chars)."""
    return f"{prefix}{registry.lower()}"


def storage_account_name(registry: str, region: str, index: int, attempt: int = 0) -> str:
    """The storage account for ``(region, index)``; ``attempt`` walks the fallback sequence."""
    if not 0 <= index < len(BASE36):
        raise ValueError(f"index must be in [0, 36), got {index}")
    return (
        _readable(registry, 6) + registry_hash(registry) + region_code(region) + BASE36[index] + _attempt_char(attempt)
    )


def container_registry_name(registry: str, attempt: int = 0) -> str:
    """The registry's Premium ACR; ``attempt`` walks the fallback sequence."""
    return _readable(registry, 40) + registry_hash(registry) + _attempt_char(attempt)


def source_subscription_name(registry: str) -> str:
    """The registry's event subscription on the system topic of a source its promotion rules watch."""
    return f"regctl-{_readable(registry, 24)}-{registry_hash(registry)}"


def storage_name_attempt(name: str) -> int:
    """Which attempt of the sequence produced ``name`` (its last character)."""
    return BASE36.index(name[-1])
