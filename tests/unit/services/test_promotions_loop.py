"""Promotions through the loop: regctl's own events out, explicit promotions, rules driven by events alone
(a chain dev -> staging -> prod), at most one promotion however events come, approval, rights."""

from __future__ import annotations

import json

import pytest

from shared.domain.asset_records import AssetStatus
from shared.domain.asset_spec import AssetType
from shared.domain.errors import Conflict, Forbidden, NotFound
from shared.domain.events import ASSET_VERSION_AVAILABLE, ASSET_VERSION_DELETED, OPERATION_FINISHED
from shared.domain.promotions import PromotionStatus
from shared.domain.records import OperationKind
from shared.services.event_intake import EventIntake
from tests.unit.services.promotion_world import ALICE, FILES, OWNER, PromotionWorld

DEV = ("eastus", "eastus2")
STAGING = ("westus",)
PROD = ("centralus", "westus2", "northeurope")
SOURCE = "azureml://registries/dev/models/fraud/versions/1"


def chain_world() -> PromotionWorld:
    return PromotionWorld({"dev": DEV, "staging": STAGING, "prod": PROD})


def rule(world: PromotionWorld, name: str, source: str, target: str, **extra: object) -> None:
    document = {"source": {"registry": source}, "target": {"registry": target}, **extra}
    world.container.promotions.put_rule(name, document, OWNER)


def test_a_version_that_becomes_available_is_announced_once_with_its_subject():
    world = chain_world()
    world.register("dev")
    events = world.grid.of_type(ASSET_VERSION_AVAILABLE)
    assert len(events) == 1
    event = events[0]
    assert event["subject"] == "/registries/dev/models/fraud/versions/1"
    assert event["data"]["assetId"] == SOURCE
    assert event["data"]["regions"] == sorted(DEV)
    assert event["dataVersion"] == "1.0"


def test_deleting_a_version_is_announced_and_finished_operations_are_announced():
    world = chain_world()
    world.register("dev")
    world.assets.delete("dev", AssetType.MODELS, "fraud", "1", OWNER)
    world.drain()
    assert [e["subject"] for e in world.grid.of_type(ASSET_VERSION_DELETED)] == [
        "/registries/dev/models/fraud/versions/1"
    ]
    finished = world.events[-1]
    world.container.operation_events.handle(finished)
    world.container.operation_events.handle(finished)  # a re-send: heard once
    announced = world.grid.of_type(OPERATION_FINISHED)
    assert len(announced) == 1
    assert announced[0]["data"]["operationId"] == finished.operation_id


def test_an_explicit_promotion_copies_server_side_into_every_target_region_with_lineage():
    world = chain_world()
    world.register("dev")
    promotion = world.container.promotions.promote("prod", AssetType.MODELS, "fraud", "1", source=SOURCE, caller=OWNER)
    world.drain()
    view = world.assets.get("prod", AssetType.MODELS, "fraud", "1")
    assert view.status is AssetStatus.AVAILABLE
    assert view.operation is not None and view.operation.kind is OperationKind.REGISTER
    for region in PROD:
        assert world.copies("prod", region) == FILES
    assert view.version.properties["promotedFrom"] == SOURCE
    assert view.version.properties["promotionRule"] == "explicit"
    source = world.assets.get("dev", AssetType.MODELS, "fraud", "1").version
    assert view.version.content_digest == source.content_digest
    assert world.container.promotions.get(promotion.id).status is PromotionStatus.SUCCEEDED


def test_promoting_again_the_same_content_is_a_success_without_copy_and_other_content_is_immutable():
    world = chain_world()
    world.register("dev")
    world.register("prod", {"other.bin": b"x"})  # fraud 1 in prod already, other content
    failed = world.container.promotions.promote("prod", AssetType.MODELS, "fraud", "1", source=SOURCE, caller=OWNER)
    assert failed.status is PromotionStatus.FAILED and failed.error_code == "AssetVersionImmutable"
    assert SOURCE in failed.error_message and "registries/prod" in failed.error_message
    world.register("staging")  # the same content, registered there directly
    same = world.container.promotions.promote("staging", AssetType.MODELS, "fraud", "1", source=SOURCE, caller=OWNER)
    assert same.status is PromotionStatus.SUCCEEDED and same.operation_id == ""


def test_the_caller_of_an_explicit_promotion_needs_read_on_the_source():
    world = chain_world()
    world.register("dev")
    world.grant(ALICE, "prod")
    with pytest.raises(NotFound):
        world.container.promotions.promote("prod", AssetType.MODELS, "fraud", "1", source=SOURCE, caller=ALICE)


