"""Manual invoices through the API: drafts, issue, immutability, credit notes, void, send,
PDF, Idempotency-Key, overdue and aging, the recurring endpoint and the forecast."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django_scopes import scope, scopes_disabled

from nestogy.billing.models import Invoice, InvoiceLine
from nestogy.core import attachments, events


@pytest.fixture
def captured():
    seen: list[events.Event] = []
    events.subscribe(seen.append)
    yield seen
    events._subscribers.remove(seen.append)


def draft(api, p, items=None, **extra):
    body = {"client_id": p.client_a.public_id, "tax_rate_percent": "10",
            "items": items or [{"description": "Firewall setup", "quantity": "3",
                                "unit_price": "33.335"},
                               {"description": "Travel", "unit_price": "20",
                                "taxable": False}], **extra}
    response = api.post("/invoices", body)
    assert response.status_code == 201, response.data
    return response.data


def test_draft_totals_round_lines_once_and_tax_once(personas):
    data = draft(personas.billing_a.api, personas)
    assert data["number"] is None and data["status"] == "draft"
    assert [ln["amount"] for ln in data["lines"]] == ["100.01", "20.00"]  # 100.005 half-up
    assert (data["subtotal"], data["tax"], data["total"]) == ("120.01", "10.00", "130.01")
    assert data["balance"] == "130.01" and data["amount_paid"] == "0.00"


def test_issue_assigns_consecutive_numbers_and_freezes_the_invoice(personas, captured):
    api = personas.billing_a.api
    first, second = draft(api, personas), draft(api, personas)
    issued2 = api.post(f"/invoices/{second['id']}/issue")
    issued1 = api.post(f"/invoices/{first['id']}/issue")
    assert (issued2.data["number"], issued1.data["number"]) == ("INV-00001", "INV-00002")
    assert issued1.data["status"] == "issued"
    assert issued1.data["due_date"] == (date.fromisoformat(issued1.data["issue_date"])
                                        + timedelta(days=30)).isoformat()
    assert [e.type for e in captured].count("invoice.issued") == 2
    # issued invoices are immutable
    refused = api.post(f"/invoices/{first['id']}/items",
                       {"items": [{"description": "Sneaky", "unit_price": "1"}]})
    assert refused.status_code == 409 and refused.data["error"]["code"] == "conflict"
    assert api.post(f"/invoices/{first['id']}/issue").status_code == 409
    with scopes_disabled():
        assert InvoiceLine.objects.filter(invoice__public_id=first["id"]).count() == 2


def test_add_items_to_draft_and_bad_items_write_nothing(personas):
    api = personas.billing_a.api
    data = draft(api, personas)
    added = api.post(f"/invoices/{data['id']}/items",
                     {"items": [{"description": "Cable", "quantity": "2",
                                 "unit_price": "4.50"}]})
    assert added.status_code == 200 and added.data["subtotal"] == "129.01"
    bad = api.post(f"/invoices/{data['id']}/items",
                   {"items": [{"description": "Ok", "unit_price": "1"},
                              {"description": "Bad", "unit_price": 0.00001}]})
    assert bad.status_code == 422 and bad.data["error"]["field"] == "items[1].unit_price"
    assert len(api.get(f"/invoices/{data['id']}").data["lines"]) == 3


def test_bad_draft_input(personas):
    api = personas.billing_a.api
    for body, field in [({"client_id": personas.client_a.public_id, "currency": "EURO"},
                         "currency"),
                        ({"client_id": personas.client_a.public_id,
                          "items": [{"description": "", "unit_price": "1"}]},
                         "items[0].description"),
                        ({"client_id": personas.client_a.public_id,
                          "items": [{"description": "x", "unit_price": "1",
                                     "quantity": "-1"}]}, "items[0].quantity")]:
        response = api.post("/invoices", body)
        assert response.status_code == 422, response.data
        assert response.data["error"]["field"] == field
    assert api.post("/invoices", {"client_id": personas.client_b.public_id}).status_code == 404
    with scopes_disabled():
        assert Invoice.objects.count() == 0


def test_credit_note_reduces_balance_and_void_rules(personas):
    api = personas.billing_a.api
    data = draft(api, personas)
    issued = api.post(f"/invoices/{data['id']}/issue").data
    partial = api.post(f"/invoices/{data['id']}/credit-notes",
                       {"reason": "Discount", "items": [{"description": "Goodwill",
                                                         "unit_price": "10"}]})
    assert partial.status_code == 201, partial.data
    note = partial.data
    assert note["kind"] == "credit_note" and note["credits_id"] == data["id"]
    assert note["number"] == "INV-00002" and note["total"] == "11.00"  # 10 + 10% tax
    after = api.get(f"/invoices/{data['id']}").data
    assert after["balance"] == "119.01" and after["total"] == issued["total"]
    too_much = api.post(f"/invoices/{data['id']}/credit-notes",
                        {"items": [{"description": "x", "unit_price": "500"}]})
    assert too_much.status_code == 422
    # an invoice with credit notes cannot be voided; voiding the note restores the balance
    assert api.post(f"/invoices/{data['id']}/void").status_code == 409
    assert api.post(f"/invoices/{note['id']}/void").status_code == 200
    assert api.get(f"/invoices/{data['id']}").data["balance"] == "130.01"
    assert api.post(f"/invoices/{data['id']}/void").status_code == 200
    other = draft(api, personas)
    api.post(f"/invoices/{other['id']}/issue")
    voided = api.post(f"/invoices/{other['id']}/void", {"reason": "Duplicate"})
    assert voided.status_code == 200 and voided.data["status"] == "void"
    assert voided.data["number"] == "INV-00003" and voided.data["balance"] == "0.00"
    assert api.get(f"/invoices/{data['id']}").data["status"] == "void"
    assert api.post(f"/invoices/{other['id']}/void").status_code == 409
    assert api.post(f"/invoices/{other['id']}/send").status_code == 409


def test_send_emits_event_with_pdf_attachment_for_the_clients_billing_address(personas,
                                                                              captured):
    api = personas.billing_a.api
    data = draft(api, personas)
    assert api.post(f"/invoices/{data['id']}/send").status_code == 409  # drafts are not sent
    api.post(f"/invoices/{data['id']}/issue")
    sent = api.post(f"/invoices/{data['id']}/send")
    assert sent.status_code == 200 and sent.data["sent_at"]
    event = [e for e in captured if e.type == "invoice.sent"][-1]
    spec = event.data["attachments"][0]
    assert spec["builder"] == "invoice_pdf"
    with scope(company=personas.company_a.pk):
        file = attachments.build(spec)
        recipients = events.REGISTRY["invoice.sent"].recipients(event)
        context = events.REGISTRY["invoice.sent"].context(event)
    assert file.content.startswith(b"%PDF") and file.filename == "INV-00001.pdf"
    assert file.mimetype == "application/pdf"
    # the client has no billing email: its contacts get it
    assert [(r.email, r.kind) for r in recipients] == [("dana@acme.test", "contact")]
    assert context["number"] == "INV-00001" and context["total"] == "130.01"


def test_notification_templates_render(personas, captured):
    from django.template.loader import render_to_string

    api = personas.billing_a.api
    data = draft(api, personas)
    api.post(f"/invoices/{data['id']}/issue")
    api.post(f"/invoices/{data['id']}/send")
    event = [e for e in captured if e.type == "invoice.sent"][-1]
    with scope(company=personas.company_a.pk):
        context = events.REGISTRY["invoice.sent"].context(event)
    title = render_to_string("notifications/invoice.sent/title.txt", context)
    body = render_to_string("notifications/invoice.sent/body.txt", context)
    html = render_to_string("notifications/invoice.sent/body.html", context)
    assert "INV-00001" in title and "Alpha IT" in title
    assert "130.01" in body and "Firewall setup" in body
    assert "<table" in html and "130.01" in html


def test_pdf_endpoint(personas):
    api = personas.manager_a.api
    data = draft(personas.billing_a.api, personas)
    response = api.get(f"/invoices/{data['id']}/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert personas.owner_b.api.get(f"/invoices/{data['id']}/pdf").status_code == 404


def test_idempotency_key_returns_the_first_response(personas):
    api = personas.billing_a.api
    body = {"client_id": personas.client_a.public_id,
            "items": [{"description": "Setup", "unit_price": "99"}]}
    headers = {"Idempotency-Key": "create-setup-1"}
    first = api.post("/invoices", body, headers=headers)
    again = api.post("/invoices", body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.data == again.data
    with scopes_disabled():
        assert Invoice.objects.count() == 1
    other = api.post("/invoices", {**body, "notes": "different"}, headers=headers)
    assert other.status_code == 409
    issue1 = api.post(f"/invoices/{first.data['id']}/issue",
                      headers={"Idempotency-Key": "issue-1"})
    issue2 = api.post(f"/invoices/{first.data['id']}/issue",
                      headers={"Idempotency-Key": "issue-1"})
    assert issue1.status_code == issue2.status_code == 200
    assert issue1.data["number"] == issue2.data["number"] == "INV-00001"
    # keys are per company
    b = personas.owner_b.api.post("/invoices", {"client_id": personas.client_b.public_id},
                                  headers=headers)
    assert b.status_code == 201 and b.data["id"] != first.data["id"]


def _issued(api, p, amount, client=None):
    body = {"client_id": (client or p.client_a).public_id,
            "items": [{"description": "Work", "unit_price": amount}]}
    data = api.post("/invoices", body).data
    return api.post(f"/invoices/{data['id']}/issue").data


def test_overdue_marking_aging_and_filters(personas, captured):
    from nestogy.billing.actions import mark_overdue

    api = personas.billing_a.api
    with time_machine.travel("2025-01-01 15:00:00+00:00", tick=False):
        old = _issued(api, personas, "100")      # due 2025-01-31
    with time_machine.travel("2025-03-01 15:00:00+00:00", tick=False):
        mid = _issued(api, personas, "50")       # due 2025-03-31
    with time_machine.travel("2025-04-20 15:00:00+00:00", tick=False):
        fresh = _issued(api, personas, "10")     # due 2025-05-20
    # 2025-05-02 03:00 UTC is still May 1 in New York: 'old' is 90 days past due
    with time_machine.travel("2025-05-02 03:00:00+00:00", tick=False):
        with scope(company=personas.company_a.pk):
            marked = mark_overdue(personas.company_a)
            assert mark_overdue(personas.company_a) == []  # once per invoice
        report = api.get("/invoices/overdue").data
        overdue_list = api.get("/invoices", overdue="true").data["items"]
    assert len(marked) == 2
    assert [e.type for e in captured].count("invoice.overdue") == 2
    assert report["as_of"] == "2025-05-01"
    buckets = {b["bucket"]: (b["count"], b["balance"]) for b in report["buckets"]}
    assert buckets == {"0": (1, "10.00"), "1-30": (0, "0.00"), "31-60": (1, "50.00"),
                       "61-90": (1, "100.00"), "90+": (0, "0.00")}
    assert {r["id"]: r["days_overdue"] for r in report["items"]} == {
        old["id"]: 90, mid["id"]: 31, fresh["id"]: 0}
    assert {i["id"] for i in overdue_list} == {old["id"], mid["id"]}
    statuses = {i["id"]: i["status"] for i in api.get("/invoices").data["items"]}
    assert statuses[old["id"]] == statuses[mid["id"]] == "overdue"
    assert api.get("/invoices", status="overdue").data["items"][0]["status"] == "overdue"
    assert api.get("/invoices", status="bogus").status_code == 422


def test_invoice_list_query_count(personas, django_assert_max_num_queries):
    api = personas.billing_a.api
    for i in range(8):
        _issued(api, personas, str(10 + i))
    with django_assert_max_num_queries(8):
        response = api.get("/invoices", limit=50)
    assert len(response.data["items"]) == 8
    page = api.get("/invoices", limit=5)
    rest = api.get("/invoices", limit=5, cursor=page.data["next_cursor"])
    assert len(page.data["items"]) == 5 and len(rest.data["items"]) == 3


def test_generate_recurring_endpoint_preview_then_run(personas):
    owner = personas.owner_a.api
    contract = owner.post("/contracts", {
        "client_id": personas.client_a.public_id, "name": "Seats", "start_date": "2025-01-15",
        "billing_cycle": "monthly", "billing_anchor_day": 1, "currency": "USD",
        "payment_terms_days": 15, "tax_rate_percent": "0", "auto_renew": False,
        "renewal_term_months": 12, "renewal_uplift_percent": "0", "renewal_notice_days": 30,
        "items": [{"kind": "fixed", "description": "Seat", "quantity": "31",
                   "unit_price": "1"}]}).data
    preview = owner.post("/invoices/generate-recurring", {"as_of": "2025-02-01",
                                                          "preview": True})
    assert preview.status_code == 200
    assert [(i["period_start"], i["total"], i["id"]) for i in preview.data["invoices"]] == [
        ("2025-01-15", "17.00", None), ("2025-02-01", "31.00", None)]
    with scopes_disabled():
        assert Invoice.objects.count() == 0
    done = owner.post("/invoices/generate-recurring", {"as_of": "2025-02-01"})
    assert [(i["number"], i["contract_id"]) for i in done.data["invoices"]] == [
        ("INV-00001", contract["id"]), ("INV-00002", contract["id"])]
    again = owner.post("/invoices/generate-recurring", {"as_of": "2025-02-01"})
    assert again.data["invoices"] == []
    assert owner.post("/invoices/generate-recurring", {"as_of": "2025-13-01"}).status_code \
        == 422


def test_forecast_endpoint(personas):
    owner = personas.owner_a.api
    owner.post("/contracts", {
        "client_id": personas.client_a.public_id, "name": "Q", "start_date": "2025-01-01",
        "billing_cycle": "quarterly", "currency": "USD", "payment_terms_days": 30,
        "tax_rate_percent": "0", "auto_renew": False, "renewal_term_months": 12,
        "renewal_uplift_percent": "0", "renewal_notice_days": 30,
        "items": [{"kind": "fixed", "description": "Support", "quantity": "1",
                   "unit_price": "300"}]})
    with time_machine.travel("2025-02-10 12:00:00+00:00", tick=False):
        response = owner.get("/revenue/forecast", months=6)
    assert response.status_code == 200, response.data
    months = {m["month"]: m["total"] for m in response.data["months"]}
    assert months == {"2025-02": "0.00", "2025-03": "0.00", "2025-04": "300.00",
                      "2025-05": "0.00", "2025-06": "0.00", "2025-07": "300.00"}
    assert response.data["mrr"] == "100.00" and response.data["arr"] == "1200.00"
    assert owner.get("/revenue/forecast", months=0).status_code == 422
    assert personas.manager_a.api.get("/revenue/forecast").status_code == 403


def test_money_values_are_decimal_strings(personas):
    data = draft(personas.billing_a.api, personas)
    for key in ("subtotal", "tax", "total", "amount_paid", "balance"):
        assert isinstance(data[key], str)
        Decimal(data[key])
