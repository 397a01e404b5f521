"""Tickets through the ticketing simulator: Jira issues and ServiceNow request items fire signed webhooks
at the real host, the operations run against the ARM simulator, and regctl writes back to the simulator."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from shared.domain.signatures import hub_signature
from shared.domain.ticket_mapping import DEFAULT_TICKET_PRINCIPAL
from tests.integration.e2e.conftest import Env

pytestmark = pytest.mark.integration

AUTOMATION_ROLE = str(uuid.uuid5(uuid.NAMESPACE_URL, "regctl-e2e-ticket-automation-role"))
AUTOMATION_ASSIGNMENT = str(uuid.uuid5(uuid.NAMESPACE_URL, "regctl-e2e-ticket-automation"))


def spec(name: str) -> str:
    regions = "\n".join(f"  - location: {r}" for r in ("eastus", "eastus2", "westus"))
    return f"name: {name}\nlocation: eastus\nreplication_locations:\n{regions}\n"


def adf(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": "regctl, please:"}]},
            {"type": "codeBlock", "attrs": {"language": "yaml"}, "content": [{"type": "text", "text": text}]},
        ],
    }


def until(check: Callable[[], Any], what: str, env: Env, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{env.sandbox.logs()}")
        time.sleep(0.2)


@pytest.fixture
def sim(clean: Env) -> Iterator[httpx.Client]:
    """The ticketing simulator's client, with no ARM or blob faults left over from another test (``clean``)."""
    with httpx.Client(base_url=clean.sandbox.info["ticketing"]["endpoint"], timeout=30) as client:
        client.delete("/_sandbox/faults")
        yield client
        client.delete("/_sandbox/faults")


@pytest.fixture
def automation(env: Env) -> None:
    """The ticket principal may create, change and delete registries and assign roles (no asset access)."""
    role = {
        "roleName": "e2e ticket automation",
        "description": "what the tickets' principal may do",
        "actions": [
            "Microsoft.MachineLearningServices/registries/read",
            "Microsoft.MachineLearningServices/registries/write",
            "Microsoft.MachineLearningServices/registries/delete",
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
        ],
        "assignableScopes": ["/"],
    }
    assert env.api.put(f"/api/roleDefinitions/{AUTOMATION_ROLE}", json=role).status_code in (200, 201)
    body = {
        "scope": "/",
        "principalId": DEFAULT_TICKET_PRINCIPAL,
        "principalType": "ServicePrincipal",
        "roleDefinitionId": AUTOMATION_ROLE,
    }
    assert env.api.put(f"/api/roleAssignments/{AUTOMATION_ASSIGNMENT}", json=body).status_code in (200, 201)


def jira_issue(sim: httpx.Client, text: str) -> str:
    body = {"project": "REG", "issuetype": "Registry Request", "summary": "a registry", "description": adf(text)}
    created = sim.post("/_sandbox/jira/issues", json=body)
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def transition(sim: httpx.Client, key: str, to: str) -> None:
    assert sim.post(f"/_sandbox/jira/issues/{key}/transition", json={"to": to}).status_code == 200


def ticket(env: Env, source: str, key: str) -> dict[str, Any] | None:
    answer = env.api.get(f"/api/tickets/{source}/{key}")
    return answer.json() if answer.status_code == 200 else None


def started(env: Env, source: str, key: str) -> str:
    def operation() -> str | None:
        found = ticket(env, source, key)
        links = [o["operation"] for o in (found or {}).get("operations", []) if o["operation"]]
        return links[0] if links else None

    return str(until(operation, f"{source} {key} to start an operation", env))


def comment_texts(issue: dict[str, Any]) -> list[str]:
    return [
        "\n".join(n["content"][0]["text"] for n in c["body"]["content"] if n.get("content")) for c in issue["comments"]
    ]


def finished_issue(sim: httpx.Client, env: Env, key: str, comments: int = 3) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        issue: dict[str, Any] = sim.get(f"/_sandbox/jira/issues/{key}").json()
        ready = issue["fields"]["status"]["name"] in ("Done", "Failed") and len(issue["comments"]) >= comments
        return issue if ready else None

    return dict(until(done, f"{key} written back and transitioned", env))


def test_a_jira_registry_request_approved_creates_the_registry_and_is_written_back(env, sim, automation):
    key = jira_issue(sim, spec("JiraTicketReg"))
    transition(sim, key, "Approved")
    operation = env.wait(started(env, "jira", key))
    assert operation["status"] == "Succeeded", operation
    assert operation["requestedBy"]["id"] == DEFAULT_TICKET_PRINCIPAL and key in operation["requestedBy"]["name"]
    regions = {
        r["location"] for r in env.api.get("/api/registries/JiraTicketReg").json()["spec"]["replication_locations"]
    }
    assert regions == {"eastus", "eastus2", "westus"}
    issue = finished_issue(sim, env, key)
    texts = comment_texts(issue)
    assert texts[0].startswith("regctl accepted this request (create or update registry JiraTicketReg)")
    assert any("3/3 regions done (eastus, eastus2, westus)" in t for t in texts)
    assert texts[-1] == f"regctl operation {operation['id']} Succeeded."
    assert issue["fields"]["status"]["name"] == "Done"


def test_a_servicenow_request_item_approved_creates_the_registry_and_is_written_back(env, sim, automation):
    created = sim.post("/_sandbox/servicenow/records", json={"variables": {"regctl_request": spec("SnowTicketReg")}})
    sys_id = created.json()["sys_id"]
    until(lambda: ticket(env, "servicenow", sys_id), "the pending request item", env)
    assert sim.patch(f"/_sandbox/servicenow/records/{sys_id}", json={"approval": "approved"}).status_code == 200
    operation = env.wait(started(env, "servicenow", sys_id))
    assert operation["status"] == "Succeeded", operation

    def closed() -> dict[str, Any] | None:
        record: dict[str, Any] = sim.get(f"/_sandbox/servicenow/records/{sys_id}").json()
        return record if record["state"] == "3" and len(record["journal"]) >= 3 else None

    record = until(closed, "the request item closed complete", env)
    notes = [entry["value"] for entry in record["journal"] if entry["element"] == "work_notes"]
    assert notes[0].startswith("regctl accepted") and notes[-1].endswith("Succeeded.")


