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
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.arm.envelope import RETRYABLE_STATUSES, Response, error_response
from sandbox.arm.lro import OpError

_RULE_KEYS = frozenset(
    {"method", "resource_type", "status", "rate", "retry_after", "count", "lro_result", "error_code"}
    | {"service", "operation", "account", "delay"}
)
SERVICES = frozenset({"arm", "blob"})
#: Kinds of blob operation a rule can target (``sandbox/blob/operations.py`` classifies requests).
BLOB_OPERATIONS = frozenset({"copy", "read", "list", "write", "delete", "any"})
_ARM_ONLY = ("resource_type", "lro_result", "retry_after")
_BLOB_ONLY = ("operation", "account", "delay")
_METHODS = frozenset({"GET", "PUT", "PATCH", "POST", "DELETE", "HEAD"})
_LRO_RESULTS = frozenset({"Failed", "Canceled"})

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

    def as_json(self) -> dict[str, Any]:
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
}


def _parse_rule(index: int, raw: object) -> FaultRule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise FaultConfigError(f"{where} must be an object")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise FaultConfigError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_RULE_KEYS)}")
    if raw.get("service", "arm") == "blob":
        given = [key for key in _ARM_ONLY if raw.get(key) is not None]
        if given:
            raise FaultConfigError(f"{where}: {given} apply to ARM rules only, not to 'service': 'blob'")
        if raw.get("status") is None:
            raise FaultConfigError(f"{where}: a blob rule needs 'status'")
    else:
        given = [key for key in _BLOB_ONLY if raw.get(key) is not None]
        if given:
            raise FaultConfigError(f"{where}: {given} apply to 'service': 'blob' rules only")
        if (raw.get("status") is None) == (raw.get("lro_result") is None):
            raise FaultConfigError(f"{where}: give exactly one of 'status' or 'lro_result'")
    values: dict[str, Any] = {}
    for key, (valid, normalize, expected) in _FIELDS.items():
        value = raw.get(key)
        if value is None:
            continue
        if not valid(value):
            raise FaultConfigError(f"{where}.{key} must be {expected}")
        values[key] = normalize(value)
    return FaultRule(**values)


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
