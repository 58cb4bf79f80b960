"""Settings → business-hours calendars in the workspace (Django test client): the list, the
calendar page with its due-time tester, creating and editing through the week grid; every
view for every role, another company's calendar, bad input naming the field with nothing
written, the audit. Arrival moments are explicit, so nothing depends on the wall clock."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.sla.models import BusinessCalendar, SLAPolicy
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Monday 2 February 2026, 16:00 in New York (Alpha IT's zone; no DST change that week).
ARRIVAL = "2026-02-02T16:00"


def business_hours(company) -> BusinessCalendar:
    with scope(company=company.pk):
        return BusinessCalendar.objects.get(name="Business hours")


def policy_on(calendar) -> SLAPolicy:
    with scope(company=calendar.company_id):
        return calendar.policies.get()


def form_data(name="Business hours", timezone="America/New_York", hours=None, **extra):
    """A complete calendar form: ``hours`` as the model stores them (Mon–Fri 09–17 unless
    given), three window rows per day."""
    hours = {d: [["09:00", "17:00"]] for d in DAYS[:5]} if hours is None else hours
    data = {"name": name, "timezone": timezone, "holiday_country": "",
            "holiday_subdivision": "", "holidays": ""}
    for day in DAYS:
        for i in range(3):
            start, end = (hours.get(day) or [])[i] if i < len(hours.get(day) or []) \
                else ("", "")
            data[f"{day}_{i}_start"], data[f"{day}_{i}_end"] = start, end
    data.update(extra)
    return data


def audit(company, action: str, obj) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(company=company, action=action,
                                              object_id=obj.public_id))


def due(page: str, clock: str) -> str:
    marker = f'data-due="{clock}">'
    return page.split(marker, 1)[1].split("<", 1)[0]


@pytest.mark.parametrize("role", ROLES)
def test_every_calendar_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    calendar = business_hours(p.company_a)
    client = signed_in(persona.email)
    cases = [
        ("get", "/app/settings/", {}, "calendars.view"),
        ("get", "/app/settings/calendars/", {}, "calendars.view"),
        ("get", f"/app/settings/calendars/{calendar.public_id}/", {}, "calendars.view"),
        ("get", f"/app/settings/calendars/{calendar.public_id}/",
         {"arrival": ARRIVAL, "priority": "high",
          "policy": policy_on(calendar).public_id}, "calendars.view"),
        ("get", "/app/settings/calendars/new", {}, "calendars.manage"),
        ("post", "/app/settings/calendars/new", form_data(name=f"On call {role}"),
         "calendars.manage"),
        ("get", f"/app/settings/calendars/{calendar.public_id}/edit", {}, "calendars.manage"),
        ("post", f"/app/settings/calendars/{calendar.public_id}/edit",
         form_data(hours={"mon": [["08:00", "18:00"]]}), "calendars.manage"),
    ]
    check_role_matrix(client, persona.role, cases)
    manages = allowed(persona.role, "calendars.manage")
    with scope(company=p.company_a.pk):
        assert BusinessCalendar.objects.filter(name=f"On call {role}").exists() == manages
    assert (business_hours(p.company_a).hours == {"mon": [["08:00", "18:00"]]}) == manages
    page = client.get(f"/app/settings/calendars/{calendar.public_id}/").content.decode()
    assert 'href="/app/settings/"' in page  # the nav's Settings entry
    assert ("Edit the calendar" in page) == manages
    assert ('href="/app/settings/calendars/new"' in
            client.get("/app/settings/calendars/").content.decode()) == manages


def test_the_list_shows_zone_hours_holidays_and_policies(personas):
    p = personas
    calendar = business_hours(p.company_a)
    with scope(company=p.company_a.pk):
        calendar.holiday_country, calendar.holidays = "US", ["2026-12-24"]
        calendar.hours = {**calendar.hours, "sat": [["10:00", "12:00"], ["13:00", "14:00"]]}
        calendar.save()
    page = signed_in("tech1@alpha.test").get("/app/settings/calendars/").content.decode()
    row = page.split('data-calendar="Business hours"', 1)[1].split("</tr>", 1)[0]
    assert "America/New_York" in row
    assert "Mon–Fri 09:00–17:00; Sat 10:00–12:00, 13:00–14:00" in row
    assert "US" in row and "+ 1 date" in row
    assert ">Standard</a>" in row


def test_the_tester_shows_due_times_for_a_fixed_arrival(personas):
    p = personas
    calendar = business_hours(p.company_a)
    policy = policy_on(calendar)
    page = signed_in("tech1@alpha.test").get(
        f"/app/settings/calendars/{calendar.public_id}/",
        {"arrival": ARRIVAL, "priority": "medium", "policy": policy.public_id}).content.decode()
    # Medium: 4h to respond, 24h to resolve, in Mon–Fri 09–17 New York time.
    assert due(page, "first_response") == "Tue 3 Feb 2026, 12:00 EST"
    assert due(page, "resolution") == "Thu 5 Feb 2026, 16:00 EST"
    custom = signed_in("tech1@alpha.test").get(
        f"/app/settings/calendars/{calendar.public_id}/",
        {"arrival": ARRIVAL, "priority": "medium", "policy": policy.public_id,
         "target": "1h 30m"}).content.decode()
    assert due(custom, "custom") == "Tue 3 Feb 2026, 09:30 EST"


def test_the_tester_defaults_to_now(personas):
    p = personas
    calendar = business_hours(p.company_a)
    page = signed_in("tech1@alpha.test").get(
        f"/app/settings/calendars/{calendar.public_id}/").content.decode()
    assert 'data-due="first_response"' in page and 'data-due="resolution"' in page
    assert 'name="arrival"' in page


def test_a_bad_arrival_names_the_field(personas):
    calendar = business_hours(personas.company_a)
    response = signed_in("tech1@alpha.test").get(
        f"/app/settings/calendars/{calendar.public_id}/",
        {"arrival": "next tuesday", "priority": "medium", "policy": "slp_nope",
         "target": "soon"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ticket arrives at: Enter a valid date/time." in page
    assert "Targets of the policy: Select a valid choice." in page
    assert "Or a target of: Enter business time like 4h, 30m or 1h 30m." in page
    assert 'data-due="first_response"' not in page
    response = signed_in("tech1@alpha.test").get(
        f"/app/settings/calendars/{calendar.public_id}/",
        {"arrival": "9999-12-31T23:00", "priority": "medium",
         "policy": policy_on(calendar).public_id, "target": "0m"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Ticket arrives at: Choose a moment between the years 2000 and 2100." in page
    assert "Or a target of: Must be from 1 minute to 100,000 hours of business time." in page


def test_editing_the_hours_saves_audits_and_moves_the_due_time(personas):
    p = personas
    calendar = business_hours(p.company_a)
    manager = signed_in("manager@alpha.test")
    hours = {d: [["09:00", "17:00"]] for d in DAYS[:5]}
    hours["mon"] = [["07:00", "12:00"], ["12:30", "19:00"]]
    response = manager.post(f"/app/settings/calendars/{calendar.public_id}/edit",
                            form_data(hours=hours, holiday_country="us",
                                      holiday_subdivision="ny",
                                      holidays="2026-12-24\n\n2026-12-31\n"), follow=True)
    page = response.content.decode()
    assert "Calendar “Business hours” saved" in page
    calendar = business_hours(p.company_a)
    assert calendar.hours["mon"] == [["07:00", "12:00"], ["12:30", "19:00"]]
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("US", "NY")
    assert calendar.holidays == ["2026-12-24", "2026-12-31"]
    [entry] = audit(p.company_a, "calendar.updated", calendar)
    assert entry.actor.email == "manager@alpha.test"
    assert entry.data["hours"]["mon"] == [["07:00", "12:00"], ["12:30", "19:00"]]
    assert set(entry.data) == {"hours", "holiday_country", "holiday_subdivision", "holidays"}
    policy = policy_on(calendar)
    page = manager.get(f"/app/settings/calendars/{calendar.public_id}/",
                       {"arrival": ARRIVAL, "priority": "medium",
                        "policy": policy.public_id}).content.decode()
    # Monday 16:00–19:00 now counts: 3h on Monday, the fourth hour on Tuesday.
    assert due(page, "first_response") == "Tue 3 Feb 2026, 10:00 EST"
    assert due(page, "resolution") == "Thu 5 Feb 2026, 14:00 EST"
    assert "07:00–12:00, 12:30–19:00" in page


def test_saving_an_unchanged_calendar_writes_nothing(personas):
    p = personas
    calendar = business_hours(p.company_a)
    response = signed_in("manager@alpha.test").post(
        f"/app/settings/calendars/{calendar.public_id}/edit", form_data(), follow=True)
    assert "Nothing to save: calendar “Business hours” is unchanged." in \
        response.content.decode()
    assert audit(p.company_a, "calendar.updated", calendar) == []


def test_a_day_with_more_windows_than_three_keeps_them_all(personas):
    p = personas
    calendar = business_hours(p.company_a)
    split = [["08:00", "10:00"], ["10:30", "12:00"], ["13:00", "15:00"], ["15:30", "17:00"]]
    with scope(company=p.company_a.pk):
        calendar.hours = {**calendar.hours, "wed": split}
        calendar.save()
    manager = signed_in("manager@alpha.test")
    form = manager.get(f"/app/settings/calendars/{calendar.public_id}/edit").content.decode()
    assert 'name="wed_4_start"' in form and 'name="wed_5_start"' not in form
    data = form_data(hours={**business_hours(p.company_a).hours}, window_slots="5")
    for day in DAYS:
        data.update({f"{day}_{i}_{e}": "" for i in (3, 4) for e in ("start", "end")})
    data.update({"wed_3_start": "15:30", "wed_3_end": "17:00", "sun_3_start": "10:00",
                 "sun_3_end": "11:00"})
    response = manager.post(f"/app/settings/calendars/{calendar.public_id}/edit", data)
    assert response.status_code == 302
    hours = business_hours(p.company_a).hours
    assert hours["wed"] == split and hours["sun"] == [["10:00", "11:00"]]


def test_windows_are_sorted_and_blank_rows_ignored(personas):
    p = personas
    calendar = business_hours(p.company_a)
    data = form_data()
    data.update({"tue_0_start": "", "tue_0_end": "", "tue_1_start": "13:00",
                 "tue_1_end": "17:00", "tue_2_start": "08:00", "tue_2_end": "12:00"})
    response = signed_in("owner@alpha.test").post(
        f"/app/settings/calendars/{calendar.public_id}/edit", data)
    assert response.status_code == 302
    assert business_hours(p.company_a).hours["tue"] == [["08:00", "12:00"], ["13:00", "17:00"]]


def test_a_24x7_calendar_needs_no_hours(personas):
    p = personas
    calendar = business_hours(p.company_a)
    response = signed_in("owner@alpha.test").post(
        f"/app/settings/calendars/{calendar.public_id}/edit",
        form_data(hours={}, is_24x7="on"), follow=True)
    assert "24x7" in response.content.decode()
    assert business_hours(p.company_a).is_24x7
    page = signed_in("tech1@alpha.test").get(
        f"/app/settings/calendars/{calendar.public_id}/",
        {"arrival": ARRIVAL, "priority": "medium",
         "policy": policy_on(calendar).public_id}).content.decode()
    assert due(page, "first_response") == "Mon 2 Feb 2026, 20:00 EST"


def test_the_tester_skips_public_holidays(personas):
    p = personas
    calendar = business_hours(p.company_a)
    response = signed_in("manager@alpha.test").post(
        f"/app/settings/calendars/{calendar.public_id}/edit",
        form_data(holiday_country="US"))
    assert response.status_code == 302
    # Friday 3 July 2026 is the observed Independence Day: Thursday 16:00 + 4h → Monday.
    page = signed_in("tech1@alpha.test").get(
        f"/app/settings/calendars/{calendar.public_id}/",
        {"arrival": "2026-07-02T16:00", "priority": "medium",
         "policy": policy_on(calendar).public_id}).content.decode()
    assert due(page, "first_response") == "Mon 6 Jul 2026, 12:00 EDT"


def test_creating_a_calendar_audits_it(personas):
    p = personas
    owner = signed_in("owner@alpha.test")
    form = owner.get("/app/settings/calendars/new").content.decode()
    assert 'value="America/New_York"' in form  # the company's zone, Mon–Fri 09–17 to start
    response = owner.post("/app/settings/calendars/new",
                          form_data(name="Berlin desk", timezone="Europe/Berlin",
                                    hours={"mon": [["08:00", "16:00"]]}), follow=True)
    assert "Calendar “Berlin desk” created." in response.content.decode()
    with scope(company=p.company_a.pk):
        created = BusinessCalendar.objects.get(name="Berlin desk")
    assert created.timezone == "Europe/Berlin" and created.hours == {"mon": [["08:00", "16:00"]]}
    assert len(audit(p.company_a, "calendar.created", created)) == 1


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "Name: Name the calendar."),
    ({"timezone": "Mars/Olympus"}, "Time zone: Unknown time zone &#x27;Mars/Olympus&#x27;"),
    ({"mon_0_start": "18:00", "mon_0_end": "09:00"},
     "Monday, window 1: Must end after it starts."),
    ({"wed_1_start": "12:00", "wed_1_end": ""},
     "Wednesday, window 2: Enter both the start and the end of the window, or neither."),
    ({"thu_1_start": "16:00", "thu_1_end": "18:00"},
     "Thursday, window 2: Overlaps or precedes the previous window."),
    ({"fri_0_start": "9am", "fri_0_end": "17:00"}, "Friday, window 1: Must be a time HH:MM."),
    ({"tue_0_start": "25:00", "tue_0_end": "26:00"},
     "Tuesday, window 1: Must be a time between 00:00 and 24:00."),
    ({"holidays": "2026-12-24\n24/12/2026"},
     "Other closed dates: Line 2: “24/12/2026” is not a date YYYY-MM-DD."),
    ({"holiday_country": "XX"}, "Public holidays of country: &#x27;XX&#x27; is not a "
                                "supported country code."),
    ({"holiday_country": "US", "holiday_subdivision": "ZZ"},
     "State or region: &#x27;ZZ&#x27; is not a subdivision of US."),
    ({"holiday_subdivision": "NY"},
     "State or region: Choose the country of the state or region too."),
    ({f"{d}_0_{e}": "" for d in DAYS for e in ("start", "end")},
     "Working hours: A calendar that is not 24x7 needs working hours."),
])
def test_bad_input_names_the_field_and_writes_nothing(personas, changes, message):
    p = personas
    calendar = business_hours(p.company_a)
    before = (calendar.name, calendar.timezone, calendar.hours, calendar.holidays,
              calendar.holiday_country)
    response = signed_in("manager@alpha.test").post(
        f"/app/settings/calendars/{calendar.public_id}/edit", {**form_data(), **changes})
    assert response.status_code == 400
    assert message in response.content.decode()
    after = business_hours(p.company_a)
    assert (after.name, after.timezone, after.hours, after.holidays,
            after.holiday_country) == before
    assert audit(p.company_a, "calendar.updated", calendar) == []
    # The same refusal when creating: no calendar appears.
    with scope(company=p.company_a.pk):
        count = BusinessCalendar.objects.count()
    response = signed_in("manager@alpha.test").post(
        "/app/settings/calendars/new", {**form_data(name="Another"), **changes})
    assert response.status_code == 400
    with scope(company=p.company_a.pk):
        assert BusinessCalendar.objects.count() == count


def test_another_companys_calendar_is_404_and_unchanged(personas):
    p = personas
    theirs = business_hours(p.company_b)
    owner = signed_in("owner@alpha.test")
    for url in (f"/app/settings/calendars/{theirs.public_id}/",
                f"/app/settings/calendars/{theirs.public_id}/edit"):
        assert owner.get(url).status_code == 404, url
    response = owner.post(f"/app/settings/calendars/{theirs.public_id}/edit",
                          form_data(name="Taken over"))
    assert response.status_code == 404
    assert business_hours(p.company_b).timezone == "Europe/Berlin"
    assert "Europe/Berlin" not in owner.get("/app/settings/calendars/").content.decode()
    # Nor can the tester borrow another company's policy.
    with scope(company=p.company_b.pk):
        their_policy = SLAPolicy.objects.get()
    mine = business_hours(p.company_a)
    response = owner.get(f"/app/settings/calendars/{mine.public_id}/",
                         {"arrival": ARRIVAL, "priority": "low",
                          "policy": their_policy.public_id})
    assert response.status_code == 400


def test_the_tester_uses_the_company_zone_for_the_arrival(personas):
    """The arrival is read in the company's zone (New York), shown with its zone."""
    p = personas
    calendar = business_hours(p.company_a)
    policy = policy_on(calendar)
    page = signed_in("tech1@alpha.test").get(
        f"/app/settings/calendars/{calendar.public_id}/",
        {"arrival": ARRIVAL, "priority": "critical", "policy": policy.public_id}).content.decode()
    moment = datetime(2026, 2, 2, 16, 0, tzinfo=ZoneInfo("America/New_York"))
    assert f'datetime="{moment.isoformat()}"' in page
    assert due(page, "first_response") == "Mon 2 Feb 2026, 17:00 EST"  # critical: 1h
