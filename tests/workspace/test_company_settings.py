"""Company settings and the audit log in the workspace (Django test client): settings saved
through the one action (validated, audited, secrets write-only and sealed), bad values
named on their field with nothing saved, the logo upload and its refusals; the audit log's
filters and CSV; every view for every role, another company's entries."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.tenancy.models import Company, CompanyLogo
from tests.tenancy.test_logo import png
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
URL = "/app/settings/company/"


def company(p) -> Company:
    return Company.objects.get(pk=p.company_a.pk)


def form_of(p, **changes) -> dict:
    """The settings form as the page sends it, with ``changes`` (dotted keys)."""
    from nestogy.tenancy import company_settings

    c = company(p)
    data = {}
    for key, d in company_settings.REGISTRY.items():
        name = key.replace(".", "__")
        if d.secret:
            continue
        data[f"{name}__present"] = "1"
        value = c.get_setting(key)
        if d.kind is bool:
            if value:
                data[name] = "on"
        elif d.kind in (dict, list):
            import json
            data[name] = json.dumps(value)
        else:
            data[name] = str(value)
    for key, value in changes.items():
        name = key.replace(".", "__")
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "on" if value is True else value
    return data


def audit_actions(p) -> list[str]:
    with scope(company=p.company_a.pk):
        return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


def test_settings_are_saved_through_the_action_and_audited(personas):
    p = personas
    client = signed_in("owner@alpha.test")
    page = client.get(URL).content.decode()
    assert "Branding" in page and "Payments and the card gateway" in page
    before = len(audit_actions(p))
    response = client.post(URL, form_of(p, **{
        "billing.invoice_prefix": "AIT-", "billing.issue_recurring_immediately": False,
        "routing.weights": '{"load": 120}', "branding.accent_color": "#0a7d3b"}),
        follow=True)
    body = response.content.decode()
    assert "Saved:" in body and "invoice prefix" in body
    c = company(p)
    assert c.get_setting("billing.invoice_prefix") == "AIT-"
    assert c.get_setting("billing.issue_recurring_immediately") is False
    assert c.get_setting("routing.weights") == {"load": 120}
    assert audit_actions(p)[before:] == ["company.settings_updated"]
    # saving the same form again changes nothing and says so
    body = client.post(URL, form_of(p), follow=True).content.decode()
    assert "Nothing changed." in body
    assert len(audit_actions(p)) == before + 1


def test_secrets_are_write_only(personas):
    p = personas
    client = signed_in("owner@alpha.test")
    secret = "sk_test_abcdefghijklmnop1234"
    data = form_of(p)
    data["payments__stripe_api_key"] = secret
    client.post(URL, data)
    c = company(p)
    assert c.secret_state("payments.stripe_api_key")["set"] is True
    assert secret not in str(c.settings)  # stored sealed
    page = client.get(URL).content.decode()
    assert secret not in page and "ends in 1234" in page
    # an empty box keeps it; "remove" clears it
    client.post(URL, form_of(p))
    assert company(p).secret_state("payments.stripe_api_key")["set"] is True
    data = form_of(p)
    data["payments__stripe_api_key__clear"] = "on"
    client.post(URL, data)
    assert company(p).secret_state("payments.stripe_api_key")["set"] is False


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"branding.accent_color": "green"}, "branding.accent_color", "Accent color:"),
    ({"routing.weights": "{load: 1"}, "routing.weights", "Not valid JSON"),
    ({"payments.max_retries": "many"}, "payments.max_retries", "Enter a number."),
    ({"payments.max_retries": "500"}, "payments.max_retries", "Max retries:"),
    ({"billing.invoice_prefix": "X" * 2000}, "billing.invoice_prefix", "Invoice prefix:"),
])
def test_bad_values_are_named_on_their_field_and_nothing_is_saved(personas, changes, field,
                                                                  message):
    p = personas
    before = dict(company(p).settings or {})
    actions = audit_actions(p)
    response = signed_in("owner@alpha.test").post(URL, form_of(p, **changes))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was saved." in body and message in body
    assert f'data-setting="{field}"' in body
    assert dict(company(p).settings or {}) == before
    assert audit_actions(p) == actions


def test_the_logo_is_uploaded_checked_and_removed(personas, media_root):
    p = personas
    client = signed_in("admin@alpha.test")
    body = client.post(f"{URL}logo/upload", {"file": SimpleUploadedFile(
        "logo.png", png(), content_type="image/png")}, follow=True).content.decode()
    assert "Logo saved." in body and 'src="/app/settings/company/logo"' in body
    response = client.get(f"{URL}logo")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    # not an image, an SVG, nothing: refused and named
    for name, content in (("notes.txt", b"hello"), ("logo.svg", b"<svg onload='x'/>")):
        body = client.post(f"{URL}logo/upload", {"file": SimpleUploadedFile(name, content)},
                           follow=True).content.decode()
        assert "Logo:" in body
    body = client.post(f"{URL}logo/upload", {}, follow=True).content.decode()
    assert "Logo: Choose an image file." in body
    with scopes_disabled():
        assert CompanyLogo.objects.filter(company=p.company_a).count() == 1
    body = client.post(f"{URL}logo/remove", follow=True).content.decode()
    assert "Logo removed." in body
    assert client.get(f"{URL}logo").status_code == 404


def test_the_audit_log_filters_and_downloads(personas):
    p = personas
    client = signed_in("owner@alpha.test")
    client.post(URL, form_of(p, **{"billing.invoice_prefix": "AIT-"}))
    body = client.get("/app/settings/audit/").content.decode()
    assert "company.settings_updated" in body and "owner@alpha.test" in body
    body = client.get("/app/settings/audit/", {"action": "company."}).content.decode()
    assert body.count("data-audit-row=") == body.count('data-audit-row="company.')
    body = client.get("/app/settings/audit/", {"person": "nobody@"}).content.decode()
    assert "Nothing recorded that matches these filters." in body
    rows = list(csv.reader(io.StringIO(client.get(
        "/app/settings/audit/", {"action": "company.settings", "export": "csv"}
    ).content.decode())))
    assert rows[0][1] == "action" and rows[1][1] == "company.settings_updated"
    response = client.get("/app/settings/audit/", {"since": "2026-13-01"})
    assert response.status_code == 400
    assert "From: Enter a date as YYYY-MM-DD." in response.content.decode()
    response = client.get("/app/settings/audit/", {"since": "2026-05-02", "until": "2026-05-01"})
    assert "To: Must be on or after the start date." in response.content.decode()


def test_another_companys_audit_entries_are_not_shown(personas):
    p = personas
    signed_in("owner@bravo.test").post(URL, {"billing__invoice_prefix__present": "1",
                                             "billing__invoice_prefix": "BRV-"})
    with scope(company=p.company_b.pk):
        theirs = AuditEntry.objects.filter(action="company.settings_updated").get()
    client = signed_in("owner@alpha.test")
    body = client.get("/app/settings/audit/", {"object": theirs.object_id}).content.decode()
    assert "Nothing recorded that matches" in body
    assert "BRV-" not in client.get(URL).content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_company_settings_and_audit_ask_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    client = signed_in(persona.email)
    check_role_matrix(client, persona.role, [
        ("get", URL, {}, "company.settings"),
        ("post", URL, form_of(p, **{"billing.invoice_prefix": f"{role[:3].upper()}-"}),
         "company.settings"),
        ("post", f"{URL}logo/remove", {}, "company.settings"),
        ("get", "/app/settings/audit/", {}, "audit.view"),
        ("get", "/app/settings/audit/", {"export": "csv"}, "audit.view"),
    ])
    changed = company(p).get_setting("billing.invoice_prefix") == f"{role[:3].upper()}-"
    assert changed == allowed(persona.role, "company.settings")
    index = client.get("/app/settings/").content.decode()
    assert ('href="/app/settings/company/"' in index) == allowed(persona.role,
                                                                 "company.settings")
    assert ('href="/app/settings/audit/"' in index) == allowed(persona.role, "audit.view")
