"""What the asset command tests share: a converged DemoRegistry1, a model folder and its YAML, and where
the copies of a version are in each region's storage."""

from __future__ import annotations

from pathlib import Path

from shared.domain.manifest import ASSET_CONTAINER
from tests.unit.cli.harness import CliWorld, write

REGIONS = ["eastus", "eastus2", "westus"]
MODEL_FILES = {"MLmodel": b"flavors: {}\n", "model.pkl": b"\x00" * 4096, "data/weights.bin": bytes(range(256)) * 64}


def converged() -> CliWorld:
    """A CliWorld with DemoRegistry1 created and converged: a storage account in each of its three regions."""
    made = CliWorld()
    made.created()
    return made


def model_folder(tmp_path: Path, files: dict[str, bytes] = MODEL_FILES) -> str:
    """A model YAML next to a folder ``clf`` holding ``files``; the YAML's path."""
    for name, data in files.items():
        (tmp_path / "clf" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "clf" / name).write_bytes(data)
    text = "name: clf\nversion: '1'\ntype: custom_model\ndescription: a classifier\ntags: {team: ml}\npath: clf\n"
    return write(tmp_path, text, "model.yml")


def created_model(cli: CliWorld, tmp_path: Path) -> None:
    result = cli.run("model", "create", "--registry", "DemoRegistry1", "-f", model_folder(tmp_path), "--wait")
    assert result.exit_code == 0, result.stderr


def copies(cli: CliWorld, region: str, prefix: str) -> dict[str, bytes]:
    record = cli.world.store.get_registry("demoregistry1")
    account = next(a for a in record.resources["storage_accounts"] if a["region"] == region)
    blobs = cli.world.data.accounts.get(account["blob_endpoint"], {}).get(ASSET_CONTAINER, {})
    return {n.removeprefix(prefix): b.data for n, b in blobs.items() if n.startswith(prefix)}


def field(stdout: str, label: str) -> str:
    """The value of a ``Label  value`` line of a table."""
    return next(line[len(label) :].strip() for line in stdout.splitlines() if line.startswith(label + " "))
