"""Planning (pure): ``diff(desired spec, observed resources) -> Plan``, over every kind of work.

The plan lists the steps that can run now (``ready``), the steps that wait on another resource
(``waiting``), and resources still provisioning in ARM (``busy``). The reconcile loop enqueues the ready
steps; each finished step triggers a new reconcile, which plans again. ``Plan.done`` means the observed
state is the desired state. Changes Azure cannot make in place (each kind's ``check``) raise
``PermanentError`` naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.asset_records import AssetVersionRecord
from shared.domain.errors import PermanentError
from shared.domain.kinds import KINDS, kind_named
from shared.domain.kinds.storage import FROZEN_SKUS, sku_change_allowed
from shared.domain.resources import Observed
from shared.domain.spec import RegistrySpec
from shared.domain.work import REGISTRY_LANE, Context, Goal, Grant, Kind, Subject, Watch, busy, ended_badly

__all__ = ["FROZEN_SKUS", "Plan", "PlannedStep", "diff", "sku_change_allowed"]


@dataclass(frozen=True, order=True)
class PlannedStep:
    kind: str
    goal: Goal
    subject: Subject
    reason: str = ""

    @property
    def name(self) -> str:
        return f"{self.goal}_{self.kind}"

    @property
    def region(self) -> str:
        return self.subject.region

    @property
    def index(self) -> int:
        return self.subject.index

    @property
    def key(self) -> str:
        return f"{self.name}:{self.subject.key}"

    @property
    def unblocks(self) -> bool:
        return self.goal is Goal.ENSURE and kind_named(self.kind).unblocks


@dataclass(frozen=True)
class Plan:
    ready: tuple[PlannedStep, ...] = ()
    waiting: tuple[PlannedStep, ...] = ()
    busy: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return not self.ready and not self.waiting and not self.busy

    def for_lane(self, lane: str) -> Plan:
        """The steps of one lane only; resources busy in ARM belong to the registry lane."""
        return Plan(
            tuple(s for s in self.ready if s.subject.lane == lane),
            tuple(s for s in self.waiting if s.subject.lane == lane),
            self.busy if lane == REGISTRY_LANE else (),
        )


class _Builder:
    def __init__(self) -> None:
        self.ready: list[PlannedStep] = []
        self.waiting: list[PlannedStep] = []
        self.busy: list[str] = []

    def add(self, step: PlannedStep, *, can_run: bool) -> None:
        (self.ready if can_run else self.waiting).append(step)

    def build(self) -> Plan:
        return Plan(tuple(sorted(self.ready)), tuple(sorted(self.waiting)), tuple(sorted(self.busy)))


def _reason(field: str) -> str:
    return "tags differ" if field == "tags" else f"{field} differs"


def check(ctx: Context, kinds: tuple[Kind, ...] = KINDS) -> None:
    """Raise ``PermanentError`` for the first kind of change Azure cannot make, naming every such field."""
    refusals = [r for kind in kinds for r in kind.check(ctx)]
    if not refusals:
        return
    code, field, _ = refusals[0]
    message = "; ".join(text for c, _, text in refusals if c == code)
    raise PermanentError(message, code=code, field=field)


def diff(
    desired: RegistrySpec | None,
    observed: Observed,
    group: str = "",
    kinds: tuple[Kind, ...] = KINDS,
    *,
    grants: tuple[Grant, ...] = (),
    assets: tuple[AssetVersionRecord, ...] = (),
    watches: tuple[Watch, ...] = (),
) -> Plan:
    """The steps that move ``observed`` to ``desired``; ``desired is None`` means delete everything."""
    ctx = Context(desired, observed, group, grants=grants, assets=assets, watches=watches)
    if desired is None:
        return _teardown(ctx, kinds)
    check(ctx, kinds)
    plan = _Builder()
    for kind in kinds:
        _plan_kind(kind, ctx, plan)
    return plan.build()


def _plan_kind(kind: Kind, ctx: Context, plan: _Builder) -> None:
    wants, haves = kind.desired(ctx), kind.actual(ctx)
    blocked = kind.blocked(ctx) is not None
    for subject, want in wants.items():
        have = haves.get(subject)
        if have is None or ended_badly(have.state):
            if kind.lifecycle:  # a kind that owns no resource waits for the one that does
                reason = "missing" if have is None else "failed"
                plan.add(PlannedStep(kind.name, Goal.ENSURE, subject, reason), can_run=not blocked)
        elif busy(have.state):
            if kind.lifecycle:  # the owning kind reports its resource busy
                plan.busy.append(f"{kind.noun} {have.name}")
        elif differences := kind.needs(want, have):
            plan.add(PlannedStep(kind.name, Goal.ENSURE, subject, _reason(differences[0].field)), can_run=True)
    if not kind.lifecycle:
        return
    for subject, have in haves.items():
        if subject in wants:
            continue
        if busy(have.state):
            plan.busy.append(f"{kind.noun} {have.name}")
        else:
            plan.add(PlannedStep(kind.name, Goal.DELETE, subject, "not in spec"), can_run=True)


def _teardown(ctx: Context, kinds: tuple[Kind, ...]) -> Plan:
    """Delete in a safe order: each kind once the kinds it must outlive are gone (the geo-replicas before
    the ACR, the resource group last, once it is empty)."""
    plan = _Builder()
    present = {kind.name: bool(kind.actual(ctx)) for kind in kinds if kind.lifecycle}
    for kind in kinds:
        if not kind.lifecycle:
            continue
        can_run = not any(present.get(other, False) for other in kind.teardown_after)
        for subject, have in kind.actual(ctx).items():
            if busy(have.state):
                plan.busy.append(f"{kind.noun} {have.name}")
            else:
                plan.add(PlannedStep(kind.name, Goal.DELETE, subject, "teardown"), can_run=can_run)
    return plan.build()
