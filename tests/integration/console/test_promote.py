"""Promotion through the console: a model registered with the CLI in one registry is promoted into a second
registry from its version's details ("Promote to another registry"), which leads to the copy's operation page;
the target's Assets tab then shows the version Available and Replicated in every region, with its lineage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.integration.console.conftest import assert_accessible, sign_in
from tests.integration.console.test_assets_tab import REGIONS, model_files
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_assets import regctl
from tests.integration.e2e.test_lifecycle import created

pytestmark = pytest.mark.integration


def test_a_version_promoted_through_the_console_reaches_available_in_the_target(
    env: Env, page: Page, console: str, shot: Any, tmp_path: Path
) -> None:
    source, _ = created(env, "PromoteFrom")
    target, _ = created(env, "PromoteTo")
    made = regctl(env, "model", "create", "--registry", source, "-f", str(model_files(tmp_path)), "--wait")
    assert made.returncode == 0, made.stderr + made.stdout

    sign_in(page, console, path=f"/registries/{source}?tab=assets")
    expect(page.get_by_test_id("version-clf-1")).to_contain_text("Available", timeout=60_000)
    page.get_by_role("button", name="Details of clf version 1").click()
    promote = page.get_by_role("button", name="Promote to another registry")
    expect(promote).to_be_enabled()
    promote.click()

    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Promote clf version 1")
    dialog.get_by_label("Target registry").select_option(target)
    expect(dialog).to_contain_text(f"--to {target}")
    expect(dialog.locator(f"option[value='{source}']")).to_have_count(0)  # not this registry
    assert_accessible(page, "promote dialog")
    shot(page, "assets-promote")

    dialog.get_by_role("button", name="Promote", exact=True).click()
    page.wait_for_url("**/console/operations/**")
    expect(page.get_by_test_id("operation-status")).to_have_text("Succeeded", timeout=180_000)
    assert_accessible(page, "promotion operation")
    shot(page, "promote-operation")

    page.goto(f"{console}/registries/{target}?tab=assets")
    expect(page.get_by_test_id("version-clf-1")).to_contain_text("Available", timeout=120_000)
    for region in REGIONS:
        expect(page.get_by_test_id(f"copy-clf-1-{region}")).to_have_text("Replicated", timeout=120_000)
    page.get_by_role("button", name="Details of clf version 1").click()
    expect(page.get_by_test_id("detail-Properties")).to_contain_text(
        f"promotedFrom=azureml://registries/{source}/models/clf/versions/1"
    )
    assert_accessible(page, "target assets")
    shot(page, "assets-promoted")

    # the promotions list tells what happened: one explicit promotion into the target, Succeeded
    promoted = env.api.get("/api/promotions").json()["value"]
    mine = [p for p in promoted if p["target"].lower().startswith(f"azureml://registries/{target.lower()}/")]
    assert len(mine) == 1 and mine[0]["status"] == "Succeeded", mine
