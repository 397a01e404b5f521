"""Tickets as requests (pure; docs/tickets.md): a Jira issue or a ServiceNow record becomes a
``TicketEvent`` (which ticket, is it approved, what it asks for), and ``decide`` says what the event does
to the ticket's record: wait for approval, start, cancel, refuse or nothing.

The formats end here: the YAML of a ticket becomes a ``TicketRequest``, whose ``action_key`` makes "one
ticket + one action = at most one operation": a started action never starts again, whatever the
deliveries, their order or their number.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from shared.domain.asset_spec import parse_asset_id
from shared.domain.commands import CreateRegistry
from shared.domain.documents import load_yaml
from shared.domain.errors import FieldError, InvalidSpec
from shared.domain.records import utcnow

SOURCES = ("jira", "servicenow", "std")
ACTIONS = ("apply", "delete", "sync", "grant", "revoke", "promote")


class MalformedPayload(ValueError):
    """A signed delivery whose body is not the shape its source sends (answered 400, nothing stored)."""


@dataclass(frozen=True)
class DeliveryResult:
    """What a webhook delivery was answered: a duplicate of it gets the same."""

    status: int
    body: dict[str, Any]


def delivery_key(delivery_id: str) -> str:
    """The stored key of a delivery id (any characters in, a valid RowKey out)."""
    return hashlib.sha256(delivery_id.encode("utf-8")).hexdigest()[:48]


class Approval(Enum):
    WAITING = "waiting"
    APPROVED = "approved"
    REJECTED = "rejected"


class TicketStatus(Enum):
    PENDING = "Pending"  # waits for approval
    STARTED = "Started"  # its action runs (or ran) as an operation
    CANCELED = "Canceled"  # rejected or canceled before it started
    REFUSED = "Refused"  # invalid, or not allowed to the ticket's principal


@dataclass(frozen=True)
class TicketRef:
    """Where to write back: the source, the ticket's key (Jira issue key, ServiceNow sys_id), what people
    call it (the key, or the RITM number) and the ServiceNow table."""

    source: str
    key: str
    display: str = ""
    table: str = ""


@dataclass(frozen=True)
class TicketRequest:
    """What a ticket asks for, validated: ``document`` is the request as written (a registry spec for
    ``apply``), ``registry`` the registry it concerns."""

    action: str
    registry: str
    document: dict[str, Any]

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.document, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(f"{self.action}|{canonical}".encode()).hexdigest()[:16]

    @property
    def action_key(self) -> str:
        return f"{self.action}:{self.registry.lower()}:{self.digest}"


@dataclass(frozen=True)
class TicketEvent:
    ref: TicketRef
    approval: Approval
    principal_id: str
    request: TicketRequest | None = None
    problem: str | None = None  # the request is there but invalid: why
    order: float = 0.0  # newer events of one ticket have larger values (Jira timestamp, ServiceNow sys_mod_count)
    created: bool = False  # the source says the ticket is new (jira:issue_created, sys_mod_count 0)


@dataclass
class TicketRecord:
    source: str
    key: str
    display: str
    table: str
    principal_id: str
    status: TicketStatus = TicketStatus.PENDING
    request: dict[str, Any] | None = None  # the pending or last started request document
    action: str | None = None  # its action key
    operations: dict[str, str] = field(default_factory=dict)  # action key -> operation id
    message: str | None = None  # why it was refused or canceled
    order: float = 0.0
    reported_regions: list[str] = field(default_factory=list)
    progress_at: datetime | None = None
    first_delivery: tuple[str, DeliveryResult] | None = None  # (delivery_key, answer) of the delivery that made it
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    etag: str | None = None

    @property
    def ref(self) -> TicketRef:
        return TicketRef(self.source, self.key, self.display, self.table)

    @property
    def operation_id(self) -> str | None:
        return self.operations.get(self.action or "")


class Verdict(Enum):
    IGNORE = "ignore"
    PEND = "pend"
    START = "start"
    CANCEL = "cancel"
    REFUSE = "refuse"


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str = ""


def decide(record: TicketRecord | None, event: TicketEvent, claim_before: datetime) -> Decision:  # noqa: PLR0911
    """What ``event`` does to the ticket ``record`` (None: first heard of). An action is claimed (its
    operation id ``""``) while it is being started; a claim last written before ``claim_before`` is taken
    to have died with its claimer, so the action is started again (the commands are idempotent)."""
    request = event.request
    if record is not None and request is not None and request.action_key in record.operations:
        claimed = record.operations[request.action_key] == ""
        if claimed and record.updated_at < claim_before and event.approval is Approval.APPROVED:
            return Decision(Verdict.START, "approved; the earlier start did not finish")
        reason = "this action is being started" if claimed else "this action has started already"
        return Decision(Verdict.IGNORE, reason)
    if record is not None and event.order < record.order:
        return Decision(Verdict.IGNORE, "an older event than one already applied")
    if event.approval is Approval.REJECTED:
        if record is not None and record.status is TicketStatus.PENDING:
            return Decision(Verdict.CANCEL, "the ticket was rejected or canceled")
        return Decision(Verdict.IGNORE, "the ticket is rejected or canceled")
    if event.problem is not None:
        if record is not None and record.status is TicketStatus.REFUSED and record.message == event.problem:
            return Decision(Verdict.IGNORE, "the same invalid request was refused already")
        return Decision(Verdict.REFUSE, event.problem)
    if request is None:
        return Decision(Verdict.IGNORE, "the ticket holds no regctl request")
    if event.approval is Approval.APPROVED:
        return Decision(Verdict.START, "approved")
    if record is not None and record.status is TicketStatus.PENDING and record.action == request.action_key:
        return Decision(Verdict.IGNORE, "the request waits for approval, unchanged")
    return Decision(Verdict.PEND, "waiting for approval")


# --- the request inside a ticket ---------------------------------------------------------------------

_FENCED = re.compile(r"```(?:ya?ml)?[ \t]*\n(.*?)```", re.DOTALL | re.IGNORECASE)
_JIRA_CODE = re.compile(r"\{code(?::[^}]*)?\}(.*?)\{code\}", re.DOTALL | re.IGNORECASE)


def _adf_code_blocks(node: object) -> list[str]:
    """The text of every ``codeBlock`` node of an ADF document, in order."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "codeBlock":
            found.append("".join(str(c.get("text", "")) for c in node.get("content", []) if isinstance(c, dict)))
            return found
        for child in node.get("content", []) or []:
            found.extend(_adf_code_blocks(child))
    return found


