"""What an update may change (pure): name and primary region never; storage only as Azure allows.

Checked against the stored spec before anything is stored, so a forbidden update answers 409 naming the
field and changes nothing. Planning re-checks the same storage rules against ARM (drift made by hand).
"""

from __future__ import annotations

from typing import Any

from shared.domain.errors import Conflict
from shared.domain.plan import FROZEN_SKUS, sku_change_allowed
from shared.domain.spec import RegistrySpec


def check_update(current: RegistrySpec, new: RegistrySpec) -> None:
    """Raise ``Conflict`` (``NameImmutable``, ``PrimaryLocationImmutable``, ``StorageChangeNotAllowed``)."""
    if new.key != current.key:
        raise Conflict(
            f'the name is immutable: "{new.name}" does not name registry "{current.name}"', code="NameImmutable"
        )
    if new.location != current.location:
        raise Conflict(
            f'the primary region is immutable: registry "{current.name}" is in "{current.location}", '
            f'the update asks for "{new.location}"',
            code="PrimaryLocationImmutable",
        )
    before = {entry.location: entry.storage for entry in current.replication_locations}
    for i, entry in enumerate(new.replication_locations):
        old = before.get(entry.location)
        if old is None:
            continue
        path = f"replication_locations[{i}].storage_config"
        if old.storage_account_hns != entry.storage.storage_account_hns:
            raise Conflict(
                f"{path}.storage_account_hns: the hierarchical namespace of {entry.location}'s storage cannot "
                "change after creation; remove the region and add it again to rebuild its storage",
                code="StorageChangeNotAllowed",
            )
        if not sku_change_allowed(old.storage_account_type, entry.storage.storage_account_type):
            raise Conflict(
                f"{path}.storage_account_type: Azure cannot convert {old.storage_account_type} to "
                f"{entry.storage.storage_account_type} in place (no moves to or from "
                f"{', '.join(sorted(FROZEN_SKUS))})",
                code="StorageChangeNotAllowed",
            )


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge key by key, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
