"""``regctl model|data|component|environment create``: the YAML checked offline (nothing sent when it or its
local content is refused), the files uploaded into the pending upload with their Content-MD5, the version
registered with its list of files, ``--wait`` to every region, and the API's refusals."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.unit.cli.asset_world import MODEL_FILES, REGIONS, converged, copies, created_model, field, model_folder
from tests.unit.cli.harness import CliWorld, write
from tests.unit.services.fake_assets import md5_of


@pytest.fixture
def cli() -> CliWorld:
    return converged()


def test_model_create_from_a_folder_with_wait_ends_available_and_replicated_in_every_region(cli, tmp_path):
    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", model_folder(tmp_path), "--wait")

    assert result.exit_code == 0, result.stderr
    assert sorted(cli.transfer.uploaded) == sorted(MODEL_FILES)
    put = cli.sent("PUT")[-1]
    assert put.url.path == "/api/registries/DemoRegistry1/models/clf/versions/1"
    sent = json.loads(put.content)
    assert sent["path"].rsplit("/", 1)[1].startswith("upload-")
    assert sorted(sent["files"], key=lambda f: f["path"]) == [
        {"path": p, "size": len(d), "md5": md5_of(d)} for p, d in sorted(MODEL_FILES.items())
    ]
    lines = result.stdout.splitlines()
    assert field(result.stdout, "Status") == "Available"
    for region in REGIONS:
        assert any(line.split()[:3] == [region, "Replicated", "3"] for line in lines), region
        assert copies(cli, region, "models/clf/1/") == MODEL_FILES
    assert "uploading 3 file(s)" in result.stderr


def test_model_create_without_wait_prints_the_creating_version_and_how_to_follow_it(cli, tmp_path):
    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", model_folder(tmp_path), "-o", "json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["id"] == "azureml://registries/DemoRegistry1/models/clf/versions/1"
    assert document["status"] == "Creating" and document["operation"].startswith("/api/operations/")
    assert (document["description"], document["tags"], document["fileCount"]) == ("a classifier", {"team": "ml"}, 3)

    table = cli.run("model", "show", "--registry", "DemoRegistry1", "-n", "clf", "-v", "1")
    assert table.exit_code == 0 and "Creating" in table.stdout


def test_data_create_uri_file_uploads_the_one_file(cli, tmp_path):
    (tmp_path / "titanic.csv").write_bytes(b"a,b\n1,2\n")
    spec = write(tmp_path, "name: titanic\nversion: '2'\ntype: uri_file\npath: titanic.csv\n", "data.yml")

    result = cli.run("data", "create", "--registry", "DemoRegistry1", "-f", spec, "--wait", "-o", "json")

    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert (document["type"], document["status"], document["fileCount"]) == ("uri_file", "Available", 1)
    assert {r["state"] for r in document["replication"].values()} == {"Replicated"}
    assert copies(cli, "westus", "data/titanic/2/") == {"titanic.csv": b"a,b\n1,2\n"}


def test_data_create_uri_folder_refuses_a_single_file_before_sending(cli, tmp_path):
    (tmp_path / "one.csv").write_bytes(b"x\n")
    spec = write(tmp_path, "name: d\nversion: '1'\ntype: uri_folder\npath: one.csv\n", "data.yml")
    before = len(cli.requests)

    result = cli.run("data", "create", "--registry", "DemoRegistry1", "-f", spec)

    assert result.exit_code == 2
    assert result.stderr.startswith("path: ") and "must be a folder" in result.stderr
    assert len(cli.requests) == before


def test_component_create_uploads_its_code_folder(cli, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text("print('train')\n")
    text = (
        "name: train\nversion: '1'\ntype: command\ncode: ./src\ncommand: python train.py\n"
        "environment: azureml:sklearn:1\ninputs: {epochs: {type: integer}}\n"
    )

    result = cli.run(
        "component", "create", "--registry", "DemoRegistry1", "-f", write(tmp_path, text, "c.yml"), "--wait"
    )

    assert result.exit_code == 0, result.stderr
    assert cli.transfer.uploaded == ["train.py"]
    document = cli.get("/api/registries/DemoRegistry1/components/train/versions/1")
    assert document["status"] == "Available"
    assert document["componentSpec"]["command"] == "python train.py"
    assert copies(cli, "eastus2", "components/train/1/") == {"train.py": b"print('train')\n"}


def test_environment_create_from_an_image_only_uploads_nothing_and_registers(cli, tmp_path):
    text = "name: sklearn\nversion: '1'\nimage: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest\n"

    result = cli.run("environment", "create", "--registry", "DemoRegistry1", "-f", write(tmp_path, text, "e.yml"))

    assert result.exit_code == 0, result.stderr
    assert cli.transfer.uploaded == []
    assert not [r for r in cli.requests if r.url.path.endswith("/startPendingUpload")]
    put = cli.sent("PUT")[-1]
    assert json.loads(put.content) == yaml.safe_load(text)
    assert "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest" in result.stdout


def test_environment_create_with_a_conda_file_uploads_that_file(cli, tmp_path):
    (tmp_path / "conda.yml").write_text("dependencies: [python=3.11]\n")
    text = "name: py\nversion: '1'\nimage: python:3.11\nconda_file: conda.yml\n"

    result = cli.run("environment", "create", "--registry", "DemoRegistry1", "-f", write(tmp_path, text, "e.yml"))

    assert result.exit_code == 0, result.stderr
    assert cli.transfer.uploaded == ["conda.yml"]
    assert json.loads(cli.sent("PUT")[-1].content)["conda_file"].rsplit("/", 1)[1].startswith("upload-")


def test_registering_other_content_under_the_same_version_reports_immutability(cli, tmp_path):
    created_model(cli, tmp_path)
    other = tmp_path / "other"
    other.mkdir()

    result = cli.run(
        "model", "create", "--registry", "DemoRegistry1", "-f", model_folder(other, {"model.pkl": b"\x01" * 10})
    )

    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1].startswith("AssetVersionImmutable: ")
    assert copies(cli, "westus", "models/clf/1/") == MODEL_FILES


def test_registering_the_same_content_again_says_so_and_exits_0(cli, tmp_path):
    created_model(cli, tmp_path)
    operations = len(cli.world.store.operations)

    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", str(tmp_path / "model.yml"), "--wait")

    assert result.exit_code == 0, result.stderr
    assert "registered with this content already" in result.stderr
    assert "Available" in result.stdout
    assert len(cli.world.store.operations) == operations


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("name: clf\nversion: '1'\ntype: sklearn_model\npath: clf\n", "type"),
        ("name: _clf\nversion: '1'\npath: clf\n", "name"),
        ("name: clf\npath: clf\n", "version"),
        ("name: clf\nversion: '1'\n", "path"),
    ],
)
def test_an_invalid_model_yaml_exits_2_with_its_fields_and_sends_nothing(cli, tmp_path, text, field):
    model_folder(tmp_path)
    before = len(cli.requests)

    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", write(tmp_path, text, "bad.yml"))

    assert result.exit_code == 2
    assert field in [line.split(":", 1)[0] for line in result.stderr.splitlines()]
    assert len(cli.requests) == before and cli.transfer.uploaded == []


@pytest.mark.parametrize(
    ("path", "reason"),
    [("../clf", "must not contain '..'"), ("nowhere", "does not exist"), ("azureml:clf:1", "not a local path")],
)
def test_a_content_path_that_is_not_a_local_path_inside_exits_2_and_sends_nothing(cli, tmp_path, path, reason):
    model_folder(tmp_path)
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    before = len(cli.requests)

    text = f"name: clf\nversion: '1'\npath: {path}\n"
    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", write(spec_dir, text, "m.yml"))

    assert result.exit_code == 2
    assert result.stderr.startswith("path: ") and reason in result.stderr
    assert len(cli.requests) == before


def test_a_symlink_leading_out_of_the_folder_is_refused(cli, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload\n")
    model_folder(tmp_path)
    (tmp_path / "clf" / "leak").symlink_to(secret)
    before = len(cli.requests)

    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", str(tmp_path / "model.yml"))

    assert result.exit_code == 2
    assert "leak links outside" in result.stderr
    assert len(cli.requests) == before


def test_a_symlink_inside_the_folder_is_uploaded_as_a_file(cli, tmp_path):
    spec = model_folder(tmp_path)
    (tmp_path / "clf" / "alias.pkl").symlink_to(tmp_path / "clf" / "model.pkl")

    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", spec, "--wait")

    assert result.exit_code == 0, result.stderr
    assert copies(cli, "eastus", "models/clf/1/")["alias.pkl"] == MODEL_FILES["model.pkl"]


def test_more_files_than_a_version_holds_are_refused_before_any_upload(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("regctl.asset_files.MAX_FILES", 2)
    before = len(cli.requests)

    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", model_folder(tmp_path))

    assert result.exit_code == 2
    assert "more than 2 files" in result.stderr
    assert len(cli.requests) == before


def test_a_file_over_the_size_limit_is_refused_before_any_upload(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("regctl.asset_files.MAX_FILE_BYTES", 4095)
    before = len(cli.requests)

    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", model_folder(tmp_path))

    assert result.exit_code == 2
    assert "model.pkl is 4096 bytes" in result.stderr
    assert len(cli.requests) == before


def test_a_file_list_too_long_for_the_api_is_left_out_and_the_api_records_what_arrived(cli, tmp_path, monkeypatch):
    monkeypatch.setattr("regctl.asset_files.MAX_REGISTRATION_BYTES", 200)

    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", model_folder(tmp_path), "--wait")

    assert result.exit_code == 0, result.stderr
    assert "too long to send" in result.stderr
    assert "files" not in json.loads(cli.sent("PUT")[-1].content)
    assert copies(cli, "eastus2", "models/clf/1/") == MODEL_FILES


def test_an_upload_that_lost_a_file_is_refused_with_the_field_errors_and_nothing_registered(cli, tmp_path):
    upload = cli.transfer.upload
    cli.transfer.upload = lambda url, files: upload(url, [f for f in files if f.path != "model.pkl"])

    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", model_folder(tmp_path), "--wait")

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[-2].startswith("UploadMismatch: ") and lines[-1] == "files[model.pkl]: not uploaded"
    assert cli.world.asset_store.rows == {}


def test_an_unknown_registry_is_the_api_problem_and_exits_2(cli, tmp_path):
    result = cli.run("model", "create", "--registry", "Nope", "-f", model_folder(tmp_path))

    assert result.exit_code == 2
    assert result.stderr.startswith("RegistryNotFound: ")
    assert cli.transfer.uploaded == []
