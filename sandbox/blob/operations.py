"""What a blob request is: its target (account, container, blob) and its operation.

The operation decides the fault ``operation`` a rule can match (copy, read, list, write, delete), the
SAS permission it needs (the permission tables of "Create a service SAS" and "Create an account SAS",
Microsoft Learn) and the level an account SAS's ``srt`` must allow (s service, c container, o object).
Put Blob From URL and Put Block From URL are recognised (as copies) but Azurite does not implement them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

SECONDARY_SUFFIX = "-secondary"


@dataclass(frozen=True)
class Target:
    #: The simulated account name, lowercased, without ``-secondary``.
    account: str
    secondary: bool
    container: str | None
    blob: str | None
    #: The path after the account segment, as sent (percent-encoded): ``""``, ``/c`` or ``/c/b``.
    rest: str


def parse_target(raw_path: str) -> Target | None:
    """``/{account}[/{container}[/{blob}]]``; ``None`` without an account segment."""
    trimmed = raw_path.lstrip("/")
    account_raw, slash, rest = trimmed.partition("/")
    account = unquote(account_raw).lower()
    if not account:
        return None
    secondary = account.endswith(SECONDARY_SUFFIX)
    if secondary:
        account = account.removesuffix(SECONDARY_SUFFIX)
    container_raw, has_blob, blob_raw = rest.partition("/")
    container = unquote(container_raw) or None
    blob = unquote(blob_raw) if has_blob and blob_raw else None
    return Target(account, secondary, container, blob, f"/{rest}" if slash else "")


@dataclass(frozen=True)
class Operation:
    #: The REST operation's name, e.g. ``PutBlob``, ``CopyBlobFromUrl``, ``ListBlobs``.
    name: str
    #: ``copy``, ``read``, ``list``, ``write`` or ``delete``: what fault rules match on.
    kind: str
    #: ``service``, ``container`` or ``blob``.
    level: str
    #: The SAS permission letter it needs.
    permission: str
    #: A write that a SAS with ``c`` (create) but without ``w`` may do when the blob does not exist.
    creates: bool = False


_BLOB_COMP_WRITES = {
    "copy": Operation("AbortCopyBlob", "copy", "blob", "w"),
    "blocklist": Operation("PutBlockList", "write", "blob", "w", creates=True),
    "tags": Operation("SetBlobTags", "write", "blob", "t"),
}
_BLOB_WRITES = {
    "block": "PutBlock",
    "metadata": "SetBlobMetadata",
    "properties": "SetBlobProperties",
    "lease": "LeaseBlob",
    "snapshot": "SnapshotBlob",
    "tier": "SetBlobTier",
    "expiry": "SetBlobExpiry",
    "immutabilitypolicies": "SetImmutabilityPolicy",
    "legalhold": "SetLegalHold",
    "appendblock": "AppendBlock",
    "page": "PutPage",
}


def classify(method: str, target: Target, query: dict[str, str], headers: dict[str, str]) -> Operation:
    """``query``: lowercased names; ``headers``: lowercased names."""
    comp = query.get("comp", "").lower()
    if target.container is None:
        return _service_operation(method, comp)
    if target.blob is None:
        return _container_operation(method, comp)
    return _blob_operation(method, comp, headers)


def _service_operation(method: str, comp: str) -> Operation:
    if comp == "userdelegationkey":
        return Operation("GetUserDelegationKey", "read", "service", "")
    if comp == "list":
        return Operation("ListContainers", "list", "service", "l")
    if method in ("GET", "HEAD"):
        return Operation("GetServiceProperties", "read", "service", "r")
    return Operation("SetServiceProperties", "write", "service", "w")


def _container_operation(method: str, comp: str) -> Operation:
    if comp == "list":
        return Operation("ListBlobs", "list", "container", "l")
    if method in ("GET", "HEAD"):
        return Operation("GetContainerProperties", "read", "container", "r")
    if method == "DELETE":
        return Operation("DeleteContainer", "delete", "container", "d")
    if method == "PUT" and not comp:
        return Operation("CreateContainer", "write", "container", "c")
    return Operation("SetContainerProperties", "write", "container", "w")


def _blob_operation(method: str, comp: str, headers: dict[str, str]) -> Operation:
    if method in ("GET", "HEAD"):
        if comp == "tags":
            return Operation("GetBlobTags", "read", "blob", "t")
        return Operation("GetBlockList" if comp == "blocklist" else "GetBlob", "read", "blob", "r")
    if method == "DELETE":
        return Operation("DeleteBlob", "delete", "blob", "d")
    return _blob_write(comp, headers)


def _blob_write(comp: str, headers: dict[str, str]) -> Operation:
    if not comp:
        return _blob_put(headers)
    fixed = _BLOB_COMP_WRITES.get(comp)
    if fixed is not None:
        return fixed
    if comp == "block" and "x-ms-copy-source" in headers:
        return Operation("PutBlockFromUrl", "copy", "blob", "w", creates=True)
    return Operation(_BLOB_WRITES.get(comp, "SetBlob"), "write", "blob", "w", creates=comp == "block")


def _blob_put(headers: dict[str, str]) -> Operation:
    if "x-ms-copy-source" not in headers:
        return Operation("PutBlob", "write", "blob", "w", creates=True)
    if "x-ms-blob-type" in headers:
        return Operation("PutBlobFromUrl", "copy", "blob", "w", creates=True)
    sync = headers.get("x-ms-requires-sync", "").lower() == "true"
    return Operation("CopyBlobFromUrl" if sync else "CopyBlob", "copy", "blob", "w", creates=True)
