"""The contract pages (Django test client): the list with its filters and a bounded number of
queries; a contract's terms, seat history, tiers, usage and invoices; changing seats; usage
uploads from CSV (dry run writes nothing, recording is all or nothing, re-uploading records
nothing twice, hostile files are refused with a message); the renewals calendar; every view
for every role, another company's contracts, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope

from nestogy.accounts.roles import allowed
from nestogy.billing import recurring
from nestogy.clients.actions import create_client
from nestogy.contracts.models import ContractItemQuantity, UsageRecord
from nestogy.workspace import usage_csv
from tests.billing.helpers import add_usage, make_contract
from tests.billing.helpers import fixed_item as _fixed
from tests.billing.helpers import metered_item as _metered
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
# Monday 15 March 2027, 11:00 in New York.
NOW = datetime(2027, 3, 15, 15, 0, tzinfo=UTC)


@pytest.fixture
def contracts(personas):
    p = personas
    with time_machine.travel(NOW, tick=False), scope(company=p.company_a.pk):
        acme = make_contract(p.company_a, p.client_a, start="2027-01-01", end="2027-04-30",
                             seats="10", price="25.00", auto_renew=True,
                             renewal_uplift_percent="5", renewal_notice_days=30,
                             name="Managed IT: Acme Dental")
        add_usage(acme, [("2027-02-10 10:00", "150"), ("2027-03-03 09:00", "40")],
                  tz=p.company_a.timezone)
        blue = make_contract(p.company_a, p.client_a2, start="2027-02-01", cycle="annual",
                             seats="2", price="600.00", metered=False,
                             name="Server care: Blue Ridge")
        old = make_contract(p.company_a, p.client_a, start="2025-01-01", end="2026-12-31",
                            metered=False, status="ended", name="Old MSA: Acme Dental")
    with scope(company=p.company_b.pk):
        theirs = make_contract(p.company_b, p.client_b, start="2027-01-01")
    return acme, blue, old, theirs


def fixed_item(contract):
    with scope(company=contract.company_id):
        return _fixed(contract)


def metered_item(contract):
    with scope(company=contract.company_id):
        return _metered(contract)


def usage_count(company) -> int:
    with scope(company=company.pk):
        return UsageRecord.objects.count()


def upload(client, contract, text: str | bytes, mode: str = "check", name="usage.csv"):
    raw = text.encode() if isinstance(text, str) else text
    return client.post(f"/app/contracts/{contract.public_id}/usage",
                       {"file": SimpleUploadedFile(name, raw, "text/csv"), "mode": mode})


def rows_of(body: str) -> list[str]:
    import re
    return re.findall(r'data-contract-row="([^"]+)"', body)


# -- the list --------------------------------------------------------------------------------

@time_machine.travel(NOW, tick=True)
def test_the_list_shows_each_contract_and_filters_them(personas, contracts):
    acme, blue, old, theirs = contracts
    client = signed_in("billing@alpha.test")
    body = client.get("/app/contracts/").content.decode()
    assert sorted(rows_of(body)) == sorted([acme.public_id, blue.public_id, old.public_id])
    assert theirs.public_id not in body
    assert "250.00 USD" in body  # 10 × 25.00 a month
    assert "100.00 USD" in body and "1,200.00 USD per year" in body  # annual, per month
    assert "ends in 46 days" in body

    def shown(query: str) -> list[str]:
        return sorted(rows_of(client.get(f"/app/contracts/?{query}").content.decode()))

    assert shown("show=ending") == [acme.public_id]
    assert shown("show=auto") == [acme.public_id]
    assert shown("show=ended") == [old.public_id]
    assert shown("show=active") == sorted([acme.public_id, blue.public_id])
    assert shown("q=blue+ridge") == [blue.public_id]  # the client's name
    assert shown("q=old+msa") == [old.public_id]  # the contract's name
    assert shown("q=acme&show=active") == [acme.public_id]
    assert "No contract matches" in client.get("/app/contracts/?q=nothing").content.decode()
    response = client.get("/app/contracts/?show=everything")
    assert response.status_code == 400
    assert "Show: Select a valid choice" in response.content.decode()


@time_machine.travel(NOW, tick=True)
def test_ending_soon_counts_the_notice_days_beyond_sixty(personas, contracts):
    p = personas
    with scope(company=p.company_a.pk):
        far = make_contract(p.company_a, p.client_a2, start="2027-01-01", end="2027-06-30",
                            renewal_notice_days=120, metered=False, name="Long notice")
        make_contract(p.company_a, p.client_a2, start="2027-01-01", end="2027-06-30",
                      metered=False, name="Usual notice")
    body = signed_in("billing@alpha.test").get("/app/contracts/?show=ending").content.decode()
    assert sorted(rows_of(body)) == sorted([contracts[0].public_id, far.public_id])


@time_machine.travel(NOW, tick=True)
def test_the_list_asks_a_bounded_number_of_queries(personas, contracts):
    p = personas
    client = signed_in("billing@alpha.test")

    def count(query: str = "") -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/app/contracts/{query}").status_code == 200
        return len(ctx.captured_queries)

    few, ending = count(), count("?show=ending")
    with scope(company=p.company_a.pk):
        for i in range(12):
            extra = create_client(p.company_a, {"name": f"Client {i:02d}"})
            make_contract(p.company_a, extra, start="2027-01-01", end="2027-04-01",
                          seats="2", price="10")
    assert count() == few
    assert count("?show=ending") == ending


# -- one contract ----------------------------------------------------------------------------

@time_machine.travel(NOW, tick=True)
def test_a_contract_shows_its_terms_seats_tiers_usage_and_invoices(personas, contracts):
    p = personas
    acme, *_ = contracts
    with scope(company=p.company_a.pk):
        recurring.run_recurring(p.company_a, datetime(2027, 3, 1).date(), issue=True)
        invoices = list(acme.invoices.order_by("period_start"))
    assert invoices
    body = signed_in("billing@alpha.test").get(f"/app/contracts/{acme.public_id}/"
                                               ).content.decode()
    assert "Acme Dental" in body and "Monthly, anchored on day 1" in body
    assert "Yes, for 12 months with prices up 5 %" in body
    assert "30 days before the end: 31 Mar 2027" in body
    assert 'data-seat-row="2027-01-01"' in body
    assert body.count("data-tier") == 3 and "above that" in body
    # March so far: 40 GB; February: 150 GB, priced through the graduated tiers
    assert f'data-usage="{metered_item(acme).public_id}:2027-03-01"' in body
    assert "40 GB" in body and "150 GB" in body
    assert "17.50 USD" in body  # 100 × 0.10 + 5 + 50 × 0.05
    for invoice in invoices:
        assert f'href="/app/invoices/{invoice.public_id}/"' in body
    assert f'href="/app/billing/run/contracts/{acme.public_id}/"' in body
    assert "Change seats" in body and "Upload usage (CSV)" in body


@time_machine.travel(NOW, tick=True)
def test_a_contract_not_started_or_ended_shows_its_last_usage(personas, contracts):
    p = personas
    _acme, _blue, old, _ = contracts
    with scope(company=p.company_a.pk):
        later = make_contract(p.company_a, p.client_a2, start="2027-06-01", name="Next year")
    client = signed_in("billing@alpha.test")
    body = client.get(f"/app/contracts/{later.public_id}/").content.decode()
    assert "The contract has not started yet." in body
    body = client.get(f"/app/contracts/{old.public_id}/").content.decode()
    assert "No metered items." in body
    with scope(company=p.company_a.pk):
        ended = make_contract(p.company_a, p.client_a2, start="2026-01-01", end="2026-12-31",
                              name="Last year")
    body = client.get(f"/app/contracts/{ended.public_id}/").content.decode()
    assert "Last period: 1 Dec – 31 Dec 2026" in body
    assert "Previous period: 1 Nov – 30 Nov 2026" in body


@time_machine.travel(NOW, tick=True)
def test_a_manager_sees_a_contract_without_the_forms_to_change_it(personas, contracts):
    acme, *_ = contracts
    body = signed_in("manager@alpha.test").get(f"/app/contracts/{acme.public_id}/"
                                               ).content.decode()
    assert "Change seats" not in body  # contracts.manage
    assert "Upload usage (CSV)" in body  # usage.record


@time_machine.travel(NOW, tick=True)
def test_changing_seats_from_a_date_adds_to_the_history(personas, contracts):
    p = personas
    acme, *_ = contracts
    item = fixed_item(acme)
    client = signed_in("billing@alpha.test")
    response = client.post(f"/app/contracts/{acme.public_id}/items/{item.public_id}/seats",
                           {"quantity": "12", "effective_from": "2027-04-01"}, follow=True)
    body = response.content.decode()
    assert "Managed workstation: 12 from 1 April 2027." in body
    assert 'data-seat-row="2027-04-01"' in body and "planned" in body
    with scope(company=p.company_a.pk):
        rows = list(ContractItemQuantity.objects.filter(item=item)
                    .values_list("effective_from", "quantity"))
        item.refresh_from_db()
    assert [(d.isoformat(), q) for d, q in rows] == [("2027-01-01", Decimal(10)),
                                                     ("2027-04-01", Decimal(12))]
    assert item.quantity == 12


@pytest.mark.parametrize(("data", "message"), [
    ({"quantity": "-1", "effective_from": "2027-04-01"}, "Seats: must not be negative"),
    ({"quantity": "twelve", "effective_from": "2027-04-01"}, "Seats: "),
    ({"quantity": "", "effective_from": "2027-04-01"}, "Seats: Enter the new seat count."),
    ({"quantity": "12", "effective_from": "2027-02-30"}, "From: Enter a date as YYYY-MM-DD."),
    ({"quantity": "12", "effective_from": ""}, "From: Enter the day the new count applies"),
    ({"quantity": "1.1234567", "effective_from": "2027-04-01"}, "Seats: "),
])
@time_machine.travel(NOW, tick=True)
def test_bad_seat_changes_name_the_field_and_write_nothing(personas, contracts, data,
                                                           message):
    p = personas
    acme, *_ = contracts
    item = fixed_item(acme)
    response = signed_in("billing@alpha.test").post(
        f"/app/contracts/{acme.public_id}/items/{item.public_id}/seats", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert 'aria-invalid="true"' in body
    with scope(company=p.company_a.pk):
        assert ContractItemQuantity.objects.filter(item=item).count() == 1


# -- usage uploads ---------------------------------------------------------------------------

GOOD = ("item,quantity,occurred_at,idempotency_key\n"
        "{item},120,2027-03-05T09:00:00-05:00,\n"
        "Backup storage,30.5,2027-03-06 09:00,nightly-0306\n"
        "backup storage,10,2027-03-07,\n")


@time_machine.travel(NOW, tick=True)
def test_a_dry_run_reports_each_line_and_writes_nothing(personas, contracts):
    p = personas
    acme, *_ = contracts
    before = usage_count(p.company_a)
    text = GOOD.format(item=metered_item(acme).public_id)
    response = upload(signed_in("billing@alpha.test"), acme, text)
    assert response.status_code == 200
    body = response.content.decode()
    assert "dry run: nothing written" in body
    assert '<strong data-would-record>3</strong>' in body
    assert '<strong data-refused>0</strong>' in body
    assert body.count('data-line-status="new"') == 3
    assert "7 Mar 2027 00:00" in body  # a date alone: midnight in New York
    assert usage_count(p.company_a) == before


@time_machine.travel(NOW, tick=True)
def test_recording_then_uploading_again_records_nothing_twice(personas, contracts):
    p = personas
    acme, *_ = contracts
    item = metered_item(acme)
    before = usage_count(p.company_a)
    client = signed_in("billing@alpha.test")
    text = GOOD.format(item=item.public_id)
    response = upload(client, acme, text, "record")
    assert response.status_code == 302
    assert response.url == f"/app/contracts/{acme.public_id}/#usage-title"
    body = client.get(response.url).content.decode()
    assert "Recorded 3 usage lines." in body
    assert "200.5 GB" in body  # March: 40 + 120 + 30.5 + 10
    assert usage_count(p.company_a) == before + 3
    with scope(company=p.company_a.pk):
        keys = set(UsageRecord.objects.filter(item=item).values_list("idempotency_key",
                                                                      flat=True))
        moment = UsageRecord.objects.get(idempotency_key="nightly-0306").occurred_at
    assert "nightly-0306" in keys
    assert sum(1 for k in keys if k.startswith("csv-")) == 2
    assert moment == datetime(2027, 3, 6, 14, 0, tzinfo=UTC)  # 09:00 in New York

    body = upload(client, acme, text).content.decode()  # the same file, checked again
    assert '<strong data-would-record>0</strong>' in body
    assert '<strong data-duplicates>3</strong>' in body
    response = upload(client, acme, text, "record")
    assert "Recorded 0 usage lines; 3 lines were already recorded" in client.get(
        response.url).content.decode()
    assert usage_count(p.company_a) == before + 3
    # a line repeated inside one file is one measurement
    twice = "item,quantity,occurred_at\nBackup storage,5,2027-03-08\nBackup storage,5,2027-03-08\n"
    body = upload(client, acme, twice).content.decode()
    assert 'data-line-status="repeated"' in body
    upload(client, acme, twice, "record")
    assert usage_count(p.company_a) == before + 4


@pytest.mark.parametrize(("line", "field", "message"), [
    ("Backup storage,-3,2027-03-05T09:00:00Z,", "quantity", "must not be negative"),
    ("Backup storage,lots,2027-03-05T09:00:00Z,", "quantity", ""),
    ("Backup storage,3,yesterday,", "occurred_at", "must be an ISO 8601 date or timestamp"),
    ("Backup storage,3,,", "occurred_at", "is required"),
    ("Printer paper,3,2027-03-05,", "item", "is not a metered item of this contract"),
    ("Managed workstation,3,2027-03-05,", "item", "is not a metered item"),
    ("{fixed},3,2027-03-05,", "item", "is a fixed item"),
    ("=HYPERLINK(\"http://x\"),3,2027-03-05,", "item", "looks like a spreadsheet formula"),
    ("Backup storage,3,2027-03-05,@SUM(A1)", "idempotency_key",
     "looks like a spreadsheet formula"),
    ("Backup storage,3,2027-03-05,{long}", "idempotency_key", "is longer than 300"),
    ("Backup storage,3", "", "has 2 values; the header names 4 columns"),
])
@time_machine.travel(NOW, tick=True)
def test_a_bad_line_is_named_with_its_field_and_nothing_is_recorded(
        personas, contracts, line, field, message):
    p = personas
    acme, *_ = contracts
    before = usage_count(p.company_a)
    text = ("item,quantity,occurred_at,idempotency_key\n"
            "Backup storage,1,2027-03-04T09:00:00-05:00,first\n"
            + line.format(fixed=fixed_item(acme).public_id, long="k" * 301) + "\n")
    client = signed_in("billing@alpha.test")
    body = upload(client, acme, text).content.decode()
    where = f"Line 3, {field}: " if field else "Line 3: "
    assert where + message in body, body[body.find("data-usage-report"):][:3000]
    assert '<strong data-refused>1</strong>' in body
    response = upload(client, acme, text, "record")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was recorded" in body and where + message in body
    assert usage_count(p.company_a) == before


@pytest.mark.parametrize(("raw", "message"), [
    (b"item,quantity,occurred_at\nBackup storage,1,2027-03-04\xff\xfe\n",
     "The file is not UTF-8 text (byte 54 is not)."),
    (b"\xff\xfei\x00t\x00e\x00m\x00", "The file is not UTF-8 text"),
    (b"item,quantity,occurred_at\nBackup\x00storage,1,2027-03-04\n", "NUL characters"),
    (b"", "The file is empty."),
    (b"   \n\n", "The file is empty."),
    (b"item,quantity,occurred_at\n", "a header but no lines of usage"),
    (b"item,qty,occurred_at\nBackup storage,1,2027-03-04\n", "unknown column “qty”"),
    (b"item,occurred_at\nBackup storage,2027-03-04\n", "the column “quantity” is missing"),
    (b"item,item,quantity,occurred_at\n", "a column is named twice"),
    (b"item;quantity;occurred_at\nBackup storage;1;2027-03-04\n", "separated by semicolons"),
    (b"item,quantity,occurred_at\n" + b"x" * 200_000 + b",1,2027-03-04\n",
     "the file is not valid CSV (field larger than field limit"),
    (b'item,quantity,occurred_at\n"Backup storage,1,2027-03-04\n',
     "the file is not valid CSV"),
    (b'item,quantity,occurred_at\n"Backup" storage,1,2027-03-04\n',
     "the file is not valid CSV"),
])
@time_machine.travel(NOW, tick=True)
def test_a_hostile_file_is_refused_with_a_message(personas, contracts, raw, message):
    p = personas
    acme, *_ = contracts
    before = usage_count(p.company_a)
    client = signed_in("billing@alpha.test")
    for mode in ("check", "record"):
        response = upload(client, acme, raw, mode)
        assert response.status_code == 400
        assert message in response.content.decode().replace("&#x27;", "'")
    assert usage_count(p.company_a) == before


@time_machine.travel(NOW, tick=True)
def test_no_file_is_explained(personas, contracts):
    acme, *_ = contracts
    response = signed_in("billing@alpha.test").post(
        f"/app/contracts/{acme.public_id}/usage", {"mode": "record"})
    assert response.status_code == 400
    assert "CSV file: Choose a CSV file." in response.content.decode()


@time_machine.travel(NOW, tick=True)
def test_too_large_or_too_long_files_are_refused(personas, contracts, monkeypatch):
    p = personas
    acme, *_ = contracts
    client = signed_in("billing@alpha.test")
    big = b"item,quantity,occurred_at\n" + b"Backup storage,1,2027-03-04\n" * 80_000
    assert len(big) > usage_csv.MAX_BYTES
    body = upload(client, acme, big, "record").content.decode()
    assert "The file is larger than 2 MB" in body
    monkeypatch.setattr(usage_csv, "MAX_LINES", 5)
    rows = "".join(f"Backup storage,1,2027-03-0{d}\n" for d in range(1, 7))
    response = upload(client, acme, "item,quantity,occurred_at\n" + rows, "record")
    assert response.status_code == 400
    assert "more than 5 lines of usage" in response.content.decode()
    assert usage_count(p.company_a) == 2


@time_machine.travel(NOW, tick=True)
def test_a_technician_records_usage_without_seeing_the_contract(personas, contracts):
    p = personas
    acme, *_ = contracts
    client = signed_in("tech1@alpha.test")
    assert client.get(f"/app/contracts/{acme.public_id}/").status_code == 403
    body = client.get(f"/app/contracts/{acme.public_id}/usage").content.decode()
    assert "Upload usage (CSV)" in body and metered_item(acme).public_id in body
    response = upload(client, acme, GOOD.format(item="Backup storage"), "record")
    assert response.url == f"/app/contracts/{acme.public_id}/usage"
    assert "Recorded 3 usage lines." in client.get(response.url).content.decode()
    assert usage_count(p.company_a) == 5


# -- renewals --------------------------------------------------------------------------------

@time_machine.travel(NOW, tick=True)
def test_the_renewals_calendar_groups_the_next_twelve_months(personas, contracts):
    p = personas
    acme, blue, old, _ = contracts
    with scope(company=p.company_a.pk):
        later = make_contract(p.company_a, p.client_a2, start="2027-01-01", end="2027-09-15",
                              metered=False, name="Project retainer")
        make_contract(p.company_a, p.client_a2, start="2027-01-01", end="2028-04-01",
                      metered=False, name="Too far")
    body = signed_in("billing@alpha.test").get("/app/contracts/renewals/").content.decode()
    assert 'data-renewal-month="2027-04"' in body and 'data-renewal-month="2027-09"' in body
    assert body.index("April 2027") < body.index("September 2027")
    assert f'data-renewal="{acme.public_id}"' in body
    assert f'data-renewal="{later.public_id}"' in body
    for absent in (blue.public_id, old.public_id, "Too far"):
        assert absent not in body
    assert "31 Mar 2027: not yet" in body  # 30 days before 30 April
    assert "Auto-renews to <strong data-new-end>30 Apr 2028</strong>, +5 %" in body
    assert "Managed workstation: 25.00 USD → 26.25 USD" in body
    assert "Ends (no auto-renew)" in body


@time_machine.travel(datetime(2027, 4, 5, 15, 0, tzinfo=UTC), tick=True)
def test_the_calendar_says_when_a_notice_was_sent_or_is_late(personas, contracts):
    from nestogy.contracts.renewals import process_renewals
    from nestogy.tenancy.queries import company_today

    p = personas
    _acme, *_ = contracts
    client = signed_in("billing@alpha.test")
    assert "31 Mar 2027: <span class=\"tag late\">due, not sent</span>" in client.get(
        "/app/contracts/renewals/").content.decode()
    with scope(company=p.company_a.pk):
        process_renewals(p.company_a, company_today(p.company_a))
    assert "31 Mar 2027: sent" in client.get("/app/contracts/renewals/").content.decode()


# -- roles and companies ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
@time_machine.travel(NOW, tick=True)
def test_every_contract_view_asks_the_role_matrix(personas, contracts, role):
    p = personas
    acme, *_ = contracts
    persona = getattr(p, role)
    item = fixed_item(acme)
    before = usage_count(p.company_a)
    csv_file = SimpleUploadedFile("u.csv", b"item,quantity,occurred_at\nBackup storage,1,"
                                  b"2027-03-04\n", "text/csv")
    cases = [
        ("get", "/app/contracts/", {}, "contracts.view"),
        ("get", "/app/contracts/?show=ending&q=acme", {}, "contracts.view"),
        ("get", "/app/contracts/renewals/", {}, "contracts.view"),
        ("get", f"/app/contracts/{acme.public_id}/", {}, "contracts.view"),
        ("post", f"/app/contracts/{acme.public_id}/items/{item.public_id}/seats",
         {"quantity": "11", "effective_from": "2027-04-01"}, "contracts.manage"),
        ("get", f"/app/contracts/{acme.public_id}/usage", {}, "usage.record"),
        ("post", f"/app/contracts/{acme.public_id}/usage", {"file": csv_file,
                                                            "mode": "record"},
         "usage.record"),
    ]
    client = signed_in(persona.email)
    check_role_matrix(client, persona.role, cases)
    with scope(company=p.company_a.pk):
        changed = ContractItemQuantity.objects.filter(item=item).count() - 1
    assert changed == (1 if allowed(persona.role, "contracts.manage") else 0)
    assert usage_count(p.company_a) - before == (1 if allowed(persona.role, "usage.record")
                                                 else 0)
    nav = client.get("/app/").content.decode()
    assert ('href="/app/contracts/"' in nav) == allowed(persona.role, "contracts.view")


@time_machine.travel(NOW, tick=True)
def test_another_companys_contract_is_not_found_anywhere(personas, contracts):
    p = personas
    acme, blue, _, theirs = contracts
    with scope(company=p.company_b.pk):
        their_item = fixed_item(theirs)
        their_count = UsageRecord.objects.count()
    client = signed_in("owner@alpha.test")
    base = f"/app/contracts/{theirs.public_id}"
    assert client.get(f"{base}/").status_code == 404
    assert client.post(f"{base}/items/{their_item.public_id}/seats",
                       {"quantity": "1", "effective_from": "2027-04-01"}).status_code == 404
    assert client.get(f"{base}/usage").status_code == 404
    assert upload(client, theirs, "item,quantity,occurred_at\nBackup storage,1,2027-03-04\n",
                  "record").status_code == 404
    # their item under our contract, another contract's item, a metered item: not found
    for item_id in (their_item.public_id, fixed_item(blue).public_id,
                    metered_item(acme).public_id):
        assert client.post(f"/app/contracts/{acme.public_id}/items/{item_id}/seats",
                           {"quantity": "1", "effective_from": "2027-04-01"}
                           ).status_code == 404
    # their metered item's id in our file is not one of our items
    their_metered = metered_item(theirs).public_id
    body = upload(client, acme, f"item,quantity,occurred_at\n{their_metered},1,2027-03-04\n"
                  ).content.decode()
    assert "Line 2, item: is not a metered item of this contract" in body
    assert "Bravo" not in client.get("/app/contracts/").content.decode()
    assert theirs.public_id not in client.get("/app/contracts/renewals/").content.decode()
    with scope(company=p.company_b.pk):
        assert ContractItemQuantity.objects.filter(item=their_item).count() == 1
        assert UsageRecord.objects.count() == their_count
