"""Structured logs and one trace per operation.

Logs: ``context_log(logger, registry=..., operation=..., step=..., region=...)`` returns a LoggerAdapter that
puts the four fields on every record (``extra``, so exporters see them as dimensions) and in front of its
message, so every line names them in any handler, text or not. Missing fields read ``-``.

Traces: the W3C ``traceparent`` of the HTTP request that starts an operation travels in every queue
message it causes (application property ``traceparent``), so each step's log records belong to the request
that started them. ``opentelemetry-api`` carries the span context; with no SDK configured (the sandbox,
unless asked) nothing is exported, and a request that brings no ``traceparent`` gets a fresh trace id here
so its operation still has one. With ``APPLICATIONINSIGHTS_CONNECTION_STRING`` set, the composition root
configures ``azure-monitor-opentelemetry`` and the same spans are recorded and exported.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context, trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

FIELDS = ("registry", "operation", "step", "region")
TRACEPARENT = "traceparent"

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER = trace.get_tracer("regctl")
_RANDOM = random.SystemRandom()


class ContextLog(logging.LoggerAdapter[logging.Logger]):
    """A logger whose every record carries registry, operation, step and region."""

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        fields = dict(self.extra or {})
        trace_id = current_trace_id()
        if trace_id:
            fields["trace_id"] = trace_id
        kwargs["extra"] = {**fields, **kwargs.get("extra", {})}
        prefix = " ".join(f"{name}={fields.get(name) or '-'}" for name in FIELDS)
        return f"{prefix} {msg}", kwargs


def context_log(logger: logging.Logger, **fields: object) -> ContextLog:
    """``logger`` with ``fields`` (of ``FIELDS``) on every record."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown log fields {sorted(unknown)}; use {FIELDS}")
    return ContextLog(logger, {name: str(value) for name, value in fields.items() if value not in (None, "")})


def current_traceparent() -> str | None:
    """The ``traceparent`` of the current span context, or None when there is none."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def current_trace_id() -> str | None:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def _fresh_root() -> context.Context:
    span_context = SpanContext(
        trace_id=_RANDOM.getrandbits(128) or 1,
        span_id=_RANDOM.getrandbits(64) or 1,
        is_remote=False,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
    )
    return trace.set_span_in_context(NonRecordingSpan(span_context))


@contextmanager
def continued(carrier: Mapping[str, Any] | None, name: str) -> Iterator[None]:
    """Run the block in the trace ``carrier`` names (a request's headers or a message's application
    properties), or in a new trace when it names none, inside a span called ``name``."""
    headers = {str(k).lower(): str(v) for k, v in (carrier or {}).items() if isinstance(v, str | bytes | int)}
    parent = _PROPAGATOR.extract(headers) if TRACEPARENT in headers else None
    if parent is None or not trace.get_current_span(parent).get_span_context().is_valid:
        parent = _fresh_root()
    token = context.attach(parent)
    try:
        with _TRACER.start_as_current_span(name):
            yield
    finally:
        context.detach(token)
