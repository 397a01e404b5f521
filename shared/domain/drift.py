"""Drift, field by field (pure): where what ARM shows differs from the spec.

Reported in ``GET /api/registries/{name}`` after every reconcile, whatever the reconcile policy; under the
``observe`` policy it is the only thing a reconcile does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from shared.domain.resources import Observed, registry_tags, storage_tags
from shared.domain.spec import RegistrySpec


@dataclass(frozen=True)
class DriftItem:
    resource: str  # e.g. "storage westus[0]", "replica eastus2", "container registry"
    field: str  # e.g. "sku", "tags", "exists"
    desired: str
    actual: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _tags_text(tags: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def drift(spec: RegistrySpec, observed: Observed) -> list[DriftItem]:
    items: list[DriftItem] = []
    group_tags = registry_tags(spec.name, spec.tags)
    if observed.group is None:
        items.append(DriftItem("resource group", "exists", "present", "missing"))
    elif observed.group.tags != group_tags:
        items.append(DriftItem("resource group", "tags", _tags_text(group_tags), _tags_text(observed.group.tags)))
    wanted: set[tuple[str, int]] = set()
    for entry in spec.replication_locations:
        config = entry.storage
        for index in range(config.replication_count):
            wanted.add((entry.location, index))
            label = f"storage {entry.location}[{index}]"
            account = observed.storage_at(entry.location, index)
            if account is None:
                items.append(DriftItem(label, "exists", "present", "missing"))
                continue
            if account.sku != config.storage_account_type:
                items.append(DriftItem(label, "sku", config.storage_account_type.value, account.sku))
            if account.hns != config.storage_account_hns:
                items.append(DriftItem(label, "hns", str(config.storage_account_hns), str(account.hns)))
            tags = storage_tags(spec.name, spec.tags, entry.location, index)
            if account.tags != tags:
                items.append(DriftItem(label, "tags", _tags_text(tags), _tags_text(account.tags)))
    items.extend(
        DriftItem(f"storage {a.region}[{a.index}]", "exists", "absent", "present")
        for a in observed.storage
        if (a.region, a.index) not in wanted
    )
    acr = observed.acr
    if acr is None:
        items.append(DriftItem("container registry", "exists", "present", "missing"))
    else:
        if acr.sku != "Premium":
            items.append(DriftItem("container registry", "sku", "Premium", acr.sku))
        if acr.tags != group_tags:
            items.append(DriftItem("container registry", "tags", _tags_text(group_tags), _tags_text(acr.tags)))
    others = [r for r in spec.regions if r != spec.location]
    items.extend(
        DriftItem(f"replica {region}", "exists", "present", "missing")
        for region in others
        if observed.replica_in(region) is None
    )
    items.extend(
        DriftItem(f"replica {r.location}", "exists", "absent", "present")
        for r in observed.replicas
        if r.location != spec.location and r.location not in others
    )
    return items
