"""The company page of the admin (the operators' console): settings through their
declarations, secrets write-only even for an operator, saved through the audited action.
A company's own staff change their settings in the workspace (tests/workspace)."""

from __future__ import annotations

import json

import pytest
from django.test import Client as HttpClient
from django_scopes import scopes_disabled

from nestogy.audit.models import AuditEntry
from nestogy.tenancy import company_settings
from nestogy.tenancy.models import Company
from tests.support.admin_forms import OPERATOR_EMAIL, operator
from tests.tenancy.test_api_company import LEAKS, SECRETS, STRIPE_KEY, raw_settings


def url(company) -> str:
    return f"/admin/tenancy/company/{company.pk}/change/"


def form_data(company, **overrides) -> dict:
    """What the browser posts when nothing is touched: every field as the page shows it."""
    data = {"name": company.name, "slug": company.slug, "timezone": company.timezone,
            "currency": company.currency}
    if company.is_active:
        data["is_active"] = "on"
    for key, definition in company_settings.REGISTRY.items():
        name = "setting__" + key.replace(".", "__")
        if definition.secret:
            data[name] = ""  # write-only inputs come back empty
            continue
        value = company.get_setting(key)
        if definition.kind is bool:
            if value:
                data[name] = "on"
        elif definition.kind in (list, dict):
            data[name] = json.dumps(value)
        else:
            data[name] = str(value)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def with_secrets(company):
    for key, value in SECRETS.items():
        company.set_setting(key, value)
    company.save()
    return Company.objects.get(pk=company.pk)


def test_change_page_never_contains_a_secret(personas):
    company = with_secrets(personas.company_a)
    page = operator().get(url(company))
    assert page.status_code == 200
    html = page.content.decode()
    for fragment in LEAKS:
        assert fragment not in html, f"{fragment!r} is on the page"
    assert "set, ends in …9xQz" in html  # the Stripe key's state
    assert 'name="setting__payments__stripe_api_key"' in html
    assert 'name="setting__payments__stripe_api_key__clear"' in html
    # A form coming back with an error does not echo a newly typed secret either.
    typed = "sk_live_TypedButFormFailed0000"
    again = operator().post(url(company), form_data(
        company, setting__payments__stripe_api_key=typed, setting__payments__max_retries="x"))
    assert again.status_code == 200
    assert typed not in again.content.decode()


def test_invalid_value_names_the_field_and_writes_nothing(personas):
    company = with_secrets(personas.company_a)
    before_raw = raw_settings(company.pk)
    with scopes_disabled():
        audits = AuditEntry.objects.count()
    http = operator()
    response = http.post(url(company), form_data(
        company, setting__payments__max_retries="999", name="Renamed IT",
        setting__routing__weights='["not", "an object"]'))
    assert response.status_code == 200  # the form again, with errors
    form = response.context["adminform"].form
    assert "setting__payments__max_retries" in form.errors
    assert "at most 20" in form.errors["setting__payments__max_retries"][0]
    assert "setting__routing__weights" in form.errors
    assert raw_settings(company.pk) == before_raw
    assert Company.objects.get(pk=company.pk).name == "Alpha IT"
    with scopes_disabled():
        assert AuditEntry.objects.count() == audits
    bad_zone = http.post(url(company), form_data(company, timezone="Mars/Olympus"))
    assert "timezone" in bad_zone.context["adminform"].form.errors


def test_blank_secret_keeps_it_typed_replaces_clear_removes(personas):
    company = with_secrets(personas.company_a)
    http = operator()
    response = http.post(url(company), form_data(company, setting__routing__auto_assign="on"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    company = Company.objects.get(pk=company.pk)
    assert company.get_setting("routing.auto_assign") is True
    assert company.get_secret("payments.stripe_api_key") == STRIPE_KEY  # kept
    with scopes_disabled():
        entry = AuditEntry.objects.filter(action="company.settings_updated").latest("id")
    assert entry.data == {"keys": ["routing.auto_assign"]}
    assert entry.actor.email == OPERATOR_EMAIL
    new_key = "sk_live_ReplacedThroughAdmin42"
    response = http.post(url(company), form_data(
        company, setting__payments__stripe_api_key=new_key,
        setting__notifications__slack_urls="slack://N1/N2/N3secret\nslack://M1/M2/M3secret",
        setting__notifications__sms_url__clear="on"))
    assert response.status_code == 302
    company = Company.objects.get(pk=company.pk)
    assert company.get_secret("payments.stripe_api_key") == new_key
    assert company.get_secret("notifications.slack_urls") == [
        "slack://N1/N2/N3secret", "slack://M1/M2/M3secret"]
    assert company.secret_state("notifications.sms_url") == {"set": False, "last4": None}
    assert new_key not in raw_settings(company.pk)
    with scopes_disabled():
        entry = AuditEntry.objects.filter(action="company.settings_updated").latest("id")
    assert entry.data == {"keys": ["notifications.slack_urls", "notifications.sms_url",
                                   "payments.stripe_api_key"]}
    assert new_key not in json.dumps(entry.data)


def test_setting_back_to_the_default_forgets_the_override(personas):
    company = personas.company_a
    company.set_setting("payments.max_retries", 7)
    company.save()
    http = operator()
    response = http.post(url(company), form_data(company, setting__payments__max_retries="4"))
    assert response.status_code == 302
    assert "payments.max_retries" not in Company.objects.get(pk=company.pk).settings


@pytest.mark.parametrize("email", ["owner@alpha.test", "admin@alpha.test",
                                   "tech1@alpha.test", "billing@alpha.test",
                                   "manager@alpha.test"])
def test_no_role_of_the_company_gets_its_admin_page(personas, email):
    http = HttpClient()
    http.force_login(personas.owner_a.user.__class__.objects.get(email=email))
    assert http.get(url(personas.company_a)).status_code == 302
    assert http.post(url(personas.company_a), form_data(
        personas.company_a, setting__routing__auto_assign="on")).status_code == 302
    assert Company.objects.get(pk=personas.company_a.pk).get_setting(
        "routing.auto_assign") is False


def test_an_operator_opens_every_companys_page(personas):
    http = operator()
    assert http.get(url(personas.company_a)).status_code == 200
    assert http.get(url(personas.company_b)).status_code == 200