def yaml_block(description: object) -> str | None:
    """The first fenced YAML of a description: an ADF ``codeBlock``, or in plain text ``{code:yaml}`` or
    triple backticks."""
    if isinstance(description, dict):
        blocks = _adf_code_blocks(description)
        return blocks[0] if blocks else None
    if isinstance(description, str):
        match = _FENCED.search(description) or _JIRA_CODE.search(description)
        return match.group(1) if match else None
    return None


def _required(document: dict[str, Any], name: str, errors: list[FieldError]) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        errors.append(FieldError(name, "required: a non-empty string"))
        return ""
    return value.strip()


def parse_request(document: object) -> TicketRequest:
    """A request document (the YAML of a ticket) as a ``TicketRequest``; ``InvalidSpec`` naming each bad
    field. A document without ``action`` is a registry spec, validated as ``POST /api/registries`` does."""
    if not isinstance(document, dict):
        raise InvalidSpec("the request must be a YAML mapping", [FieldError("", "must be a mapping")])
    action = document.get("action", "apply")
    if action not in ACTIONS:
        raise InvalidSpec(f"unknown action {action!r}", [FieldError("action", f"one of {', '.join(ACTIONS)}")])
    errors: list[FieldError] = []
    if action == "apply":
        spec_document = {k: v for k, v in document.items() if k != "action"}
        command = CreateRegistry.from_document(spec_document)
        return TicketRequest("apply", command.spec.name, spec_document)
    if action == "promote":
        source = _required(document, "source", errors)
        target = _required(document, "target", errors)
        if source:
            try:
                parse_asset_id(source)
            except InvalidSpec:
                errors.append(FieldError("source", "an azureml:// asset URI"))
        for optional in ("promotion", "name", "version"):
            value = document.get(optional, "given")
            if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
                errors.append(FieldError(optional, "a non-empty string when given"))
        if errors:
            raise InvalidSpec("the promotion request is invalid", errors)
        return TicketRequest("promote", target, dict(document))
    registry = _required(document, "registry", errors)
    if action in ("grant", "revoke"):
        _required(document, "principalId", errors)
        _required(document, "role", errors)
    if errors:
        raise InvalidSpec(f"the {action} request is invalid", errors)
    return TicketRequest(str(action), registry, dict(document))


def request_from_yaml(text: str) -> TicketRequest:
    """The request of a ticket's YAML, read as ``/api`` reads a spec (libyaml, alias and size caps)."""
    try:
        document = load_yaml(text)
    except InvalidSpec as exc:
        raise InvalidSpec(f"the request is not a YAML mapping: {exc.message}", code="InvalidRequest") from None
    return parse_request(document)


def problem_text(exc: InvalidSpec) -> str:
    details = "; ".join(str(e) for e in exc.errors[:10])
    return f"{exc.message}: {details}" if details else exc.message
