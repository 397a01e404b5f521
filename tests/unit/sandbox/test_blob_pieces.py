"""Pure pieces of the blob proxy: operation classification, blob fault rules, SAS times, Shared Key text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.arm.faults import FaultConfigError, FaultEngine, parse_rules
from sandbox.blob.operations import classify, parse_target
from sandbox.blob.sas import parse_time
from sandbox.blob.sharedkey import string_to_sign


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "name", "kind"),
    [
        ("POST", "/acct/", {"restype": "service", "comp": "userdelegationkey"}, {}, "GetUserDelegationKey", "read"),
        ("GET", "/acct", {"comp": "list"}, {}, "ListContainers", "list"),
        ("GET", "/acct/c1", {"restype": "container", "comp": "list"}, {}, "ListBlobs", "list"),
        ("PUT", "/acct/c1", {"restype": "container"}, {}, "CreateContainer", "write"),
        ("PUT", "/acct/c1/a/b", {}, {"x-ms-blob-type": "BlockBlob"}, "PutBlob", "write"),
        ("PUT", "/acct/c1/b", {"comp": "block"}, {}, "PutBlock", "write"),
        ("PUT", "/acct/c1/b", {"comp": "blocklist"}, {}, "PutBlockList", "write"),
        ("PUT", "/acct/c1/b", {}, {"x-ms-copy-source": "u"}, "CopyBlob", "copy"),
        ("PUT", "/acct/c1/b", {}, {"x-ms-copy-source": "u", "x-ms-requires-sync": "true"}, "CopyBlobFromUrl", "copy"),
        ("PUT", "/acct/c1/b", {}, {"x-ms-copy-source": "u", "x-ms-blob-type": "BlockBlob"}, "PutBlobFromUrl", "copy"),
        ("PUT", "/acct/c1/b", {"comp": "block"}, {"x-ms-copy-source": "u"}, "PutBlockFromUrl", "copy"),
        ("PUT", "/acct/c1/b", {"comp": "copy", "copyid": "x"}, {}, "AbortCopyBlob", "copy"),
        ("HEAD", "/acct/c1/b", {}, {}, "GetBlob", "read"),
        ("DELETE", "/acct/c1/b", {}, {}, "DeleteBlob", "delete"),
    ],
)
def test_requests_are_classified_like_the_rest_operations(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], name: str, kind: str
) -> None:
    target = parse_target(path)
    assert target is not None

    operation = classify(method, target, query, headers)

    assert (operation.name, operation.kind) == (name, kind)


def test_targets_keep_the_encoded_rest_and_spot_the_secondary() -> None:
    target = parse_target("/Acct-secondary/c1/dir/a%20b.bin")

    assert target is not None
    assert (target.account, target.secondary, target.container, target.blob) == ("acct", True, "c1", "dir/a b.bin")
    assert target.rest == "/c1/dir/a%20b.bin"


def test_blob_rules_match_operation_account_and_method_and_never_arm() -> None:
    rules, seed = parse_rules(
        {
            "rules": [
                {"service": "blob", "operation": "copy", "account": "StA", "status": 503, "count": 1},
                {"service": "blob", "method": "GET", "status": 0, "delay": 1.5},
            ]
        }
    )
    engine = FaultEngine()
    engine.configure(rules, seed)

    assert engine.status_fault("PUT", "Microsoft.Storage/storageAccounts") is None
    assert engine.blob_fault("PUT", "copy", "stb") is None
    assert engine.blob_fault("PUT", "copy", "sta") is rules[0]
    assert engine.blob_fault("PUT", "copy", "sta") is None  # count used up
    assert engine.blob_fault("GET", "read", "stb") is rules[1]
    assert rules[1].delay == 1.5
    assert rules[0].as_json()["hits"] == 1


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"service": "blob", "status": 500, "lro_result": "Failed"}, "apply to ARM rules only"),
        ({"service": "blob", "operation": "read"}, "needs 'status'"),
        ({"status": 500, "operation": "read"}, "apply to 'service': 'blob' rules only"),
        ({"service": "queue", "status": 500}, "service must be one of"),
        ({"service": "blob", "status": 500, "delay": -1}, "delay must be"),
    ],
)
def test_bad_blob_rules_are_refused(rule: dict[str, object], message: str) -> None:
    with pytest.raises(FaultConfigError, match=message):
        parse_rules({"rules": [rule]})


def test_sas_times_take_every_documented_form() -> None:
    assert parse_time("2026-03-04") == datetime(2026, 3, 4, tzinfo=UTC)
    assert parse_time("2026-03-04T05:06Z") == datetime(2026, 3, 4, 5, 6, tzinfo=UTC)
    assert parse_time("2026-03-04T05:06:07.1234567Z") == datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
    assert parse_time("2026-03-04T05:06:07+01:00") is None


def test_shared_key_text_follows_the_documented_layout() -> None:
    headers = {"content-length": "0", "x-ms-version": "2026-10-06", "x-ms-date": "D", "content-type": "t"}

    text = string_to_sign("get", headers, "acct", "/acct/c1", [("restype", "container"), ("comp", "list")])

    standard = "\n\n\n\nt\n\n\n\n\n\n\n"  # content-length 0 is empty; only content-type is set
    assert text == f"GET\n{standard}x-ms-date:D\nx-ms-version:2026-10-06\n/acct/acct/c1\ncomp:list\nrestype:container"
