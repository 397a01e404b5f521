"""One blob storage account per replication region (``replication_count`` of them), SKU and hierarchical
namespace per region.

Azure's rules on what may change (shared/reference/arm-behavior.md section 2.3): the SKU may move between
types unless the old or new one is Standard_ZRS, Premium_LRS or Premium_ZRS ("the SKU name cannot be
updated to Standard_ZRS, Premium_LRS or Premium_ZRS, nor can accounts of those SKU names be updated to any
other value"), and ``isHnsEnabled`` cannot be updated at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.kinds.base import KindBase
from shared.domain.naming import storage_account_name
from shared.domain.resources import SUCCEEDED, Observed, ObservedStorage, Part, storage_tags
from shared.domain.work import Action, Context, Difference, ResourceRef, ResourceType, Subject, Verb, tag_difference

FROZEN_SKUS = frozenset({"Standard_ZRS", "Premium_LRS", "Premium_ZRS"})


def sku_change_allowed(old: str, new: str) -> bool:
    """Whether Azure lets a storage account move from SKU ``old`` to ``new`` in place."""
    return old == new or (old not in FROZEN_SKUS and new not in FROZEN_SKUS)


@dataclass(frozen=True)
class WantStorage:
    sku: str
    hns: bool
    tags: dict[str, str]
    field: str  # the spec field of its storage_config, for refusals


class StorageKind(KindBase):
    name = "storage"
    noun = "storage account"
    reads = frozenset({Part.STORAGE})
    teardown_after: tuple[str, ...] = ("system_topic",)  # its Event Grid topic first

    def desired(self, ctx: Context) -> Mapping[Subject, WantStorage]:
        spec = ctx.desired_spec
        wants: dict[Subject, WantStorage] = {}
        for i, entry in enumerate(spec.replication_locations):
            config = entry.storage
            for index in range(config.replication_count):
                wants[Subject(entry.location, index)] = WantStorage(
                    sku=config.storage_account_type.value,
                    hns=config.storage_account_hns,
                    tags=storage_tags(spec.name, spec.tags, entry.location, index),
                    field=f"replication_locations[{i}].storage_config",
                )
        return wants

    def actual(self, ctx: Context) -> Mapping[Subject, ObservedStorage]:
        return {Subject(a.region, a.index): a for a in ctx.observed.storage}

    def needs(self, want: WantStorage, have: ObservedStorage) -> list[Difference]:
        found: list[Difference] = []
        if have.sku != want.sku:
            found.append(Difference("sku", want.sku, have.sku))
        if have.hns != want.hns:
            found.append(Difference("hns", str(want.hns), str(have.hns)))
        return found + tag_difference(want.tags, have.tags)

    def blocked(self, ctx: Context) -> str | None:
        group = ctx.observed.group
        if group is None:
            return "resource group missing"
        return None if group.state == SUCCEEDED else f"resource group {group.state}"

    def check(self, ctx: Context) -> list[tuple[str, str, str]]:
        refusals: list[tuple[str, str, str]] = []
        haves = self.actual(ctx)
        for subject, want in self.desired(ctx).items():
            account = haves.get(subject)
            if account is None:
                continue
            if account.hns != want.hns:
                refusals.append(
                    (
                        "StorageChangeNotAllowed",
                        f"{want.field}.storage_account_hns",
                        f"{want.field}.storage_account_hns: storage account {account.name} has hierarchical namespace "
                        f"{'on' if account.hns else 'off'}; Azure cannot change it in place",
                    )
                )
            if not sku_change_allowed(account.sku, want.sku):
                refusals.append(
                    (
                        "StorageChangeNotAllowed",
                        f"{want.field}.storage_account_type",
                        f"{want.field}.storage_account_type: storage account {account.name} is {account.sku}; "
                        f"Azure cannot convert it to {want.sku} (no moves to or from {', '.join(sorted(FROZEN_SKUS))})",
                    )
                )
        return refusals

    def create(self, subject: Subject, want: WantStorage, have: ObservedStorage | None, ctx: Context) -> Action:
        spec = ctx.desired_spec
        name = have.name if have else storage_account_name(spec.key, subject.region, subject.index, ctx.name_attempt)
        body = {
            "location": subject.region,
            "kind": "StorageV2",
            "sku": {"name": want.sku},
            "tags": want.tags,
            "properties": {
                "isHnsEnabled": want.hns,
                "supportsHttpsTrafficOnly": True,
                "minimumTlsVersion": "TLS1_2",
                "allowBlobPublicAccess": False,
            },
        }
        return Action(Verb.CREATE, ResourceRef(ResourceType.STORAGE, ctx.group, name), body)

    def update(self, want: WantStorage, have: ObservedStorage, ctx: Context) -> Action:
        body = {"sku": {"name": want.sku}, "tags": want.tags}
        return Action(Verb.UPDATE, ResourceRef(ResourceType.STORAGE, ctx.group, have.name), body)

    def delete(self, have: ObservedStorage, ctx: Context) -> Action:
        return Action(Verb.DELETE, ResourceRef(ResourceType.STORAGE, ctx.group, have.name))

    def label(self, subject: Subject) -> str:
        return f"storage {subject.region}[{subject.index}]"

    def summary(self, observed: Observed) -> Mapping[str, Any]:
        accounts = sorted(observed.storage, key=lambda s: (s.region, s.index))
        return {
            "storage_accounts": [
                {
                    "name": s.name,
                    "region": s.region,
                    "index": s.index,
                    "sku": s.sku,
                    "hns": s.hns,
                    "state": s.state,
                    "blob_endpoint": s.blob_endpoint,
                }
                for s in accounts
            ]
        }


KIND = StorageKind()
