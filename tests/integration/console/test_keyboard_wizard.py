"""Every wizard step with the keyboard alone: Tab to a control, type, Enter or Space; no mouse click from the
registries page to the operation page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.integration.console.conftest import sign_in
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_provisioning import unique

pytestmark = pytest.mark.integration
MAX_TABS = 60


def tab_to(page: Page, target: Locator) -> None:
    """Press Tab until ``target`` has the focus (at most ``MAX_TABS`` times)."""
    for _ in range(MAX_TABS):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def choose_region(page: Page, label: str, typed: str) -> None:
    tab_to(page, page.get_by_role("combobox", name=label))
    page.keyboard.type(typed)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")


def test_the_wizard_works_with_the_keyboard_alone(env: Env, page: Page, console: str) -> None:
    name = unique("Keys")
    sign_in(page, console)
    create = page.get_by_role("button", name="Create registry")
    expect(create).to_be_enabled()
    tab_to(page, create)
    page.keyboard.press("Enter")

    tab_to(page, page.get_by_label("Name"))
    page.keyboard.type(name)
    tab_to(page, page.get_by_label("Description"))
    page.keyboard.type("made with the keyboard")
    tab_to(page, page.get_by_role("button", name="Add tag"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_label("Tag 1 name"))
    page.keyboard.type("team")
    page.keyboard.press("Tab")
    page.keyboard.type("ml")
    tab_to(page, page.get_by_role("button", name="Next"))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Regions", exact=True)).to_be_focused()
    choose_region(page, "Primary region", "North Europe")
    choose_region(page, "Add a region", "West Europe")
    expect(page.get_by_test_id("region-row-westeurope")).to_be_visible()
    tab_to(page, page.get_by_role("switch", name="Hierarchical namespace in westeurope"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("spinbutton", name="replication_count in westeurope"))
    page.keyboard.press("ArrowUp")
    tab_to(page, page.get_by_role("button", name="Next"))
    page.keyboard.press("Enter")

    review = page.get_by_test_id("review-yaml")
    expect(review).to_contain_text("storage_account_hns: true")
    expect(review).to_contain_text("replication_count: 2")
    expect(review).to_contain_text("location: northeurope")
    tab_to(page, page.get_by_role("button", name="Create", exact=True))
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/operations/**")
    expect(page.get_by_test_id("operation-status")).to_have_text("Succeeded", timeout=120_000)
    spec = env.api.get(f"/api/registries/{name}").json()["spec"]
    assert spec["tags"] == {"team": "ml"} and spec["description"] == "made with the keyboard"
    west = next(r for r in spec["replication_locations"] if r["location"] == "westeurope")
    assert west["storage_config"] == {
        "storage_account_type": "Standard_LRS",
        "storage_account_hns": True,
        "replication_count": 2,
    }
