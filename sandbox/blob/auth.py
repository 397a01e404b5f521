"""Who may do what on a simulated account's blobs: the proxy's authentication and authorization.

* ``Authorization: Bearer <token>``: accepted when well formed, as the ARM simulator accepts tokens (no
  signature or RBAC check). The caller's object and tenant ids (for user delegation keys) are the
  token's ``oid``/``tid`` claims when it is a JWT, else derived from the token.
* ``Authorization: SharedKey {account}:{signature}``: the account's ``key1`` or ``key2``, over the
  documented string-to-sign (``sharedkey.py``); ``x-ms-date`` (or ``Date``) within 15 minutes.
* SAS in the query (``sig``): account SAS (``ss``/``srt``), service SAS or user delegation SAS
  (``sas.py``), then the operation's permission, resource and level.
* Nothing: 401 ``NoAuthenticationInformation``.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from sandbox.arm.config import SANDBOX_TENANT_ID
from sandbox.blob import errors, sas, sharedkey
from sandbox.blob.errors import StorageError
from sandbox.blob.operations import Operation, Target

_CLOCK_SKEW = timedelta(minutes=15)
_ACCOUNT_SAS_LEVELS = {"service": "s", "container": "c", "blob": "o"}


@dataclass(frozen=True)
class Caller:
    scheme: str  # "bearer", "sharedkey" or "sas"
    oid: str | None = None
    tid: str | None = None
    grant: sas.SasGrant | None = None

    @property
    def must_create(self) -> bool:
        """A SAS write allowed by ``c`` only: the blob must not exist yet."""
        return self.grant is not None and "w" not in self.grant.permissions


@dataclass(frozen=True)
class AuthInput:
    method: str
    raw_path: str
    target: Target
    headers: Mapping[str, str]
    #: The query as decoded pairs (Shared Key) and as a lowercased-name dict (SAS).
    query_pairs: list[tuple[str, str]]
    query: Mapping[str, str]
    client_ip: str | None


def bearer_principal(token: str) -> tuple[str, str]:
    """``(oid, tid)`` of a bearer token: its claims if it is a JWT, else stable ids derived from it."""
    parts = token.split(".")
    if len(parts) == 3:
        try:
            padded = parts[1] + "=" * (-len(parts[1]) % 4)
            claims = json.loads(base64.urlsafe_b64decode(padded))
            if isinstance(claims, dict) and isinstance(claims.get("oid"), str):
                return claims["oid"], str(claims.get("tid") or SANDBOX_TENANT_ID)
        except ValueError:
            pass
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"regctl-sandbox-principal:{token}")), SANDBOX_TENANT_ID


def authenticate(request: AuthInput, account: str, keys: list[str], secret: bytes, now: datetime) -> Caller:
    """The caller of ``request`` to ``account``, or ``StorageError``; checks no permission yet."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, credential = header.partition(" ")
        if scheme.lower() == "bearer" and credential.strip():
            oid, tid = bearer_principal(credential.strip())
            return Caller("bearer", oid, tid)
        if scheme == "SharedKey":
            _check_shared_key(request, account, keys, credential, now)
            return Caller("sharedkey")
        raise errors.auth_failed("The Authorization header is provided in an invalid format.")
    if sas.is_sas(request.query):
        if "ss" in request.query or "srt" in request.query:
            grant = sas.verify_account_sas(request.query, account, keys, now=now, client_ip=request.client_ip)
        else:
            grant = sas.verify_service_sas(
                request.query,
                account,
                request.target,
                keys,
                lambda q: sas.delegation_key_value(secret, account, q),
                now=now,
                client_ip=request.client_ip,
                headers=request.headers,
                params=request.query,
            )
        return Caller("sas", grant=grant)
    raise StorageError(
        401,
        "NoAuthenticationInformation",
        "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
    )


def _check_shared_key(request: AuthInput, account: str, keys: list[str], credential: str, now: datetime) -> None:
    name, _, given = credential.partition(":")
    if name != account or not given:
        raise errors.auth_failed(f"The account '{name}' in the Authorization header is not '{account}'.")
    raw_date = request.headers.get("x-ms-date") or request.headers.get("date")
    if not raw_date:
        raise errors.auth_failed("Request date header not specified.")
    try:
        sent = parsedate_to_datetime(raw_date)
    except (TypeError, ValueError) as err:
        raise errors.auth_failed(f"The date header '{raw_date}' is not valid.") from err
    if sent.tzinfo is None or abs(now - sent) > _CLOCK_SKEW:
        raise errors.auth_failed(f"Request date header too old: '{raw_date}'")
    text = sharedkey.string_to_sign(request.method, request.headers, account, request.raw_path, request.query_pairs)
    if not sharedkey.matches_any(given, keys, text):
        raise errors.auth_failed(
            f"The MAC signature found in the HTTP request '{given}' is not the same as any computed signature. "
            f"Server used following string to sign: '{text}'."
        )


def authorize(caller: Caller, operation: Operation, target: Target) -> None:
    """Raise unless ``caller`` may perform ``operation`` (SAS permissions and resource levels)."""
    if operation.name == "GetUserDelegationKey" and caller.scheme != "bearer":
        raise errors.auth_failed("Only a bearer token (OAuth) can get a user delegation key.")
    grant = caller.grant
    if grant is None:
        return
    if grant.delegated_user is not None:
        raise errors.auth_failed("This SAS is bound to a user (sduoid); the sandbox does not combine SAS and tokens.")
    if grant.kind == "account":
        if _ACCOUNT_SAS_LEVELS[operation.level] not in grant.resource:
            raise errors.resource_type_mismatch()
    elif operation.level == "service" or (
        operation.level == "container" and (operation.name != "ListBlobs" or grant.resource != "c")
    ):
        raise errors.resource_type_mismatch()
    if operation.permission in grant.permissions:
        return
    if operation.creates and "c" in grant.permissions:
        return  # a create: the proxy checks that the blob is new (Caller.must_create)
    raise errors.permission_mismatch()


def utc_now() -> datetime:
    return datetime.now(UTC)
