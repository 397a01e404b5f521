"""Planning (pure): ``diff(desired spec, observed resources) -> Plan``.

The plan lists the steps that can run now (``ready``), the steps that wait on another resource
(``waiting``), and resources still provisioning in ARM (``busy``). The reconcile loop enqueues the ready
steps; each finished step triggers a new reconcile, which plans again. ``Plan.done`` means the observed
state is the desired state.

Azure's rules on what may change (shared/reference/arm-behavior.md section 2.3):
- a storage account's SKU may move between types unless the old or new one is Standard_ZRS, Premium_LRS
  or Premium_ZRS ("the SKU name cannot be updated to Standard_ZRS, Premium_LRS or Premium_ZRS, nor can
  accounts of those SKU names be updated to any other value");
- ``isHnsEnabled`` cannot be updated;
- a resource's location never changes, so the primary region (the ACR's and the group's) is immutable.
Forbidden changes raise ``PermanentError`` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.domain.errors import PermanentError
from shared.domain.resources import (
    CANCELED,
    FAILED,
    SUCCEEDED,
    TERMINAL_STATES,
    Observed,
    registry_tags,
    storage_tags,
)
from shared.domain.spec import RegistrySpec

FROZEN_SKUS = frozenset({"Standard_ZRS", "Premium_LRS", "Premium_ZRS"})


class StepKind(StrEnum):
    ENSURE_GROUP = "ensure_group"
    ENSURE_STORAGE = "ensure_storage"
    UPDATE_STORAGE = "update_storage"
    DELETE_STORAGE = "delete_storage"
    ENSURE_ACR = "ensure_acr"
    UPDATE_ACR = "update_acr"
    DELETE_ACR = "delete_acr"
    ENSURE_REPLICA = "ensure_replica"
    DELETE_REPLICA = "delete_replica"
    DELETE_GROUP = "delete_group"


@dataclass(frozen=True, order=True)
class PlannedStep:
    kind: StepKind
    region: str
    index: int = 0
    reason: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.region}:{self.index}"


@dataclass(frozen=True)
class Plan:
    ready: tuple[PlannedStep, ...] = ()
    waiting: tuple[PlannedStep, ...] = ()
    busy: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return not self.ready and not self.waiting and not self.busy


def sku_change_allowed(old: str, new: str) -> bool:
    """Whether Azure lets a storage account move from SKU ``old`` to ``new`` in place."""
    return old == new or (old not in FROZEN_SKUS and new not in FROZEN_SKUS)


def _busy(state: str) -> bool:
    return state not in TERMINAL_STATES


def _failed(state: str) -> bool:
    """A resource whose last operation failed or was canceled: ensure it again."""
    return state in (FAILED, CANCELED)


class _Builder:
    def __init__(self) -> None:
        self.ready: list[PlannedStep] = []
        self.waiting: list[PlannedStep] = []
        self.busy: list[str] = []

    def add(self, step: PlannedStep, *, can_run: bool) -> None:
        (self.ready if can_run else self.waiting).append(step)

    def build(self) -> Plan:
        return Plan(tuple(sorted(self.ready)), tuple(sorted(self.waiting)), tuple(sorted(self.busy)))


def diff(desired: RegistrySpec | None, observed: Observed) -> Plan:
    """The steps that move ``observed`` to ``desired``; ``desired is None`` means delete everything."""
    if desired is None:
        return _teardown(observed)
    _check_immutables(desired, observed)
    plan = _Builder()
    primary = desired.location
    group = observed.group
    group_ok = group is not None and group.state == SUCCEEDED
    want_group_tags = registry_tags(desired.name, desired.tags)
    if group is not None and _busy(group.state):
        plan.busy.append(f"resource group {group.name}")
    elif group is None or group.tags != want_group_tags or _failed(group.state):
        reason = "missing" if group is None else "failed" if _failed(group.state) else "tags differ"
        plan.add(PlannedStep(StepKind.ENSURE_GROUP, primary, reason=reason), can_run=True)

    _plan_storage(desired, observed, plan, group_ok)
    acr_ok = _plan_acr(desired, observed, plan, group_ok)
    _plan_replicas(desired, observed, plan, acr_ok)
    return plan.build()


def _check_immutables(desired: RegistrySpec, observed: Observed) -> None:
    for what, location in (
        ("resource group", observed.group.location if observed.group else None),
        ("container registry", observed.acr.location if observed.acr else None),
    ):
        if location is not None and location != desired.location:
            raise PermanentError(
                f'the primary region is immutable: the {what} is in "{location}", the spec asks for '
                f'"{desired.location}"',
                code="PrimaryLocationImmutable",
                field="location",
            )
    problems: list[tuple[str, str]] = []
    for i, entry in enumerate(desired.replication_locations):
        config = entry.storage
        for index in range(config.replication_count):
            account = observed.storage_at(entry.location, index)
            if account is None:
                continue
            base = f"replication_locations[{i}].storage_config"
            if account.hns != config.storage_account_hns:
                problems.append(
                    (
                        f"{base}.storage_account_hns",
                        f"storage account {account.name} has hierarchical namespace "
                        f"{'on' if account.hns else 'off'}; Azure cannot change it in place",
                    )
                )
            if not sku_change_allowed(account.sku, config.storage_account_type):
                problems.append(
                    (
                        f"{base}.storage_account_type",
                        f"storage account {account.name} is {account.sku}; Azure cannot convert it to "
                        f"{config.storage_account_type} (no moves to or from "
                        f"{', '.join(sorted(FROZEN_SKUS))})",
                    )
                )
    if problems:
        message = "; ".join(f"{path}: {text}" for path, text in problems)
        raise PermanentError(message, code="StorageChangeNotAllowed", field=problems[0][0])


def _plan_storage(desired: RegistrySpec, observed: Observed, plan: _Builder, group_ok: bool) -> None:
    wanted: set[tuple[str, int]] = set()
    for entry in desired.replication_locations:
        config = entry.storage
        for index in range(config.replication_count):
            wanted.add((entry.location, index))
            account = observed.storage_at(entry.location, index)
            if account is None or _failed(account.state):
                reason = "missing" if account is None else "failed"
                plan.add(PlannedStep(StepKind.ENSURE_STORAGE, entry.location, index, reason), can_run=group_ok)
                continue
            if _busy(account.state):
                plan.busy.append(f"storage account {account.name}")
                continue
            tags = storage_tags(desired.name, desired.tags, entry.location, index)
            if account.sku != config.storage_account_type or account.tags != tags:
                reason = "sku differs" if account.sku != config.storage_account_type else "tags differ"
                plan.add(PlannedStep(StepKind.UPDATE_STORAGE, entry.location, index, reason), can_run=True)
    for account in observed.storage:
        if (account.region, account.index) not in wanted:
            if _busy(account.state):
                plan.busy.append(f"storage account {account.name}")
            else:
                plan.add(
                    PlannedStep(StepKind.DELETE_STORAGE, account.region, account.index, "not in spec"),
                    can_run=True,
                )


def _plan_acr(desired: RegistrySpec, observed: Observed, plan: _Builder, group_ok: bool) -> bool:
    acr = observed.acr
    primary = desired.location
    if acr is None or _failed(acr.state):
        plan.add(
            PlannedStep(StepKind.ENSURE_ACR, primary, reason="missing" if acr is None else "failed"),
            can_run=group_ok,
        )
        return False
    if _busy(acr.state):
        plan.busy.append(f"container registry {acr.name}")
        return False
    tags = registry_tags(desired.name, desired.tags)
    if acr.sku != "Premium" or acr.tags != tags:
        reason = "sku differs" if acr.sku != "Premium" else "tags differ"
        plan.add(PlannedStep(StepKind.UPDATE_ACR, primary, reason=reason), can_run=True)
        return acr.sku == "Premium"
    return True


def _plan_replicas(desired: RegistrySpec, observed: Observed, plan: _Builder, acr_ok: bool) -> None:
    primary = desired.location
    wanted = [r for r in desired.regions if r != primary]
    for region in wanted:
        replica = observed.replica_in(region)
        if replica is None or _failed(replica.state):
            reason = "missing" if replica is None else "failed"
            plan.add(PlannedStep(StepKind.ENSURE_REPLICA, region, reason=reason), can_run=acr_ok)
        elif _busy(replica.state):
            plan.busy.append(f"replica {replica.name}")
    for replica in observed.replicas:
        if replica.location == primary or replica.location in wanted:
            continue  # the home replica is implicit and cannot be deleted
        if _busy(replica.state):
            plan.busy.append(f"replica {replica.name}")
        else:
            step = PlannedStep(StepKind.DELETE_REPLICA, replica.location, reason="not in spec")
            plan.add(step, can_run=True)


def _teardown(observed: Observed) -> Plan:
    """Delete in a safe order: the geo-replicas before the ACR, the storage accounts alongside them (they
    depend on nothing), and the resource group last, once it is empty."""
    plan = _Builder()
    home = observed.acr.location if observed.acr else None
    geo = [r for r in observed.replicas if r.location != home]
    for replica in geo:
        if _busy(replica.state):
            plan.busy.append(f"replica {replica.name}")
        else:
            plan.add(PlannedStep(StepKind.DELETE_REPLICA, replica.location, reason="teardown"), can_run=True)
    if observed.acr is not None:
        if _busy(observed.acr.state):
            plan.busy.append(f"container registry {observed.acr.name}")
        else:
            plan.add(PlannedStep(StepKind.DELETE_ACR, observed.acr.location, reason="teardown"), can_run=not geo)
    for account in observed.storage:
        if _busy(account.state):
            plan.busy.append(f"storage account {account.name}")
        else:
            plan.add(PlannedStep(StepKind.DELETE_STORAGE, account.region, account.index, "teardown"), can_run=True)
    group = observed.group
    if group is not None:
        if _busy(group.state):
            plan.busy.append(f"resource group {group.name}")
        else:
            children = bool(observed.storage or observed.acr or geo)
            step = PlannedStep(StepKind.DELETE_GROUP, group.location, reason="teardown")
            plan.add(step, can_run=not children)
    return plan.build()
