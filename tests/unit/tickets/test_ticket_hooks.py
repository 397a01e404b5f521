"""Tickets through the hooks over fakes: approval, one operation per ticket action whatever the deliveries,
refusals reported on the ticket, forged and oversized deliveries refused with nothing stored, and
write-back of acceptance, per-region progress and the outcome."""

from __future__ import annotations

import json
import time

import pytest

from handlers.hooks import REFUSED
from shared.domain.records import OperationStatus
from shared.domain.ticket_mapping import DEFAULT_TICKET_PRINCIPAL
from tests.unit.tickets.support import SPEC_YAML, TicketWorld, jira_headers, jira_issue, sn_record, std_headers


@pytest.fixture
def tw() -> TicketWorld:
    return TicketWorld()


def operations(tw: TicketWorld) -> list[str]:
    """Registry operations (the ticket principal's own data-plane grants run in lanes of their own)."""
    return [o.id for o in tw.world.store.operations.values() if o.lane == "registry"]


def test_a_request_waits_for_approval_then_runs_and_is_written_back(tw):
    created = tw.jira(jira_issue(status="To Do"))
    assert created.status_code == 202 and created.json()["pending"] == "/api/tickets/jira/REG-1"
    assert operations(tw) == [] and tw.world.store.registries == {}
    approved = tw.jira(jira_issue(status="Approved", event="jira:issue_updated"))
    assert approved.status_code == 202, approved.text
    operation_id = approved.json()["operation"].rsplit("/", 1)[-1]
    tw.run()
    assert tw.world.store.operations[operation_id].status is OperationStatus.SUCCEEDED
    texts = [text for key, text in tw.world.jira.comments if key == "REG-1"]
    assert texts[0].startswith("regctl accepted this request (create or update registry TicketReg)")
    assert any("3/3 regions done (eastus, eastus2, westus)" in t or "regions done" in t for t in texts[1:-1])
    assert texts[-1] == f"regctl operation {operation_id} Succeeded."
    assert tw.world.jira.finished == [("REG-1", True)]
    ticket = tw.client.get("/api/tickets/jira/REG-1", headers={"Authorization": "Bearer owner-token"}).json()
    assert ticket["status"] == "Started" and ticket["operations"][0]["operation"] == f"/api/operations/{operation_id}"
    assert tw.world.store.operations[operation_id].requested_by.id == DEFAULT_TICKET_PRINCIPAL


def test_every_delivery_three_times_and_approved_before_created_makes_one_operation(tw):
    start = time.time()
    created = jira_issue(status="To Do", at=start)
    approved = jira_issue(status="Approved", event="jira:issue_updated", at=start + 5)
    first = [tw.jira(approved, delivery="d-approved") for _ in range(3)]
    second = [tw.jira(created, delivery="d-created") for _ in range(3)]
    assert [r.status_code for r in first] == [202, 200, 200]
    assert first[1].json() == first[0].json() == first[2].json()  # a duplicate gets the first answer
    assert [r.status_code for r in second] == [202, 200, 200]
    assert second[0].json()["ignored"] == "this action has started already"
    tw.run()
    assert len(operations(tw)) == 1
    assert tw.world.jira.finished == [("REG-1", True)]
    accepted = [t for _, t in tw.world.jira.comments if t.startswith("regctl accepted")]
    assert len(accepted) == 1


def test_a_rejected_ticket_runs_nothing_and_is_told(tw):
    assert tw.jira(jira_issue(status="To Do")).status_code == 202
    rejected = tw.jira(jira_issue(status="Rejected", event="jira:issue_updated"))
    assert rejected.json()["canceled"] == "the ticket was rejected or canceled"
    late_created = jira_issue(status="To Do", at=time.time() - 60)  # the created event, delivered late
    assert tw.jira(late_created).json()["ignored"] == "an older event than one already applied"
    tw.run()
    assert operations(tw) == [] and tw.world.store.registries == {}
    assert tw.world.jira.comments == [("REG-1", "regctl did not run this request: the ticket was rejected or canceled")]


def test_an_edit_before_approval_replaces_the_pending_request(tw):
    tw.jira(jira_issue(status="To Do"))
    edited = SPEC_YAML.replace("  - location: westus\n", "")
    tw.jira(jira_issue(status="To Do", yaml_text=edited, event="jira:issue_updated"))
    tw.jira(jira_issue(status="Approved", yaml_text=edited, event="jira:issue_updated"))
    tw.run()
    spec = tw.world.store.registries["ticketreg"].spec
    assert [r["location"] for r in spec["replication_locations"]] == ["eastus", "eastus2"]


def test_a_principal_without_registries_write_cannot_create_and_the_ticket_is_told():
    tw = TicketWorld(role="Reader")
    answer = tw.jira(jira_issue(status="Approved"))
    assert answer.status_code == 202 and answer.json()["refused"].startswith("AuthorizationFailed")
    tw.run()
    assert operations(tw) == [] and tw.world.store.registries == {}
    assert "registries/write" in tw.world.jira.comments[0][1]
    assert tw.world.jira.comments[0][1].startswith("regctl refused this request: AuthorizationFailed")


def test_an_invalid_request_is_refused_naming_the_field(tw):
    answer = tw.jira(jira_issue(status="Approved", yaml_text="name: X\nlocation: mars\n"))
    assert "location" in answer.json()["refused"]
    assert operations(tw) == []


