"""Company settings and the audit log in a real browser: an owner corrects a refused
colour, saves the invoice prefix, uploads the logo, tests the Slack and SMS channels (a
refusal first, then messages received by a local server through Apprise), then finds the
changes in the audit log (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from nestogy.notifications.models import ChannelAddress
from nestogy.tenancy.models import Company
from tests.notifications.conftest import Receiver
from tests.notifications.test_delivery import SLACK_SHAPE
from tests.portal.test_browser_invitation import axe_violations
from tests.tenancy.test_logo import png
from tests.workspace.helpers import sign_in_page, ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def receiver(settings):
    """A local HTTP server the company's Slack and SMS relays post to; tests run at once."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "notifications", "billing", "sla"]}}
    r = Receiver()
    yield r
    r.stop()


def test_owner_changes_settings_and_reads_the_audit_log(personas, page, screenshot,
                                                        csp_violations, tmp_path,
                                                        media_root, receiver):
    p = personas
    company = Company.objects.get(pk=p.company_a.pk)
    company.set_setting("notifications.slack_urls",
                        [f"json://127.0.0.1:{receiver.port}/alerts{SLACK_SHAPE}"])
    company.save()
    with scope(company=company.pk):
        ChannelAddress.objects.create(company=company, user=p.owner_a.user, channel="sms",
                                      address="+15550002222")
    ticket(p.company_a, p.client_a, "Router down in the front office")
    receiver.requests.clear()
    sign_in_page(page, "owner@alpha.test")
    page.goto("/app/settings/")
    with page.expect_navigation():
        page.get_by_role("link", name="Company settings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Company settings")
    page.get_by_label("Accent color").fill("green")
    page.get_by_label("Invoice prefix").fill("AIT-")
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("alert").first).to_contain_text("Nothing was saved.")
    expect(page.get_by_text("Accent color: Must be a colour written #rrggbb")).to_be_visible()
    assert Company.objects.get(pk=p.company_a.pk).get_setting("billing.invoice_prefix") \
        == "INV-"
    page.get_by_label("Accent color").fill("#0a7d3b")
    with page.expect_navigation():
        page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_contain_text("Saved: invoice prefix, "
                                                             "accent color.")
    logo = tmp_path / "logo.png"
    logo.write_bytes(png((240, 80), (20, 90, 200)))
    page.get_by_label("Upload a logo").set_input_files(str(logo))
    with page.expect_navigation():
        page.get_by_role("button", name="Save the logo").click()
    expect(page.get_by_role("status").first).to_contain_text("Logo saved.")
    expect(page.get_by_role("img", name="The company logo")).to_be_visible()

    # Test the channels: the SMS gateway is not set yet, so that test is refused.
    tests = page.get_by_role("region", name="Test the channels")
    expect(tests).to_contain_text("A ticket was opened")
    expect(tests).to_contain_text("Gateway: not set yet. Your number: ends in 2222.")
    with page.expect_navigation():
        tests.get_by_role("button", name="Send a test SMS to me").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "No test sent: no SMS gateway is set (Notifications, Sms url).")
    assert receiver.requests == []
    company = Company.objects.get(pk=p.company_a.pk)
    company.set_setting("notifications.sms_url",
                        f"json://127.0.0.1:{receiver.port}/sms/{{phone}}")
    company.save()
    page.reload()
    with page.expect_navigation():
        tests.get_by_role("button", name="Send a test SMS to me").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "A test SMS was queued to your number ending in 2222 with the latest ticket.created "
        "notification")
    with page.expect_navigation():
        tests.get_by_role("button", name="Send a test to Slack").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "A test was queued to Slack (1 address) with the latest ticket.created notification")
    assert sorted(r.path for r in receiver.requests) == ["/alerts", "/sms/+15550002222"]
    assert all("Router down in the front office" in str(r.json) for r in receiver.requests)
    assert "127.0.0.1" not in page.content()
    assert axe_violations(page) == []
    screenshot(page, "office-settings-company")

    page.goto("/app/settings/audit/")
    page.get_by_label("Action").fill("company.")
    with page.expect_navigation():
        page.get_by_role("button", name="Filter").click()
    rows = page.locator("[data-audit-row]")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("company.logo_uploaded")
    expect(rows.nth(1)).to_contain_text("company.settings_updated")
    expect(rows.nth(1)).to_contain_text("owner@alpha.test")
    assert axe_violations(page) == []
    screenshot(page, "office-audit-log")
