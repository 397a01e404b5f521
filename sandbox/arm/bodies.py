"""Merging JSON objects the way ARM does: defaults under what was sent, and PATCH as JSON merge-patch.

Response bodies are built from the properties a client sent (kept as sent) laid over the values Azure
fills in itself; both are nested objects (``networkAcls``, ``encryption.services``, ``policies``), so a
client that sends part of one still reads the whole of it back, as from Azure.
"""

from __future__ import annotations

import copy
from typing import Any


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """A new object: ``base`` with ``over`` laid on top, objects merged key by key, anything else replaced.

    Neither argument is modified; values are copied, so callers may change the result freely.
    """
    merged = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merge_patch(target: dict[str, Any], patch: dict[str, Any]) -> None:
    """Apply ``patch`` to ``target`` in place (RFC 7396): ``null`` removes, objects merge, the rest replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            current = target.get(key)
            if not isinstance(current, dict):
                current = {}
                target[key] = current
            merge_patch(current, value)
        else:
            target[key] = copy.deepcopy(value)


def without_nulls(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``obj`` without ``null`` members, at every depth (what a PUT body means by them)."""
    return {k: without_nulls(v) if isinstance(v, dict) else copy.deepcopy(v) for k, v in obj.items() if v is not None}
