"""The ticketing simulator's state: Jira issues (a workflow with transitions per status, ADF comments), ServiceNow
records (journal fields, state, approval), and the webhook deliveries with their injectable faults.

Webhooks are sent as Jira Cloud and a ServiceNow Business Rule send them (docs/tickets.md):
- Jira: ``jira:issue_created`` / ``jira:issue_updated`` (with a ``changelog``), ``X-Hub-Signature: sha256=<hex>``,
  ``X-Atlassian-Webhook-Identifier`` unchanged across retries, ``X-Atlassian-Webhook-Retry`` on retries;
  retried on 408, 409, 425, 429, 5xx and no answer;
- ServiceNow: the record as JSON, Standard Webhooks headers (a fresh timestamp and signature per attempt,
  the same ``webhook-id``), fired on insert and when ``approval`` or the variables change (the Business
  Rule's condition), not on regctl's own ``work_notes``/``state`` writes.

Faults: ``duplicates`` (each delivery sent that many extra times, same identifier), ``delay_seconds``
(scaled by the time scale), ``hold`` (kept until released, in either order), ``api_down`` (the REST APIs
answer ``api_status``, 503 by default, or 429 with ``Retry-After``).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.domain.signatures import hub_signature, standard_signature

log = logging.getLogger(__name__)

STATUSES = {"1": "To Do", "2": "Approved", "3": "In Progress", "4": "Done", "5": "Rejected", "6": "Failed"}
RETRIABLE = {408, 409, 425, 429}
RETRY_DELAYS = (60.0, 120.0, 240.0, 480.0, 960.0)  # seconds, times the time scale


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Faults:
    duplicates: int = 0
    delay_seconds: float = 0.0
    hold: bool = False
    api_down: bool = False
    api_status: int = 503


@dataclass
class Outgoing:
    """One webhook to deliver: ``sign`` makes the headers of an attempt."""

    source: str
    identifier: str
    event: str
    body: bytes
    url: str


@dataclass
class Issue:
    key: str
    id: str
    project: str
    issue_type: str
    summary: str
    description: object
    labels: list[str]
    fields: dict[str, Any]
    status: str = "1"
    comments: list[dict[str, Any]] = field(default_factory=list)

    def document(self, base_url: str) -> dict[str, Any]:
        fields = {
            "summary": self.summary,
            "issuetype": {"id": "10050", "name": self.issue_type},
            "project": {"id": "10000", "key": self.project},
            "status": {"id": self.status, "name": STATUSES[self.status]},
            "labels": list(self.labels),
            "description": self.description,
            **self.fields,
        }
        return {"id": self.id, "key": self.key, "self": f"{base_url}/rest/api/3/issue/{self.id}", "fields": fields}


@dataclass
class Record:
    sys_id: str
    table: str
    number: str
    variables: dict[str, Any]
    cat_item: str = "regctl registry request"
    approval: str = "requested"
    state: str = "1"
    mod_count: int = 0
    journal: list[dict[str, str]] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "sys_id": self.sys_id,
            "table": self.table,
            "sys_class_name": self.table,
            "number": self.number,
            "approval": self.approval,
            "state": self.state,
            "sys_mod_count": str(self.mod_count),
            "cat_item": {"display_value": self.cat_item, "value": uuid.uuid5(uuid.NAMESPACE_URL, self.cat_item).hex},
            "variables": dict(self.variables),
        }


class Deliverer:
    """Sends webhooks in the background with Jira's retry policy, applying the faults."""

    def __init__(self, secrets: dict[str, str], time_scale: float) -> None:
        self._secrets = secrets
        self._scale = time_scale
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="webhook")
        self._lock = threading.Lock()
        self.faults = Faults()
        self.held: list[Outgoing] = []
        self.log: list[dict[str, Any]] = []

    def send(self, outgoing: Outgoing) -> None:
        with self._lock:
            if self.faults.hold:
                self.held.append(outgoing)
                return
            copies, delay = 1 + self.faults.duplicates, self.faults.delay_seconds * self._scale
        for _ in range(copies):
            self._pool.submit(self._deliver, outgoing, delay)

    def release(self, reverse: bool) -> int:
        with self._lock:
            held, self.held = self.held, []
            self.faults.hold = False
        for outgoing in reversed(held) if reverse else held:
            self.send(outgoing)
        return len(held)

    def _headers(self, outgoing: Outgoing, attempt: int) -> dict[str, str]:
        secret = self._secrets[outgoing.source]
        if outgoing.source == "jira":
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "Atlassian Webhook HTTP Client",
                "X-Atlassian-Webhook-Identifier": outgoing.identifier,
                "X-Atlassian-Webhook-Flow": "Primary",
                "X-Hub-Signature": hub_signature(secret, outgoing.body),
            }
            if attempt:
                headers["X-Atlassian-Webhook-Retry"] = str(attempt)
            return headers
        stamp = int(time.time())
        return {
            "Content-Type": "application/json",
            "User-Agent": "ServiceNow/1.0",
            "webhook-id": outgoing.identifier,
            "webhook-timestamp": str(stamp),
            "webhook-signature": standard_signature(secret, outgoing.identifier, stamp, outgoing.body),
        }

    def _deliver(self, outgoing: Outgoing, delay: float) -> None:
        if delay:
            time.sleep(delay)
        for attempt in range(len(RETRY_DELAYS) + 1):
            status: int | None = None
            try:
                answer = httpx.post(
                    outgoing.url, content=outgoing.body, headers=self._headers(outgoing, attempt), timeout=20
                )
                status = answer.status_code
            except httpx.HTTPError as exc:
                log.info("webhook %s not delivered: %s", outgoing.identifier, type(exc).__name__)
            with self._lock:
                self.log.append(
                    {"source": outgoing.source, "id": outgoing.identifier, "event": outgoing.event, "status": status}
                )
            if status is not None and status < 500 and status not in RETRIABLE:
                return
            if attempt < len(RETRY_DELAYS):
                time.sleep(RETRY_DELAYS[attempt] * self._scale)


