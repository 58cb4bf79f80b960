"""The dashboards in a real browser: a manager reads the service dashboard (charts with
their tables, a period switch, a CSV download) and an owner the revenue dashboard
(Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.tenancy.queries import company_today
from tests.billing.helpers import make_contract
from tests.portal.helpers import invoice
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.helpers import sign_in_page
from tests.workspace.test_reports import HOUR, made

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_and_owner_read_the_dashboards(personas, page, screenshot, csp_violations):
    p = personas
    techs = [p.tech_a.user, p.tech2_a.user]
    for i in range(36):
        made(p, f"Ticket {i}", days_ago=i % 28, priority=("critical", "high", "medium",
                                                           "low")[i % 4],
             assignee=techs[i % 2], client=(p.client_a, p.client_a2)[i % 3 == 0],
             first=(i % 9 + 1) * 1200, first_late=i % 7 == 0,
             resolved=None if i % 5 == 0 else (i % 6 + 1) * 2 * HOUR,
             resolved_late=i % 8 == 0)
    with scope(company=p.company_a.pk):
        start = (company_today(p.company_a).replace(day=1) - timedelta(days=70)).replace(day=1)
        make_contract(p.company_a, p.client_a, start=start.isoformat(), seats="12",
                      price="45.00")
        make_contract(p.company_a, p.client_a2, start=start.isoformat(), seats="4",
                      price="120.00", metered=False, cycle="quarterly")
        invoice(p.client_a, "540.00")

    sign_in_page(page, "manager@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Service").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Service dashboard")
    expect(page.locator("svg.chart")).to_have_count(6)
    expect(page.get_by_role("heading", name="Breaches and near misses")).to_be_visible()
    priority = page.locator("[data-table=priority] tbody tr")
    expect(priority).to_have_count(4)
    expect(priority.first.locator("th")).to_have_text("Critical")
    assert axe_violations(page) == []
    screenshot(page, "office-dashboard-service")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV of sla by priority").click()
    assert download.value.suggested_filename == "service-priority-30d.csv"
    # the figures say when they were computed; a new ticket shows after Refresh now
    expect(page.locator("[data-figures-as-of]")).to_contain_text("Figures as of")
    critical = priority.first.locator("td").first
    before = int(critical.inner_text())
    made(p, "Late news", days_ago=1, priority="critical", assignee=techs[0], first=600)
    page.reload()
    expect(critical).to_have_text(str(before))  # stored a moment ago
    with page.expect_navigation():
        page.get_by_role("button", name="Refresh now").click()
    expect(critical).to_have_text(str(before + 1))
    with page.expect_navigation():
        page.get_by_role("link", name="Last 7 days").click()
    expect(page.get_by_role("link", name="Last 7 days")).to_have_attribute(
        "aria-current", "page")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()

    sign_in_page(page, "owner@alpha.test")
    with page.expect_navigation():
        page.get_by_role("link", name="Revenue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Revenue dashboard")
    expect(page.locator("[data-mrr]")).to_have_text("700.00 USD")  # 540 + 480 / 3
    expect(page.locator("[data-arr]")).to_have_text("8,400.00 USD")
    expect(page.locator("[data-table=forecast] tbody tr")).to_have_count(12)
    expect(page.locator("[data-table=movements] tbody tr")).to_have_count(12)
    expect(page.locator("[data-table=movements] thead")).to_contain_text("churn USD")
    assert axe_violations(page) == []
    screenshot(page, "office-dashboard-revenue")
