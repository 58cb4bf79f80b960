"""The workspace's collections board (Django test client): the aging buckets per client and
their totals (the same numbers as the API's overdue report), card payments' dunning state,
the statement PDF, a reminder through the outbox; every view for every role, another
company's clients, a client owing nothing."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.billing.models import Invoice
from nestogy.clients.actions import create_client
from nestogy.notifications.sending import send_due
from nestogy.payments.models import PaymentAttempt
from nestogy.tenancy.queries import company_today
from tests.portal.helpers import invoice
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")


def late(client, amount: str, days: int) -> Invoice:
    """An issued invoice ``days`` past due (negative: due in the future)."""
    with scope(company=client.company_id):
        inv = invoice(client, amount)
        due = company_today(client.company) - timedelta(days=days)
        Invoice.objects.filter(pk=inv.pk).update(
            due_date=due, status="overdue" if days > 0 else "issued")
        inv.refresh_from_db()
        return inv


def reminders(company) -> list[AuditEntry]:
    with scope(company=company.pk):
        return list(AuditEntry.objects.filter(action="client.payment_reminder"))


@pytest.mark.parametrize("role", ROLES)
def test_every_collections_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    late(p.client_a, "120.00", 10)
    client = signed_in(persona.email)
    cases = [
        ("get", "/app/collections/", {}, "invoices.view"),
        ("get", f"/app/clients/{p.client_a.public_id}/statement", {}, "invoices.view"),
        ("post", f"/app/collections/{p.client_a.public_id}/remind", {"currency": "USD"},
         "invoices.manage"),
    ]
    check_role_matrix(client, persona.role, cases)
    assert len(reminders(p.company_a)) == int(allowed(persona.role, "invoices.manage"))
    page = client.get("/app/").content.decode()
    assert ('href="/app/collections/"' in page) == allowed(persona.role, "invoices.view")


def test_buckets_per_client_and_totals_match_the_api_report(personas):
    p = personas
    late(p.client_a, "120.00", -5)   # not yet due
    late(p.client_a, "130.00", 12)   # 1-30
    late(p.client_a, "140.00", 45)   # 31-60
    late(p.client_a2, "150.00", 75)  # 61-90
    late(p.client_a2, "160.00", 120)  # over 90
    clerk = signed_in("billing@alpha.test")
    page = clerk.get("/app/collections/").content.decode()
    rows = re.findall(r'data-aging-row="([^"]+)"', page)
    # The longest overdue first: client_a2 (120 days) before client_a (45 days).
    assert rows == [p.client_a2.public_id, p.client_a.public_id]
    assert "oldest 120 days late" in page and "oldest 45 days late" in page
    api = p.billing_a.api.get("/invoices/overdue").data
    buckets = {b["bucket"]: Decimal(b["balance"]) for b in api["buckets"]}
    shown = {int(i): Decimal(v.replace(",", "").removesuffix(" USD"))
             for i, v in re.findall(r'data-bucket="(\d)">([^<]+)<', page)}
    assert [shown[i] for i in range(5)] == [buckets[name] for name in
                                            ("0", "1-30", "31-60", "61-90", "90+")]
    assert f"{sum(buckets.values()):,.2f} USD owed by 2 clients" in page
    overdue_only = clerk.get("/app/collections/", {"overdue": "on"}).content.decode()
    assert "2 clients" in overdue_only
    with scope(company=p.company_a.pk):
        fresh = create_client(p.company_a, {"name": "Fresh Start Inc"})
    late(fresh, "99.00", -10)  # owes, but nothing is late
    assert "Fresh Start Inc" in clerk.get("/app/collections/").content.decode()
    assert "Fresh Start Inc" not in clerk.get("/app/collections/",
                                              {"overdue": "on"}).content.decode()


def test_dunning_state_shows_failed_card_attempts(personas):
    p = personas
    inv = late(p.client_a, "120.00", 3)
    with scope(company=p.company_a.pk):
        retry_at = inv.created_at + timedelta(days=2)
        for n, status in enumerate(("declined", "declined"), start=1):
            PaymentAttempt.objects.create(
                company=p.company_a, invoice=inv, client=p.client_a, attempt_number=n,
                idempotency_key=f"k{n}", amount=inv.balance, currency="USD", status=status,
                error_message="Your card has insufficient funds.",
                next_retry_at=retry_at if n == 2 else None)
    page = signed_in("billing@alpha.test").get("/app/collections/").content.decode()
    assert "2 failed attempts" in page and "Your card has insufficient funds." in page
    assert "next retry" in page


def test_a_reminder_goes_through_the_outbox_with_the_statement(personas):
    p = personas
    with scope(company=p.company_a.pk):
        from nestogy.clients.actions import update_client

        update_client(p.client_a, {"email": "ap@acme.test"})
    first, second = late(p.client_a, "120.00", 20), late(p.client_a, "80.00", -3)
    clerk = signed_in("billing@alpha.test")
    response = clerk.post(f"/app/collections/{p.client_a.public_id}/remind",
                          {"currency": "USD", "back": "overdue=on"})
    assert response.status_code == 302 and response["Location"] == \
        "/app/collections/?overdue=on"
    page = clerk.get(response["Location"]).content.decode()
    owed = first.balance + second.balance
    assert f"Reminder sent to {p.client_a.name} for {owed:.2f} USD on 2 open invoices" in page
    assert "data-reminded" in page
    send_due()
    (message,) = [m for m in mail.outbox if "Payment reminder" in m.subject]
    assert message.to == ["ap@acme.test"]
    assert f"{owed:.2f} USD" in message.subject
    assert first.number in message.body and "20 days late" in message.body
    (name, content, _mimetype) = message.attachments[0]
    assert name == f"statement-{p.client_a.public_id}.pdf" and content.startswith(b"%PDF")
    (entry,) = reminders(p.company_a)
    assert entry.actor == p.billing_a.user and entry.data["invoices"] == [first.number,
                                                                         second.number]


def test_a_client_owing_nothing_gets_no_reminder(personas):
    p = personas
    response = signed_in("billing@alpha.test").post(
        f"/app/collections/{p.client_a2.public_id}/remind", {"currency": "USD"}, follow=True)
    assert f"No reminder sent: {p.client_a2.name} owes nothing in USD." in \
        response.content.decode()
    assert reminders(p.company_a) == []


@pytest.mark.parametrize("role", ["owner_a", "billing_a"])
def test_another_companys_clients_are_404_and_nothing_is_sent(personas, role):
    p = personas
    late(p.client_b, "120.00", 30)
    client = signed_in(getattr(p, role).email)
    assert client.get(f"/app/clients/{p.client_b.public_id}/statement").status_code == 404
    assert client.post(f"/app/collections/{p.client_b.public_id}/remind",
                       {"currency": "EUR"}).status_code == 404
    assert p.client_b.name not in client.get("/app/collections/").content.decode()
    with scopes_disabled():
        assert not AuditEntry.objects.filter(action="client.payment_reminder").exists()


def test_a_statement_in_a_currency_the_client_has_nothing_in_is_its_main_one(personas):
    p = personas
    late(p.client_a, "120.00", 10)
    response = signed_in("billing@alpha.test").get(
        f"/app/clients/{p.client_a.public_id}/statement", {"currency": "<x>"})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_board_takes_the_same_queries_for_few_and_many_clients(personas):
    p = personas
    late(p.client_a, "120.00", 10)
    clerk = signed_in("billing@alpha.test")
    clerk.get("/app/collections/")
    with CaptureQueriesContext(connection) as few:
        clerk.get("/app/collections/")
    with scope(company=p.company_a.pk):
        extra = [create_client(p.company_a, {"name": f"Client {i}"}) for i in range(8)]
    for i, c in enumerate(extra):
        late(c, "50.00", 10 * i)
    with CaptureQueriesContext(connection) as many:
        page = clerk.get("/app/collections/").content.decode()
    assert page.count("data-aging-row") == 9
    assert len(many) == len(few), (len(few), len(many))
