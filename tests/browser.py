"""Browser fixtures shared by every browser test (portal and workspace): Debian's Chromium
driven headless by Playwright against a live server. Registered once from tests/conftest.py,
so one Playwright instance serves the whole session of a test worker."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the
    # tests make between page actions are still synchronous and safe.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import expect

    # A full run loads both cores (test workers, the live servers, Chromium): give
    # assertions on what the page shows the same 10 s as the slowest step may need.
    expect.set_options(timeout=10_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


# Every Content-Security-Policy violation a page reports (securitypolicyviolation events,
# forwarded the moment they fire) and every console error naming the policy.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__nestogyCspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} `
                               + `on ${document.location.pathname}`);
});
"""


@pytest.fixture
def csp_violations():
    return []


@pytest.fixture
def page(browser, live_server, csp_violations):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860},
                                  accept_downloads=True)
    context.expose_function("__nestogyCspViolation",
                            lambda violation: csp_violations.append(violation))
    context.add_init_script(_REPORT_VIOLATIONS)
    page = context.new_page()
    page.on("console", lambda message: csp_violations.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def screenshot():
    """Save a full-page screenshot under docs/screenshots/ (shown in the README)."""

    def take(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
