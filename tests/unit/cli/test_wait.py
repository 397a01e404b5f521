"""``--wait`` and ``regctl operation show``: following an operation to its end, progress, exit codes."""

from __future__ import annotations

import json

import pytest
import yaml

from shared.domain.errors import PermanentError
from tests.unit.cli.harness import DEMO_1, CliWorld
from tests.unit.services.fakes import FakeArm


class QuotaArm(FakeArm):
    def create_replica(self, group, acr, location, tags):
        if location == "westus":
            raise PermanentError("quota reached in westus", code="QuotaExceeded")
        return super().create_replica(group, acr, location, tags)


REASON = "ensure_replica:westus:0: quota reached in westus"


@pytest.fixture
def cli() -> CliWorld:
    return CliWorld()


def create_and_wait(cli: CliWorld, *extra: str):
    return cli.run("registry", "create", "--file", str(DEMO_1), "--wait", *extra)


# --- following to Succeeded ------------------------------------------------------------------------------


def test_create_wait_follows_the_operation_to_succeeded_and_exits_0(cli):
    result = create_and_wait(cli)

    assert result.exit_code == 0, result.stderr
    assert "Status      Succeeded" in result.stdout
    assert cli.polls > 1  # it saw the operation before its end
    record = cli.world.store.get_registry("demoregistry1")
    assert record is not None and record.observed_generation == 1
    assert set(cli.world.arm.replicas) == {"eastus2", "westus"}


def test_wait_prints_a_progress_line_per_change_for_each_region_and_resource(cli):
    result = create_and_wait(cli)

    lines = result.stderr.splitlines()
    assert lines[0].startswith("operation ") and ": Running" in lines[0]
    steps = [line.strip() for line in lines if line.startswith("  ")]
    for region in ("eastus", "eastus2", "westus"):
        name = next(s.name for s in cli.world.arm.storage.values() if s.region == region)
        assert f"{region} ensure_storage[0] {name}: Running" in steps
        assert f"{region} ensure_storage[0] {name}: Succeeded" in steps
    assert any(line.startswith("westus ensure_replica westus: Succeeded") for line in steps)
    assert len(steps) == len(set(steps))  # a line per change, not per poll
    assert lines[-1].startswith("operation ") and ": Succeeded (" in lines[-1]


def test_wait_polls_at_the_interval_given(cli):
    create_and_wait(cli, "--interval", "2.5")

    assert cli.sleeps and set(cli.sleeps) == {2.5}
    assert len(cli.sleeps) == cli.polls - 1  # no sleep after the last poll


def test_wait_keeps_stdout_for_the_final_operation_document(cli):
    result = create_and_wait(cli, "-o", "json")

    printed = json.loads(result.stdout)
    assert printed == cli.get(f"/api/operations/{printed['id']}")
    assert printed["status"] == "Succeeded" and printed["kind"] == "create"
    assert {s["region"] for s in printed["steps"]} == {"eastus", "eastus2", "westus"}


def test_the_live_display_on_a_terminal_ends_with_the_final_table_on_stdout(cli):
    cli.live = True

    result = create_and_wait(cli)

    assert result.exit_code == 0, result.stderr
    assert "Status      Succeeded" in result.stdout
    assert "ensure_replica" in result.stdout


# --- Failed, Canceled, timeout ---------------------------------------------------------------------------


def test_a_failed_operation_exits_1_with_its_error_code_and_message():
    cli = CliWorld(QuotaArm())

    result = create_and_wait(cli)

    assert result.exit_code == 1
    assert "Status      Failed" in result.stdout
    assert f"Error       QuotaExceeded: {REASON}" in result.stdout
    last = result.stderr.splitlines()[-1]
    assert last.startswith("regctl: operation ") and last.endswith(f"Failed: QuotaExceeded: {REASON}")


