"""A team member's page in the workspace (Django test client): the technician profile
(skills line by line, maximum open tickets), the working calendar, out-of-office periods
(a lead's on the member page, one's own on /app/account/away/), the role and the reset of a
second factor; every view for every role, another company's member, absence and calendar,
bad input named on its field with nothing written, audit entries, and routing skipping a
technician who is away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scope, scopes_disabled

from nestogy.accounts import security
from nestogy.accounts.models import Membership, TechnicianProfile
from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.core.timeutil import now as utc_now
from nestogy.routing.actions import add_out_of_office, set_technician_calendar
from nestogy.routing.models import OutOfOffice, TechnicianCalendar
from nestogy.sla.actions import create_calendar
from nestogy.tickets.routing import candidates
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
NY = ZoneInfo("America/New_York")


def url(persona, tail: str = "") -> str:
    return f"/app/team/members/{persona.membership.public_id}/{tail}"


def profile_of(persona) -> TechnicianProfile | None:
    with scopes_disabled():
        return TechnicianProfile.objects.filter(membership=persona.membership).first()


def absences_of(persona) -> list[OutOfOffice]:
    with scopes_disabled():
        return list(OutOfOffice.objects.filter(user=persona.user).order_by("starts_at"))


def calendar_of(persona):
    with scopes_disabled():
        found = TechnicianCalendar.objects.filter(user=persona.user).first()
        return found.calendar if found else None


def audit(company, action: str) -> list[AuditEntry]:
    with scope(company=company.pk):
        return list(AuditEntry.objects.filter(action=action))


def calendar(company, name: str = "Office hours"):
    with scope(company=company.pk):
        return create_calendar(company, {"name": name, "timezone": company.timezone,
                                         "hours": {"mon": [["08:00", "18:00"]]}})


def away(persona, company, start, end, note=""):
    with scope(company=company.pk):
        return add_out_of_office(persona.user, company, start, end, note)


def with_two_factor(user) -> None:
    TOTPDevice.objects.create(user=user, name=security.TOTP_NAME, confirmed=True)


def skills_post(lines: list[tuple[str, str]], capacity: str = "10", **extra) -> dict:
    data = {"rows": str(len(lines)), "max_open_tickets": capacity, **extra}
    for i, (skill, level) in enumerate(lines):
        data[f"skill-{i}"], data[f"level-{i}"] = skill, level
    return data


# -- the role matrix ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    target = p.tech2_a
    with_two_factor(target.user)
    office = calendar(p.company_a)
    now = utc_now()
    theirs = away(target, p.company_a, now + timedelta(days=3), now + timedelta(days=4))
    mine = away(persona, p.company_a, now + timedelta(days=3), now + timedelta(days=4))
    client = signed_in(persona.email)
    check_role_matrix(client, persona.role, [
        ("get", url(target), {}, "users.view"),
        ("post", url(target, "profile"), skills_post([("backup", "3")], "12"), "users.update"),
        ("post", url(target, "calendar"), {"calendar": office.public_id}, "users.update"),
        ("post", url(target, "absences"), {"start_date": "2031-07-01",
                                           "end_date": "2031-07-02"}, "routing.manage"),
        ("post", url(target, f"absences/{theirs.public_id}/remove"), {}, "routing.manage"),
        ("post", url(target, "two-factor/reset"), {}, "users.update"),
        ("post", url(target, "set-role"), {"role": "manager"}, "users.update"),
        ("get", "/app/account/away/", {}, "account.own"),
        ("post", "/app/account/away/", {"start_date": "2031-08-01", "end_date": "2031-08-01"},
         "account.own"),
        ("post", f"/app/account/away/{mine.public_id}/remove", {}, "account.own"),
    ])
    may_update = allowed(persona.role, "users.update")
    profile = profile_of(target)
    assert (profile.skills == {"backup": 3}) == may_update
    assert (profile.max_open_tickets == 12) == may_update
    assert (calendar_of(target) == office) == may_update
    assert security.has_two_factor(target.user) != may_update
    with scopes_disabled():
        assert (Membership.objects.get(pk=target.membership.pk).role == "manager") == may_update
    theirs_now = [a.starts_at.date().isoformat() for a in absences_of(target)]
    assert ("2031-07-01" in theirs_now) == allowed(persona.role, "routing.manage")
    assert (theirs.public_id in [a.public_id for a in absences_of(target)]) \
        != allowed(persona.role, "routing.manage")
    mine_now = [a.public_id for a in absences_of(persona)]
    assert mine.public_id not in mine_now and len(mine_now) == 1  # added one, removed one
    page = client.get("/app/team/").content.decode()
    if allowed(persona.role, "users.view"):
        assert f'href="{url(target)}"' in page


# -- another company -------------------------------------------------------------------------


def test_another_companys_member_absence_and_calendar_are_not_found(personas):
    p = personas
    now = utc_now()
    bravo_away = away(p.tech_b, p.company_b, now + timedelta(days=1), now + timedelta(days=2))
    bravo_calendar = calendar(p.company_b, "Bravo hours")
    owner = signed_in("owner@alpha.test")
    for method, target in [
        ("get", url(p.tech_b)),
        ("post", url(p.tech_b, "profile")),
        ("post", url(p.tech_b, "calendar")),
        ("post", url(p.tech_b, "absences")),
        ("post", url(p.tech_b, f"absences/{bravo_away.public_id}/remove")),
        ("post", url(p.tech_b, "two-factor/reset")),
        ("post", url(p.tech_b, "set-role")),
        # B's absence through an A member's page, and as one's own
        ("post", url(p.tech_a, f"absences/{bravo_away.public_id}/remove")),
        ("post", f"/app/account/away/{bravo_away.public_id}/remove"),
    ]:
        assert getattr(owner, method)(target, {}).status_code == 404, target
    response = owner.post(url(p.tech_a, "calendar"), {"calendar": bravo_calendar.public_id})
    assert response.status_code == 400
    assert "Working calendar: is not a calendar of this company." in response.content.decode()
    assert calendar_of(p.tech_a) is None
    assert absences_of(p.tech_b) == [bravo_away]
    assert audit(p.company_a, "routing.technician_calendar_set") == []


def test_someone_elses_absence_is_not_removed_as_ones_own(personas):
    p = personas
    now = utc_now()
    theirs = away(p.tech2_a, p.company_a, now + timedelta(days=1), now + timedelta(days=2))
    response = signed_in("tech1@alpha.test").post(f"/app/account/away/{theirs.public_id}/remove")
    assert response.status_code == 404
    assert absences_of(p.tech2_a) == [theirs]


# -- the technician profile ------------------------------------------------------------------


def test_skills_and_capacity_are_saved_line_by_line_and_audited(personas):
    p = personas
    client = signed_in("admin@alpha.test")
    page = client.get(url(p.tech_a)).content.decode()
    assert 'value="networking"' in page and 'value="windows"' in page
    assert 'name="max_open_tickets" value="10"' in page
    body = client.post(url(p.tech_a, "profile"), skills_post(
        [("Firewalls", "2"), ("", ""), ("windows", "4"), ("m365", "5")], "25"),
        follow=True).content.decode()
    assert "The technician profile of Tech1 is saved." in body
    profile = profile_of(p.tech_a)
    assert profile.skills == {"firewalls": 2, "windows": 4, "m365": 5}
    assert profile.max_open_tickets == 25
    assert 'value="firewalls"' in body and 'value="networking"' not in body
    (entry,) = audit(p.company_a, "user.updated")
    assert entry.data == {"skills": {"firewalls": 2, "windows": 4, "m365": 5},
                          "max_open_tickets": 25}


def test_an_unchanged_profile_writes_nothing(personas):
    p = personas
    body = signed_in("owner@alpha.test").post(url(p.tech_a, "profile"), skills_post(
        [("windows", "3"), ("Networking", "4")], "10"), follow=True).content.decode()
    assert "Nothing changed." in body
    assert audit(p.company_a, "user.updated") == []


def test_a_member_without_a_profile_gets_one(personas):
    p = personas
    assert profile_of(p.manager_a) is None
    signed_in("owner@alpha.test").post(url(p.manager_a, "profile"),
                                       skills_post([("dispatching", "4")], "5"))
    profile = profile_of(p.manager_a)
    assert profile.skills == {"dispatching": 4} and profile.max_open_tickets == 5


def test_away_until_further_notice_is_the_profiles_flag(personas):
    p = personas
    client = signed_in("owner@alpha.test")
    body = client.post(url(p.tech_a, "profile"), skills_post(
        [("networking", "4"), ("windows", "3")], "10", out_of_office="on"),
        follow=True).content.decode()
    assert profile_of(p.tech_a).out_of_office is True
    assert "Out of office until further notice" in body


@pytest.mark.parametrize(("lines", "capacity", "message"), [
    ([("networking", "0")], "10", "Skills, line 1 (networking): must be a whole number "
                                  "between 1 and 5."),
    ([("windows", "3"), ("networking", "6")], "10", "Skills, line 2 (networking): must be "
                                                    "a whole number between 1 and 5."),
    ([("", "3")], "10", "Skills, line 1: name the skill."),
    ([("networking", "")], "10", "Skills, line 1: give networking a level from 1 to 5."),
    ([("networking", "3"), ("Networking", "2")], "10", "Skills, line 2: Networking is "
                                                       "listed twice."),
    ([("net!work", "3")], "10", "Skills, line 1 (net!work): skill names are"),
    ([("networking", "4")], "-1", "Maximum open tickets: Must be a whole number between 0 "
                                  "and 1000."),
    ([("networking", "4")], "1001", "Maximum open tickets: Must be a whole number between 0 "
                                    "and 1000."),
    ([("networking", "4")], "many", "Maximum open tickets: must be a whole number"),
])
def test_bad_profiles_are_named_and_nothing_is_written(personas, lines, capacity, message):
    p = personas
    response = signed_in("owner@alpha.test").post(url(p.tech_a, "profile"),
                                                  skills_post(lines, capacity))
    assert response.status_code == 400
    assert message in response.content.decode()
    profile = profile_of(p.tech_a)
    assert profile.skills == {"networking": 4, "windows": 3}
    assert profile.max_open_tickets == 10
    assert audit(p.company_a, "user.updated") == []


def test_who_may_not_update_sees_the_profile_read_only(personas):
    p = personas
    page = signed_in("manager@alpha.test").get(url(p.tech_a)).content.decode()
    assert "networking: 4" in page and "Maximum open tickets: <strong>10</strong>" in page
    assert 'name="max_open_tickets"' not in page
    assert "/two-factor/reset" not in page and "/set-role" not in page
    assert 'action="/app/team/members/' in page  # the manager records absences
    own = signed_in("tech1@alpha.test").get(url(p.tech_a)).content.decode()
    assert 'href="/app/account/away/"' in own and "Add the period" not in own


# -- the working calendar --------------------------------------------------------------------


def test_a_calendar_is_assigned_and_cleared(personas):
    p = personas
    office = calendar(p.company_a)
    client = signed_in("owner@alpha.test")
    body = client.post(url(p.tech_a, "calendar"), {"calendar": office.public_id},
                       follow=True).content.decode()
    assert "Tech1 works to Office hours." in body
    assert calendar_of(p.tech_a) == office
    assert f'<option value="{office.public_id}" selected>' in body
    body = client.post(url(p.tech_a, "calendar"), {"calendar": ""},
                       follow=True).content.decode()
    assert "routing counts them available at any hour" in body
    assert calendar_of(p.tech_a) is None
    entries = audit(p.company_a, "routing.technician_calendar_set")
    assert sorted(str(e.data["calendar_id"]) for e in entries) == sorted(
        [office.public_id, "None"])


def test_an_unknown_calendar_is_named(personas):
    p = personas
    with scope(company=p.company_a.pk):
        set_technician_calendar(p.company_a, p.tech_a.user, None)
    response = signed_in("owner@alpha.test").post(url(p.tech_a, "calendar"),
                                                  {"calendar": "cal_nothere"})
    assert response.status_code == 400
    assert "Working calendar: is not a calendar of this company." in response.content.decode()
    assert calendar_of(p.tech_a) is None


# -- out of office ---------------------------------------------------------------------------


def test_a_lead_records_a_period_in_the_companys_time_and_routing_skips_them(personas):
    p = personas
    today = datetime.now(NY).date()
    client = signed_in("manager@alpha.test")
    body = client.post(url(p.tech_a, "absences"), {
        "start_date": (today - timedelta(days=1)).isoformat(), "start_time": "",
        "end_date": (today + timedelta(days=2)).isoformat(), "end_time": "17:30",
        "note": "Holiday"}, follow=True).content.decode()
    (period,) = absences_of(p.tech_a)
    start = datetime.combine(today - timedelta(days=1), datetime.min.time(), NY)
    end = datetime.combine(today + timedelta(days=2), datetime.min.time(), NY) \
        .replace(hour=17, minute=30)
    assert period.starts_at == start.astimezone(UTC) and period.ends_at == end.astimezone(UTC)
    assert period.note == "Holiday"
    until = f"{end:%a} {end.day} {end:%b %Y} 17:30"
    assert f"Out of office until {until} (America/New_York)" in body
    assert "Holiday" in body
    (entry,) = audit(p.company_a, "routing.out_of_office_added")
    assert entry.data["user_id"] == p.tech_a.user.public_id
    with scope(company=p.company_a.pk):
        ranking, _ = candidates(ticket(p.company_a, p.client_a))
    reasons = {e.user_id: e.reason for e in ranking.excluded}
    assert reasons.get(p.tech_a.user.pk) == "out_of_office"
    assert p.tech2_a.user.pk not in reasons


def test_a_blank_end_time_is_the_end_of_the_last_day(personas):
    p = personas
    signed_in("owner@alpha.test").post(url(p.tech_a, "absences"), {
        "start_date": "2031-03-03", "start_time": "09:00", "end_date": "2031-03-07"})
    (period,) = absences_of(p.tech_a)
    assert period.starts_at == datetime(2031, 3, 3, 9, tzinfo=NY).astimezone(UTC)
    assert period.ends_at == datetime(2031, 3, 8, tzinfo=NY).astimezone(UTC)


@pytest.mark.parametrize(("data", "message"), [
    ({"start_date": "2031-03-07", "end_date": "2031-03-03"},
     "Last day: the period must end after it starts."),
    ({"start_date": "2031-03-03", "start_time": "15:00", "end_date": "2031-03-03",
      "end_time": "09:00"}, "Last day: the period must end after it starts."),
    ({"start_date": "2031-02-30", "end_date": "2031-03-03"}, "First day: Enter a valid date."),
    ({"start_date": "", "end_date": "2031-03-03"}, "First day: Enter the first day."),
    ({"start_date": "2031-03-03", "end_date": "tomorrow"}, "Last day: Enter a valid date."),
    ({"start_date": "1999-03-03", "end_date": "2031-03-03"},
     "First day: must be between 2000 and 2099."),
    ({"start_date": "2031-03-03", "start_time": "25:00", "end_date": "2031-03-04"},
     "From (time): Enter a valid time."),
    ({"start_date": "2031-03-09", "start_time": "02:30", "end_date": "2031-03-10"},
     "From (time): does not exist on that day in America/New_York"),
    ({"start_date": "2031-03-03", "end_date": "2031-03-04", "note": "x" * 201},
     "Note: Ensure this value has at most 200 characters"),
])
def test_bad_periods_are_named_and_nothing_is_written(personas, data, message):
    p = personas
    for client, target in [(signed_in("owner@alpha.test"), url(p.tech_a, "absences")),
                           (signed_in("tech1@alpha.test"), "/app/account/away/")]:
        response = client.post(target, data)
        assert response.status_code == 400, target
        assert message in response.content.decode(), target
    assert absences_of(p.tech_a) == []
    assert audit(p.company_a, "routing.out_of_office_added") == []


def test_a_lead_removes_a_period(personas):
    p = personas
    now = utc_now()
    past = away(p.tech_a, p.company_a, now - timedelta(days=9), now - timedelta(days=8), "Old")
    ahead = away(p.tech_a, p.company_a, now + timedelta(days=8), now + timedelta(days=9),
                 "Training")
    client = signed_in("admin@alpha.test")
    page = client.get(url(p.tech_a)).content.decode()
    assert "Training" in page and "Old" not in page  # past periods are not listed
    body = client.post(url(p.tech_a, f"absences/{ahead.public_id}/remove"),
                       follow=True).content.decode()
    assert "The absence of Tech1 from" in body and "is removed." in body
    assert absences_of(p.tech_a) == [past]
    assert len(audit(p.company_a, "routing.out_of_office_removed")) == 1


def test_staff_record_and_remove_their_own_periods(personas):
    p = personas
    client = signed_in("tech1@alpha.test")
    assert 'href="/app/account/away/"' in client.get("/app/account/").content.decode()
    today = datetime.now(NY).date()
    body = client.post("/app/account/away/", {
        "start_date": today.isoformat(), "end_date": (today + timedelta(days=1)).isoformat(),
        "note": "Dentist"}, follow=True).content.decode()
    assert "You are out of office from" in body
    assert "Out of office until" in body and "Dentist" in body
    (period,) = absences_of(p.tech_a)
    (entry,) = audit(p.company_a, "routing.out_of_office_added")
    assert entry.actor_id == p.tech_a.user.pk
    body = client.post(f"/app/account/away/{period.public_id}/remove",
                       follow=True).content.decode()
    assert "Your absence from" in body
    assert absences_of(p.tech_a) == []


# -- role and second factor ------------------------------------------------------------------


def test_the_role_changes_on_the_member_page_within_the_grant(personas):
    p = personas
    admin = signed_in("admin@alpha.test")
    body = admin.post(url(p.tech_a, "set-role"), {"role": "manager"},
                      follow=True).content.decode()
    assert "Tech1 is now Manager." in body
    response = admin.post(url(p.tech_a, "set-role"), {"role": "owner"})
    assert response.status_code == 403
    assert "Role: The admin role may not grant the owner role." in response.content.decode()
    response = admin.post(url(p.tech_a, "set-role"), {"role": "wizard"})
    assert response.status_code == 400 and "Role: choose one of the roles." in \
        response.content.decode()
    response = signed_in("owner@alpha.test").post(url(p.owner_a, "set-role"),
                                                  {"role": "admin"})
    assert response.status_code == 409
    assert "a company must keep at least one active owner" in response.content.decode().lower()
    with scopes_disabled():
        assert Membership.objects.get(pk=p.tech_a.membership.pk).role == "manager"
        assert Membership.objects.get(pk=p.owner_a.membership.pk).role == "owner"


def test_a_lead_resets_a_second_factor(personas):
    p = personas
    with_two_factor(p.tech_a.user)
    client = signed_in("admin@alpha.test")
    page = client.get(url(p.tech_a)).content.decode()
    assert "Reset the second factor" in page
    body = client.post(url(p.tech_a, "two-factor/reset"), follow=True).content.decode()
    assert "Two-factor sign-in is off for Tech1" in body
    assert not security.has_two_factor(p.tech_a.user)
    assert len(audit(p.company_a, "user.two_factor_reset")) == 1
    response = client.post(url(p.tech_a, "two-factor/reset"))
    assert response.status_code == 400 and "has no second factor set up" in \
        response.content.decode()


def test_a_second_factor_above_the_grant_or_ones_own_is_not_reset(personas):
    p = personas
    admin = signed_in("admin@alpha.test")  # before its own second factor is on
    with_two_factor(p.owner_a.user)
    with_two_factor(p.admin_a.user)
    response = admin.post(url(p.owner_a, "two-factor/reset"))
    assert response.status_code == 403
    assert "may not change the account of a owner" in response.content.decode()
    response = admin.post(url(p.admin_a, "two-factor/reset"))
    assert response.status_code == 400 and "on your account page" in response.content.decode()
    assert security.has_two_factor(p.owner_a.user) and security.has_two_factor(p.admin_a.user)
    assert audit(p.company_a, "user.two_factor_reset") == []
