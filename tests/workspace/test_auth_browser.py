"""Staff sign-in in a real browser: set up the authenticator app on the account page, sign in
with its code, and reset a forgotten password from the e-mailed link."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from nestogy.accounts.models import User
from tests.conftest import PASSWORD
from tests.payments.fixtures import immediate_tasks  # noqa: F401
from tests.portal.test_browser_invitation import axe_violations
from tests.workspace.test_auth_two_factor import code_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign_in(page, email="tech1@alpha.test", password=PASSWORD):
    page.goto("/app/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def _next_window():
    """Wait for the authenticator's next 30-second step: each code signs in once."""
    time.sleep(30 - time.time() % 30 + 0.5)


def test_technician_sets_up_the_authenticator_and_signs_in_with_it(
        personas, page, screenshot, csp_violations):
    _sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    with page.expect_navigation():
        page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.get_by_role("region", name="Two-factor sign-in")).to_contain_text("Off")
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="Set up an authenticator app").click()
    qr = page.get_by_role("img", name="QR code to add Nestogy to an authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.naturalWidth") > 0  # the inline SVG really renders
    secret = page.get_by_test_id("totp-secret").inner_text()
    assert axe_violations(page) == []
    screenshot(page, "workspace-two-factor")

    page.get_by_label("Code from the app").fill("000000" if code_for(secret) != "000000"
                                                else "111111")
    with page.expect_navigation():
        page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("alert")).to_contain_text("This is not the code your app shows")
    page.get_by_label("Code from the app").fill(code_for(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("status")).to_contain_text("Two-factor sign-in is on.")
    codes = page.get_by_test_id("backup-codes").locator("code")
    expect(codes).to_have_count(10)
    assert axe_violations(page) == []
    with page.expect_navigation():
        page.get_by_role("link", name="I have saved them").click()
    page.goto("/app/account/")
    expect(page.get_by_role("region", name="Two-factor sign-in")).to_contain_text(
        "Backup codes left: 10")
    assert axe_violations(page) == []
    screenshot(page, "workspace-account")

    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    _sign_in(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
    assert axe_violations(page) == []
    _next_window()
    page.get_by_label("Code").fill(code_for(secret))
    with page.expect_navigation():
        page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    assert csp_violations == []


def test_forgotten_password_is_reset_from_the_mailed_link(
        personas, page, screenshot, immediate_tasks, csp_violations):  # noqa: F811
    page.goto("/app/login/")
    with page.expect_navigation():
        page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("tech2@alpha.test")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("status")).to_contain_text("a link to choose a new password")
    assert axe_violations(page) == []
    [message] = mail.outbox
    link = urlsplit(re.search(r"http://\S+/app/password-reset/\S+/", message.body)[0]).path
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("violet-otter-harbour-42")
    page.get_by_label("Repeat the new password").fill("violet-otter-harbour-42")
    assert axe_violations(page) == []
    screenshot(page, "workspace-password-reset")
    with page.expect_navigation():
        page.get_by_role("button", name="Set the password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is changed.")
    _sign_in(page, "tech2@alpha.test", "violet-otter-harbour-42")
    expect(page.get_by_role("heading", level=1)).to_have_text("My work")
    assert User.objects.get(email="tech2@alpha.test").check_password("violet-otter-harbour-42")
    response = page.goto(link)
    assert response.status == 400
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    assert csp_violations == []