class Tickets:
    """Jira issues and ServiceNow records, and where their webhooks go."""

    def __init__(self, base_url: str, hook_url: str, deliverer: Deliverer) -> None:
        self.base_url = base_url
        self.hook_url = hook_url.rstrip("/")
        self.deliver = deliverer
        self.lock = threading.RLock()
        self.issues: dict[str, Issue] = {}
        self.records: dict[str, Record] = {}
        self._ids = itertools.count(10001)
        self._numbers = itertools.count(10001)

    # -- Jira --------------------------------------------------------------------------------------

    def create_issue(self, body: dict[str, Any]) -> Issue:
        with self.lock:
            project = str(body.get("project", "REG")).upper()
            number = sum(1 for i in self.issues.values() if i.project == project) + 1
            issue = Issue(
                key=f"{project}-{number}",
                id=str(next(self._ids)),
                project=project,
                issue_type=str(body.get("issuetype", "Registry Request")),
                summary=str(body.get("summary", "")),
                description=body.get("description"),
                labels=[str(label) for label in body.get("labels", [])],
                fields=dict(body.get("fields", {})),
            )
            self.issues[issue.key] = issue
            self._jira_event(issue, "jira:issue_created", None)
            return issue

    def edit_issue(self, issue: Issue, body: dict[str, Any]) -> None:
        with self.lock:
            items = []
            for name in ("summary", "description", "labels"):
                if name in body:
                    items.append({"field": name, "fieldtype": "jira", "fromString": None, "toString": None})
                    setattr(issue, name, body[name])
            issue.fields.update(body.get("fields", {}))
            self._jira_event(issue, "jira:issue_updated", items)

    def transitions(self, issue: Issue) -> list[dict[str, Any]]:
        return [
            {"id": f"{sid}1", "name": name, "to": {"id": sid, "name": name}, "hasScreen": False}
            for sid, name in STATUSES.items()
            if sid != issue.status
        ]

    def transition(self, issue: Issue, status_id: str) -> None:
        with self.lock:
            before, issue.status = issue.status, status_id
            item = {
                "field": "status",
                "fieldtype": "jira",
                "from": before,
                "fromString": STATUSES[before],
                "to": status_id,
                "toString": STATUSES[status_id],
            }
            self._jira_event(issue, "jira:issue_updated", [item])

    def _jira_event(self, issue: Issue, event: str, changelog: list[dict[str, Any]] | None) -> None:
        payload: dict[str, Any] = {
            "timestamp": now_ms(),
            "webhookEvent": event,
            "issue_event_type_name": "issue_created" if event == "jira:issue_created" else "issue_generic",
            "user": {"accountId": "557058:sandbox-requester", "displayName": "Sandbox Requester"},
            "issue": issue.document(self.base_url),
        }
        if changelog is not None:
            payload["changelog"] = {"id": str(next(self._ids)), "items": changelog}
        body = json.dumps(payload).encode()
        self.deliver.send(Outgoing("jira", str(uuid.uuid4()), event, body, f"{self.hook_url}/jira"))

    # -- ServiceNow --------------------------------------------------------------------------------

    def create_record(self, body: dict[str, Any]) -> Record:
        with self.lock:
            record = Record(
                sys_id=uuid.uuid4().hex,
                table=str(body.get("table", "sc_req_item")),
                number=f"RITM{next(self._numbers):07d}",
                variables=dict(body.get("variables", {})),
                cat_item=str(body.get("cat_item", "regctl registry request")),
            )
            self.records[record.sys_id] = record
            self._business_rule(record, "insert")
            return record

    def update_record(self, record: Record, changes: dict[str, Any]) -> None:
        """Apply ``changes``; ``work_notes``/``comments`` append to the journal. The Business Rule fires
        when ``approval`` or the variables change."""
        with self.lock:
            fires = False
            for name, value in changes.items():
                if name in ("work_notes", "comments"):
                    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())
                    record.journal.append({"element": name, "value": str(value), "sys_created_on": stamp})
                elif name == "approval" and value != record.approval:
                    record.approval, fires = str(value), True
                elif name == "variables":
                    record.variables.update(value)
                    fires = True
                elif name == "state":
                    record.state = str(value)
            record.mod_count += 1
            if fires:
                self._business_rule(record, "update")

    def _business_rule(self, record: Record, when: str) -> None:
        body = json.dumps(record.document()).encode()
        outgoing = Outgoing("servicenow", f"msg_{uuid.uuid4().hex}", when, body, f"{self.hook_url}/servicenow")
        self.deliver.send(outgoing)