def test_a_failed_operation_in_json_is_the_document_and_still_exits_1():
    cli = CliWorld(QuotaArm())

    result = create_and_wait(cli, "-o", "json")

    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == {"code": "QuotaExceeded", "message": REASON}


def test_an_operation_superseded_by_a_newer_update_exits_1_as_canceled(cli, tmp_path):
    first = json.loads(cli.run("registry", "create", "-f", str(DEMO_1), "-o", "json").stdout)["id"]
    grown = tmp_path / "grown.yml"
    grown.write_text(DEMO_1.read_text(encoding="utf-8") + "  - location: northeurope\n", encoding="utf-8")
    assert cli.run("registry", "update", "-f", str(grown)).exit_code == 0

    result = cli.run("operation", "show", first, "--wait")

    assert result.exit_code == 1
    assert "Canceled: Superseded: superseded by operation" in result.stderr.splitlines()[-1]


def test_timeout_stops_waiting_exits_1_and_says_how_to_follow_again():
    cli = CliWorld(per_poll=0)  # nothing is delivered: the operation stays Accepted

    result = create_and_wait(cli, "--timeout", "3", "--interval", "1", "-o", "yaml")

    assert result.exit_code == 1
    assert yaml.safe_load(result.stdout)["status"] == "Accepted"
    operation_id = yaml.safe_load(result.stdout)["id"]
    assert "still Accepted after 3 s" in result.stderr
    assert f"regctl operation show {operation_id} --wait" in result.stderr
    assert sum(cli.sleeps) == 3


def test_the_last_sleep_before_a_timeout_is_cut_to_the_time_left():
    cli = CliWorld(per_poll=0)

    create_and_wait(cli, "--timeout", "2.5", "--interval", "1")

    assert cli.sleeps == [1, 1, 0.5]


def test_ctrl_c_stops_following_exits_130_and_the_operation_goes_on(cli):
    cli.interrupt_at_sleep = 2

    result = create_and_wait(cli)

    assert result.exit_code == 130
    record = cli.world.store.get_registry("demoregistry1")
    assert record is not None
    last = result.stderr.splitlines()[-1]
    assert last == (
        f"regctl: stopped following operation {record.operation_id}; it goes on. "
        f"Follow it with: regctl operation show {record.operation_id} --wait"
    )
    cli.deliver()
    assert cli.run("operation", "show", record.operation_id, "--wait").exit_code == 0


def test_ctrl_c_with_the_live_display_also_exits_130(cli):
    cli.live = True
    cli.interrupt_at_sleep = 1

    assert create_and_wait(cli).exit_code == 130


# --- polls that fail -------------------------------------------------------------------------------------


def test_polls_that_fail_for_a_while_after_the_202_are_retried(cli):
    cli.failing_polls = {1, 2, 3}

    result = create_and_wait(cli)

    assert result.exit_code == 0, result.stderr
    retries = [line for line in result.stderr.splitlines() if line.startswith("poll failed")]
    assert len(retries) == 3
    assert "cannot reach the regctl API at http://127.0.0.1:7071" in retries[0]


def test_polls_failing_five_times_in_a_row_stop_the_wait_with_exit_2(cli):
    cli.failing_polls = {1, 2, 3, 4, 5}

    result = create_and_wait(cli)

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("regctl: error: cannot reach the regctl API")
    assert "Traceback" not in result.stderr


def test_operation_show_wait_retries_failing_polls_once_the_api_has_answered(cli):
    operation_id = json.loads(cli.run("registry", "create", "-f", str(DEMO_1), "-o", "json").stdout)["id"]
    cli.failing_polls = {2, 3}

    result = cli.run("operation", "show", operation_id, "--wait")

    assert result.exit_code == 0, result.stderr
    assert len([line for line in result.stderr.splitlines() if line.startswith("poll failed")]) == 2


