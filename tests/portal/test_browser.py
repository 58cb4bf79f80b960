"""The portal in a real browser (Playwright + Debian's Chromium, headless)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email, password=PASSWORD):
    page.goto("/portal/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_sign_in_page_and_throttling(personas, page, screenshot):
    page.goto("/portal/")
    assert page.url.endswith("/portal/login/?next=/portal/")
    screenshot(page, "portal-login")
    for attempt in range(5):
        sign_in(page, "dana@acme.test", f"wrong-password-{attempt}")
    expect(page.get_by_role("alert").first).to_contain_text("Too many failed attempts")
    sign_in(page, "dana@acme.test")
    expect(page.get_by_role("alert").first).to_contain_text("Too many failed attempts")


def test_keyboard_user_can_sign_in(personas, page):
    page.goto("/portal/login/")
    # The email field has focus on arrival; Tab moves to the password; Enter submits.
    page.keyboard.type("dana@acme.test")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello Dana Contact")
    expect(page).to_have_url(re.compile(r"/portal/$"))
