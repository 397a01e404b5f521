"""Fault injection: rules that make ARM requests fail the way Azure sometimes does.

A rule matches by HTTP method and resource type (both optional, case-insensitive). It either answers
the request itself (``status``: 429/5xx in the envelope with Retry-After, any other 4xx without it,
``0`` drops the connection without a response) or, with ``lro_result``, lets the request through and
makes the long-running operation it starts end ``Failed`` (or ``Canceled``).

Rules are tried in order; the first whose method and type match, whose ``count`` is not used up and
whose ``rate`` draw (seeded RNG, drawn only for rates below 1) succeeds applies. ``lro_result`` rules
are only consulted, and only counted, by requests that actually start an operation.

``"service": "blob"`` rules apply to the blob data plane (``sandbox/blob``) instead of ARM: they match
on ``operation`` (copy, read, list, write, delete, any), ``account`` (the simulated storage account)
and ``method``, answer ``status`` (an XML storage error, ``0`` drops the connection) after ``delay``
seconds (``status: 0`` with a delay: a timeout, the request hangs and then the connection drops).

``"service": "eventgrid"`` rules apply to the Event Grid stand-in's deliveries (``sandbox/eventgrid/``): a
delivery is one event to one event subscription. They match on ``event_type`` (case-insensitive; any when
absent) and change how a matching delivery is sent: ``duplicate`` extra copies of it (same event id, same
message id: Event Grid delivers at least once), ``delay`` seconds before it is sent (others are not held
up, so a delay reorders), ``reorder``: held until that many such deliveries are buffered (or the oldest
waited ``REORDER_FLUSH_SECONDS``) and then sent shuffled by the seeded RNG, ``fail``: the first that many send
attempts of a matching delivery fail (outcome ``Busy``), so the stand-in retries it on Event Grid's schedule
and dead-letters or drops it when the subscription's ``retryPolicy`` runs out. ``rate`` and ``count`` as ever.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sandbox.arm.envelope import RETRYABLE_STATUSES, Response, error_response
from sandbox.arm.lro import OpError

#: The keys each kind of rule takes (``service`` is the kind).
_SERVICE_KEYS = {
    "arm": frozenset(
        {"service", "method", "resource_type", "status", "rate", "retry_after", "count", "lro_result", "error_code"}
    ),
    "blob": frozenset({"service", "method", "operation", "account", "status", "delay", "rate", "count", "error_code"}),
    "eventgrid": frozenset(
        {"service", "event_type", "duplicate", "delay", "reorder", "fail", "status", "rate", "count"}
    ),
}
_RULE_KEYS = frozenset().union(*_SERVICE_KEYS.values())
SERVICES = frozenset(_SERVICE_KEYS)
#: The keys only one kind of rule takes (named in the message refusing them elsewhere).
_OWN_KEYS = {
    "arm": ("resource_type", "lro_result", "retry_after"),
    "blob": ("operation", "account"),
    "eventgrid": ("event_type", "duplicate", "reorder", "fail"),
}
#: Kinds of blob operation a rule can target (``sandbox/blob/operations.py`` classifies requests).
BLOB_OPERATIONS = frozenset({"copy", "read", "list", "write", "delete", "any"})
#: Seconds a ``reorder`` rule holds a delivery at most before sending its buffer, even when not full.
REORDER_FLUSH_SECONDS = 0.5
#: A ``fail`` rule's most failed sends per delivery: Event Grid's most delivery attempts (``retryPolicy``).
MAX_FAILED_SENDS = 30
_METHODS = frozenset({"GET", "PUT", "PATCH", "POST", "DELETE", "HEAD"})
_LRO_RESULTS = frozenset({"Failed", "Canceled"})

T = TypeVar("T")
_DEFAULT_ERRORS: dict[int, tuple[str, str]] = {
    408: ("RequestTimeout", "The request timed out."),
    429: ("TooManyRequests", "The request is being throttled."),
    500: ("InternalServerError", "Encountered internal server error."),
    502: ("BadGateway", "The gateway did not receive a response from the service."),
    503: ("ServiceUnavailable", "The service is unavailable, please retry."),
    504: ("GatewayTimeout", "The gateway did not receive a response within the specified time period."),
}


class FaultConfigError(ValueError):
    """A rule set that cannot be applied; the control surface answers 400 with this message."""


@dataclass
class FaultRule:
    method: str | None = None
    resource_type: str | None = None
    status: int | None = None
    lro_result: str | None = None
    rate: float = 1.0
    retry_after: int = 1
    count: int | None = None
    error_code: str | None = None
    service: str = "arm"
    operation: str | None = None
    account: str | None = None
    delay: float = 0.0
    #: Event Grid rules: the event type they match (lowercased), extra copies, the shuffle window, and how
    #: many send attempts of each matching delivery fail (answered with ``status`` when given, else "busy").
    event_type: str | None = None
    duplicate: int = 0
    reorder: int = 0
    fail: int = 0
    hits: int = 0

    def matches(self, method: str, resource_type: str | None) -> bool:
        if self.service != "arm" or (self.count is not None and self.hits >= self.count):
            return False
        if self.method is not None and self.method != method:
            return False
        if self.resource_type is not None:
            return resource_type is not None and self.resource_type == resource_type.lower()
        return True

    def matches_blob(self, method: str, operation: str, account: str) -> bool:
        if self.service != "blob" or (self.count is not None and self.hits >= self.count):
            return False
        if self.method is not None and self.method != method:
            return False
        if self.operation not in (None, "any", operation):
            return False
        return self.account is None or self.account == account.lower()

    def matches_eventgrid(self, event_type: str) -> bool:
        if self.service != "eventgrid" or (self.count is not None and self.hits >= self.count):
            return False
        return self.event_type is None or self.event_type == event_type.lower()

    def as_json(self) -> dict[str, Any]:
        if self.service == "eventgrid":
            return {
                "service": self.service,
                "event_type": self.event_type,
                "duplicate": self.duplicate,
                "delay": self.delay,
                "reorder": self.reorder,
                "fail": self.fail,
                "status": self.status,
                "rate": self.rate,
                "count": self.count,
                "hits": self.hits,
            }
        if self.service == "blob":
            return {
                "service": self.service,
                "method": self.method,
                "operation": self.operation,
                "account": self.account,
                "status": self.status,
                "delay": self.delay,
                "rate": self.rate,
                "count": self.count,
                "error_code": self.error_code,
                "hits": self.hits,
            }
        return {
            "method": self.method,
            "resource_type": self.resource_type,
            "status": self.status,
            "lro_result": self.lro_result,
            "rate": self.rate,
            "retry_after": self.retry_after,
            "count": self.count,
            "error_code": self.error_code,
            "hits": self.hits,
        }

    def response(self) -> Response:
        """The answer of a status rule (not for ``status: 0``, which drops the connection)."""
        assert self.status is not None
        fallback = ("BadRequest" if self.status < 500 else "InternalServerError", "Injected fault.")
        code, message = _DEFAULT_ERRORS.get(self.status, fallback)
        if self.error_code:
            code = self.error_code
        retry_after = self.retry_after if self.status in RETRYABLE_STATUSES else None
        return error_response(self.status, code, f"{message} (injected by the sandbox)", retry_after=retry_after)


def parse_rules(body: object) -> tuple[list[FaultRule], int | None]:
    """Validate ``{"rules": [...], "seed"?}``; raise ``FaultConfigError`` with a precise message."""
    if not isinstance(body, dict):
        raise FaultConfigError('the body must be a JSON object {"rules": [...], "seed": int}')
    unknown = set(body) - {"rules", "seed"}
    if unknown:
        raise FaultConfigError(f"unknown keys {sorted(unknown)}; allowed: rules, seed")
    seed = body.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise FaultConfigError("seed must be an integer")
    raw_rules = body.get("rules", [])
    if not isinstance(raw_rules, list):
        raise FaultConfigError("rules must be a list")
    return [_parse_rule(i, raw) for i, raw in enumerate(raw_rules)], seed


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_rate(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0.0 <= value <= 1.0


#: key -> (is valid, normalize, what a valid value is). Absent or null keys keep the defaults.
_FIELDS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any], str]] = {
    "method": (
        lambda v: isinstance(v, str) and v.upper() in _METHODS,
        str.upper,
        f"one of {sorted(_METHODS)}",
    ),
    "resource_type": (
        lambda v: isinstance(v, str) and "/" in v,
        lambda v: v.strip("/").lower(),
        "a type like 'Microsoft.Storage/storageAccounts'",
    ),
    "status": (
        lambda v: _is_int(v) and (v == 0 or 400 <= v <= 599),
        int,
        "0 (drop the connection) or an HTTP status 400-599",
    ),
    "lro_result": (lambda v: v in _LRO_RESULTS, str, f"one of {sorted(_LRO_RESULTS)}"),
    "rate": (_is_rate, float, "a number in [0, 1]"),
    "retry_after": (lambda v: _is_int(v) and v >= 0, int, "an integer >= 0 (0: no Retry-After header)"),
    "count": (lambda v: _is_int(v) and v >= 1, int, "an integer >= 1"),
    "error_code": (lambda v: isinstance(v, str) and bool(v), str, "a non-empty string"),
    "service": (lambda v: v in SERVICES, str, f"one of {sorted(SERVICES)}"),
    "operation": (lambda v: v in BLOB_OPERATIONS, str, f"one of {sorted(BLOB_OPERATIONS)}"),
    "account": (lambda v: isinstance(v, str) and bool(v), str.lower, "a storage account name"),
    "delay": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 600,
        float,
        "a number of seconds in [0, 600]",
    ),
    "event_type": (lambda v: isinstance(v, str) and bool(v), str.lower, "an event type"),
    "duplicate": (lambda v: _is_int(v) and 1 <= v <= 10, int, "an integer in [1, 10] (extra copies)"),
    "reorder": (lambda v: _is_int(v) and 2 <= v <= 100, int, "an integer in [2, 100] (the window)"),
    "fail": (
        lambda v: _is_int(v) and 1 <= v <= MAX_FAILED_SENDS,
        int,
        f"an integer in [1, {MAX_FAILED_SENDS}] (failed send attempts per delivery)",
    ),
}


def _parse_rule(index: int, raw: object) -> FaultRule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise FaultConfigError(f"{where} must be an object")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise FaultConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_RULE_KEYS)}")
    service = "arm" if raw.get("service") is None else raw["service"]
    if not isinstance(service, str) or service not in SERVICES:
        raise FaultConfigError(f"{where}.service must be one of {sorted(SERVICES)}")
    given = sorted(key for key, value in raw.items() if value is not None and key not in _SERVICE_KEYS[service])
    if given:
        raise FaultConfigError(f"{where}: {_misplaced(given, service)}")
    values: dict[str, Any] = {}
    for key, (valid, normalize, expected) in _FIELDS.items():
        value = raw.get(key)
        if value is None:
            continue
        if not valid(value):
            raise FaultConfigError(f"{where}.{key} must be {expected}")
        values[key] = normalize(value)
    _check_effect(where, service, raw)
    return FaultRule(**values)


def _misplaced(keys: list[str], service: str) -> str:
    """Why ``keys`` are refused on a rule of ``service``."""
    owners = {owner for key in keys for owner, own in _OWN_KEYS.items() if key in own}
    if owners == {"arm"}:
        return f"{keys} apply to ARM rules only, not to 'service': '{service}'"
    if len(owners) == 1:
        return f"{keys} apply to 'service': '{owners.pop()}' rules only"
    return f"{keys} do not apply to 'service': '{service}' rules"


def _check_effect(where: str, service: str, raw: dict[str, Any]) -> None:
    """Each kind of rule must say what it does."""
    if service == "blob" and raw.get("status") is None:
        raise FaultConfigError(f"{where}: a blob rule needs 'status'")
    if service == "arm" and (raw.get("status") is None) == (raw.get("lro_result") is None):
        raise FaultConfigError(f"{where}: give exactly one of 'status' or 'lro_result'")
    if service == "eventgrid" and not any(raw.get(key) for key in ("duplicate", "delay", "reorder", "fail")):
        raise FaultConfigError(f"{where}: an eventgrid rule needs 'duplicate', 'delay', 'reorder' or 'fail'")
    if service == "eventgrid" and raw.get("status") is not None:
        if not raw.get("fail"):
            raise FaultConfigError(f"{where}: 'status' on an eventgrid rule is what its 'fail' sends answer")
        if raw["status"] == 0:
            raise FaultConfigError(f"{where}.status must be an HTTP status 400-599 on an eventgrid rule")


class FaultEngine:
    """The active rules and their seeded RNG (guarded by the store lock)."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(0)

    def configure(self, rules: list[FaultRule], seed: int | None) -> None:
        self.rules = rules
        self._rng = random.Random(seed if seed is not None else 0)

    def clear(self) -> None:
        self.configure([], None)

    def _pick(self, method: str, resource_type: str | None, *, lro: bool) -> FaultRule | None:
        for rule in self.rules:
            if (rule.lro_result is not None) != lro or not rule.matches(method, resource_type):
                continue
            if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                continue
            rule.hits += 1
            return rule
        return None

    def blob_fault(self, method: str, operation: str, account: str) -> FaultRule | None:
        """The blob rule that answers this data-plane request instead of Azurite, if any."""
        for rule in self.rules:
            if not rule.matches_blob(method, operation, account):
                continue
            if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                continue
            rule.hits += 1
            return rule
        return None

    def eventgrid_fault(self, event_type: str) -> FaultRule | None:
        """The Event Grid rule that changes how one delivery of an event of ``event_type`` is sent, if any."""
        for rule in self.rules:
            if not rule.matches_eventgrid(event_type):
                continue
            if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                continue
            rule.hits += 1
            return rule
        return None

    def shuffle(self, items: list[T]) -> list[T]:
        """``items`` in an order drawn from the seeded RNG (a ``reorder`` rule's buffer)."""
        shuffled = list(items)
        self._rng.shuffle(shuffled)
        return shuffled

    def status_fault(self, method: str, resource_type: str | None) -> FaultRule | None:
        """The rule that answers this request instead of the simulator, if any."""
        if not self.rules:
            return None
        return self._pick(method, resource_type, lro=False)

    def lro_failure(self, method: str, resource_type: str | None) -> OpError | None:
        """Called when a request starts an operation: the injected failure it should end with."""
        if not self.rules:
            return None
        rule = self._pick(method, resource_type, lro=True)
        if rule is None:
            return None
        if rule.lro_result == "Canceled":
            message = "The operation was canceled (injected by the sandbox)."
            return OpError(rule.error_code or "OperationCanceled", message, canceled=True)
        code = rule.error_code or "InternalServerError"
        return OpError(code, f"The operation failed with '{code}' (injected by the sandbox).")