def test_two_rules_chain_dev_to_staging_to_prod_through_events_alone():
    world = chain_world()
    rule(world, "dev-to-staging", "dev", "staging")
    rule(world, "staging-to-prod", "staging", "prod")
    world.register("dev")
    world.pump()
    for registry, regions in (("staging", STAGING), ("prod", PROD)):
        view = world.assets.get(registry, AssetType.MODELS, "fraud", "1")
        assert view.status is AssetStatus.AVAILABLE
        for region in regions:
            assert world.copies(registry, region) == FILES
    assert world.assets.get("staging", AssetType.MODELS, "fraud", "1").version.properties["promotedFrom"] == SOURCE
    prod = world.assets.get("prod", AssetType.MODELS, "fraud", "1").version.properties
    assert prod["promotedFrom"] == "azureml://registries/staging/models/fraud/versions/1"
    assert prod["promotionRule"] == "staging-to-prod" and prod["promotionEvent"]
    statuses = {p.rule: p.status for p in world.container.promotions.list_promotions()}
    assert statuses == {"dev-to-staging": PromotionStatus.SUCCEEDED, "staging-to-prod": PromotionStatus.SUCCEEDED}


def test_every_event_delivered_three_times_in_reverse_order_makes_exactly_one_promotion_per_hop():
    world = chain_world()
    rule(world, "dev-to-staging", "dev", "staging")
    rule(world, "staging-to-prod", "staging", "prod")
    world.register("dev")
    world.register("dev", name="other")
    world.pump(times=3, reverse=True)
    promotions = world.container.promotions.list_promotions()
    assert len(promotions) == 4  # two versions, two hops
    assert all(p.status is PromotionStatus.SUCCEEDED for p in promotions)
    assert sorted(world.versions("prod")) == ["models:fraud:1", "models:other:1"]
    assert sum(o.what == "duplicate" for o in world.outcomes) == 2 * sum(o.what != "duplicate" for o in world.outcomes)
    registrations = [op for op in world.store.operations.values() if op.registry == "prod"]
    assert len([op for op in registrations if op.kind is OperationKind.REGISTER]) == 2


def test_a_rule_filters_by_type_name_glob_and_required_tags():
    world = chain_world()
    rule(
        world, "prod-only", "dev", "prod", filter={"types": ["models"], "name": "fr*", "tags": {"stage": "production"}}
    )
    world.register("dev", tags={"stage": "test"})
    world.register("dev", name="fraud", version="2", tags={"stage": "production"})
    world.register("dev", name="churn", tags={"stage": "production"})
    world.pump()
    assert world.versions("prod") == ["models:fraud:2"]


def test_a_rule_with_approval_waits_until_a_writer_of_the_target_approves_or_rejects():
    world = chain_world()
    rule(world, "gated", "dev", "prod", approval="required")
    world.register("dev")
    world.register("dev", version="2")
    world.pump()
    waiting = world.container.promotions.list_promotions(status="PendingApproval")
    assert len(waiting) == 2 and world.versions("prod") == []
    world.reader(ALICE, "prod")
    with pytest.raises(Forbidden):
        world.container.promotions.decide(waiting[0].id, True, ALICE)
    world.container.promotions.decide(waiting[0].id, True, OWNER)
    world.container.promotions.decide(waiting[1].id, False, OWNER)
    world.drain()
    assert [p.status for p in world.container.promotions.list_promotions()] == [
        PromotionStatus.SUCCEEDED,
        PromotionStatus.REJECTED,
    ]
    assert world.versions("prod") == ["models:fraud:1"]
    with pytest.raises(Conflict):
        world.container.promotions.decide(waiting[1].id, True, OWNER)


def test_a_rule_runs_with_its_creator_rights_and_a_revoked_creator_fails_the_promotion_visibly():
    world = chain_world()
    with pytest.raises(Forbidden):
        world.container.promotions.put_rule("mine", {"source": "dev", "target": "prod"}, ALICE)
    assignment = world.grant(ALICE, None)
    world.container.promotions.put_rule("mine", {"source": "dev", "target": "prod"}, ALICE)
    world.revoke(assignment)
    world.register("dev")
    world.pump()
    [promotion] = world.container.promotions.list_promotions(rule="mine")
    assert promotion.status is PromotionStatus.FAILED and promotion.error_code == "AuthorizationFailed"
    assert world.container.promotions.get_rule("mine").last_error["code"] == "AuthorizationFailed"
    assert world.versions("prod") == []


def test_a_promotion_written_but_never_started_is_started_by_the_redelivered_event():
    world = chain_world()
    rule(world, "dev-to-prod", "dev", "prod")
    world.register("dev")
    [event] = world.grid.of_type(ASSET_VERSION_AVAILABLE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(world.container.promotions, "_run", lambda p: p)  # the host dies right there
        world.deliver_event(event)
    world.store.seen.clear()  # the crash came before the event was recorded as seen
    restarted = EventIntake(world.store, world.container.promotions, world.promotion_store)  # a new process
    restarted.handle(json.dumps(event).encode(), str(event["id"]))
    world.drain()
    assert world.assets.get("prod", AssetType.MODELS, "fraud", "1").status is AssetStatus.AVAILABLE
    assert len(world.container.promotions.list_promotions()) == 1
