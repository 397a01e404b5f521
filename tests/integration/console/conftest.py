"""The web console in a real browser: Playwright for Python driving Debian's ``chromium`` headless, against a
whole sandbox (``tests/integration/e2e/conftest.py``'s, one per worker) that serves the built console at
``/console``. Sign-in goes through MSAL and the Entra stand-in's authorize page, as a person's would.

Each page a test visits is checked with axe-core (``console/node_modules/axe-core/axe.min.js``): no serious or
critical violation. ``shot(page, name)`` saves a screenshot into ``$CONSOLE_SCREENSHOTS`` (``docs/console``
refreshes the pictures of docs/console.md) or the test's temporary directory. Figures measured in a run (the
first load's compressed JavaScript, the registries page's time to interactive) are printed at the end.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from sandbox.entra.config import OWNER_NAME
from tests.integration.e2e.conftest import Env, start_env

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "console" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise RuntimeError("Debian's chromium package is missing: apt-get install -y chromium (.ci/run does)")
    return found


@pytest.fixture(scope="session")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    if not (ROOT / "console" / "dist" / "index.html").is_file():
        raise RuntimeError("the console is not built: run make setup")
    yield from start_env(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), headless=True, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    # the Entra stand-in's TLS certificate chains to the sandbox's own CA, which the browser does not know
    made = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    made.set_default_timeout(30_000)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def console(env: Env) -> str:
    return env.sandbox.api.removesuffix("/api") + "/console"


def sign_in(
    page: Page, console: str, *, who: str = OWNER_NAME, principal_id: str | None = None, path: str = "/"
) -> None:
    """Open the console and sign in on the stand-in's picker: a listed user by name, or any object id."""
    page.goto(console + path)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/oauth2/v2.0/authorize**")
    if principal_id is None:
        page.get_by_role("button", name=who).click()
    else:
        page.get_by_label("Object id").fill(principal_id)
        page.get_by_label("Display name").fill(who)
        page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(who)


def assert_accessible(page: Page, what: str) -> None:
    """axe-core over the page as it is now: no serious or critical violation.

    Tabster's focus sentinels (``<i data-tabster-dummy tabindex=0 aria-hidden>``, which Fluent UI's tab lists
    and dialogs place to hand focus on at their edges) are left out: they pass focus to the next real control
    the moment they get it, so a keyboard or screen-reader user never lands on them.

    The page is checked as a person sees it: after the CSS transitions and animations that will end have
    ended (a button turning from subtle to primary fades its background for a moment, and axe caught white
    text on the half-faded colour once). Endless ones, such as a spinner's, are not waited for."""
    page.evaluate(
        """async () => await Promise.all(document.getAnimations()
            .filter((a) => a.effect && a.effect.getComputedTiming().endTime !== Infinity)
            .map((a) => a.finished.catch(() => null)))"""
    )
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run({exclude: [['[data-tabster-dummy]']]}, {resultTypes: ['violations']})"
    )
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in SERIOUS
    ]
    assert serious == [], f"{what}: {serious}"


@pytest.fixture
def shot(tmp_path: Path) -> Any:
    target = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)

    def take(page: Page, name: str) -> Path:
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


MEASURED = "console-measured"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figures the tests recorded (``record_property("console-measured", text)``), workers' included."""
    lines = [
        str(value)
        for reports in terminalreporter.stats.values()
        for report in reports
        for name, value in getattr(report, "user_properties", ())
        if name == MEASURED and getattr(report, "when", "") == "call"
    ]
    if lines:
        terminalreporter.section("web console, measured in this run")
        for line in lines:
            terminalreporter.write_line(line)
