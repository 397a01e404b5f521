"""The kinds of the sources promotion rules watch outside regctl (pure decisions): a topic on each source
(one found is reused whoever made it), the registry's own subscription on it with the filter of its kind,
drift put back, a source not there failing with a message naming it and its rules, and what goes when no
rule names the source any more (the registry's subscription; the topic only if regctl made it and nothing
else is on it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from shared.domain.decide import StepContext, decide
from shared.domain.kinds import eventgrid, sources
from shared.domain.naming import source_subscription_name
from shared.domain.plan import diff
from shared.domain.promotions import PromotionRule
from shared.domain.resources import (
    Observed,
    ObservedEventSubscription,
    ObservedGroup,
    ObservedSource,
    ObservedSystemTopic,
)
from shared.domain.rule_sources import RuleSource, SourceKind, WatchedSource
from shared.domain.spec import parse_spec
from shared.domain.work import Context, Goal, ResourceRef, ResourceType, Verb, Watch

QUEUE = "/subscriptions/s/resourceGroups/cp/providers/Microsoft.ServiceBus/namespaces/n/queues/regctl-events"
SPEC = parse_spec({"name": "Prod_1", "location": "eastus", "replication_locations": [{"location": "eastus"}]}).spec
TEAM_SUB = "11111111-1111-1111-1111-111111111111"
ACR = WatchedSource(
    f"/subscriptions/{TEAM_SUB}/resourceGroups/team-build/providers/Microsoft.ContainerRegistry/registries/TeamAcr",
    SourceKind.ACR,
)
DROPS = WatchedSource(
    f"/subscriptions/{TEAM_SUB}/resourceGroups/team-data/providers/Microsoft.Storage/storageAccounts/drops",
    SourceKind.STORAGE,
)
WATCH = Watch(ACR, ("team-images",))
MINE = source_subscription_name("Prod_1")
ON_ACR = sources.subject_of(ACR)


@pytest.fixture(autouse=True)
def configured() -> Iterator[None]:
    eventgrid.configure(QUEUE)
    try:
        yield
    finally:
        eventgrid.configure("")


def topic(name: str = "regctl-teamacr", *, ours: bool = True, state: str = "Succeeded") -> ObservedSystemTopic:
    tags = {eventgrid.TAG_SOURCE: sources.EXTERNAL} if ours else {"owner": "team"}
    return ObservedSystemTopic(name, "westus", ACR.resource_id, eventgrid.ACR_TOPIC_TYPE, tags, state)


def subscription(topic_name: str = "regctl-teamacr", /, **changes: object) -> ObservedEventSubscription:
    props = {**sources.subscription_properties(SourceKind.ACR, QUEUE), **changes}
    return ObservedEventSubscription(MINE, topic_name, props)


def seen(*found: ObservedSource) -> Observed:
    return Observed(ObservedGroup("regctl-prod_1", "eastus"), sources=found)


def decided(kind: str, observed: Observed, watches: tuple[Watch, ...] = (WATCH,), goal: Goal = Goal.ENSURE):
    return decide(StepContext(kind, goal, ON_ACR, SPEC, observed, "regctl-prod_1", watches=watches))


def planned(observed: Observed, watches: tuple[Watch, ...] = (WATCH,), spec: object = SPEC) -> set[str]:
    plan = diff(spec, observed, "regctl-prod_1", sources.KINDS, watches=watches)  # type: ignore[arg-type]
    return {s.key for s in plan.ready + plan.waiting}


def test_a_watched_source_without_a_topic_gets_regctls_in_its_own_group_subscription_and_region():
    action = decided("source_topic", seen(ObservedSource(ACR, True, "westus")))
    assert action.verb is Verb.CREATE
    assert action.ref == ResourceRef(ResourceType.SYSTEM_TOPIC, "team-build", "regctl-teamacr", subscription=TEAM_SUB)
    assert action.body == {
        "location": "westus",
        "tags": {"regctl-source": "external"},
        "properties": {"source": ACR.resource_id, "topicType": "Microsoft.ContainerRegistry.Registries"},
    }


def test_an_existing_topic_on_the_source_is_used_whoever_made_it_and_the_subscription_goes_on_it():
    theirs = topic("team-acr-events", ours=False)
    observed = seen(ObservedSource(ACR, True, "westus", topic=theirs, others=("team-webhook",)))
    assert decided("source_topic", observed).verb is Verb.NOOP
    assert planned(observed) == {f"ensure_source_subscription:{ON_ACR.key}"}
    action = decided("source_subscription", observed)
    assert action.verb is Verb.CREATE
    assert action.ref == ResourceRef(
        ResourceType.EVENT_SUBSCRIPTION, "team-build", MINE, parent="team-acr-events", subscription=TEAM_SUB
    )
    assert action.body == {
        "properties": {
            "destination": {"endpointType": "ServiceBusQueue", "properties": {"resourceId": QUEUE}},
            "retryPolicy": {"maxDeliveryAttempts": 30, "eventTimeToLiveInMinutes": 1440},
            "filter": {"includedEventTypes": ["Microsoft.ContainerRegistry.ImagePushed"]},
            "eventDeliverySchema": "EventGridSchema",
        }
    }


def test_a_storage_source_delivers_blob_created_of_an_asset_yml_only():
    props = sources.subscription_properties(SourceKind.STORAGE, QUEUE)
    assert props["filter"] == {"includedEventTypes": ["Microsoft.Storage.BlobCreated"], "subjectEndsWith": "/asset.yml"}


def test_the_registrys_subscription_name_is_readable_unique_per_registry_and_valid_for_event_grid():
    assert MINE.startswith("regctl-prod1-") and len(MINE) <= 64
    assert source_subscription_name("prod_1") == MINE and source_subscription_name("prod1") != MINE
    assert all(c.isalnum() or c == "-" for c in source_subscription_name("a" * 33))


def test_the_subscription_waits_for_the_topic_being_made():
    observed = seen(ObservedSource(ACR, True, "westus", topic=topic(state="Creating")))
    action = decided("source_subscription", observed)
    assert action.verb is Verb.WAIT and "Creating" in action.why


@pytest.mark.parametrize(
    "changes",
    [
        {"destination": {"endpointType": "ServiceBusQueue", "properties": {"resourceId": QUEUE + "-other"}}},
        {"filter": {"includedEventTypes": ["Microsoft.ContainerRegistry.ImageDeleted"]}},
        {"filter": {"includedEventTypes": ["Microsoft.ContainerRegistry.ImagePushed"], "subjectBeginsWith": "x"}},
        {"eventDeliverySchema": "CloudEventSchemaV1_0"},
        {"retryPolicy": {"maxDeliveryAttempts": 5, "eventTimeToLiveInMinutes": 1440}},
    ],
)
def test_a_subscription_changed_by_hand_is_drift_put_back_whole(changes: dict[str, object]):
    observed = seen(ObservedSource(ACR, True, "westus", topic=topic(), subscription=subscription(**changes)))
    assert planned(observed) == {f"ensure_source_subscription:{ON_ACR.key}"}
    action = decided("source_subscription", observed)
    assert action.verb is Verb.CREATE and action.ref is not None and action.ref.name == MINE
    assert action.body["properties"] == sources.subscription_properties(SourceKind.ACR, QUEUE)


def test_what_arm_adds_to_a_subscription_is_no_drift():
    arm_defaults = {
        "filter": {
            "includedEventTypes": ["Microsoft.ContainerRegistry.ImagePushed"],
            "subjectBeginsWith": "",
            "subjectEndsWith": "",
            "isSubjectCaseSensitive": False,
            "advancedFilters": [],
        },
        "labels": [],
        "retryPolicy": {"maxDeliveryAttempts": 30, "eventTimeToLiveInMinutes": 1440},
        "provisioningState": "Succeeded",
    }
    observed = seen(ObservedSource(ACR, True, "westus", topic=topic(), subscription=subscription(**arm_defaults)))
    assert planned(observed) == set()


def test_a_source_that_is_not_there_fails_the_step_naming_it_and_its_rules():
    for kind in ("source_topic", "source_subscription"):
        action = decided(kind, seen(ObservedSource(ACR, False, problem="not found")))
        assert action.verb is Verb.FAIL and action.code == "SourceNotFound"
        assert ACR.resource_id in action.why and "team-images" in action.why and "not found" in action.why


def test_a_source_gone_under_its_topic_and_subscription_is_drift_failing_the_step():
    observed = seen(ObservedSource(ACR, False, problem="not found", topic=topic(), subscription=subscription()))
    assert planned(observed) == {f"ensure_source_topic:{ON_ACR.key}"}
    action = decided("source_topic", observed)
    assert action.verb is Verb.FAIL and action.code == "SourceNotFound" and ACR.resource_id in action.why


def test_a_source_not_observed_yet_waits():
    assert decided("source_topic", seen()).verb is Verb.WAIT


def test_without_the_events_queue_nothing_is_wanted():
    eventgrid.configure("")
    observed = seen(ObservedSource(ACR, True, "westus"))
    assert sources.SOURCE_TOPIC.desired(Context(SPEC, observed, "g", watches=(WATCH,))) == {}


def test_a_source_no_rule_names_loses_the_registrys_subscription_then_regctls_topic():
    observed = seen(ObservedSource(ACR, True, "westus", topic=topic(), subscription=subscription()))
    assert planned(observed, watches=()) == {f"delete_source_subscription:{ON_ACR.key}"}
    action = decided("source_subscription", observed, watches=(), goal=Goal.DELETE)
    assert action.verb is Verb.DELETE and action.ref is not None
    assert (action.ref.group, action.ref.parent, action.ref.name) == ("team-build", "regctl-teamacr", MINE)
    emptied = seen(ObservedSource(ACR, True, "westus", topic=topic()))
    assert planned(emptied, watches=()) == {f"delete_source_topic:{ON_ACR.key}"}
    action = decided("source_topic", emptied, watches=(), goal=Goal.DELETE)
    assert action.verb is Verb.DELETE and action.ref is not None and action.ref.subscription == TEAM_SUB


def test_a_topic_is_kept_while_another_subscription_is_on_it_or_when_regctl_did_not_make_it():
    shared = seen(ObservedSource(ACR, True, "westus", topic=topic(), others=("regctl-dev-abcd1234",)))
    assert planned(shared, watches=()) == set()
    theirs = seen(ObservedSource(ACR, True, "westus", topic=topic("team-topic", ours=False)))
    assert planned(theirs, watches=()) == set()


def test_a_teardown_deletes_the_registrys_subscription_first_and_never_someone_elses_topic():
    ours = seen(ObservedSource(ACR, True, "westus", topic=topic(), subscription=subscription()))
    plan = diff(None, ours, "regctl-prod_1", sources.KINDS, watches=(WATCH,))
    assert [s.key for s in plan.ready + plan.waiting] == [f"delete_source_subscription:{ON_ACR.key}"]
    emptied = seen(ObservedSource(ACR, True, "westus", topic=topic()))
    plan = diff(None, emptied, "regctl-prod_1", sources.KINDS, watches=(WATCH,))
    assert [s.key for s in plan.ready] == [f"delete_source_topic:{ON_ACR.key}"]
    theirs = seen(ObservedSource(ACR, True, "westus", topic=topic("t", ours=False), subscription=subscription("t")))
    plan = diff(None, theirs, "regctl-prod_1", sources.KINDS, watches=(WATCH,))
    assert [s.key for s in plan.ready + plan.waiting] == [f"delete_source_subscription:{ON_ACR.key}"]


def test_the_summary_remembers_a_source_while_the_registry_has_something_on_it():
    with_mine = ObservedSource(ACR, True, "westus", topic=topic(), subscription=subscription())
    empty_ours = ObservedSource(DROPS, True, "westus", topic=dataclasses.replace(topic(), source=DROPS.resource_id))
    nothing = ObservedSource(WatchedSource(ACR.resource_id.replace("TeamAcr", "Other"), SourceKind.ACR), True, "westus")
    summary = sources.SOURCE_TOPIC.summary(seen(with_mine, empty_ours, nothing))
    assert [e["id"] for e in summary[sources.SUMMARY_KEY]] == [ACR.resource_id, DROPS.resource_id]
    assert summary[sources.SUMMARY_KEY][0]["subscription"] == MINE
    assert sources.remembered(summary) == (ACR, DROPS)
    assert sources.to_observe((Watch(DROPS),), summary) == (ACR, DROPS)


def test_the_watches_of_a_registry_are_its_rules_external_sources_once_each_with_their_rules():
    def rule(name: str, source: RuleSource, target: str = "prod_1") -> PromotionRule:
        return PromotionRule(name, source, target)

    rules = [
        rule("b", RuleSource(SourceKind.ACR, resource_id=ACR.resource_id, repository="team/*")),
        rule("a", RuleSource(SourceKind.ACR, resource_id=ACR.resource_id.lower(), repository="other/*")),
        rule("c", RuleSource(SourceKind.STORAGE, resource_id=DROPS.resource_id, container="drops")),
        rule("d", RuleSource(SourceKind.STORAGE, resource_id=DROPS.resource_id, container="drops"), "staging"),
        rule("e", RuleSource(SourceKind.REGISTRY, registry="dev")),
    ]
    found = sources.watches_of(rules, "Prod_1")
    assert [(w.source.key, w.rules) for w in found] == [(ACR.key, ("a", "b")), (DROPS.key, ("c",))]


def test_a_sources_steps_have_a_stable_short_subject_telling_apart_two_sources_of_one_name():
    other = WatchedSource(ACR.resource_id.replace("team-build", "team-test"), SourceKind.ACR)
    assert sources.subject_of(ACR) == sources.subject_of(WatchedSource(ACR.resource_id.upper(), SourceKind.ACR))
    assert sources.subject_of(other) != ON_ACR
    long = WatchedSource(DROPS.resource_id.replace("drops", "d" * 24), SourceKind.STORAGE)
    assert len(sources.subject_of(long).target) <= 40
    assert sources.SOURCE_SUBSCRIPTION.label(ON_ACR) == "event subscription of the external acr teamacr"


def test_a_topic_found_in_another_group_gets_the_subscription_there_and_is_deleted_from_there():
    elsewhere = dataclasses.replace(topic("team-events", ours=False), resource_group="shared-events")
    action = decided("source_subscription", seen(ObservedSource(ACR, True, "westus", topic=elsewhere)))
    assert action.verb is Verb.CREATE and action.ref is not None
    assert (action.ref.group, action.ref.parent, action.ref.name) == ("shared-events", "team-events", MINE)
    ours = dataclasses.replace(topic(), resource_group="shared-events")
    unwatched = seen(ObservedSource(ACR, True, "westus", topic=ours, subscription=subscription()))
    delete = decided("source_subscription", unwatched, watches=(), goal=Goal.DELETE)
    assert delete.verb is Verb.DELETE and delete.ref is not None and delete.ref.group == "shared-events"
    emptied = seen(ObservedSource(ACR, True, "westus", topic=ours))
    delete = decided("source_topic", emptied, watches=(), goal=Goal.DELETE)
    assert delete.verb is Verb.DELETE and delete.ref is not None and delete.ref.group == "shared-events"
