"""Where the CLI connects, and what it says when the API is unreachable or answers something unexpected."""

from __future__ import annotations

import socket
import subprocess

import httpx
import pytest
from typer.testing import CliRunner

from regctl.cli import app
from regctl.runtime import Runtime
from tests.unit.cli.harness import CLEAN_ENV, DEMO_1, CliWorld
from tests.unit.cli.test_validate import ROOT, regctl_command

runner = CliRunner()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def against(handler, *args: str, env: dict[str, str | None] | None = None):
    """Run the CLI against a stand-in API (``handler(request) -> httpx.Response``)."""
    runtime = Runtime(http_client=lambda endpoint: httpx.Client(transport=httpx.MockTransport(handler)))
    return runner.invoke(app, list(args), env={**CLEAN_ENV, **(env or {})}, obj=runtime)


# --- the endpoint ----------------------------------------------------------------------------------------


def test_the_default_endpoint_is_the_local_functions_host():
    cli = CliWorld()

    result = cli.run("registry", "list")

    assert result.exit_code == 0
    assert cli.endpoints == ["http://127.0.0.1:7071"]
    assert str(cli.requests[0].url) == "http://127.0.0.1:7071/api/registries"


def test_the_endpoint_comes_from_regctl_endpoint():
    cli = CliWorld()

    result = cli.run("registry", "create", "-f", str(DEMO_1), env={"REGCTL_ENDPOINT": "https://regctl.example.net/"})

    assert result.exit_code == 0
    assert str(cli.requests[0].url) == "https://regctl.example.net/api/registries"
    assert "Location     https://regctl.example.net/api/operations/" in result.stdout


def test_the_endpoint_option_wins_over_the_environment():
    cli = CliWorld()

    cli.run("registry", "list", "--endpoint", "http://localhost:9000", env={"REGCTL_ENDPOINT": "http://other:1"})

    assert cli.endpoints == ["http://localhost:9000"]


def test_an_endpoint_given_with_api_at_the_end_is_not_doubled():
    cli = CliWorld()

    cli.run("registry", "list", "--endpoint", "http://localhost:9000/api/")

    assert cli.requests[0].url.path == "/api/registries"


@pytest.mark.parametrize("endpoint", ["localhost:7071", "ftp://host", "http://", "not a url"])
def test_an_endpoint_that_is_not_an_http_url_is_a_usage_error(endpoint):
    cli = CliWorld()

    result = cli.run("registry", "list", "--endpoint", endpoint)

    assert result.exit_code == 2
    assert result.stderr.startswith("regctl: error: --endpoint must be an http(s) URL")
    assert cli.requests == []


def test_the_function_key_from_the_environment_is_sent_as_x_functions_key():
    cli = CliWorld()

    cli.run("registry", "list", env={"REGCTL_FUNCTION_KEY": "s3cret"})
    cli.run("registry", "list")

    assert [r.headers.get("x-functions-key") for r in cli.requests] == ["s3cret", None]


# --- no usable answer ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["registry", "list"],
        ["registry", "show", "DemoRegistry1"],
        ["registry", "create", "--file", str(DEMO_1)],
        ["registry", "delete", "DemoRegistry1", "--yes"],
        ["operation", "show", "abc", "--wait"],
    ],
    ids=["list", "show", "create", "delete", "operation-wait"],
)
def test_an_unreachable_endpoint_exits_2_with_a_clean_message(args):
    endpoint = f"http://127.0.0.1:{closed_port()}"

    result = runner.invoke(app, [*args, "--endpoint", endpoint], env=CLEAN_ENV, obj=Runtime(sleep=lambda s: None))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"regctl: error: cannot reach the regctl API at {endpoint}")
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_timeout_on_a_write_says_the_request_may_have_been_accepted():
    def handler(request):
        raise httpx.ReadTimeout("timed out", request=request)

    result = against(handler, "registry", "create", "--file", str(DEMO_1))

    assert result.exit_code == 2
    assert "no answer from the regctl API at http://127.0.0.1:7071 in time" in result.stderr
    assert "may still have been accepted" in result.stderr


