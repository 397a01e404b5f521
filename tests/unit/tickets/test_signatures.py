"""Webhook signatures over the raw bytes: Jira's X-Hub-Signature and Standard Webhooks, two active secrets,
stale and forged deliveries refused."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from shared.domain.signatures import (
    BadSignature,
    check_jira_freshness,
    hub_signature,
    standard_signature,
    verify_hub_signature,
    verify_standard,
)

BODY = b'{"webhookEvent":"jira:issue_created","timestamp":1700000000000}'
WHSEC = "whsec_" + base64.b64encode(b"k" * 32).decode()
OLD_WHSEC = "whsec_" + base64.b64encode(b"o" * 32).decode()
NOW = 1_700_000_000.0


def reason(call) -> str:
    with pytest.raises(BadSignature) as caught:
        call()
    return caught.value.reason


def test_hub_signature_is_the_hex_hmac_of_the_raw_body():
    expected = "sha256=" + hmac.new(b"jira-secret", BODY, hashlib.sha256).hexdigest()
    assert hub_signature("jira-secret", BODY) == expected
    verify_hub_signature(["jira-secret"], BODY, expected)
    verify_hub_signature(["jira-secret"], BODY, expected.upper().replace("SHA256", "sha256"))


def test_hub_signature_accepts_either_active_secret_during_a_rotation():
    verify_hub_signature(["new", "old"], BODY, hub_signature("old", BODY))
    verify_hub_signature(["new", "old"], BODY, hub_signature("new", BODY))
    assert reason(lambda: verify_hub_signature(["new"], BODY, hub_signature("old", BODY))) == "mismatch"


@pytest.mark.parametrize(
    ("header", "body", "expected"),
    [
        (None, BODY, "missing"),
        ("", BODY, "missing"),
        ("sha1=abc", BODY, "malformed"),
        ("sha256=", BODY, "malformed"),
        (hub_signature("s", BODY), BODY + b" ", "mismatch"),  # altered after signing
        (hub_signature("s", BODY), BODY.replace(b"created", b"updated"), "mismatch"),
    ],
)
def test_hub_signature_refusals(header, body, expected):
    assert reason(lambda: verify_hub_signature(["s"], body, header)) == expected


def test_no_configured_secret_refuses_everything():
    assert reason(lambda: verify_hub_signature([], BODY, hub_signature("s", BODY))) == "no-secret"


def test_standard_webhooks_signs_id_timestamp_and_body_with_the_base64_key():
    content = b"msg_1.1700000000." + BODY
    expected = "v1," + base64.b64encode(hmac.new(b"k" * 32, content, hashlib.sha256).digest()).decode()
    assert standard_signature(WHSEC, "msg_1", 1700000000, BODY) == expected
    verify_standard([WHSEC], BODY, webhook_id="msg_1", timestamp="1700000000", signature=expected, now=NOW)


def test_standard_webhooks_rotation_lists_several_signatures_and_secrets():
    header = f"{standard_signature(OLD_WHSEC, 'm', 1700000000, BODY)} v1,Zm9v"
    verify_standard([WHSEC, OLD_WHSEC], BODY, webhook_id="m", timestamp="1700000000", signature=header, now=NOW)


@pytest.mark.parametrize(
    ("webhook_id", "timestamp", "now", "expected"),
    [
        ("m", str(int(NOW) - 301), NOW, "stale"),
        ("m", str(int(NOW) + 301), NOW, "stale"),  # from the future, too
        ("m", "soon", NOW, "malformed"),
        (None, str(int(NOW)), NOW, "missing"),
        ("other", str(int(NOW)), NOW, "mismatch"),  # the id is signed: a replay under another id fails
    ],
)
def test_standard_webhooks_refusals(webhook_id, timestamp, now, expected):
    signature = standard_signature(WHSEC, "m", int(NOW), BODY)
    call = lambda: verify_standard(  # noqa: E731
        [WHSEC], BODY, webhook_id=webhook_id, timestamp=timestamp, signature=signature, now=now
    )
    assert reason(call) == expected


def test_standard_webhooks_within_five_minutes_is_fresh():
    signature = standard_signature(WHSEC, "m", int(NOW) - 299, BODY)
    verify_standard([WHSEC], BODY, webhook_id="m", timestamp=str(int(NOW) - 299), signature=signature, now=NOW)


def test_jira_freshness_is_the_payload_timestamp_within_a_day():
    check_jira_freshness((NOW - 23 * 3600) * 1000, NOW)  # Jira retries up to ~30 min late; a day is allowed
    assert reason(lambda: check_jira_freshness((NOW - 25 * 3600) * 1000, NOW)) == "stale"
    assert reason(lambda: check_jira_freshness(None, NOW)) == "stale"
    assert reason(lambda: check_jira_freshness(True, NOW)) == "stale"
