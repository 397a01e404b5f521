"""Work items with subjects: operations of one registry run side by side when their subjects differ, and a
registry-shape operation still supersedes the one before it.

A test-only kind of work (``probe``) has one instance per item (``probe/a``, ``probe/b``): each item's work
is an operation of its own lane, as an asset version's copies will be."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.domain.kinds import KINDS, register
from shared.domain.kinds.base import KindBase
from shared.domain.messages import Step, decode_message
from shared.domain.records import OperationKind, OperationStatus, RegistryRecord, StepState
from shared.domain.resources import Part
from shared.domain.work import Action, Context, ResourceRef, ResourceType, Subject, Verb
from tests.unit.services.fakes import FakeArm
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World


@dataclass(frozen=True)
class Probe:
    name: str
    state: str


class ProbeKind(KindBase):
    """One probe resource per wanted item, in the primary region."""

    name = "probe"
    noun = "probe"
    reads = frozenset({Part.GROUP})

    def __init__(self, arm: FakeArm) -> None:
        self.arm = arm
        self.items: list[str] = []

    def desired(self, ctx: Context) -> Mapping[Subject, Any]:
        return {Subject(ctx.desired_spec.location, 0, item): item for item in self.items}

    def actual(self, ctx: Context) -> Mapping[Subject, Probe]:
        region = ctx.spec.location if ctx.spec else ""
        return {Subject(region, 0, item): Probe(item, state) for item, state in self.arm.probes.items()}

    def create(self, subject: Subject, want: Any, have: Any | None, ctx: Context) -> Action:
        return Action(Verb.CREATE, ResourceRef(ResourceType.TEST, ctx.group, subject.item), {"item": want})


def registry(world: World) -> RegistryRecord:
    found = world.store.get_registry("demoregistry1")
    assert found is not None
    return found


def probe_world() -> tuple[World, ProbeKind]:
    arm = FakeArm(lro_polls=2)
    probe = ProbeKind(arm)
    register(probe)
    world = World(arm, kinds=(*KINDS, probe))
    world.api.create(DEMO1)
    world.drain()
    return world, probe


def queued_steps(world: World) -> list[Step]:
    return [m for m in (decode_message(o.body) for o in world.publisher.sent) if isinstance(m, Step)]


def test_two_operations_with_different_subjects_run_at_once_and_neither_takes_the_other_over():
    world, probe = probe_world()
    record = registry(world)
    probe.items = ["probe/a", "probe/b"]
    first = world.lifecycle.start(record, OperationKind.SYNC, "probe/a")
    second = world.lifecycle.start(record, OperationKind.SYNC, "probe/b")
    # deliver until both probes are being created: each operation's step is in flight at the same time
    while len(world.arm.probes) < 2:
        assert world.deliver_next()
    a = world.store.get_step("demoregistry1", "probe/a", "ensure_probe:probe/a:eastus:0")
    b = world.store.get_step("demoregistry1", "probe/b", "ensure_probe:probe/b:eastus:0")
    assert a.operation_id == first.id and b.operation_id == second.id
    assert a.state is StepState.RUNNING and b.state is StepState.RUNNING
    world.drain()
    for operation in (first, second):
        assert world.store.get_operation(operation.id).status is OperationStatus.SUCCEEDED
        steps = world.store.list_steps("demoregistry1", operation.lane, operation.id)
        assert [s.key for s in steps] == [f"ensure_probe:{operation.lane}:eastus:0"]
        assert all(s.state is StepState.SUCCEEDED and s.operation_id == operation.id for s in steps)
    assert world.api.operation(first.id).steps[0].key == "ensure_probe:probe/a:eastus:0"
    assert world.arm.writes.count("probe:probe/a") == 1 and world.arm.writes.count("probe:probe/b") == 1


def test_item_operations_leave_the_registry_lane_alone_and_a_registry_update_still_supersedes_the_older():
    world, probe = probe_world()
    record = registry(world)
    registry_operation = record.operation_id
    probe.items = ["probe/a"]
    item = world.lifecycle.start(record, OperationKind.SYNC, "probe/a")
    first = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"v": "1"}})
    second = world.api.replace("DemoRegistry1", {**DEMO1, "tags": {"v": "2"}})
    world.drain()
    assert world.store.get_operation(first.operation.id).status is OperationStatus.CANCELED
    assert world.store.get_operation(first.operation.id).error_code == "Superseded"
    assert world.store.get_operation(second.operation.id).status is OperationStatus.SUCCEEDED
    assert world.store.get_operation(item.id).status is OperationStatus.SUCCEEDED  # not superseded
    assert world.store.get_registry("demoregistry1").operation_id == second.operation.id != registry_operation
    assert world.arm.acr.tags["v"] == "2"
    registry_steps = world.store.list_steps("demoregistry1", "registry")
    assert registry_steps and not any(s.item for s in registry_steps)


def test_an_item_operation_reads_only_its_own_steps():
    world, probe = probe_world()
    record = registry(world)
    probe.items = ["probe/a"]
    item = world.lifecycle.start(record, OperationKind.SYNC, "probe/a")
    world.drain()
    view = world.api.operation(item.id)
    assert [s.key for s in view.steps] == ["ensure_probe:probe/a:eastus:0"]
    create = world.api.operation(record.operation_id)
    assert create.steps and all(not s.item for s in create.steps)
