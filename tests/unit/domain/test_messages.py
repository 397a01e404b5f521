"""Queue messages (shared/domain/messages.py): versioned, frozen, ``extra="forbid"``, idempotent ids."""

from __future__ import annotations

import json

import pydantic
import pytest

from shared.domain.messages import MAX_MESSAGE_ID, SCHEMA_VERSION, Reconcile, Step, decode_message
from shared.domain.work import Goal

RECONCILE = Reconcile(registry="demoregistry1", generation=3, operation_id="op-1")
STEP = Step(
    registry="demoregistry1",
    generation=3,
    operation_id="op-1",
    kind="storage",
    region="westus",
    index=1,
)


@pytest.mark.parametrize("message", [RECONCILE, STEP], ids=["reconcile", "step"])
def test_messages_round_trip_through_json(message):
    decoded = decode_message(message.model_dump_json())

    assert decoded == message
    assert type(decoded) is type(message)
    assert decoded.message_id == message.message_id


@pytest.mark.parametrize("message", [RECONCILE, STEP], ids=["reconcile", "step"])
def test_messages_carry_the_schema_version(message):
    assert message.v == SCHEMA_VERSION
    assert '"v":1' in message.model_dump_json()


@pytest.mark.parametrize("message", [RECONCILE, STEP], ids=["reconcile", "step"])
def test_messages_with_extra_keys_are_refused(message):
    body = message.model_dump(mode="json") | {"extra": 1}

    with pytest.raises(pydantic.ValidationError, match="extra"):
        decode_message(json.dumps(body))


@pytest.mark.parametrize(
    "body",
    [
        '{"type": "reconcile", "v": 2, "registry": "r", "generation": 0, "operation_id": "o"}',
        '{"type": "teleport", "v": 1, "registry": "r", "generation": 0, "operation_id": "o"}',
        '{"type": "step", "v": 1, "registry": "r", "generation": 0, "operation_id": "o", "kind": "nuke", '
        '"region": "eastus"}',
        '{"type": "reconcile", "v": 1, "registry": "", "generation": 0, "operation_id": "o"}',
        '{"type": "reconcile", "v": 1, "registry": "r", "generation": -1, "operation_id": "o"}',
        "not json",
    ],
    ids=[
        "future-version",
        "unknown-type",
        "unknown-step-kind",
        "empty-registry",
        "negative-generation",
        "not-json",
    ],
)
def test_malformed_messages_are_refused(body):
    with pytest.raises(pydantic.ValidationError):
        decode_message(body)


def test_messages_are_frozen():
    with pytest.raises(pydantic.ValidationError):
        STEP.attempt = 2  # type: ignore[misc]


@pytest.mark.parametrize("message", [RECONCILE, STEP], ids=["reconcile", "step"])
def test_message_ids_are_distinct_per_attempt(message):
    ids = {message.model_copy(update={"attempt": attempt}).message_id for attempt in range(5)}

    assert len(ids) == 5


def test_step_message_ids_are_distinct_per_kind_region_index_and_generation():
    variants = [
        STEP,
        STEP.model_copy(update={"goal": Goal.DELETE}),
        STEP.model_copy(update={"region": "eastus"}),
        STEP.model_copy(update={"index": 0}),
        STEP.model_copy(update={"generation": 4}),
        STEP.model_copy(update={"registry": "other"}),
    ]

    assert len({m.message_id for m in variants}) == len(variants)


def test_the_step_key_is_the_same_across_attempts():
    assert STEP.step_key == STEP.model_copy(update={"attempt": 7}).step_key


def test_reconcile_ids_are_distinct_per_operation():
    assert RECONCILE.message_id != RECONCILE.model_copy(update={"operation_id": "op-2"}).message_id


def test_reconcile_ids_are_distinct_per_trigger():
    after_step = RECONCILE.model_copy(update={"trigger": "step:ensure_acr:eastus:0"})

    assert RECONCILE.message_id != after_step.message_id


def longest_reconciles() -> list[Reconcile]:
    """Reconciles with every field at its longest: a 32-character registry name, a uuid operation id, the
    longest region in a stale-step trigger."""
    base = {"registry": "r" * 32, "generation": 10**6, "operation_id": "f" * 32}
    triggers = ["stale:ensure_replica:australiasoutheast:9:1000000", "x" * 120, "y" * 120]
    return [Reconcile(**base, trigger=t, attempt=99) for t in triggers]


def test_message_ids_never_pass_the_service_bus_limit_and_stay_distinct_and_stable():
    reconciles = longest_reconciles()
    ids = [m.message_id for m in reconciles]
    assert all(len(i) <= MAX_MESSAGE_ID for i in ids)
    assert len(set(ids)) == len(ids)
    assert [m.message_id for m in longest_reconciles()] == ids
    step = Step(
        registry="r" * 64,
        generation=10**9,
        operation_id="o" * 64,
        kind="replica",
        region="australiasoutheast",
        index=35,
        run=1000,
        attempt=1000,
    )
    assert len(step.message_id) <= MAX_MESSAGE_ID
    assert step.message_id.startswith("r" * 32)


def test_short_message_ids_stay_readable():
    assert RECONCILE.message_id == "demoregistry1:3:reconcile:op-1::0"