def test_a_grant_request_gives_the_role_and_its_data_plane_work(tw):
    tw.jira(jira_issue(status="Approved"))
    tw.run()
    grant = "action: grant\nregistry: TicketReg\nprincipalId: 0b9a0e2c-5a2c-4d1e-9a51-3f1f7e8b9c10\nrole: Reader\n"
    answer = tw.jira(jira_issue(key="REG-2", status="Approved", yaml_text=grant))
    assert "operation" in answer.json(), answer.text
    tw.run()
    views = tw.world.access.list_assignments("/registries/ticketreg", "0b9a0e2c-5a2c-4d1e-9a51-3f1f7e8b9c10")
    assert [v.role.role_name for v in views if v.role] == ["Reader"] and views[0].data_plane_state == "Applied"
    assert ("REG-2", True) in tw.world.jira.finished


def test_a_promotion_is_parsed_and_refused_with_the_reason_when_it_cannot_run(tw):
    promote = "action: promote\nsource: azureml://registries/dev/models/m/versions/1\ntarget: TicketReg\n"
    assert tw.jira(jira_issue(status="Approved", yaml_text=promote)).json()["refused"].startswith("RegistryNotFound")
    bad = "action: promote\nsource: https://elsewhere\ntarget: TicketReg\n"
    assert "source" in tw.jira(jira_issue(key="REG-3", status="Approved", yaml_text=bad)).json()["refused"]


def test_delete_and_sync_by_label_name_the_registry_in_a_field(tw):
    tw.jira(jira_issue(status="Approved"))
    tw.run()
    sync = jira_issue(key="REG-4", status="Approved", labels=("regctl-sync",), issue_type="Task", registry="TicketReg")
    assert "operation" in tw.jira(sync).json()
    nameless = jira_issue(key="REG-5", status="Approved", labels=("regctl-delete",), issue_type="Task")
    assert "registry" in tw.jira(nameless).json()["refused"]


def test_servicenow_request_items_run_on_approval(tw):
    assert tw.servicenow(sn_record(approval="requested")).json()["pending"]
    answer = tw.servicenow(sn_record(approval="approved", mod=1))
    assert "operation" in answer.json(), answer.text
    tw.run()
    assert tw.world.store.registries["ticketreg"].spec["name"] == "TicketReg"


def test_unmapped_deliveries_are_ignored_with_a_reason(tw):
    assert tw.jira(jira_issue(issue_type="Bug")).json() == {"ignored": "issue type Bug is not a regctl request"}
    other = {**jira_issue(), "webhookEvent": "comment_created"}
    assert tw.jira(other).json() == {"ignored": "comment_created is not an issue event regctl handles"}


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda body, headers: (body, {**headers, "X-Hub-Signature": "sha256=" + "0" * 64}), 401),  # forged
        (lambda body, headers: (body + b" ", headers), 401),  # altered after signing
        (lambda body, headers: (body, {k: v for k, v in headers.items() if k != "X-Hub-Signature"}), 401),
        (lambda body, headers: (b"x" * (256 * 1024 + 1), headers), 413),
    ],
)
def test_forged_altered_unsigned_and_oversized_jira_deliveries_store_nothing(tw, mutate, status):
    body = json.dumps(jira_issue(status="Approved")).encode()
    sent, headers = mutate(body, jira_headers(body))
    before = sum(REFUSED.counts.values())
    answer = tw.client.post("/api/hooks/jira", content=sent, headers=headers)
    assert answer.status_code == status
    assert tw.world.ticket_store.tickets == {} and tw.world.ticket_store.deliveries == {}
    assert operations(tw) == [] and tw.world.publisher.sent == []
    assert sum(REFUSED.counts.values()) == before + (status == 401)


def test_stale_and_malformed_deliveries_store_nothing(tw):
    stale = json.dumps(jira_issue(status="Approved", at=time.time() - 25 * 3600)).encode()
    assert tw.client.post("/api/hooks/jira", content=stale, headers=jira_headers(stale)).status_code == 401
    body = json.dumps(sn_record(approval="approved")).encode()
    old = std_headers(body, at=int(time.time()) - 600)
    assert tw.client.post("/api/hooks/servicenow", content=body, headers=old).status_code == 401
    garbage = b"{not json"
    assert tw.client.post("/api/hooks/jira", content=garbage, headers=jira_headers(garbage)).status_code == 400
    keyless = json.dumps({"webhookEvent": "jira:issue_created", "timestamp": int(time.time() * 1000)}).encode()
    malformed = tw.client.post("/api/hooks/jira", content=keyless, headers=jira_headers(keyless))
    assert malformed.status_code == 400 and malformed.json()["code"] == "MalformedPayload"
    assert tw.world.ticket_store.tickets == {} and tw.world.ticket_store.deliveries == {} and operations(tw) == []


def test_a_replayed_standard_webhook_gets_the_first_answer(tw):
    body = json.dumps(sn_record(approval="approved")).encode()
    headers = std_headers(body, delivery="msg_replayed")
    first = tw.client.post("/api/hooks/servicenow", content=body, headers=headers)
    again = tw.client.post("/api/hooks/servicenow", content=body, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200) and first.json() == again.json()
    tw.run()  # the operation starts from the ticket queue
    assert len(operations(tw)) == 1
