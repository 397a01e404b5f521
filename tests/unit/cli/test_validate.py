"""``regctl registry validate --file F [-o yaml|json]``: offline, exit 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from regctl.cli import app
from shared.domain.documents import MAX_DOCUMENT_BYTES

ROOT = Path(__file__).resolve().parents[3]
SEEDS = Path(__file__).resolve().parents[1] / "domain" / "data"
DEMO_1 = SEEDS / "demo-registry-1.yml"
DEMO_2 = SEEDS / "demo-registry-2.yml"
DEFAULT_STORAGE = {
    "storage_account_hns": False,
    "storage_account_type": "Standard_LRS",
    "replication_count": 1,
}

runner = CliRunner()


def validate(*args: str, stdin: str | bytes | None = None):
    return runner.invoke(app, ["registry", "validate", *args], input=stdin)


def write(tmp_path: Path, text: str | bytes, name: str = "registry.yml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# --- valid files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [DEMO_1, DEMO_2], ids=["DemoRegistry1", "DemoRegistry2"])
def test_seed_examples_validate_and_print_the_normalised_spec_as_yaml(seed):
    result = validate("--file", str(seed))

    assert result.exit_code == 0, result.stderr
    out = yaml.safe_load(result.stdout)
    assert out["location"] == "eastus"
    assert out["container_registry"] == {"acr_account_sku": "Premium"}
    assert [r["location"] for r in out["replication_locations"]] == ["eastus", "eastus2", "westus"]
    assert all(r["storage_config"] == DEFAULT_STORAGE for r in out["replication_locations"])
    assert result.stderr == ""


@pytest.mark.parametrize("flag", ["-o", "--output"])
@pytest.mark.parametrize("fmt", ["json", "JSON"])
def test_json_output_is_the_same_document(flag, fmt):
    as_yaml = yaml.safe_load(validate("--file", str(DEMO_1)).stdout)

    result = validate("--file", str(DEMO_1), flag, fmt)

    assert result.exit_code == 0
    assert json.loads(result.stdout) == as_yaml


def test_yaml_output_validates_again_to_the_same_output(tmp_path):
    first = validate("-f", str(DEMO_2), "-o", "yaml").stdout

    second = validate("-f", write(tmp_path, first))

    assert second.exit_code == 0
    assert second.stdout == first


def test_normalisation_shows_in_the_output(tmp_path):
    text = (
        "name: Demo\nlocation: EastUS\npublic_network_access: disabled\n"
        "replication_locations:\n"
        "  - location: EASTUS\n    storage_config: {storage_account_type: standard_ragrs}\n"
    )

    out = yaml.safe_load(validate("--file", write(tmp_path, text)).stdout)

    assert out["location"] == "eastus"
    assert out["public_network_access"] == "Disabled"
    assert out["replication_locations"][0]["storage_config"]["storage_account_type"] == "Standard_RAGRS"


def test_warnings_go_to_stderr_prefixed_and_the_spec_still_prints(tmp_path):
    text = "name: Demo\nlocation: eastus\nreplication_locations:\n  - location: westus\n"

    result = validate("--file", write(tmp_path, text))

    assert result.exit_code == 0
    assert [r["location"] for r in yaml.safe_load(result.stdout)["replication_locations"]] == [
        "eastus",
        "westus",
    ]
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("warning: ")
    assert "eastus" in lines[0]


def test_a_dash_reads_standard_input():
    result = validate("--file", "-", stdin=DEMO_1.read_text(encoding="utf-8"))

    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["name"] == "DemoRegistry1"


def test_a_json_file_is_read_as_json(tmp_path):
    doc = {"name": "Demo", "location": "eastus", "replication_locations": [{"location": "eastus"}]}

    result = validate("--file", write(tmp_path, json.dumps(doc), "registry.json"))

    assert result.exit_code == 0
    assert yaml.safe_load(result.stdout)["name"] == "Demo"


# --- invalid files: exit 1, one `path: message` per line on stderr, no traceback -------------------------


def test_invalid_fields_are_listed_one_per_line_on_stderr(tmp_path):
    text = (
        "name: _bad\nlocation: East US 2\nreplication_locations:\n"
        "  - location: eastus2\n"
        "  - location: westus\n    storage_config: {storage_account_type: Standard_XYZ}\n"
    )

    result = validate("--file", write(tmp_path, text))

    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [
        "name",
        "location",
        "replication_locations[1].storage_config.storage_account_type",
    ]
    assert 'did you mean "eastus2"?' in lines[1]
    assert "Traceback" not in result.stderr


def test_yaml_syntax_errors_give_line_and_column(tmp_path):
    result = validate("--file", write(tmp_path, "name: [a\nlocation: eastus\n"))

    assert result.exit_code == 1
    assert "line 2, column 9" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("- name: a\n", "must be a mapping"),
        ("", "empty document"),
        (b"name: \xff\n", "UTF-8"),
        ("a: &a [1]\nb: [" + ", ".join(["*a"] * 100) + "]\n", "alias"),
        ("name: a\nname: b\n", "duplicate key"),
        ("name: a\x07\n", "line 1, column 8"),
    ],
    ids=["list", "empty", "not-utf8", "alias-bomb", "duplicate-key", "control-character"],
)
def test_hostile_or_malformed_documents_exit_1_with_a_message(tmp_path, content, expected):
    result = validate("--file", write(tmp_path, content))

    assert result.exit_code == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_over_the_size_cap_exits_1_without_echoing_it(tmp_path):
    result = validate("--file", write(tmp_path, "a: " + "x" * MAX_DOCUMENT_BYTES))

    assert result.exit_code == 1
    assert str(MAX_DOCUMENT_BYTES) in result.stderr
    assert len(result.stderr) < 200


def test_invalid_json_gives_line_and_column(tmp_path):
    result = validate("--file", write(tmp_path, '{"name": "a",\n "x": }', "registry.json"))

    assert result.exit_code == 1
    assert "line 2, column 7" in result.stderr


def test_a_huge_invalid_name_is_not_echoed(tmp_path):
    result = validate("--file", write(tmp_path, f"name: {'n' * 10_000}\nlocation: eastus\nreplication_locations: []\n"))

    assert result.exit_code == 1
    assert len(result.stderr) < 300


# --- usage errors: exit 2 ----------------------------------------------------------------------------


def test_a_missing_file_is_a_usage_error(tmp_path):
    missing = tmp_path / "nope.yml"

    result = validate("--file", str(missing))

    assert result.exit_code == 2
    assert result.stderr.startswith("regctl: error: cannot read")
    assert "nope.yml" in result.stderr
    assert "No such file" in result.stderr


def test_a_directory_is_a_usage_error(tmp_path):
    result = validate("--file", str(tmp_path))

    assert result.exit_code == 2
    assert "cannot read" in result.stderr


@pytest.mark.parametrize(
    "args",
    [[], ["--file", str(DEMO_1), "-o", "xml"], ["--file", str(DEMO_1), "--frobnicate"]],
    ids=["no-file", "bad-format", "unknown-option"],
)
def test_bad_options_are_usage_errors(args):
    assert validate(*args).exit_code == 2


# --- command layout ------------------------------------------------------------------------------


def test_the_registry_group_lists_validate():
    result = runner.invoke(app, ["registry", "--help"])

    assert result.exit_code == 0
    assert "validate" in result.stdout


# --- the installed entry point -----------------------------------------------------------------------


def regctl_command() -> tuple[list[str], dict[str, str]]:
    """``regctl`` beside the running interpreter (after `make setup`), else ``python -m regctl``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    script = Path(sys.executable).with_name("regctl")
    if script.exists():
        return [str(script)], env
    return [sys.executable, "-m", "regctl"], env


def test_the_entry_point_validates_a_seed_example_in_a_fresh_process():
    command, env = regctl_command()

    done = subprocess.run(
        [*command, "registry", "validate", "--file", str(DEMO_1), "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["name"] == "DemoRegistry1"


def test_the_entry_point_exits_1_on_an_invalid_file_without_a_traceback(tmp_path):
    command, env = regctl_command()

    done = subprocess.run(
        [*command, "registry", "validate", "--file", write(tmp_path, "name: [a\n")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )

    assert done.returncode == 1
    assert "line 2, column 1" in done.stderr
    assert "Traceback" not in done.stderr