def test_a_grant_request_gives_data_plane_roles(env, sim, automation):
    assert env.create(spec("GrantTicketReg")).status_code == 202
    principal = str(uuid.uuid4())
    grant = f"action: grant\nregistry: GrantTicketReg\nprincipalId: {principal}\nrole: Reader\n"
    key = jira_issue(sim, grant)
    transition(sim, key, "Approved")
    operation = env.wait(started(env, "jira", key))
    assert operation["status"] == "Succeeded" and operation["kind"] == "grant", operation
    views = env.api.get("/api/roleAssignments", params={"principalId": principal}).json()["value"]
    assert [v["properties"]["dataPlane"]["state"] for v in views] == ["Applied"]


def test_a_rejected_ticket_runs_nothing(env, sim, automation):
    key = jira_issue(sim, spec("RejectedTicketReg"))
    until(lambda: ticket(env, "jira", key), "the pending request", env)
    transition(sim, key, "Rejected")
    until(lambda: (ticket(env, "jira", key) or {}).get("status") == "Canceled", "the cancel", env)
    assert env.api.get("/api/registries/RejectedTicketReg").status_code == 404
    issue = until(lambda: sim.get(f"/_sandbox/jira/issues/{key}").json()["comments"], "the cancel comment", env)
    assert "rejected or canceled" in comment_texts({"comments": issue})[0]


def test_a_principal_without_registries_write_cannot_create_and_the_ticket_is_told(env, sim):
    env.api.delete(f"/api/roleAssignments/{AUTOMATION_ASSIGNMENT}")
    key = jira_issue(sim, spec("ForbiddenTicketReg"))
    transition(sim, key, "Approved")
    refused = until(lambda: (ticket(env, "jira", key) or {}).get("status") == "Refused", "the refusal", env)
    assert refused
    assert "registries/write" in ticket(env, "jira", key)["message"]
    comments = until(lambda: sim.get(f"/_sandbox/jira/issues/{key}").json()["comments"], "the refusal comment", env)
    assert comment_texts({"comments": comments})[0].startswith("regctl refused this request: AuthorizationFailed")
    assert env.api.get("/api/registries/ForbiddenTicketReg").status_code == 404


def test_triple_reordered_late_deliveries_make_one_operation(env, sim, automation):
    sim.post("/_sandbox/faults", json={"duplicates": 2, "hold": True})
    key = jira_issue(sim, spec("TripleTicketReg"))
    transition(sim, key, "Approved")
    sim.post("/_sandbox/faults", json={"delay_seconds": 60})  # late: a minute, times the time scale
    assert sim.post("/_sandbox/deliveries/release", json={"order": "reverse"}).json()["released"] == 2
    operation = env.wait(started(env, "jira", key))
    assert operation["status"] == "Succeeded"

    def delivered() -> list[dict[str, Any]] | None:
        seen = [d for d in sim.get("/_sandbox/deliveries").json()["deliveries"] if d["status"] is not None]
        return seen if len({d["id"] for d in seen}) >= 2 and len(seen) >= 6 else None

    until(delivered, "every copy delivered", env)
    found = ticket(env, "jira", key)
    assert found is not None and len(found["operations"]) == 1
    issue = finished_issue(sim, env, key)
    assert sum(t.startswith("regctl accepted") for t in comment_texts(issue)) == 1


def test_the_ticket_api_down_for_the_whole_operation_gets_every_write_once_after(env, sim, automation):
    sim.post("/_sandbox/faults", json={"api_down": True})
    key = jira_issue(sim, spec("OutageTicketReg"))
    transition(sim, key, "Approved")
    operation = env.wait(started(env, "jira", key))
    assert operation["status"] == "Succeeded"
    assert sim.get(f"/_sandbox/jira/issues/{key}").json()["comments"] == []
    sim.post("/_sandbox/faults", json={"api_down": False})
    texts = comment_texts(finished_issue(sim, env, key))
    assert sum(t.startswith("regctl accepted") for t in texts) == 1
    assert texts.count(f"regctl operation {operation['id']} Succeeded.") == 1


def test_forged_oversized_and_malformed_deliveries_are_refused_and_store_nothing(env):
    secret = env.sandbox.info["ticketing"]["jira"]["webhook_secret"]
    with httpx.Client(base_url=env.sandbox.api.removesuffix("/api"), timeout=30) as bare:
        payload = {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_created",
            "issue": {"key": "SEC-1"},
        }
        body = json.dumps(payload).encode()
        headers = {"X-Atlassian-Webhook-Identifier": "sec-1", "Content-Type": "application/json"}
        forged = bare.post(
            "/api/hooks/jira", content=body, headers={**headers, "X-Hub-Signature": hub_signature("x", body)}
        )
        assert forged.status_code == 401
        big = b"{" + b" " * (256 * 1024) + b"}"
        assert (
            bare.post(
                "/api/hooks/jira", content=big, headers={**headers, "X-Hub-Signature": hub_signature(secret, big)}
            ).status_code
            == 413
        )
        signed = {**headers, "X-Hub-Signature": hub_signature(secret, body)}
        assert bare.post("/api/hooks/jira", content=body, headers=signed).status_code == 400  # no issue.fields
    assert ticket(env, "jira", "SEC-1") is None
