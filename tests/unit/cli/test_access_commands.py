"""``regctl access grant|revoke|list``, ``regctl role create|list|delete``, ``regctl activity list``, against
the real app over fakes (``CliWorld``), with the owner's token in ``REGCTL_TOKEN``.

Two cases the fakes cannot stage (a grant at ``/`` whose other registries are still Pending after the
operation the answer names has ended) run against a stand-in answer through ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
import yaml

from regctl.cli import app
from regctl.commands_role import ROLE_DEFINITION_NAMESPACE, role_id_for
from shared.domain.access import Principal
from shared.domain.errors import PermanentError
from shared.domain.roles import AZUREML_REGISTRY_USER, READER
from tests.unit.cli.harness import CliWorld, runner, write
from tests.unit.services.fake_access import OWNER_TOKEN
from tests.unit.services.fakes import FakeArm

AUTH: dict[str, str | None] = {"REGCTL_TOKEN": OWNER_TOKEN}
ALICE = "8c36639e-602e-599d-936d-e2196902c551"
BOB = "a8086797-4dc9-5b5c-a1fa-a86e002390ea"
ROLE_YAML = """\
roleName: Registry Asset Reader
description: Reads registries and their assets
actions:
  - Microsoft.MachineLearningServices/registries/read
  - Microsoft.MachineLearningServices/registries/assets/read
