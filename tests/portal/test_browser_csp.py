"""The Content-Security-Policy in a real browser: the staff admin and the API documentation
run their scripts and styles with no violation (the portal journey checks the portal)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_pages_work_under_the_policy(personas, page, csp_violations):
    from nestogy.accounts.models import User

    User.objects.create_superuser("root@nestogy.test", PASSWORD)  # the admin is operators'
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Email").fill("root@nestogy.test")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Operations")).to_be_visible()
    page.goto("/admin/clients/client/")
    expect(page.get_by_role("link", name="Acme Dental")).to_be_visible()
    # The admin's own JavaScript runs under the policy: the sidebar filter hides what does
    # not match, and "select all" ticks every row of the change list.
    page.get_by_role("searchbox", name="Filter navigation items").fill("Sites")
    expect(page.get_by_role("link", name="Invoices", exact=True)).to_be_hidden()
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select").first).to_be_checked()
    page.goto("/admin/clients/client/add/")
    expect(page.get_by_role("heading", name="Add client")).to_be_visible()
    page.wait_for_timeout(300)
    assert csp_violations == []


def test_api_docs_render_under_the_policy(personas, page, csp_violations):
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Nestogy API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.wait_for_timeout(300)
    assert csp_violations == []


def test_an_injected_inline_script_is_blocked_and_reported(personas, page, csp_violations):
    """The policy blocks a script injected into a page (what an XSS would do), and the
    detector the other browser tests rely on does see violations."""
    page.goto("/portal/login/")
    page.evaluate("""() => {
        const s = document.createElement("script");
        s.textContent = "window.injected = true";
        document.body.appendChild(s);
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.injected === undefined")
    assert any("script-src" in v for v in csp_violations), csp_violations
