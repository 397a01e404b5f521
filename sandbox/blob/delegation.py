"""Get User Delegation Key (``POST /?restype=service&comp=userdelegationkey``), answered by the proxy.

Request body ``<KeyInfo><Start/>?<Expiry/><DelegatedUserTid/>?</KeyInfo>``; bearer tokens only; the
expiry at most seven days from now ("Get User Delegation Key", Microsoft Learn). The key's value is
derived from its signed fields (``sas.delegation_key_value``), so SAS signed with it can be verified
later without remembering it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from sandbox.blob.errors import StorageError
from sandbox.blob.sas import delegation_key_value, parse_time

_MAX_LIFETIME = timedelta(days=7)


def _invalid(message: str) -> StorageError:
    return StorageError(400, "InvalidXmlNodeValue", message)


def user_delegation_key(
    body: bytes, *, account: str, oid: str, tid: str, version: str, secret: bytes, now: datetime
) -> bytes:
    """The ``<UserDelegationKey>`` answer for ``body``, or ``StorageError``."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as err:
        raise StorageError(400, "InvalidXmlDocument", "XML specified is not syntactically valid.") from err
    start_raw = (root.findtext("Start") or "").strip() or now.strftime("%Y-%m-%dT%H:%M:%SZ")
    expiry_raw = (root.findtext("Expiry") or "").strip()
    delegated_tid = (root.findtext("DelegatedUserTid") or "").strip()
    start, expiry = parse_time(start_raw), parse_time(expiry_raw)
    if start is None or expiry is None:
        raise _invalid("The value for one of the XML nodes is not in the correct format.")
    if expiry <= start or expiry > now + _MAX_LIFETIME:
        raise _invalid("The expiry must be after the start and at most seven days from now.")
    fields = {
        "skoid": oid,
        "sktid": tid,
        "skt": start_raw,
        "ske": expiry_raw,
        "sks": "b",
        "skv": version,
        "skdutid": delegated_tid,
    }
    value = delegation_key_value(secret, account, fields)
    delegated = f"<SignedDelegatedUserTid>{escape(delegated_tid)}</SignedDelegatedUserTid>" if delegated_tid else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><UserDelegationKey>'
        f"<SignedOid>{escape(oid)}</SignedOid><SignedTid>{escape(tid)}</SignedTid>"
        f"<SignedStart>{escape(start_raw)}</SignedStart><SignedExpiry>{escape(expiry_raw)}</SignedExpiry>"
        f"<SignedService>b</SignedService><SignedVersion>{escape(version)}</SignedVersion>{delegated}"
        f"<Value>{value}</Value></UserDelegationKey>"
    ).encode()
