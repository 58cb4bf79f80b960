"""Changing invoices in the workspace (Django test client): drafts with the line editor and
its live totals, issue, send, void, credit notes; every view for every role, another
company's invoices and clients, bad input naming the field with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.billing.models import Invoice
from tests.billing.helpers import make_contract
from tests.portal.helpers import invoice
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def lines(*rows, tax="8.25", client=None, **extra) -> dict:
    data = {"rows": str(len(rows)), "tax_rate_percent": tax, "payment_terms_days": "30",
            "due_date": "", "notes": "", **extra}
    if client is not None:
        data["client"] = client.public_id
        data.setdefault("currency", "USD")
    for i, (description, quantity, price, taxable) in enumerate(rows):
        data[f"line-{i}-description"] = description
        data[f"line-{i}-quantity"] = quantity
        data[f"line-{i}-unit_price"] = price
        if taxable:
            data[f"line-{i}-taxable"] = "on"
    return data


def all_invoices(company) -> list[Invoice]:
    with scopes_disabled():
        return list(Invoice.objects.filter(company=company).order_by("id"))


def fresh(inv: Invoice) -> Invoice:
    with scopes_disabled():
        return Invoice.objects.get(pk=inv.pk)


def issued(p, client=None, amount="120.00"):
    client = client or p.client_a
    with scope(company=client.company_id):
        return invoice(client, amount)


def test_a_draft_is_written_with_its_lines_then_edited_and_issued(personas):
    p = personas
    client = signed_in("billing@alpha.test")
    response = client.post("/app/invoices/new", lines(
        ("Firewall replacement", "1", "1200.00", True),
        ("Installation (hours)", "3.5", "95", True),
        ("Travel", "", "40", False), client=p.client_a))
    assert response.status_code == 302
    [draft] = all_invoices(p.company_a)
    assert response.url == f"/app/invoices/{draft.public_id}/"
    assert draft.status == "draft" and draft.number is None
    # 1200 + 332.50 taxable at 8.25 % = 126.43125 → 126.43; travel 40 untaxed
    assert (draft.subtotal, draft.tax, draft.total) == (
        Decimal("1572.5000"), Decimal("126.4300"), Decimal("1698.9300"))
    page = client.get(response.url).content.decode()
    assert "Issue invoice" in page and "Edit draft" in page
    edit = client.get(f"/app/invoices/{draft.public_id}/edit").content.decode()
    assert 'value="Firewall replacement"' in edit and 'value="3.5"' in edit

    response = client.post(f"/app/invoices/{draft.public_id}/edit", lines(
        ("Firewall replacement", "1", "1100.00", True), tax="8.25"))
    assert response.status_code == 302
    draft = fresh(draft)
    assert draft.total == Decimal("1190.7500")
    with scopes_disabled():
        assert draft.lines.count() == 1

    response = client.post(f"/app/invoices/{draft.public_id}/issue", follow=True)
    draft = fresh(draft)
    assert draft.status == "issued" and draft.number
    assert f"Issued as {draft.number}" in response.content.decode()
    # issued: no editing any more
    response = client.get(f"/app/invoices/{draft.public_id}/edit", follow=True)
    assert "correct it with a credit note" in response.content.decode()
    with scope(company=p.company_a.pk):
        actions = list(AuditEntry.objects.filter(object_id=draft.public_id)
                       .values_list("action", flat=True).order_by("id"))
    assert actions[:3] == ["invoice.created", "invoice.draft_updated", "invoice.issued"]


def test_live_totals_follow_the_lines_and_write_nothing(personas):
    client = signed_in("billing@alpha.test")
    body = client.post("/app/invoices/totals", lines(
        ("Licence", "10", "12.50", True), ("Setup", "1", "50", False))).content.decode()
    assert "175.00 USD" in body  # subtotal
    assert "10.31 USD" in body  # 8.25 % of 125.00
    assert "185.31 USD" in body
    body = client.post("/app/invoices/totals", lines(
        ("Licence", "ten", "12.50", True))).content.decode()
    assert "Line 1, quantity" in body
    assert all_invoices(personas.company_a) == []


def test_add_a_line_shows_one_more_row_and_writes_nothing(personas):
    p = personas
    client = signed_in("billing@alpha.test")
    data = lines(("Licence", "1", "10", True), ("Setup", "1", "5", True),
                 ("Travel", "1", "5", True), client=p.client_a)
    data["add_line"] = "1"
    body = client.post("/app/invoices/new", data).content.decode()
    assert 'name="line-3-description"' in body and 'value="Travel"' in body
    assert all_invoices(p.company_a) == []


def test_send_void_and_credit_notes(personas):
    p = personas
    client = signed_in("billing@alpha.test")
    inv = issued(p)
    body = client.post(f"/app/invoices/{inv.public_id}/send", follow=True).content.decode()
    assert "is on its way to Acme Dental" in body
    assert fresh(inv).sent_at is not None
    # a partial credit: 20.00 before tax on a taxable invoice
    body = client.post(f"/app/invoices/{inv.public_id}/credit-note", {
        "amount": "20.00", "description": "Goodwill", "reason": "Late visit"},
        follow=True).content.decode()
    with scopes_disabled():
        note = Invoice.objects.get(credits=inv)
    assert f"Credit note {note.number}" in body
    assert fresh(inv).balance == inv.balance - note.total
    # a credited invoice cannot be voided
    body = client.post(f"/app/invoices/{inv.public_id}/void", {"reason": "Mistake"},
                       follow=True).content.decode()
    assert "Not voided: invoice has credit notes; void them first." in body
    # crediting the whole invoice (every line) settles it
    whole = issued(p, p.client_a2, "180.00")
    client.post(f"/app/invoices/{whole.public_id}/credit-note", {"reason": "Cancelled"})
    assert fresh(whole).balance == 0
    other = issued(p, p.client_a2)
    body = client.post(f"/app/invoices/{other.public_id}/void", {"reason": "Duplicate"},
                       follow=True).content.decode()
    assert f"{other.number} is void." in body
    assert fresh(other).status == "void"


def test_a_contract_draft_is_not_edited_line_by_line(personas):
    p = personas
    from nestogy.billing import recurring
    from nestogy.tenancy.queries import company_today

    with scope(company=p.company_a.pk):
        today = company_today(p.company_a)
        make_contract(p.company_a, p.client_a, start=today.replace(day=1).isoformat(),
                      metered=False)
        recurring.run_recurring(p.company_a, today, issue=False)
        draft = Invoice.objects.get()
    client = signed_in("billing@alpha.test")
    body = client.get(f"/app/invoices/{draft.public_id}/").content.decode()
    assert "Issue invoice" in body and "Edit draft" not in body
    body = client.get(f"/app/invoices/{draft.public_id}/edit", follow=True).content.decode()
    assert "Only a draft made here can be edited" in body


@pytest.mark.parametrize(("data", "message"), [
    (lines(("Licence", "1", "abc", True)), "Line 1, unit price"),
    (lines(("", "1", "10", True)), "Line 1, description: is required."),
    (lines(("Licence", "-1", "10", True)), "Line 1, quantity"),
    (lines(("Licence", "1", "10", True), tax="150"), "Tax rate: must be between 0 and 100."),
    (lines(("Licence", "1", "10", True), payment_terms_days="400"), "Payment terms"),
    (lines(("Licence", "1", "10", True), due_date="31/12/2026"), "Due date: Enter a date"),
])
def test_bad_input_to_a_draft_names_the_field_and_writes_nothing(personas, data, message):
    p = personas
    data = dict(data, client=p.client_a.public_id, currency="USD")
    response = signed_in("billing@alpha.test").post("/app/invoices/new", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert all_invoices(p.company_a) == []


@pytest.mark.parametrize(("data", "message"), [
    ({"reason": ""}, "No credit note. Reason: Say why"),
    ({"amount": "5", "reason": "x"}, "Description: Describe what the amount credits."),
    ({"amount": "5000", "description": "Too much", "reason": "x"}, "exceeds the invoice balance"),
    ({"amount": "-5", "description": "Negative", "reason": "x"}, "must credit a positive"),
])
def test_bad_credit_notes_are_refused_naming_the_field(personas, data, message):
    p = personas
    inv = issued(p)
    body = signed_in("billing@alpha.test").post(
        f"/app/invoices/{inv.public_id}/credit-note", data, follow=True).content.decode()
    assert message in body
    with scopes_disabled():
        assert not Invoice.objects.filter(credits=inv).exists()
    assert fresh(inv).balance == inv.balance


def test_bad_void_and_issue_are_explained(personas):
    p = personas
    inv = issued(p)
    client = signed_in("billing@alpha.test")
    body = client.post(f"/app/invoices/{inv.public_id}/void", {"reason": ""},
                       follow=True).content.decode()
    assert "Not voided. Reason: Say why the invoice is voided." in body
    assert fresh(inv).status == "issued"
    body = client.post(f"/app/invoices/{inv.public_id}/issue", follow=True).content.decode()
    assert "Not issued:" in body
    body = client.post("/app/invoices/new", lines(("Licence", "1", "10", True)),
                       ).content.decode()
    assert "Client: choose one of your clients." in body


def test_another_companys_invoices_and_clients_are_not_found(personas):
    p = personas
    theirs = issued(p, p.client_b)
    with scope(company=p.company_b.pk):
        their_draft = invoice(p.client_b, issue=False)
    client = signed_in("owner@alpha.test")
    for url in (f"/app/invoices/{their_draft.public_id}/edit",):
        assert client.get(url).status_code == 404
    for path in ("issue", "send", "void", "credit-note", "edit"):
        assert client.post(f"/app/invoices/{theirs.public_id}/{path}",
                           {"reason": "x"}).status_code == 404
    assert client.post("/app/invoices/totals", dict(lines(("A", "1", "1", True)),
                       invoice=their_draft.public_id)).status_code == 404
    response = client.post("/app/invoices/new", lines(("Licence", "1", "10", True),
                                                      client=p.client_b))
    assert response.status_code == 400
    assert "Client: choose one of your clients." in response.content.decode()
    assert all_invoices(p.company_a) == []
    assert fresh(theirs).status == "issued" and fresh(their_draft).status == "draft"


@pytest.mark.parametrize("role", ROLES)
def test_every_invoice_change_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    inv = issued(p)
    voidable = issued(p, p.client_a2)
    with scope(company=p.company_a.pk):
        draft = invoice(p.client_a, issue=False)
    cases = [
        ("get", "/app/invoices/new", {}, "invoices.manage"),
        ("post", "/app/invoices/new", lines(("Licence", "1", "10", True), client=p.client_a),
         "invoices.manage"),
        ("get", f"/app/invoices/{draft.public_id}/edit", {}, "invoices.manage"),
        ("post", "/app/invoices/totals", lines(("Licence", "1", "10", True)),
         "invoices.manage"),
        ("post", f"/app/invoices/{inv.public_id}/send", {}, "invoices.manage"),
        ("post", f"/app/invoices/{inv.public_id}/credit-note", {"reason": "Goodwill"},
         "invoices.manage"),
        ("post", f"/app/invoices/{voidable.public_id}/void", {"reason": "Duplicate"},
         "invoices.manage"),
        ("post", f"/app/invoices/{draft.public_id}/issue", {}, "invoices.manage"),
    ]
    client = signed_in(persona.email)
    check_role_matrix(client, persona.role, cases)
    may = allowed(persona.role, "invoices.manage")
    assert (fresh(draft).status == "issued") == may
    assert (fresh(voidable).status == "void") == may
    assert (fresh(inv).balance == 0) == may
    assert len(all_invoices(p.company_a)) == 3 + (2 if may else 0)  # a draft, a credit note
    if allowed(persona.role, "invoices.view"):
        page = client.get(f"/app/invoices/{inv.public_id}/").content.decode()
        assert ("Actions" in page) == may