def test_operation_show_wait_stops_at_once_when_the_first_poll_fails(cli):
    operation_id = json.loads(cli.run("registry", "create", "-f", str(DEMO_1), "-o", "json").stdout)["id"]
    cli.failing_polls = {1}

    result = cli.run("operation", "show", operation_id, "--wait")

    assert result.exit_code == 2
    assert result.stderr == "regctl: error: cannot reach the regctl API at http://127.0.0.1:7071: connection refused\n"


# --- operation show --------------------------------------------------------------------------------------


def test_operation_show_table_lists_the_status_and_each_step(cli):
    operation_id = cli.created()

    result = cli.run("operation", "show", operation_id)

    assert result.exit_code == 0
    out = result.stdout.splitlines()
    assert out[:4] == [
        f"Operation   {operation_id}",
        "Registry    DemoRegistry1",
        "Kind        create",
        "Status      Succeeded",
    ]
    header = out.index("Steps") + 1
    assert out[header].split() == ["Region", "Step", "Resource", "State", "Attempts", "Last", "error"]
    steps = [line.split()[:2] for line in out[header + 2 :] if line]
    assert steps == [
        ["eastus", "ensure_acr"],
        ["eastus", "ensure_group"],
        ["eastus", "ensure_storage[0]"],
        ["eastus2", "ensure_replica"],
        ["eastus2", "ensure_storage[0]"],
        ["westus", "ensure_replica"],
        ["westus", "ensure_storage[0]"],
    ]


def test_operation_show_lists_the_state_and_last_error_of_each_step():
    cli = CliWorld(QuotaArm())
    create_and_wait(cli)
    record = cli.world.store.get_registry("demoregistry1")
    assert record is not None

    out = cli.run("operation", "show", record.operation_id).stdout

    rows = [line.split(None, 5) for line in out.splitlines()]
    assert ["westus", "ensure_replica", "westus", "Failed", "0", "QuotaExceeded: quota reached in westus"] in rows
    assert ["eastus", "ensure_acr"] in [row[:2] for row in rows if row[3:4] == ["Succeeded"]]


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_operation_show_prints_the_operation_document_as_is(cli, fmt):
    operation_id = cli.created()

    result = cli.run("operation", "show", operation_id, "-o", fmt)

    printed = json.loads(result.stdout) if fmt == "json" else yaml.safe_load(result.stdout)
    assert printed == cli.get(f"/api/operations/{operation_id}")


def test_operation_show_of_a_failed_operation_is_a_read_that_worked_and_exits_0():
    cli = CliWorld(QuotaArm())
    create_and_wait(cli)
    record = cli.world.store.get_registry("demoregistry1")
    assert record is not None

    shown = cli.run("operation", "show", record.operation_id)
    waited = cli.run("operation", "show", record.operation_id, "--wait")

    assert shown.exit_code == 0 and "Status      Failed" in shown.stdout
    assert waited.exit_code == 1 and "QuotaExceeded" in waited.stderr


def test_operation_show_wait_on_an_operation_in_flight_follows_it(cli):
    operation_id = json.loads(cli.run("registry", "create", "-f", str(DEMO_1), "-o", "json").stdout)["id"]

    result = cli.run("operation", "show", operation_id, "--wait", "-o", "json")

    assert result.exit_code == 0
    assert json.loads(result.stdout)["status"] == "Succeeded"


def test_a_finished_operation_without_steps_says_none_rather_than_none_yet(cli):
    cli.created()
    cli.per_poll = 0
    synced = json.loads(cli.run("registry", "sync", "DemoRegistry1", "-o", "json").stdout)["id"]
    pending = cli.run("operation", "show", synced).stdout
    cli.deliver()

    finished = cli.run("operation", "show", synced).stdout

    assert "Steps: none yet." in pending
    assert "Status      Succeeded" in finished and "Steps: none.\n" in finished


def test_operation_show_of_an_unknown_id_exits_2(cli):
    result = cli.run("operation", "show", "nope", "--wait")

    assert result.exit_code == 2
    assert result.stderr == "OperationNotFound: operation nope not found\n"