def test_an_answer_that_is_not_the_api_exits_2_and_asks_about_the_endpoint():
    result = against(lambda request: httpx.Response(200, text="<html>hello</html>"), "registry", "list")

    assert result.exit_code == 2
    assert "is not a regctl API document; is the endpoint right?" in result.stderr


def test_a_server_error_without_problem_details_exits_2_with_the_status():
    result = against(lambda request: httpx.Response(502, text="Bad Gateway\n<html>"), "registry", "show", "x")

    assert result.exit_code == 2
    assert result.stderr.startswith("HTTP502: Bad Gateway")


# --- problem answers -------------------------------------------------------------------------------------


def test_a_problem_answer_prints_code_detail_then_one_line_per_field_and_exits_2():
    """What a newer API with a rule the CLI does not know answers: the CLI prints it as it comes."""
    problem = {
        "type": "about:blank",
        "title": "InvalidSpec",
        "status": 422,
        "code": "InvalidSpec",
        "detail": "2 fields are invalid",
        "errors": [
            {"field": "tags.team", "message": "a newer rule"},
            {"field": "", "message": "the document as a whole"},
        ],
        "warnings": ["eastus was added"],
    }

    def handler(request):
        return httpx.Response(422, json=problem, headers={"content-type": "application/problem+json"})

    result = against(handler, "registry", "create", "--file", str(DEMO_1))

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "InvalidSpec: 2 fields are invalid",
        "tags.team: a newer rule",
        "the document as a whole",
        "warning: eastus was added",
    ]


def test_a_huge_problem_detail_is_cut():
    def handler(request):
        return httpx.Response(409, json={"code": "Conflict", "detail": "x" * 10_000})

    result = against(handler, "registry", "sync", "x")

    assert result.exit_code == 2
    assert len(result.stderr) < 400


def test_control_characters_in_a_problem_cannot_reach_the_terminal():
    def handler(request):
        return httpx.Response(409, json={"code": "Conflict\x1b[2J", "detail": "line one\nline two\x07"})

    result = against(handler, "registry", "sync", "x")

    assert result.exit_code == 2
    assert result.stderr == "Conflict?[2J: line one?line two?\n"


def test_a_202_without_an_operation_id_is_not_taken_for_success():
    result = against(lambda request: httpx.Response(202, json={"status": "Accepted"}), "registry", "sync", "x")

    assert result.exit_code == 2
    assert "names no operation" in result.stderr


# --- help and the installed entry point ------------------------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["registry", "create", "--help"], ["operation", "show", "--help"]])
def test_help_states_the_exit_codes(args):
    result = runner.invoke(app, args, env=CLEAN_ENV)

    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Exit codes: 0 success" in text
    assert "1 the operation ended Failed or Canceled" in text
    assert "2 nothing was done" in text and "404 not found" in text


def test_every_command_of_the_issue_is_listed():
    registry = runner.invoke(app, ["registry", "--help"]).stdout
    operation = runner.invoke(app, ["operation", "--help"]).stdout

    for command in ("validate", "create", "update", "show", "list", "delete", "sync", "policy"):
        assert f"  {command} " in registry or f"  {command}\n" in registry
    assert "  show " in operation


def test_the_entry_point_reports_an_unreachable_api_in_a_fresh_process():
    command, env = regctl_command()
    endpoint = f"http://127.0.0.1:{closed_port()}"
    env = {k: v for k, v in env.items() if k not in CLEAN_ENV}

    done = subprocess.run(
        [*command, "registry", "list", "-o", "json"],
        capture_output=True,
        text=True,
        env={**env, "REGCTL_ENDPOINT": endpoint},
        cwd=ROOT,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"regctl: error: cannot reach the regctl API at {endpoint}")
    assert "Traceback" not in done.stderr


def test_the_entry_point_checks_the_file_before_it_connects(tmp_path):
    command, env = regctl_command()
    bad = tmp_path / "bad.yml"
    bad.write_text("name: _bad\nlocation: eastus\nreplication_locations: [{location: eastus}]\n", encoding="utf-8")

    done = subprocess.run(
        [*command, "registry", "create", "--file", str(bad), "--endpoint", "http://127.0.0.1:1", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("name: ")
    assert "cannot reach" not in done.stderr
