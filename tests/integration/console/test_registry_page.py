"""The registry page as the owner: overview, resources per region, history and access; add a region through
the wizard's Regions step; see drift field by field after a replica is deleted in the ARM simulator (policy
observe), and heal it with Sync now once the policy is manage again."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.integration.console.conftest import assert_accessible, sign_in
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_lifecycle import acr_name, created, group

pytestmark = pytest.mark.integration


def finish_operation(page: Page) -> None:
    page.wait_for_url("**/console/operations/**")
    expect(page.get_by_test_id("operation-status")).to_have_text("Succeeded", timeout=120_000)


def open_tab(page: Page, console: str, name: str, tab: str) -> None:
    page.goto(f"{console}/registries/{name}?tab={tab}")
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def set_policy(page: Page, policy: str) -> None:
    page.get_by_role("combobox", name="Reconcile policy").click()
    page.get_by_role("option", name=policy, exact=True).click()
    expect(page.get_by_role("combobox", name="Reconcile policy")).to_have_text(policy)


def test_owner_adds_a_region_sees_drift_and_heals_it(env: Env, page: Page, console: str, shot: Any) -> None:
    name, _ = created(env, "Page")
    sign_in(page, console, path=f"/registries/{name}")
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    assert_accessible(page, "registry overview")
    shot(page, "registry-overview")
    page.get_by_role("tab", name="Resources").click()
    for region in ("eastus", "eastus2", "westus"):
        expect(page.get_by_test_id(f"resources-{region}")).to_contain_text("storage accounts")
    assert_accessible(page, "registry resources")
    shot(page, "registry-resources")

    page.get_by_role("button", name="Add or remove regions").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_test_id("primary-region")).to_have_text("East US (eastus)")
    dialog.get_by_role("combobox", name="Add a region").press_sequentially("japan east")
    page.get_by_role("option", name="(japaneast)").click()
    expect(dialog.get_by_test_id("region-row-japaneast")).to_be_visible()
    assert_accessible(page, "regions dialog")
    shot(page, "registry-regions")
    dialog.get_by_role("button", name="Save regions").click()
    finish_operation(page)
    expect(page.get_by_test_id("region-japaneast")).to_be_visible()
    regions = [r["location"] for r in env.api.get(f"/api/registries/{name}").json()["spec"]["replication_locations"]]
    assert regions == ["eastus", "eastus2", "westus", "japaneast"]

    open_tab(page, console, name, "drift")
    set_policy(page, "observe")
    env.arm.acr.replications.begin_delete(group(name), acr_name(env, name), "eastus2").result()
    page.get_by_role("button", name="Sync now").click()
    finish_operation(page)
    open_tab(page, console, name, "drift")
    drift = page.get_by_role("table", name="Drift")
    expect(drift.get_by_role("row", name="replica eastus2 exists present missing")).to_be_visible()
    expect(page.get_by_role("tab", name="Drift (1)")).to_be_visible()
    assert_accessible(page, "registry drift")
    shot(page, "registry-drift")

    set_policy(page, "manage")
    page.get_by_role("button", name="Sync now").click()
    finish_operation(page)
    open_tab(page, console, name, "drift")
    expect(page.get_by_test_id("no-drift")).to_be_visible()
    assert "eastus2" in {r.location for r in env.arm.acr.replications.list(group(name), acr_name(env, name))}

    page.get_by_role("tab", name="History").click()
    expect(page.get_by_role("table", name="Operation history").get_by_role("row")).not_to_have_count(1)
    assert_accessible(page, "registry history")
    shot(page, "registry-history")
    page.get_by_role("tab", name="Access").click()
    user = str(uuid.uuid4())
    page.get_by_label("Principal object id").fill(user)
    page.get_by_role("combobox", name="Role").click()
    page.get_by_role("option", name="AzureML Registry User").click()
    page.get_by_role("button", name="Grant").click()
    row = page.get_by_test_id(f"assignment-{user}")
    expect(row).to_contain_text("AzureML Registry User")
    expect(row).to_contain_text(f"/registries/{name.lower()}")
    deadline = time.monotonic() + 60
    while "Applied" not in row.inner_text() and time.monotonic() < deadline:  # the data plane, in every region
        page.get_by_role("tab", name="History").click()
        page.get_by_role("tab", name="Access").click()
        page.wait_for_timeout(500)
    expect(row).to_contain_text("Applied")
    assert_accessible(page, "registry access")
    shot(page, "registry-access")
    row.get_by_role("button", name="Revoke").click()
    expect(row).to_have_count(0)
    assigned = env.api.get("/api/roleAssignments", params={"principalId": user}).json()["value"]
    assert assigned == []
