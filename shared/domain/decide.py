"""The "decide" of each step (pure): given the step, the spec and what ARM shows, what to do now.

Steps are level-triggered: a step that finds its work already done is a no-op, one that finds its
resource still provisioning (or what it depends on not ready) waits, so a redelivered or duplicated step
never writes twice. The comparison is the kind's own ``needs``, the same one planning and drift use.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.domain.asset_records import AssetVersionRecord
from shared.domain.kinds import kind_named
from shared.domain.plan import PlannedStep
from shared.domain.resources import Observed, Part
from shared.domain.spec import RegistrySpec
from shared.domain.work import Action, Context, Goal, Grant, Instance, Kind, Subject, Verb, Watch, busy, ended_badly


@dataclass(frozen=True)
class StepContext:
    """What a step's decision looks at."""

    kind: str
    goal: Goal
    subject: Subject
    spec: RegistrySpec | None  # None during teardown
    observed: Observed
    group: str = ""
    name_attempt: int = 0
    grants: tuple[Grant, ...] = ()
    assets: tuple[AssetVersionRecord, ...] = ()
    watches: tuple[Watch, ...] = ()


def reads(kind: str) -> frozenset[Part]:
    """What a step of ``kind`` observes: only what its decision looks at. Without ``Part.GROUP`` the group
    is known to exist (its details unread) when the first LIST inside it answers, and to be missing when
    ARM answers that LIST with ``ResourceGroupNotFound``: the decisions only ask whether it exists."""
    return kind_named(kind).reads


def decide(step: StepContext) -> Action:
    """What the step must do now."""
    kind = kind_named(step.kind)
    ctx = Context(step.spec, step.observed, step.group, step.name_attempt, step.grants, step.assets, step.watches)
    have = kind.actual(ctx).get(step.subject)
    if step.goal is Goal.DELETE:
        return _delete(kind, have, ctx)
    return _ensure(kind, step.subject, have, ctx)


def _delete(kind: Kind, have: Instance | None, ctx: Context) -> Action:
    if have is None:
        return Action(Verb.NOOP, why=f"{kind.noun} gone")
    if busy(have.state):
        return Action(Verb.WAIT, why=f"{kind.noun} {have.name} {have.state}")
    return kind.delete(have, ctx)


def _ensure(kind: Kind, subject: Subject, have: Instance | None, ctx: Context) -> Action:
    want = kind.desired(ctx).get(subject)
    if want is None:
        return Action(Verb.NOOP, why=f"{kind.noun} no longer in the spec")
    if have is None or ended_badly(have.state):
        blocked = kind.blocked(ctx)
        if blocked is not None:
            return Action(Verb.WAIT, why=blocked)
        return kind.create(subject, want, have, ctx)
    if busy(have.state):
        return Action(Verb.WAIT, why=f"{kind.noun} {have.name} {have.state}")
    differences = kind.needs(want, have)
    if differences:
        return kind.update(want, have, ctx)
    return Action(Verb.NOOP, why=f"{kind.noun} {have.name} as specified")


@dataclass(frozen=True)
class StepView:
    """What a reconcile saw, handed to the steps it plans: each carries the decision its step would make
    from this observation, so the step's first delivery need not read ARM again."""

    spec: RegistrySpec | None
    observed: Observed
    group: str
    grants: tuple[Grant, ...] = ()
    assets: tuple[AssetVersionRecord, ...] = ()
    watches: tuple[Watch, ...] = ()

    def action(self, planned: PlannedStep, name_attempt: int) -> Action | None:
        """The decision a planned step would make now (at its naming attempt), if it acts."""
        view = (self.spec, self.observed, self.group, name_attempt, self.grants, self.assets, self.watches)
        decided = decide(StepContext(planned.kind, planned.goal, planned.subject, *view))
        return None if decided.verb in (Verb.NOOP, Verb.WAIT) else decided
