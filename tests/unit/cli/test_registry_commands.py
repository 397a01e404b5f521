"""``regctl registry create|update|show|list|delete|sync|policy`` against the real API over fakes."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml

from tests.unit.cli.harness import DEMO_1, DEMO_2, CliWorld, write

DEMO1_TEXT = DEMO_1.read_text(encoding="utf-8")


@pytest.fixture
def cli() -> CliWorld:
    return CliWorld()


def operation_path(cli: CliWorld, name: str = "demoregistry1") -> str:
    record = cli.world.store.get_registry(name)
    assert record is not None
    return f"/api/operations/{record.operation_id}"


# --- create ----------------------------------------------------------------------------------------------


def test_create_prints_the_accepted_operation_with_its_location_and_how_to_follow_it(cli):
    result = cli.run("registry", "create", "--file", str(DEMO_1))

    assert result.exit_code == 0, result.stderr
    location = operation_path(cli)
    operation_id = location.rsplit("/", 1)[1]
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines() if line and not line.startswith("Follow"))
    assert lines["Operation"] == operation_id
    assert lines["Status"] == "Accepted"
    assert lines["Location"] == "http://127.0.0.1:7071" + location
    assert f"regctl operation show {operation_id} --wait" in result.stdout
    assert cli.world.store.get_registry("demoregistry1") is not None


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_create_prints_the_202_body_as_is_in_json_and_yaml(cli, fmt):
    result = cli.run("registry", "create", "--file", str(DEMO_1), "-o", fmt)

    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    location = operation_path(cli)
    assert body == {"operation": location, "id": location.rsplit("/", 1)[1], "status": "Accepted", "warnings": []}


def test_create_sends_yaml_files_as_yaml_and_json_files_as_json(cli, tmp_path):
    as_json = write(tmp_path, json.dumps(yaml.safe_load(DEMO_2.read_text(encoding="utf-8"))), "registry.json")

    assert cli.run("registry", "create", "-f", str(DEMO_1)).exit_code == 0
    assert cli.run("registry", "create", "-f", as_json).exit_code == 0

    posts = cli.sent("POST")
    assert [p.headers["content-type"] for p in posts] == ["application/yaml", "application/json"]
    assert posts[0].content == DEMO_1.read_bytes()  # the file as it is; the API normalises it
    assert {r.name for r in cli.world.store.list_registries()} == {"DemoRegistry1", "DemoRegistry2"}


def test_create_reads_standard_input_with_a_dash(cli):
    result = cli.run("registry", "create", "--file", "-", input=DEMO1_TEXT)

    assert result.exit_code == 0, result.stderr
    assert cli.world.store.get_registry("demoregistry1") is not None


def test_create_prints_the_api_warnings_on_stderr_once(cli, tmp_path):
    text = "name: Demo\nlocation: eastus\nreplication_locations:\n  - location: westus\n"

    result = cli.run("registry", "create", "--file", write(tmp_path, text))

    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "eastus" in warnings[0]


def test_create_with_an_idempotency_key_twice_returns_the_same_operation(cli):
    first = cli.run("registry", "create", "-f", str(DEMO_1), "--idempotency-key", "k-1", "-o", "json")
    second = cli.run("registry", "create", "-f", str(DEMO_1), "--idempotency-key", "k-1", "-o", "json")

    assert first.exit_code == second.exit_code == 0
    assert json.loads(first.stdout)["id"] == json.loads(second.stdout)["id"]
    assert [p.headers["idempotency-key"] for p in cli.sent("POST")] == ["k-1", "k-1"]
    assert len(cli.world.store.operations) == 1


def test_an_invalid_file_exits_2_with_the_validate_lines_and_sends_nothing(cli, tmp_path):
    bad = write(tmp_path, DEMO1_TEXT.replace("location: westus", "location: West US").replace("name: Demo", "name: _D"))
    validate = cli.run("registry", "validate", "--file", bad)

    result = cli.run("registry", "create", "--file", bad)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == validate.stderr
    assert [line.split(": ", 1)[0] for line in result.stderr.splitlines()] == [
        "name",
        "replication_locations[2].location",
    ]
    assert cli.endpoints == [] and cli.requests == []
    assert cli.world.store.registries == {} and cli.world.publisher.sent == []


def test_a_malformed_file_exits_2_with_line_and_column_and_sends_nothing(cli, tmp_path):
    result = cli.run("registry", "create", "--file", write(tmp_path, "name: [a\n"))

    assert result.exit_code == 2
    assert "line 2, column 1" in result.stderr
    assert cli.requests == []


def test_a_missing_file_is_a_usage_error(cli, tmp_path):
    result = cli.run("registry", "create", "--file", str(tmp_path / "nope.yml"))

    assert result.exit_code == 2
    assert result.stderr.startswith("regctl: error: cannot read")
    assert cli.requests == []


def test_creating_an_existing_name_with_another_spec_prints_the_problem_and_exits_2(cli):
    cli.created()

    result = cli.run("registry", "create", "--file", "-", input=DEMO1_TEXT.replace("foo: bar", "foo: baz"))

    assert result.exit_code == 2
    assert result.stderr.startswith("RegistryExists: ")
    assert "Traceback" not in result.stderr


# --- update ----------------------------------------------------------------------------------------------


def test_update_puts_the_file_to_the_registry_it_names_and_wait_converges(cli, tmp_path):
    cli.created()
    grown = DEMO1_TEXT + "  - location: northeurope\n"

    result = cli.run("registry", "update", "--file", write(tmp_path, grown), "--wait")

    assert result.exit_code == 0, result.stderr
    assert [r.url.path for r in cli.sent("PUT")] == ["/api/registries/DemoRegistry1"]
    assert "northeurope" in cli.world.arm.replicas
    record = cli.world.store.get_registry("demoregistry1")
    assert record is not None and record.generation == record.observed_generation == 2


def test_an_update_changing_the_primary_region_exits_2_with_the_problem_and_changes_nothing(cli, tmp_path):
    cli.created()
    moved = DEMO1_TEXT.replace("location: eastus\nreplication", "location: westus\nreplication")

    result = cli.run("registry", "update", "--file", write(tmp_path, moved))

    assert result.exit_code == 2
    assert result.stderr.startswith("PrimaryLocationImmutable: the primary region is immutable")
    record = cli.world.store.get_registry("demoregistry1")
    assert record is not None and record.generation == 1


def test_updating_a_registry_that_does_not_exist_exits_2_not_found(cli):
    result = cli.run("registry", "update", "--file", str(DEMO_1))

    assert result.exit_code == 2
    assert result.stderr == 'RegistryNotFound: registry "DemoRegistry1" not found\n'


# --- show and list ---------------------------------------------------------------------------------------


def test_show_table_has_the_spec_the_resources_per_region_and_the_drift(cli):
    cli.created()
    arm = cli.world.arm
    arm.replicas.pop("westus")
    eastus2 = next(n for n, s in arm.storage.items() if s.region == "eastus2")
    arm.storage[eastus2] = replace(arm.storage[eastus2], sku="Standard_GRS")
    assert cli.run("registry", "policy", "DemoRegistry1", "observe").exit_code == 0
    assert cli.run("registry", "sync", "DemoRegistry1", "--wait").exit_code == 0

    result = cli.run("registry", "show", "demoregistry1")

    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Name              DemoRegistry1" in out
    assert "Reconcile policy  observe" in out
    assert "Generation        1 (observed 1)" in out
    rows = [line.split() for line in out.splitlines()]
    assert ["eastus2", "replica", "Standard_LRS", "no", "1"] in rows  # spec
    assert ["eastus2", "storage", "[0]", eastus2, "Standard_GRS", "Succeeded"] in rows  # observed
    assert ["eastus2", "replica", "eastus2", "-", "Succeeded"] in rows
    assert not [row for row in rows if row[:3] == ["westus", "replica", "westus"]]
    assert "Drift (2):" in out
    assert "  storage eastus2[0]: sku is Standard_GRS, the spec says Standard_LRS" in out
    assert "  replica westus: missing" in out


def test_show_of_a_registry_not_observed_yet_says_so(cli):
    cli.run("registry", "create", "-f", str(DEMO_1))

    out = cli.run("registry", "show", "DemoRegistry1").stdout

    assert "Status            Provisioning" in out
    assert "Observed at       not observed yet" in out
    assert "Resources: none observed yet." in out


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_show_prints_the_registry_document_as_is(cli, fmt):
    cli.created()

    result = cli.run("registry", "show", "DEMOREGISTRY1", "-o", fmt)

    assert result.exit_code == 0
    printed = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    assert printed == cli.get("/api/registries/DemoRegistry1")


def test_show_of_an_unknown_registry_exits_2_with_the_problem(cli):
    result = cli.run("registry", "show", "nope")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == 'RegistryNotFound: registry "nope" not found\n'


def test_a_name_is_sent_as_one_path_segment(cli):
    result = cli.run("registry", "show", "a/b?c")

    assert result.exit_code == 2
    assert cli.requests[0].url.raw_path == b"/api/registries/a%2Fb%3Fc"


def test_list_table_has_one_row_per_registry(cli):
    cli.created()
    cli.run("registry", "create", "-f", str(DEMO_2))

    result = cli.run("registry", "list")

    assert result.exit_code == 0
    header, rule, *rows = result.stdout.splitlines()
    assert header.split() == ["Name", "Status", "Policy", "Primary", "Regions", "Generation", "Observed", "Drift"]
    assert set(rule) == {"-", " "}
    assert [row.split()[:4] for row in rows] == [
        ["DemoRegistry1", "Ready", "manage", "eastus"],
        ["DemoRegistry2", "Provisioning", "manage", "eastus"],
    ]
    assert "eastus, eastus2, westus" in rows[0]
    assert rows[1].split()[-3:] == ["1", "0", "0"]


def test_list_with_no_registries_says_so(cli):
    result = cli.run("registry", "list")

    assert result.exit_code == 0
    assert result.stdout == "No registries.\n"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_list_prints_the_api_document_as_is(cli, fmt):
    cli.created()

    result = cli.run("registry", "list", "--output", fmt)

    assert result.exit_code == 0
    printed = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    assert printed == cli.get("/api/registries")
    assert [r["name"] for r in printed["value"]] == ["DemoRegistry1"]


# --- delete ----------------------------------------------------------------------------------------------


def test_delete_with_yes_sends_the_delete_and_prints_the_operation(cli):
    cli.created()

    result = cli.run("registry", "delete", "DemoRegistry1", "--yes", "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "Accepted"
    assert [r.url.path for r in cli.sent("DELETE")] == ["/api/registries/DemoRegistry1"]


def test_delete_without_yes_when_stdin_is_not_a_terminal_exits_2_and_sends_nothing(cli):
    cli.created()
    cli.requests.clear()

    result = cli.run("registry", "delete", "DemoRegistry1")

    assert result.exit_code == 2
    assert "--yes" in result.stderr and "not a terminal" in result.stderr
    assert cli.requests == []
    assert cli.world.store.get_registry("demoregistry1") is not None


def test_delete_asks_on_a_terminal_and_deletes_when_confirmed(cli):
    cli.created()
    cli.interactive = True

    result = cli.run("registry", "delete", "DemoRegistry1", "--wait", input="y\n")

    assert result.exit_code == 0, result.stderr
    assert 'Delete registry "DemoRegistry1"' in result.stderr
    assert cli.world.store.get_registry("demoregistry1") is None
    assert cli.world.arm.acr is None and not cli.world.arm.storage


def test_delete_asks_on_a_terminal_and_a_no_exits_2_and_sends_nothing(cli):
    cli.created()
    cli.requests.clear()
    cli.interactive = True

    result = cli.run("registry", "delete", "DemoRegistry1", input="n\n")

    assert result.exit_code == 2
    assert "not confirmed" in result.stderr
    assert cli.requests == []


def test_delete_at_a_terminal_with_no_answer_exits_2_and_sends_nothing(cli):
    cli.created()
    cli.requests.clear()
    cli.interactive = True

    result = cli.run("registry", "delete", "DemoRegistry1", input="")

    assert result.exit_code == 2
    assert "not confirmed" in result.stderr and "Aborted" not in result.stderr
    assert cli.requests == []


def test_after_delete_wait_the_registry_is_not_found_but_its_operation_still_shows(cli):
    cli.created()
    deleted = cli.run("registry", "delete", "DemoRegistry1", "-y", "--wait", "-o", "json")

    shown = cli.run("registry", "show", "DemoRegistry1")
    operation = cli.run("operation", "show", json.loads(deleted.stdout)["id"], "-o", "json")

    assert deleted.exit_code == 0
    assert json.loads(deleted.stdout)["kind"] == "delete"
    assert shown.exit_code == 2 and shown.stderr.startswith("RegistryNotFound")
    assert operation.exit_code == 0 and json.loads(operation.stdout)["status"] == "Succeeded"


def test_deleting_an_unknown_registry_exits_2(cli):
    result = cli.run("registry", "delete", "nope", "--yes")

    assert result.exit_code == 2
    assert result.stderr.startswith("RegistryNotFound")


# --- sync and policy -------------------------------------------------------------------------------------


def test_sync_wait_heals_drift_made_by_hand(cli):
    cli.created()
    cli.world.arm.replicas.pop("westus")

    result = cli.run("registry", "sync", "DemoRegistry1", "--wait")

    assert result.exit_code == 0, result.stderr
    assert "westus" in cli.world.arm.replicas
    assert "Kind        sync" in result.stdout


def test_sync_without_wait_prints_the_operation(cli):
    cli.created()

    result = cli.run("registry", "sync", "DemoRegistry1", "-o", "yaml")

    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["status"] == "Accepted"


@pytest.mark.parametrize("policy", ["manage", "observe", "skip", "OBSERVE"])
def test_policy_sets_the_reconcile_policy_and_prints_the_registry(cli, policy):
    cli.created()

    result = cli.run("registry", "policy", "DemoRegistry1", policy, "-o", "json")

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["reconcilePolicy"] == policy.lower()
    assert [r.url.path for r in cli.sent("PUT")] == ["/api/registries/DemoRegistry1/policy"]


def test_an_unknown_policy_is_a_usage_error_and_sends_nothing(cli):
    result = cli.run("registry", "policy", "DemoRegistry1", "heal")

    assert result.exit_code == 2
    assert cli.requests == []
