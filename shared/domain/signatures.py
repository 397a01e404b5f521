"""Webhook signatures, verified against the raw body bytes (pure; docs/tickets.md, "Signatures").

- Jira Cloud admin webhooks (WebSub): ``X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``.
  The signature carries no time; freshness is the payload's ``timestamp`` (ms) within ``JIRA_TOLERANCE``,
  since Jira retries up to about 30 minutes late.
- Standard Webhooks 1.0 (a ServiceNow Business Rule script, internal tools): ``webhook-id``,
  ``webhook-timestamp`` (unix seconds, within ``STANDARD_TOLERANCE`` either way) and ``webhook-signature:
  v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` (a space-separated list, one per active
  secret). A ``whsec_`` secret is the base64 of the key.

Every source accepts several active secrets (rotation); each comparison is constant-time
(``hmac.compare_digest``). A failure raises ``BadSignature`` with a reason fit for a counter and a log
line, never the secret or the signature.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Sequence
from datetime import timedelta

JIRA_TOLERANCE = timedelta(hours=24)
STANDARD_TOLERANCE = timedelta(minutes=5)
WHSEC_PREFIX = "whsec_"


class BadSignature(Exception):
    """The delivery is not authentic or not fresh: ``reason`` is one of ``missing``, ``malformed``,
    ``mismatch``, ``stale``, ``no-secret``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def secret_key(secret: str) -> bytes:
    """The HMAC key of a configured secret: a ``whsec_`` secret is base64 of the key (Standard Webhooks);
    any other string is used as its UTF-8 bytes (Jira's secret is a plain string)."""
    if secret.startswith(WHSEC_PREFIX):
        try:
            return base64.b64decode(secret[len(WHSEC_PREFIX) :], validate=True)
        except binascii.Error:
            raise BadSignature("no-secret") from None
    return secret.encode("utf-8")


@functools.lru_cache(maxsize=16)
def _keyed(secret: str) -> hmac.HMAC:
    """An HMAC-SHA256 keyed with ``secret``, made once: each signature copies it (the key schedule is done)."""
    return hmac.new(secret_key(secret), digestmod=hashlib.sha256)


def _mac(secret: str, *parts: bytes) -> hmac.HMAC:
    mac = _keyed(secret).copy()
    for part in parts:
        mac.update(part)
    return mac


def hub_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature`` value Jira sends for ``body``."""
    return "sha256=" + _mac(secret, body).hexdigest()


def verify_hub_signature(secrets: Sequence[str], body: bytes, header: str | None) -> None:
    """Raise ``BadSignature`` unless ``header`` is ``sha256=<hex>`` of ``body`` under one of ``secrets``."""
    if not secrets:
        raise BadSignature("no-secret")
    if not header:
        raise BadSignature("missing")
    scheme, _, digest = header.strip().partition("=")
    if scheme.lower() != "sha256" or not digest:
        raise BadSignature("malformed")
    given = digest.lower().encode("ascii", "replace")
    matched = False
    for secret in secrets:  # every secret is tried: the time does not tell which one matched
        expected = _mac(secret, body).hexdigest().encode("ascii")
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise BadSignature("mismatch")


def standard_signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` entry of ``webhook-signature`` for this delivery."""
    digest = _mac(secret, f"{webhook_id}.{timestamp}.".encode(), body).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_standard(
    secrets: Sequence[str],
    body: bytes,
    *,
    webhook_id: str | None,
    timestamp: str | None,
    signature: str | None,
    now: float,
    tolerance: timedelta = STANDARD_TOLERANCE,
) -> None:
    """Raise ``BadSignature`` unless the Standard Webhooks headers sign ``body`` under one of ``secrets``
    and the timestamp is within ``tolerance`` of ``now`` (unix seconds), in either direction."""
    if not secrets:
        raise BadSignature("no-secret")
    if not webhook_id or not timestamp or not signature:
        raise BadSignature("missing")
    try:
        sent = int(timestamp)
    except ValueError:
        raise BadSignature("malformed") from None
    if abs(now - sent) > tolerance.total_seconds():
        raise BadSignature("stale")
    given = [e.partition(",")[2].encode("ascii", "replace") for e in signature.split() if e.startswith("v1,")]
    if not given:
        raise BadSignature("malformed")
    matched = False
    for secret in secrets:
        expected = standard_signature(secret, webhook_id, sent, body).partition(",")[2].encode("ascii")
        for candidate in given:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise BadSignature("mismatch")


def check_jira_freshness(timestamp_ms: object, now: float, tolerance: timedelta = JIRA_TOLERANCE) -> None:
    """A Jira payload's ``timestamp`` (ms since the epoch) within ``tolerance`` of ``now`` (seconds)."""
    if isinstance(timestamp_ms, bool) or not isinstance(timestamp_ms, int | float):
        raise BadSignature("stale")
    if abs(now - timestamp_ms / 1000.0) > tolerance.total_seconds():
        raise BadSignature("stale")
