"""The operators' console in a real browser: an operator signs in to the admin, opens the
platform page from its index and switches a company off (Playwright + Debian's Chromium)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from nestogy.accounts.models import User
from nestogy.tenancy.models import Company
from tests.conftest import PASSWORD
from tests.portal.test_browser_invitation import axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_operator_sees_the_companies_and_switches_one_off(personas, page, screenshot,
                                                         csp_violations):
    User.objects.create_superuser("root@nestogy.test", PASSWORD)
    page.goto("/admin/login/")
    page.get_by_label("Email").fill("root@nestogy.test")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Platform: companies").click()
    rows = page.locator("[data-company]")
    expect(rows).to_have_count(2)
    expect(page.locator(f"[data-company='{personas.company_b.slug}']")).to_contain_text(
        "Bravo IT")
    assert axe_violations(page) == []
    screenshot(page, "office-platform")
    with page.expect_navigation():
        page.locator(f"[data-company='{personas.company_b.slug}']").get_by_role(
            "button", name="Switch off").click()
    expect(page.locator(f"[data-company='{personas.company_b.slug}']")).to_contain_text(
        "switched off")
    assert not Company.objects.get(pk=personas.company_b.pk).is_active


def test_a_companys_owner_is_refused_at_the_admin(personas, page, screenshot, csp_violations):
    """The owner types their (right) password into the admin's form: refused, and told where
    staff sign in; signed in to the workspace, the admin still does not open."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Email").fill("owner@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_contain_text("password of a platform operator")
    expect(page.locator(".errornote")).to_contain_text("/app/login/")
    screenshot(page, "office-admin-refused")
    page.goto("/app/login/")
    page.get_by_label("Email").fill("owner@alpha.test")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Alpha IT")).to_be_visible()
    page.goto("/admin/clients/client/")
    expect(page.locator(".errornote")).to_contain_text("not authorized")
    expect(page.get_by_text("Acme Dental")).to_have_count(0)
    assert csp_violations == []
