"""Ticket payloads as Jira and a ServiceNow Business Rule send them, signed; and a World that runs the ticket
queues (write-backs and OperationFinished) beside the operation loop."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from fastapi.testclient import TestClient

from handlers.http_api import create_api
from shared.domain.access import Principal
from shared.domain.messages import OperationFinished, decode_message
from shared.domain.signatures import hub_signature, standard_signature
from shared.domain.ticket_mapping import DEFAULT_TICKET_PRINCIPAL
from shared.domain.ticket_writes import TicketWrite
from tests.unit.services.fake_access import OWNER_ID
from tests.unit.services.world import World

JIRA_SECRET = "jira-webhook-secret"
SN_SECRET = "whsec_c2VydmljZW5vdy1idXNpbmVzcy1ydWxlLWtleQ=="
SPEC_YAML = """name: TicketReg
location: eastus
replication_locations:
  - location: eastus
  - location: eastus2
  - location: westus
"""


def adf_with_yaml(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "Please create this registry."}]},
            {"type": "codeBlock", "attrs": {"language": "yaml"}, "content": [{"type": "text", "text": text}]},
        ],
    }


def jira_issue(
    key: str = "REG-1",
    status: str = "To Do",
    yaml_text: str = SPEC_YAML,
    *,
    event: str = "jira:issue_created",
    at: float | None = None,
    labels: tuple[str, ...] = (),
    issue_type: str = "Registry Request",
    project: str = "REG",
    registry: str | None = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "summary": "a registry",
        "issuetype": {"id": "10050", "name": issue_type},
        "project": {"id": "10000", "key": project},
        "status": {"id": "1", "name": status},
        "labels": list(labels),
        "description": adf_with_yaml(yaml_text),
    }
    if registry is not None:
        fields["customfield_10100"] = registry
    return {
        "timestamp": int((at if at is not None else time.time()) * 1000),
        "webhookEvent": event,
        "issue_event_type_name": "issue_created" if event.endswith("created") else "issue_generic",
        "user": {"accountId": "5b10a2844c20165700ede21g", "displayName": "Requester"},
        "issue": {
            "id": "10001",
            "key": key,
            "self": f"https://example.atlassian.net/rest/api/2/issue/{key}",
            "fields": fields,
        },
    }


def sn_record(
    sys_id: str = "a" * 32, approval: str = "requested", yaml_text: str = SPEC_YAML, mod: int = 0
) -> dict[str, Any]:
    return {
        "table": "sc_req_item",
        "sys_id": sys_id,
        "number": "RITM0010001",
        "approval": approval,
        "state": "1",
        "sys_mod_count": str(mod),
        "cat_item": {"display_value": "regctl registry request", "value": "b" * 32},
        "variables": {"regctl_request": yaml_text},
    }


def jira_headers(body: bytes, delivery: str | None = None, secret: str = JIRA_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hub-Signature": hub_signature(secret, body),
        "X-Atlassian-Webhook-Identifier": delivery or str(uuid.uuid4()),
    }


def std_headers(body: bytes, delivery: str | None = None, at: int | None = None) -> dict[str, str]:
    webhook_id = delivery or f"msg_{uuid.uuid4().hex}"
    stamp = at if at is not None else int(time.time())
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": standard_signature(SN_SECRET, webhook_id, stamp, body),
    }


class TicketWorld:
    """The World, its API with the hooks (the test secrets), and the ticket principal holding ``role``."""

    def __init__(self, role: str | None = "Owner", world: World | None = None) -> None:
        self.world = world if world is not None else World()
        secrets = {"jira": [JIRA_SECRET, "an-older-secret"], "servicenow": [SN_SECRET], "std": [SN_SECRET]}
        self.app = create_api(
            lambda: self.world.api.service,
            lambda: {"store": True},
            self.world.gate,
            tickets=lambda: self.world.container.tickets,
            webhook_secrets=lambda source: secrets[source],
        )
        self.client = TestClient(self.app, raise_server_exceptions=False)
        if role is not None:
            body = {
                "scope": "/",
                "principalId": DEFAULT_TICKET_PRINCIPAL,
                "principalType": "ServicePrincipal",
                "roleDefinitionId": role,
            }
            self.world.access.put_assignment(str(uuid.uuid4()), body, Principal(OWNER_ID, "owner"))

    def jira(self, payload: dict[str, Any], delivery: str | None = None) -> Any:
        body = json.dumps(payload).encode()
        return self.client.post("/api/hooks/jira", content=body, headers=jira_headers(body, delivery))

    def servicenow(self, payload: dict[str, Any], delivery: str | None = None) -> Any:
        body = json.dumps(payload).encode()
        return self.client.post("/api/hooks/servicenow", content=body, headers=std_headers(body, delivery))

    def run(self, limit: int = 5000) -> None:
        """Deliver work, write-backs and OperationFinished events until every queue is empty."""
        world, queue = self.world, self.world.container.settings.ticket_writeback_queue
        for _ in range(limit):
            if world.publisher.sent:
                message = world.publisher.sent.pop(0)
                if message.queue == queue:
                    world.container.ticket_writeback.handle(TicketWrite.model_validate_json(message.body))
                else:
                    world.deliver(decode_message(message.body))
            elif world.publisher.events:
                event = OperationFinished.model_validate_json(world.publisher.events.pop(0).body)
                world.container.operation_events.handle(event)
            else:
                return
        raise AssertionError("the queues did not drain")

    def run_starts(self) -> None:
        """Hand the queued ``start`` messages (the intake's claimed actions) to the consumer."""
        queue = self.world.container.settings.ticket_writeback_queue
        for message in [m for m in self.world.publisher.sent if m.queue == queue]:
            write = TicketWrite.model_validate_json(message.body)
            if write.write == "start":
                self.world.publisher.sent.remove(message)
                self.world.container.ticket_writeback.handle(write)

    def run_event(self) -> None:
        """Hand the oldest OperationFinished to the consumer (and so to the write-back listener)."""
        event = OperationFinished.model_validate_json(self.world.publisher.events.pop(0).body)
        self.world.container.operation_events.handle(event)

    def writes_queued(self) -> list[TicketWrite]:
        queue = self.world.container.settings.ticket_writeback_queue
        return [TicketWrite.model_validate_json(m.body) for m in self.world.publisher.sent if m.queue == queue]
