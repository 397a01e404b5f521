"""Structured logs and one trace per operation: every record names registry, operation, step and region,
and the request's traceparent travels in every message the operation causes."""

from __future__ import annotations

import logging

import pytest

from shared.domain.messages import Reconcile, decode_message
from shared.observability import TRACEPARENT, context_log, continued, current_trace_id, current_traceparent
from tests.unit.services.test_provisioning_loop import DEMO1
from tests.unit.services.world import World

INCOMING = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def test_every_record_names_the_four_fields_as_text_and_as_extra(caplog: pytest.LogCaptureFixture):
    logger = logging.getLogger("regctl.test")
    with caplog.at_level(logging.INFO, logger="regctl.test"):
        context_log(logger, registry="r1", operation="r1.abc", step="ensure_storage:eastus:0").info("did %s", "x")
    record = caplog.records[-1]
    assert record.getMessage() == "registry=r1 operation=r1.abc step=ensure_storage:eastus:0 region=- did x"
    assert (record.registry, record.operation, record.step) == ("r1", "r1.abc", "ensure_storage:eastus:0")  # type: ignore[attr-defined]


def test_unknown_log_fields_are_refused():
    with pytest.raises(ValueError, match="unknown log fields"):
        context_log(logging.getLogger("x"), tenant="t")


def test_an_incoming_traceparent_is_continued_and_a_missing_one_starts_a_trace():
    with continued({"traceparent": INCOMING}, "request"):
        assert current_trace_id() == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert (current_traceparent() or "").startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    with continued({}, "request"):
        fresh = current_trace_id()
    with continued({}, "request"):
        other = current_trace_id()
    assert fresh and other and fresh != other
    assert current_trace_id() is None  # nothing leaks out of the block


def test_the_request_trace_rides_every_message_of_the_operation_and_is_kept_on_it():
    world = World()
    with continued({"traceparent": INCOMING}, "POST /api/registries"):
        accepted = world.api.create(DEMO1)
    assert (accepted.operation.traceparent or "").split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    submitted = world.publisher.sent[0]
    assert submitted.application_properties[TRACEPARENT].split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
    # a handler continues the message's trace; what it sends carries the same trace id
    message = decode_message(submitted.body)
    assert isinstance(message, Reconcile)
    world.publisher.sent.clear()
    with continued(submitted.application_properties, "reconcile"):
        world.deliver(message)
    assert world.publisher.sent
    assert {m.application_properties[TRACEPARENT].split("-")[1] for m in world.publisher.sent} == {
        "4bf92f3577b34da6a3ce929d0e0e4736"
    }
