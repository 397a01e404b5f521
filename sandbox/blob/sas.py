"""Shared access signatures of Blob Storage: service SAS, account SAS and user delegation SAS.

The string-to-sign is the documented one for the signed version ``sv`` ("Create a service SAS",
"Create an account SAS", "Create a user delegation SAS", Microsoft Learn):

* service SAS, 2018-11-09 on: ``sp st se canonicalizedResource si sip spr sv sr snapshot [ses] rscc rscd
  rsce rscl rsct`` (``ses``, the encryption scope, from 2020-12-06);
* user delegation SAS, 2018-11-09 on: ``sp st se canonicalizedResource skoid sktid skt ske sks skv
  [saoid suoid scid] [skdutid sduoid] sip spr sv sr snapshot [ses] [srh srq] rscc rscd rsce rscl rsct``
  (``saoid``… from 2020-02-10, ``skdutid``/``sduoid`` from 2025-07-05, signed request headers and query
  parameters from 2026-04-06);
* account SAS: ``account sp ss srt st se sip spr sv [ses]`` each followed by a newline.

``canonicalizedResource`` is ``/blob/{account}/{container}[/{blob}]``. Older versions and stored access
policies (``si``) are refused. Times are checked against now, the resource against the request, the
permissions by the caller (``auth.py``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.blob import errors
from sandbox.blob.errors import StorageError
from sandbox.blob.operations import Target
from sandbox.blob.sharedkey import signature

#: Every query parameter a SAS may carry; the proxy strips them before forwarding.
SAS_PARAMETERS = frozenset(
    {"sv", "ss", "srt", "sp", "se", "st", "spr", "sip", "sr", "sig", "si", "ses", "sdd", "srh", "srq"}
    | {"skoid", "sktid", "skt", "ske", "sks", "skv", "skdutid", "sduoid", "saoid", "suoid", "scid"}
    | {"rscc", "rscd", "rsce", "rscl", "rsct"}
)
_OVERRIDES = {
    "rscc": "cache-control",
    "rscd": "content-disposition",
    "rsce": "content-encoding",
    "rscl": "content-language",
    "rsct": "content-type",
}
_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?Z)?$")


@dataclass(frozen=True)
class SasGrant:
    kind: str  # "service", "account" or "delegation"
    permissions: str
    #: service / delegation: ``c`` (container), ``b``, ``bs``, ``bv``; account: the ``srt`` letters.
    resource: str
    #: Response headers a GET/HEAD answer must carry (``rscc`` …), by header name.
    overrides: dict[str, str]
    #: ``sduoid``: the caller's bearer token must be this principal's.
    delegated_user: str | None = None


def parse_time(value: str) -> datetime | None:
    """An ISO 8601 UTC time in one of the forms SAS accepts (date, minutes, seconds, fractions)."""
    match = _TIME.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction or "0").ljust(7, "0")[:6])
    try:
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tzinfo=UTC
        )
    except ValueError:
        return None


def is_sas(query: Mapping[str, str]) -> bool:
    return "sig" in query


def _line(query: Mapping[str, str], name: str) -> str:
    return query.get(name, "") + "\n"


def _check_common(query: Mapping[str, str], now: datetime, client_ip: str | None) -> None:
    version = query.get("sv", "")
    if version < "2018-11-09":
        raise errors.auth_failed(f"Signed version '{version}' is not supported by the sandbox (2018-11-09 on).")
    if query.get("si"):
        raise errors.auth_failed("Stored access policies are not simulated by the sandbox.")
    start_raw, expiry_raw = query.get("st", ""), query.get("se", "")
    expiry = parse_time(expiry_raw)
    start = parse_time(start_raw) if start_raw else None
    if expiry is None or (start_raw and start is None):
        raise errors.auth_failed("Signed expiry or start time is missing or not a valid ISO 8601 UTC time.")
    if now > expiry or (start is not None and now < start):
        stamp = now.strftime("%a, %d %b %Y %H:%M:%S GMT")
        raise errors.auth_failed(
            f"Signature not valid in the specified time frame: Start [{start_raw}] - Expiry [{expiry_raw}] - "
            f"Current [{stamp}]"
        )
    protocol = query.get("spr", "https,http")
    if "https" not in protocol.split(","):
        raise StorageError(
            403,
            "AuthorizationProtocolMismatch",
            "This request is not authorized to perform this operation using this protocol.",
        )
    allowed = query.get("sip")
    if allowed and client_ip is not None and not _ip_allowed(allowed, client_ip):
        raise StorageError(
            403,
            "AuthorizationSourceIPMismatch",
            f"This request is not authorized to perform this operation using this source IP {client_ip}.",
        )


def _ip_allowed(allowed: str, client_ip: str) -> bool:
    try:
        ip = int(ipaddress.ip_address(client_ip))
        low, _, high = allowed.partition("-")
        return int(ipaddress.ip_address(low)) <= ip <= int(ipaddress.ip_address(high or low))
    except ValueError:
        return False


def _check_signature(given: str, keys: list[str], text: str) -> None:
    if not any(hmac.compare_digest(given, signature(key, text)) for key in keys):
        raise errors.auth_failed(f"Signature did not match. String to sign used was {text}")


def _resource_path(account: str, target: Target, resource: str) -> str:
    if target.container is None:
        raise errors.resource_type_mismatch()
    if resource == "c":
        return f"/blob/{account}/{target.container}"
    if resource in ("b", "bs", "bv"):
        if target.blob is None:
            raise errors.resource_type_mismatch()
        return f"/blob/{account}/{target.container}/{target.blob}"
    raise errors.auth_failed(f"Signed resource '{resource}' is not supported by the sandbox (c, b, bs, bv).")


def _dynamic_lines(query: Mapping[str, str], headers: Mapping[str, str], params: Mapping[str, str]) -> str:
    """The signed request headers (``srh``) and query parameters (``srq``) of a dynamic delegation SAS."""
    names = [n for n in query.get("srh", "").split(",") if n]
    srh = "".join(f"{n}:{headers.get(n.lower(), '')}\n" for n in names)
    keys = [n for n in query.get("srq", "").split(",") if n]
    srq = ("\n" + "\n".join(f"{n}:{params.get(n.lower(), '')}" for n in keys)) if keys else ""
    return srh + "\n" + srq + "\n"


def verify_service_sas(
    query: Mapping[str, str],
    account: str,
    target: Target,
    keys: list[str],
    delegation_key: Callable[[Mapping[str, str]], str],
    *,
    now: datetime,
    client_ip: str | None,
    headers: Mapping[str, str],
    params: Mapping[str, str],
) -> SasGrant:
    """A service or user delegation SAS (``skoid`` present) for ``target``; raises ``StorageError``."""
    _check_common(query, now, client_ip)
    version, resource = query.get("sv", ""), query.get("sr", "")
    text = _line(query, "sp") + _line(query, "st") + _line(query, "se")
    text += _resource_path(account, target, resource) + "\n"
    delegation = "skoid" in query
    if delegation:
        _check_delegation_key(query, now)
        text += "".join(_line(query, n) for n in ("skoid", "sktid", "skt", "ske", "sks", "skv"))
        if version >= "2020-02-10":
            text += "".join(_line(query, n) for n in ("saoid", "suoid", "scid"))
        if version >= "2025-07-05":
            text += _line(query, "skdutid") + _line(query, "sduoid")
        signing_keys = [delegation_key(query)]
    else:
        text += _line(query, "si")
        signing_keys = keys
    text += "".join(_line(query, n) for n in ("sip", "spr", "sv", "sr", "snapshot"))
    if version >= "2020-12-06":
        text += _line(query, "ses")
    if delegation and version >= "2026-04-06":
        text += _dynamic_lines(query, headers, params)
    text += "".join(_line(query, n) for n in _OVERRIDES)
    _check_signature(query.get("sig", ""), signing_keys, text.removesuffix("\n"))
    overrides = {header: query[name] for name, header in _OVERRIDES.items() if query.get(name)}
    return SasGrant(
        "delegation" if delegation else "service",
        query.get("sp", ""),
        resource,
        overrides,
        delegated_user=query.get("sduoid") or None,
    )


def _check_delegation_key(query: Mapping[str, str], now: datetime) -> None:
    if query.get("sks") != "b":
        raise errors.auth_failed("The signed key service (sks) must be 'b'.")
    key_start, key_expiry = parse_time(query.get("skt", "")), parse_time(query.get("ske", ""))
    if key_start is None or key_expiry is None or not key_start <= now <= key_expiry:
        raise errors.auth_failed("The user delegation key is not valid at the current time.")


def verify_account_sas(
    query: Mapping[str, str], account: str, keys: list[str], *, now: datetime, client_ip: str | None
) -> SasGrant:
    """An account SAS; ``ss`` must include ``b``."""
    _check_common(query, now, client_ip)
    version = query.get("sv", "")
    text = account + "\n" + "".join(_line(query, n) for n in ("sp", "ss", "srt", "st", "se", "sip", "spr", "sv"))
    if version >= "2020-12-06":
        text += _line(query, "ses")
    _check_signature(query.get("sig", ""), keys, text)
    if "b" not in query.get("ss", ""):
        raise StorageError(
            403,
            "AuthorizationServiceMismatch",
            "This request is not authorized to perform this operation using this service.",
        )
    return SasGrant("account", query.get("sp", ""), query.get("srt", ""), {})


def delegation_key_value(secret: bytes, account: str, query: Mapping[str, str]) -> str:
    """The user delegation key Get User Delegation Key handed out for these ``sk*`` values.

    The proxy keeps no table of keys: a key is the HMAC of its signed fields (and the account) under
    the proxy's secret, so it can be derived again from a SAS's ``skoid``, ``sktid`` … values."""
    fields = [account] + [query.get(n, "") for n in ("skoid", "sktid", "skt", "ske", "sks", "skv", "skdutid")]
    digest = hmac.new(secret, "\n".join(fields).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")
