"""A Reader of one registry: sees it (and only it), finds create, sync and delete disabled, and a forced
create explained by the 403's missing action. A session whose token the API refuses (401) signs in again."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from shared.domain.roles import READER
from tests.integration.console.conftest import assert_accessible, sign_in
from tests.integration.e2e.conftest import Env
from tests.integration.e2e.test_lifecycle import created

pytestmark = pytest.mark.integration
WRITE = "Microsoft.MachineLearningServices/registries/write"


def test_a_reader_sees_the_registry_and_cannot_change_it(env: Env, page: Page, console: str, shot: Any) -> None:
    name, _ = created(env, "Read")
    other, _ = created(env, "Hidden")
    reader = str(uuid.uuid4())
    grant = {
        "scope": f"/registries/{name}",
        "principalId": reader,
        "principalType": "User",
        "roleDefinitionId": READER.id,
    }
    assert env.api.put(f"/api/roleAssignments/{uuid.uuid4()}", json=grant).status_code == 201

    sign_in(page, console, who="Rita Reader", principal_id=reader)
    table = page.get_by_test_id("registries-table")
    expect(table.get_by_role("link", name=name)).to_be_visible()
    expect(table.get_by_role("link", name=other)).to_have_count(0)
    expect(page.get_by_role("button", name="Create registry")).to_be_disabled()

    table.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    for button in ("Sync now", "Delete registry", "Add or remove regions"):
        expect(page.get_by_role("button", name=button)).to_be_disabled()
    shot(page, "reader-registry")

    page.goto(f"{console}/create")  # forced: the wizard by its address, then Create
    page.get_by_label("Name").fill("ReaderMade")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("combobox", name="Primary region").press_sequentially("West US 2")
    page.get_by_role("option", name="(westus2)").click()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Create", exact=True).click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("You are not allowed to do this")
    expect(page.get_by_test_id("missing-action")).to_have_text(WRITE)
    assert_accessible(page, "403 explained")
    shot(page, "reader-403")
    assert env.api.get("/api/registries/ReaderMade").status_code == 404


def test_a_token_the_api_refuses_leads_to_sign_in(env: Env, page: Page, console: str) -> None:
    sign_in(page, console)
    spoiled = page.evaluate(
        """() => {
            let n = 0;
            for (const key of Object.keys(sessionStorage)) {
                try {
                    const entry = JSON.parse(sessionStorage.getItem(key));
                    if (entry && entry.credentialType === "AccessToken") {
                        entry.secret = "not-a-token";
                        sessionStorage.setItem(key, JSON.stringify(entry));
                        n += 1;
                    }
                } catch (e) {}
            }
            return n;
        }"""
    )
    assert spoiled >= 1
    page.reload()
    page.wait_for_url("**/oauth2/v2.0/authorize**")  # the 401 sent the browser to sign in again
    page.get_by_role("button", name="Sandbox Owner").click()
    expect(page.get_by_test_id("registries-table")).to_be_visible()