notActions: []
assignableScopes: ["/"]
"""
# a custom role that reaches no data plane (no assets/read or assets/write)
LOOKER_YAML = "roleName: Looker\nactions: [Microsoft.MachineLearningServices/registries/read]\nassignableScopes: [/]\n"


@pytest.fixture
def cli() -> CliWorld:
    """DemoRegistry1 exists (grants at a registry need it) and has converged."""
    world = CliWorld()
    world.created()
    world.requests.clear()
    return world


def run(cli: CliWorld, *args: str, input: str | None = None):
    return cli.run(*args, input=input, env=AUTH)


def grant(cli: CliWorld, *extra: str, principal: str = ALICE, role: str = "Reader"):
    return run(cli, "access", "grant", "--principal-id", principal, "--role", role, *extra)


def lines_of(stdout: str) -> dict[str, str]:
    """``Label  value`` lines of a view."""
    return {k: v.strip() for k, v in (line.split("  ", 1) for line in stdout.splitlines() if "  " in line)}


def assignment_path(request: httpx.Request) -> str:
    return request.url.path.rsplit("/", 1)[1]


def assignments(cli: CliWorld) -> list[dict[str, Any]]:
    return list(cli.get("/api/roleAssignments")["value"])


# --- grant -------------------------------------------------------------------------------------------------


def test_grant_puts_a_new_assignment_at_the_registry_scope_and_prints_it(cli):
    result = grant(cli, "--registry", "DemoRegistry1", "-o", "json")

    assert result.exit_code == 0, result.stderr
    (put,) = cli.sent("PUT")
    name = assignment_path(put)
    assert put.url.path == f"/api/roleAssignments/{name}" and uuid.UUID(name).version == 4
    assert json.loads(put.content) == {
        "scope": "/registries/demoregistry1",
        "principalId": ALICE,
        "principalType": "User",
        "roleDefinitionId": "Reader",
    }
    assert put.headers["content-type"] == "application/json"
    document = json.loads(result.stdout)
    assert document == cli.get(f"/api/roleAssignments/{name}")
    assert document["properties"]["roleName"] == "Reader"
    assert document["properties"]["dataPlane"]["state"] == "Pending"


def test_grant_prints_a_view_with_the_data_plane_state_and_how_to_follow_it(cli):
    result = grant(cli, "--registry", "DemoRegistry1")

    assert result.exit_code == 0, result.stderr
    view = lines_of(result.stdout)
    (document,) = assignments(cli)
    operation = document["properties"]["dataPlane"]["operation"].rsplit("/", 1)[1]
    assert view["Id"] == document["name"]
    assert view["Scope"] == "/registries/demoregistry1"
    assert view["Principal"] == ALICE
    assert view["Principal type"] == "User"
    assert view["Role"] == "Reader"
    assert view["Role definition"] == READER.arm_id
    assert view["Created by"] == "owner@example.com"
    assert view["Data plane"] == "Pending"
    assert view["Follow with"] == f"regctl operation show {operation} --wait"


def test_each_grant_gets_a_new_guid_so_repeating_it_is_a_conflict(cli):
    first = grant(cli, "--registry", "DemoRegistry1")
    second = grant(cli, "--registry", "DemoRegistry1")

    assert first.exit_code == 0
    assert second.exit_code == 2
    assert second.stdout == ""
    assert second.stderr.startswith("RoleAssignmentExists: The role assignment already exists as ")
    assert len({assignment_path(p) for p in cli.sent("PUT")}) == 2
    assert len(assignments(cli)) == 1


def test_grant_with_an_id_is_idempotent(cli):
    name = str(uuid.uuid4())

    first = grant(cli, "--registry", "DemoRegistry1", "--id", name.upper(), "-o", "json")
    again = grant(cli, "--registry", "DemoRegistry1", "--id", name, "-o", "json")

    assert (first.exit_code, again.exit_code) == (0, 0), again.stderr
    assert [p.url.path for p in cli.sent("PUT")] == [f"/api/roleAssignments/{name}"] * 2
    assert json.loads(first.stdout)["name"] == json.loads(again.stdout)["name"] == name
    assert len(assignments(cli)) == 1


def test_grant_at_the_root_scope_with_a_principal_type(cli):
    result = grant(cli, "--scope", "/", "--principal-type", "serviceprincipal", principal=BOB, role="Contributor")

    assert result.exit_code == 0, result.stderr
    body = json.loads(cli.sent("PUT")[0].content)
    assert body["scope"] == "/" and body["principalType"] == "ServicePrincipal"
    (document,) = assignments(cli)
    assert document["properties"]["scope"] == "/" and document["properties"]["principalType"] == "ServicePrincipal"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--registry", "R1", "--scope", "/"], "--registry and --scope are exclusive"),
        ([], "give --registry NAME, or --scope"),
        (["--scope", "/subscriptions/x"], '--scope must be "/" or /registries/NAME'),
        (["--registry", "bad name!"], "is not a registry name"),
        (["--registry", "R1", "--id", "not-a-guid"], "--id must be a GUID"),
    ],
    ids=["both-scopes", "no-scope", "bad-scope", "bad-registry", "bad-id"],
)
def test_grant_usage_errors_exit_2_and_send_nothing(cli, args, message):
    result = grant(cli, *args)

    assert result.exit_code == 2
    assert result.stderr.startswith("regctl: error: ") and message in result.stderr
    assert cli.requests == []


def test_grant_needs_a_principal_id_that_is_a_guid_and_a_role(cli):
    not_guid = run(cli, "access", "grant", "--registry", "R1", "--principal-id", "alice", "--role", "Reader")
    no_role = run(cli, "access", "grant", "--registry", "R1", "--principal-id", ALICE)

    assert not_guid.exit_code == 2 and "--principal-id must be a GUID" in not_guid.stderr
    assert no_role.exit_code == 2 and "--role is required" in no_role.stderr
    assert cli.requests == []


def test_an_unknown_role_or_registry_is_the_apis_answer_with_exit_2(cli):
    no_role = grant(cli, "--registry", "DemoRegistry1", role="Astronaut")
    no_registry = grant(cli, "--registry", "Nowhere1")

    assert no_role.exit_code == 2
    assert no_role.stderr.splitlines() == [
        "RoleDefinitionDoesNotExist: role definition 'Astronaut' does not exist",
        "roleDefinitionId: a role definition GUID or id, or a built-in role's name",
    ]
    assert no_registry.exit_code == 2
    assert no_registry.stderr == 'RegistryNotFound: registry "nowhere1" not found\n'


# --- grant --wait ------------------------------------------------------------------------------------------


def test_grant_wait_follows_the_data_plane_operation_then_prints_the_applied_assignment(cli):
    result = grant(cli, "--registry", "DemoRegistry1", "--wait", "-o", "json", role="AzureML Registry User")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    operation = document["properties"]["dataPlane"]["operation"]
    assert document["properties"]["dataPlane"]["state"] == "Applied"
    assert len(cli.sent("GET", lambda r: r.url.path == operation)) > 1  # followed, poll by poll
    assert cli.sent("GET", lambda r: r.url.path == f"/api/roleAssignments/{document['name']}")  # then re-read
    assert cli.get(operation)["status"] == "Succeeded"
    stderr = result.stderr.splitlines()
    assert ": Running (" in stderr[0] and ": Succeeded (" in stderr[-1]
    assert any("ensure_dataplane" in line for line in stderr)


class DataPlaneRefusingArm(FakeArm):
    def assign_role(self, group, parent, name, properties):
        raise PermanentError("the principal does not exist in the directory", code="PrincipalNotFound")


def test_grant_wait_exits_1_with_the_reason_when_the_data_plane_grant_fails():
    cli = CliWorld(DataPlaneRefusingArm())
    cli.created()

    result = grant(cli, "--registry", "DemoRegistry1", "--wait", role=AZUREML_REGISTRY_USER.id)

    assert result.exit_code == 1
    assert lines_of(result.stdout)["Data plane"] == "Failed"
    assert "Failed: " in result.stderr and "the principal does not exist in the directory" in result.stderr


def test_grant_wait_of_a_role_without_data_plane_roles_does_not_poll(cli):
    assert run(cli, "role", "create", "--file", "-", input=LOOKER_YAML).exit_code == 0

    result = grant(cli, "--registry", "DemoRegistry1", "--wait", role="Looker")

    assert result.exit_code == 0, result.stderr
    assert lines_of(result.stdout)["Data plane"] == "NotApplicable"
    assert not cli.sent("GET", lambda r: r.url.path.startswith("/api/operations/"))
    assert cli.sleeps == []


def test_grant_wait_timeout_prints_the_pending_assignment_and_exits_1(cli):
    result = grant(cli, "--registry", "DemoRegistry1", "--wait", "--timeout", "1", role="AzureML Registry User")

    assert result.exit_code == 1
    assert lines_of(result.stdout)["Data plane"] == "Pending"
    assert "regctl: stopped waiting" in result.stderr and "Follow it with: regctl operation show" in result.stderr


def stand_in(states: list[str]):
    """An API whose grant names an operation that has ended while the assignment (at ``/``: one operation
    per registry) reads ``states`` one after another."""
    reads = iter(states)
    name = str(uuid.uuid4())

    def assignment(state: str) -> dict[str, Any]:
        plane = {"state": state, "operation": "/api/operations/op1"}
        return {"name": name, "properties": {"scope": "/", "principalId": ALICE, "dataPlane": plane}}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            return httpx.Response(201, json=assignment("Pending"))
        if request.url.path == "/api/operations/op1":
            return httpx.Response(200, json={"id": "op1", "status": "Succeeded", "steps": []})
        return httpx.Response(200, json=assignment(next(reads)))

    return handler, name


def test_grant_wait_at_the_root_reads_the_assignment_until_every_registry_is_done():
    handler, name = stand_in(["Pending", "Pending", "Applied"])
    cli = CliWorld()
    cli.runtime.http_client = lambda endpoint: httpx.Client(transport=httpx.MockTransport(handler))

    result = cli.run(
        "access", "grant", "--scope", "/", "--principal-id", ALICE, "--role", "Reader", "--wait", "--id", name
    )

    assert result.exit_code == 0, result.stderr
    assert lines_of(result.stdout)["Data plane"] == "Applied"
    assert cli.sleeps == [1.0, 1.0]


def test_grant_wait_at_the_root_exits_1_when_a_registry_stays_pending_past_the_timeout():
    handler, _ = stand_in(["Pending"] * 10)
    cli = CliWorld()
    cli.runtime.http_client = lambda endpoint: httpx.Client(transport=httpx.MockTransport(handler))

    result = cli.run(
        "access", "grant", "--scope", "/", "--principal-id", ALICE, "--role", "Reader", "--wait", "--timeout", "3"
    )

    assert result.exit_code == 1
    assert lines_of(result.stdout)["Data plane"] == "Pending"
    assert "are still Pending; it goes on" in result.stderr
    assert sum(cli.sleeps) == 3.0


# --- revoke ------------------------------------------------------------------------------------------------


def test_revoke_finds_the_assignment_by_scope_principal_and_role_name_and_deletes_only_it(cli):
    grant(cli, "--registry", "DemoRegistry1")  # the one to revoke
    grant(cli, "--registry", "DemoRegistry1", role="Contributor")  # same principal, other role
    grant(cli, "--scope", "/")  # same role, other scope
    grant(cli, "--registry", "DemoRegistry1", principal=BOB)  # same role, other principal
    (target,) = [
        a["name"]
        for a in assignments(cli)
        if a["properties"]["roleName"] == "Reader"
        and a["properties"]["scope"] == "/registries/demoregistry1"
        and a["properties"]["principalId"] == ALICE
    ]
    cli.requests.clear()

    result = run(
        cli,
        "access",
        "revoke",
        "--registry",
        "DemoRegistry1",
        "--principal-id",
        ALICE,
        "--role",
        "reader",
        "-o",
        "json",
    )

    assert result.exit_code == 0, result.stderr
    (listing,) = cli.sent("GET", lambda r: r.url.path == "/api/roleAssignments")
    assert dict(listing.url.params) == {"scope": "/registries/demoregistry1", "principalId": ALICE}
    assert [d.url.path for d in cli.sent("DELETE")] == [f"/api/roleAssignments/{target}"]
    assert json.loads(result.stdout)["name"] == target
    assert target not in {a["name"] for a in assignments(cli)} and len(assignments(cli)) == 3


@pytest.mark.parametrize("role", [READER.id, READER.arm_id.upper(), f"/subscriptions/x{READER.arm_id}", "READER"])
def test_revoke_matches_the_role_by_guid_or_arm_id_too(cli, role):
    grant(cli, "--scope", "/")

    result = run(cli, "access", "revoke", "--scope", "/", "--principal-id", ALICE, "--role", role)

    assert result.exit_code == 0, result.stderr
    assert assignments(cli) == []


def test_revoke_with_nothing_to_revoke_exits_0_says_so_and_deletes_nothing(cli):
    grant(cli, "--registry", "DemoRegistry1", role="Contributor")

    result = run(cli, "access", "revoke", "--registry", "DemoRegistry1", "--principal-id", ALICE, "--role", "Reader")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == (
        f"regctl: nothing to revoke: {ALICE} holds no role 'Reader' at scope /registries/demoregistry1\n"
    )
    assert cli.sent("DELETE") == []


def test_revoke_by_id_deletes_it_and_an_absent_id_is_not_an_error(cli):
    grant(cli, "--registry", "DemoRegistry1")
    (document,) = assignments(cli)
    name = document["name"]
    cli.requests.clear()

    gone = run(cli, "access", "revoke", "--id", name)
    again = run(cli, "access", "revoke", "--id", name)

    assert gone.exit_code == 0 and lines_of(gone.stdout)["Id"] == name
    assert again.exit_code == 0 and again.stdout == ""
    assert again.stderr == f"regctl: nothing to revoke: there is no role assignment {name}\n"
    assert [d.url.path for d in cli.sent("DELETE")] == [f"/api/roleAssignments/{name}"] * 2
    assert not cli.sent("GET")  # --id needs no listing


def test_revoke_with_an_id_and_a_role_is_a_usage_error(cli):
    result = run(cli, "access", "revoke", "--id", str(uuid.uuid4()), "--role", "Reader")

    assert result.exit_code == 2
    assert "--id names the assignment" in result.stderr
    assert cli.requests == []


def test_revoke_wait_follows_the_removal_of_the_data_plane_roles(cli):
    granted = grant(cli, "--registry", "DemoRegistry1", "--wait", role="AzureML Registry User")
    assert granted.exit_code == 0, granted.stderr

    result = run(
        cli, "access", "revoke", "--registry", "DemoRegistry1", "--principal-id", ALICE, "--role",
        "AzureML Registry User", "--wait", "-o", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    operation = json.loads(result.stdout)
    assert operation["status"] == "Succeeded" and operation["kind"] == "revoke"
    assert assignments(cli) == []


# --- list --------------------------------------------------------------------------------------------------


def test_list_prints_a_table_of_assignments(cli):
    grant(cli, "--registry", "DemoRegistry1")
    run(cli, "role", "create", "--file", "-", input=LOOKER_YAML)
    grant(cli, "--scope", "/", "--principal-type", "Group", principal=BOB, role="Looker")
    cli.requests.clear()

    result = run(cli, "access", "list")

    assert result.exit_code == 0, result.stderr
    header, rule, *rows = result.stdout.splitlines()
    assert header.split() == ["Id", "Scope", "Principal", "Type", "Role", "Data", "plane"]
    assert set(rule.replace(" ", "")) == {"-"}
    by_principal = {cells[2]: cells for cells in (row.split() for row in rows)}
    assert by_principal[ALICE][1:] == ["/registries/demoregistry1", ALICE, "User", "Reader", "Pending"]
    assert by_principal[BOB][1:] == ["/", BOB, "Group", "Looker", "NotApplicable"]
    assert dict(cli.requests[0].url.params) == {}


def test_list_filters_by_registry_and_principal_and_prints_the_document_in_yaml(cli):
    grant(cli, "--registry", "DemoRegistry1")
    grant(cli, "--registry", "DemoRegistry1", principal=BOB)
    cli.requests.clear()

    result = run(cli, "access", "list", "--registry", "DemoRegistry1", "--principal-id", BOB, "-o", "yaml")

    assert result.exit_code == 0, result.stderr
    assert dict(cli.requests[0].url.params) == {"scope": "/registries/demoregistry1", "principalId": BOB}
    document = yaml.safe_load(result.stdout)
    assert [a["properties"]["principalId"] for a in document["value"]] == [BOB]


def test_list_with_no_assignments_says_so(cli):
    result = run(cli, "access", "list")

    assert result.exit_code == 0
    assert result.stdout == "No role assignments.\n"


# --- roles -------------------------------------------------------------------------------------------------


def test_role_create_puts_the_file_under_a_uuid5_of_its_name_and_rerunning_changes_nothing(cli, tmp_path):
    file = write(tmp_path, ROLE_YAML, "role.yml")

    first = run(cli, "role", "create", "--file", file, "-o", "json")
    again = run(cli, "role", "create", "--file", file, "-o", "json")

    assert (first.exit_code, again.exit_code) == (0, 0), first.stderr
    expected = str(uuid.uuid5(ROLE_DEFINITION_NAMESPACE, "registry asset reader"))
    assert role_id_for("  REGISTRY Asset Reader ") == expected
    assert [p.url.path for p in cli.sent("PUT")] == [f"/api/roleDefinitions/{expected}"] * 2
    assert json.loads(cli.sent("PUT")[0].content) == yaml.safe_load(ROLE_YAML)
    document = json.loads(first.stdout)
    assert document == json.loads(again.stdout)
    assert document["name"] == expected and document["properties"]["type"] == "CustomRole"
    assert document["properties"]["permissions"] == [
        {"actions": yaml.safe_load(ROLE_YAML)["actions"], "notActions": []}
    ]


def test_role_create_uses_the_id_of_the_file_and_does_not_send_it_in_the_body(cli, tmp_path):
    role_id = str(uuid.uuid4())
    file = write(tmp_path, f"id: {role_id}\n{ROLE_YAML}", "role.yml")

    result = run(cli, "role", "create", "-f", file)

    assert result.exit_code == 0, result.stderr
    (put,) = cli.sent("PUT")
    assert put.url.path == f"/api/roleDefinitions/{role_id}"
    assert "id" not in json.loads(put.content)
    view = lines_of(result.stdout)
    assert view["Name"] == "Registry Asset Reader" and view["Id"] == role_id and view["Type"] == "CustomRole"
    assert view["Assignable scopes"] == "/"


def test_role_create_checks_the_file_offline_and_sends_nothing_when_invalid(cli, tmp_path):
    bad = "roleName: Reader\nactions: [not an action]\nassignableScopes: [/subscriptions/x]\ncolour: red\n"

    result = run(cli, "role", "create", "--file", write(tmp_path, bad, "role.yml"))

    assert result.exit_code == 2
    assert result.stdout == ""
    fields = {line.split(":", 1)[0] for line in result.stderr.splitlines()}
    assert {"colour", "roleName", "actions[0]", "assignableScopes[0]"} <= fields
    assert cli.requests == []


def test_role_list_shows_built_in_and_custom_roles(cli):
    run(cli, "role", "create", "--file", "-", input=ROLE_YAML)

    table = run(cli, "role", "list")
    as_json = run(cli, "role", "list", "-o", "json")

    assert table.exit_code == 0, table.stderr
    names = [line.split("  ")[0] for line in table.stdout.splitlines()[2:] if line and not line.startswith(" ")]
    assert set(names) == {"Reader", "Contributor", "Owner", "AzureML Registry User", "Registry Asset Reader"}
    assert "Microsoft.Authorization/*/Write" in table.stdout  # Contributor's notActions, one per line
    types = {d["properties"]["roleName"]: d["properties"]["type"] for d in json.loads(as_json.stdout)["value"]}
    assert types["Reader"] == "BuiltInRole" and types["Registry Asset Reader"] == "CustomRole"


def test_role_delete_by_name_is_refused_while_assigned_then_deletes(cli):
    run(cli, "role", "create", "--file", "-", input=ROLE_YAML)
    grant(cli, "--registry", "DemoRegistry1", role="registry asset reader")
    role_id = role_id_for("Registry Asset Reader")

    refused = run(cli, "role", "delete", "Registry Asset Reader")
    revoked = run(cli, "access", "revoke", "--registry", "DemoRegistry1", "--principal-id", ALICE, "--role", role_id)
    deleted = run(cli, "role", "delete", "registry asset reader", "-o", "json")
    absent = run(cli, "role", "delete", role_id)
    unknown = run(cli, "role", "delete", "No Such Role")

    assert refused.exit_code == 2 and refused.stderr.startswith("RoleDefinitionInUse: role Registry Asset Reader")
    assert revoked.exit_code == 0, revoked.stderr
    assert deleted.exit_code == 0 and json.loads(deleted.stdout)["name"] == role_id
    assert absent.exit_code == 0 and f"nothing to delete: there is no role definition {role_id}" in absent.stderr
    assert unknown.exit_code == 0 and "nothing to delete: there is no role named 'No Such Role'" in unknown.stderr
    assert "Registry Asset Reader" not in run(cli, "role", "list").stdout


def test_a_built_in_role_cannot_be_deleted(cli):
    result = run(cli, "role", "delete", "Owner")

    assert result.exit_code == 2
    assert result.stderr == "RoleDefinitionBuiltIn: Owner is a built-in role and cannot be deleted\n"


# --- activity ----------------------------------------------------------------------------------------------


def test_activity_list_shows_who_did_what_and_filters_by_registry(cli):
    grant(cli, "--registry", "DemoRegistry1")
    run(cli, "role", "create", "--file", "-", input=ROLE_YAML)
    cli.requests.clear()

    every = run(cli, "activity", "list")
    on_registry = run(cli, "activity", "list", "--registry", "DemoRegistry1", "-o", "json")

    assert every.exit_code == 0, every.stderr
    header, _rule, *rows = every.stdout.splitlines()
    assert header.split() == ["Time", "Principal", "Action", "Scope", "Result", "Operation"]
    actions = [row.split()[2] for row in rows]
    assert actions == [
        "Microsoft.Authorization/roleDefinitions/write",
        "Microsoft.Authorization/roleAssignments/write",
        "Microsoft.MachineLearningServices/registries/write",
    ]
    assert all(row.split()[1] == "owner@example.com" for row in rows)
    grant_operation = rows[1].split()[-1]
    assert grant_operation.startswith("demoregistry1.")  # the id `regctl operation show` takes
    assert dict(cli.requests[1].url.params) == {"registry": "DemoRegistry1"}
    scopes = {e["scope"] for e in json.loads(on_registry.stdout)["value"]}
    assert scopes == {"/registries/demoregistry1"}


def test_activity_since_is_sent_with_its_offset_utc_when_none_and_a_bad_one_is_a_usage_error(cli):
    later = run(cli, "activity", "list", "--since", "2999-01-01T12:00:00Z", "-o", "json")
    naive = run(cli, "activity", "list", "--since", "2000-05-01")
    bad = run(cli, "activity", "list", "--since", "yesterday")

    assert later.exit_code == 0 and json.loads(later.stdout) == {"value": []}
    assert naive.exit_code == 0 and len(naive.stdout.splitlines()) == 3  # header, rule, the registry's create
    sent = [r.url.params["since"] for r in cli.requests]
    assert sent == ["2999-01-01T12:00:00+00:00", "2000-05-01T00:00:00+00:00"]
    assert bad.exit_code == 2 and "--since must be an ISO 8601 time" in bad.stderr


# --- 401 and 403 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["access", "grant", "--registry", "DemoRegistry1", "--principal-id", ALICE, "--role", "Reader"],
        ["access", "revoke", "--registry", "DemoRegistry1", "--principal-id", ALICE, "--role", "Reader"],
        ["access", "list"],
        ["role", "create", "--file", "-"],
        ["role", "list"],
        ["activity", "list"],
    ],
    ids=["grant", "revoke", "list", "role-create", "role-list", "activity"],
)
def test_without_a_token_every_command_exits_2_with_the_detail_and_a_hint(cli, args):
    cli.default_token = None

    result = cli.run(*args, input=ROLE_YAML)

    assert result.exit_code == 2
    assert result.stdout == ""
    first, hint = result.stderr.splitlines()
    assert first == "AuthenticationRequired: an Authorization: Bearer token is required"
    assert hint.startswith("regctl: no token was sent: export REGCTL_TOKEN=")
    assert len(cli.requests) == 1 and "authorization" not in cli.requests[0].headers


def test_a_refused_token_exits_2_with_the_detail_and_never_shows_the_token(cli):
    wrong = "eyJ3cm9uZyI6dHJ1ZX0.e30.c2ln"

    result = cli.run("access", "list", "-o", "json", env={"REGCTL_TOKEN": wrong})

    assert result.exit_code == 2
    assert result.stderr == "InvalidAuthenticationToken: the access token is invalid\n"
    assert wrong not in result.stdout + result.stderr


def test_403_exits_2_with_the_code_and_the_detail(cli):
    token = cli.world.authenticator.token_for(Principal(ALICE, "alice@example.com"))

    listed = cli.run("access", "list", env={"REGCTL_TOKEN": token})
    granted = cli.run(
        "access", "grant", "--scope", "/", "--principal-id", ALICE, "--role", "Owner", env={"REGCTL_TOKEN": token}
    )

    for result, action in ((listed, "read"), (granted, "write")):
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr.startswith(
            f"AuthorizationFailed: The client 'alice@example.com' with object id '{ALICE}' does not have "
            f"authorization to perform action 'Microsoft.Authorization/roleAssignments/{action}' over scope '/'"
        )
        assert token not in result.stderr
    assert assignments(cli) == []


def test_every_request_of_the_commands_carries_the_token(cli):
    cli.default_token = None  # nothing added by the harness

    run(cli, "role", "create", "--file", "-", input=ROLE_YAML)
    grant(cli, "--registry", "DemoRegistry1", "--wait", role="AzureML Registry User")
    run(
        cli,
        "access",
        "revoke",
        "--registry",
        "DemoRegistry1",
        "--principal-id",
        ALICE,
        "--role",
        "AzureML Registry User",
    )
    run(cli, "activity", "list")

    routes = {(r.method, r.url.path.split("/")[2]) for r in cli.requests}
    assert {
        ("PUT", "roleDefinitions"), ("PUT", "roleAssignments"), ("GET", "operations"), ("GET", "roleAssignments"),
        ("DELETE", "roleAssignments"), ("GET", "activity"),
    } <= routes  # fmt: skip
    assert {r.headers.get("authorization") for r in cli.requests} == {f"Bearer {OWNER_TOKEN}"}


# --- help ------------------------------------------------------------------------------------------------


def test_the_new_commands_are_listed_and_state_the_exit_codes():
    top = runner.invoke(app, ["--help"]).stdout
    access = runner.invoke(app, ["access", "--help"]).stdout
    role = runner.invoke(app, ["role", "--help"]).stdout
    grant_help = " ".join(runner.invoke(app, ["access", "grant", "--help"]).stdout.split())

    for group in ("access", "role", "activity"):
        assert f"  {group} " in top
    for command in ("grant", "revoke", "list"):
        assert f"  {command} " in access
    for command in ("create", "list", "delete"):
        assert f"  {command} " in role
    assert "401 no or bad token, 403 not allowed" in grant_help
    assert "--principal-type <user|group|serviceprincipal>" in grant_help
