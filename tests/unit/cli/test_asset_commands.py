"""``regctl model|data|component|environment show|list|update|archive|restore|delete|download`` against the
real API over fakes; downloads read one region's copy and are verified against the manifest."""

from __future__ import annotations

import json

import pytest
import yaml

from regctl.transfer import md5_of_file
from shared.domain.manifest import ASSET_CONTAINER
from tests.unit.cli.asset_world import MODEL_FILES, REGIONS, converged, copies, created_model
from tests.unit.cli.harness import CliWorld
from tests.unit.services.fake_assets import md5_of


@pytest.fixture
def cli() -> CliWorld:
    return converged()


# --- show, list, update, archive, delete -----------------------------------------------------------------


def test_show_prints_the_region_by_state_matrix_or_the_document(cli, tmp_path):
    created_model(cli, tmp_path)

    table = cli.run("model", "show", "--registry", "DemoRegistry1", "--name", "clf", "--version", "1")
    as_yaml = cli.run("model", "show", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1", "-o", "yaml")

    assert table.exit_code == as_yaml.exit_code == 0
    rows = [line.split()[:2] for line in table.stdout.splitlines() if line.split()[:1] and line.split()[0] in REGIONS]
    assert rows == [[r, "Replicated"] for r in REGIONS]
    assert "azureml://registries/DemoRegistry1/models/clf/versions/1" in table.stdout
    assert yaml.safe_load(as_yaml.stdout) == cli.get("/api/registries/DemoRegistry1/models/clf/versions/1")


def test_a_missing_version_is_not_found_and_exits_2(cli):
    result = cli.run("data", "show", "--registry", "DemoRegistry1", "-n", "nope", "-v", "1")

    assert result.exit_code == 2
    assert result.stderr.startswith("AssetNotFound: ")


def test_archive_hides_a_version_from_list_until_restored(cli, tmp_path):
    created_model(cli, tmp_path)

    archived = cli.run("model", "archive", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1", "-o", "json")
    hidden = cli.run("model", "list", "--registry", "DemoRegistry1", "-o", "json")
    shown = cli.run("model", "list", "--registry", "DemoRegistry1", "--include-archived", "-o", "json")
    versions = cli.run("model", "list", "--registry", "DemoRegistry1", "-n", "clf", "--include-archived")
    restored = cli.run("model", "restore", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1", "-o", "json")
    listed = cli.run("model", "list", "--registry", "DemoRegistry1")

    assert json.loads(archived.stdout)["isArchived"] is True
    assert json.loads(hidden.stdout)["value"] == []
    assert json.loads(shown.stdout)["value"] == [{"name": "clf", "latestVersion": "1", "versions": 1}]
    rows = [line.split()[:5] for line in versions.stdout.splitlines()]
    assert ["clf", "1", "custom_model", "Available", "yes"] in rows
    assert json.loads(restored.stdout)["isArchived"] is False
    assert any(line.split() == ["clf", "1", "1"] for line in listed.stdout.splitlines())


def test_update_sets_the_description_and_merges_tags(cli, tmp_path):
    created_model(cli, tmp_path)

    result = cli.run(
        "model", "update", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1",
        "--set-description", "retrained", "--tag", "stage=prod", "-o", "json",
    )  # fmt: skip
    removed = cli.run("model", "update", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1", "--remove-tag", "team")

    assert result.exit_code == removed.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["description"], document["tags"]) == ("retrained", {"team": "ml", "stage": "prod"})
    assert cli.get("/api/registries/DemoRegistry1/models/clf/versions/1")["tags"] == {"stage": "prod"}


def test_update_without_a_change_is_a_usage_error(cli):
    result = cli.run("model", "update", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1")

    assert result.exit_code == 2
    assert "nothing to change" in result.stderr


def test_delete_with_wait_removes_every_copy(cli, tmp_path):
    created_model(cli, tmp_path)

    result = cli.run("model", "delete", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1", "--yes", "--wait")

    assert result.exit_code == 0, result.stderr
    assert "Succeeded" in result.stdout
    for region in REGIONS:
        assert copies(cli, region, "models/clf/1/") == {}
    gone = cli.run("model", "show", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1")
    assert gone.exit_code == 2


def test_delete_without_yes_and_no_terminal_refuses(cli, tmp_path):
    created_model(cli, tmp_path)

    result = cli.run("model", "delete", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1")

    assert result.exit_code == 2
    assert "not deleting model clf version 1" in result.stderr and "--yes" in result.stderr
    assert not cli.sent("DELETE")


# --- download --------------------------------------------------------------------------------------------


def test_download_from_a_named_region_writes_byte_identical_files(cli, tmp_path):
    created_model(cli, tmp_path)
    target = tmp_path / "out"

    result = cli.run(
        "model", "download", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1",
        "--region", "westus", "--dir", str(target), "-o", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["region"] == "westus"
    assert {f["path"] for f in summary["files"]} == set(MODEL_FILES)
    assert {p.relative_to(target).as_posix(): p.read_bytes() for p in target.rglob("*") if p.is_file()} == MODEL_FILES
    westus = next(
        a["blob_endpoint"]
        for a in cli.world.store.get_registry("demoregistry1").resources["storage_accounts"]
        if a["region"] == "westus"
    )
    assert sorted(cli.transfer.downloaded) == sorted((westus, "models/clf/1/" + p) for p in MODEL_FILES)


def test_a_tampered_copy_fails_the_md5_check_and_that_file_is_not_written(cli, tmp_path):
    created_model(cli, tmp_path)
    record = cli.world.store.get_registry("demoregistry1")
    eastus = next(a["blob_endpoint"] for a in record.resources["storage_accounts"] if a["region"] == "eastus")
    cli.world.data.accounts[eastus][ASSET_CONTAINER]["models/clf/1/model.pkl"].data = b"\x07" * 4096
    target = tmp_path / "out"

    result = cli.run("model", "download", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1", "--dir", str(target))

    assert result.exit_code == 1
    assert "model.pkl: its MD5 differs from the manifest's Content-MD5; not written" in result.stderr
    written = {p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()}
    assert written == {"MLmodel", "data/weights.bin"}
    assert md5_of_file(target / "MLmodel") == md5_of(MODEL_FILES["MLmodel"])


def test_a_manifest_path_escaping_the_directory_is_refused(cli, tmp_path):
    created_model(cli, tmp_path)
    target = tmp_path / "out"
    target.mkdir()
    (target / "data").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    result = cli.run("model", "download", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1", "--dir", str(target))

    assert result.exit_code == 2
    assert "would be written outside" in result.stderr
    assert cli.transfer.downloaded == [] and not (tmp_path / "elsewhere").exists()


def test_download_from_a_region_that_does_not_exist_is_the_api_problem(cli, tmp_path):
    created_model(cli, tmp_path)

    result = cli.run(
        "model", "download", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1",
        "--region", "japaneast", "--dir", str(tmp_path / "out"),
    )  # fmt: skip

    assert result.exit_code == 2
    assert result.stderr.startswith("RegionNotFound: ")
