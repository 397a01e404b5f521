"""The Assets tab as the owner: a model registered with the CLI (as a person types it, while the tab is open)
fills its version × region matrix in to Replicated in every region; its details; a download from one region
whose per-file link serves the very bytes uploaded; an archived version hidden until asked for."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.integration.console.conftest import assert_accessible, sign_in
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_assets import regctl
from tests.integration.e2e.test_lifecycle import created

pytestmark = pytest.mark.integration

REGIONS = ("eastus", "eastus2", "westus")  # demo-registry-1.yml's


def model_files(tmp: Path) -> Path:
    folder = tmp / "model"
    (folder / "weights").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors:\n  python_function: {loader_module: clf}\n", encoding="utf-8")
    (folder / "conda.yaml").write_text("dependencies: [python=3.11, scikit-learn]\n", encoding="utf-8")
    (folder / "weights" / "model.bin").write_bytes(os.urandom(2 * 1024 * 1024))
    spec = tmp / "model.yml"
    spec.write_text("name: clf\nversion: '1'\ntype: mlflow_model\npath: model\ntags: {stage: dev}\n", encoding="utf-8")
    return spec


def test_a_model_registered_with_the_cli_fills_its_region_matrix(
    env: Env, page: Page, console: str, shot: Any, tmp_path: Path
) -> None:
    name, _ = created(env, "Assets")
    sign_in(page, console, path=f"/registries/{name}?tab=assets")
    expect(page.get_by_test_id("no-assets")).to_be_visible()
    spec = model_files(tmp_path)

    # regctl model create --registry {name} -f model.yml --wait, typed while the tab is open
    with ThreadPoolExecutor(1) as pool:
        typed = pool.submit(regctl, env, "model", "create", "--registry", name, "-f", str(spec), "--wait")
        expect(page.get_by_test_id("version-clf-1")).to_be_visible(timeout=120_000)
        for region in REGIONS:
            expect(page.get_by_test_id(f"copy-clf-1-{region}")).to_have_text("Replicated", timeout=180_000)
        made = typed.result()
    assert made.returncode == 0, made.stderr + made.stdout
    expect(page.get_by_test_id("version-clf-1")).to_contain_text("Available")
    assert_accessible(page, "assets")
    shot(page, "assets")

    page.get_by_role("button", name="Details of clf version 1").click()
    expect(page.get_by_test_id("detail-Id")).to_have_text(f"azureml://registries/{name}/models/clf/versions/1")
    expect(page.get_by_test_id("detail-Files")).to_contain_text("3 files")
    creator = env.api.get(f"/api/registries/{name}/models/clf/versions/1").json()["createdBy"]
    expect(page.get_by_test_id("detail-Created by")).to_have_text(f"{creator['name']} ({creator['type']})")
    expect(page.get_by_test_id("detail-Tags")).to_have_text("stage=dev")
    page.get_by_role("button", name="Download from westus").click()
    links = page.get_by_test_id("download-links")
    expect(links.get_by_role("link")).to_have_count(3)
    href = links.get_by_role("link", name="weights/model.bin").get_attribute("href") or ""
    assert "/assets/models/clf/1/weights/model.bin?" in href, href
    fetched = page.request.get(href)
    assert fetched.status == 200, fetched.text()
    assert fetched.body() == (tmp_path / "model" / "weights" / "model.bin").read_bytes()
    assert_accessible(page, "asset version details")
    shot(page, "assets-version")

    archived = env.api.patch(f"/api/registries/{name}/models/clf/versions/1", json={"isArchived": True})
    assert archived.status_code == 200, archived.text
    page.reload()
    expect(page.get_by_test_id("no-assets")).to_be_visible()
    page.get_by_role("switch", name="Show archived versions").check()
    expect(page.get_by_test_id("version-clf-1")).to_contain_text("Archived")
