"""Settings → SLA policies in the workspace (Django test client): the list, the policy page,
creating and editing targets, warning, pauses, the escalation ladder, the calendar and the
default flag; every view for every role, another company's policy, bad input naming the
field with nothing written, the audit."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.sla.actions import create_calendar
from nestogy.sla.models import BusinessCalendar, SLAPolicy
from tests.workspace.helpers import check_role_matrix, signed_in

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
PRIORITIES = ("critical", "high", "medium", "low")


def standard(company) -> SLAPolicy:
    with scope(company=company.pk):
        return SLAPolicy.objects.select_related("calendar").get(name="Standard")


def form_data(policy: SLAPolicy, **changes) -> dict:
    """The policy's edit form as a browser sends it unchanged (five ladder rows)."""
    data = {"name": policy.name, "calendar": policy.calendar.public_id,
            "warning_percent": str(policy.warning_percent),
            "pause_statuses": list(policy.pause_statuses), "ladder_rows": "5"}
    if policy.is_default:
        data["is_default"] = "on"
    for priority, target in policy.targets.items():
        data[f"{priority}_first_response"] = f"{target['first_response_minutes']}m"
        data[f"{priority}_resolution"] = f"{target['resolution_minutes']}m"
    ladder = policy.escalation_ladder
    for i in range(5):
        rung = ladder[i] if i < len(ladder) else {}
        data[f"ladder_{i}_level"] = str(rung.get("level", ""))
        data[f"ladder_{i}_percent"] = "" if rung.get("percent") is None \
            else str(rung["percent"])
        data[f"ladder_{i}_notify"] = rung.get("notify", "assignee")
        for flag in ("raise_priority", "reassign"):
            if rung.get(flag):
                data[f"ladder_{i}_{flag}"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def audit(company, action: str, obj) -> list[AuditEntry]:
    with scopes_disabled():
        return list(AuditEntry.objects.filter(company=company, action=action,
                                              object_id=obj.public_id))


@pytest.mark.parametrize("role", ROLES)
def test_every_policy_view_asks_the_role_matrix(personas, role):
    p = personas
    persona = getattr(p, role)
    policy = standard(p.company_a)
    client = signed_in(persona.email)
    cases = [
        ("get", "/app/settings/policies/", {}, "sla_policies.view"),
        ("get", f"/app/settings/policies/{policy.public_id}/", {}, "sla_policies.view"),
        ("get", "/app/settings/policies/new", {}, "sla_policies.manage"),
        ("post", "/app/settings/policies/new",
         form_data(policy, name=f"Gold {role}", is_default=None), "sla_policies.manage"),
        ("get", f"/app/settings/policies/{policy.public_id}/edit", {}, "sla_policies.manage"),
        ("post", f"/app/settings/policies/{policy.public_id}/edit",
         form_data(policy, warning_percent="70"), "sla_policies.manage"),
    ]
    check_role_matrix(client, persona.role, cases)
    manages = allowed(persona.role, "sla_policies.manage")
    with scope(company=p.company_a.pk):
        assert SLAPolicy.objects.filter(name=f"Gold {role}").exists() == manages
    assert (standard(p.company_a).warning_percent == 70) == manages
    page = client.get(f"/app/settings/policies/{policy.public_id}/").content.decode()
    assert ("Edit the policy" in page) == manages
    assert "1h" in page and "Waiting on client" in page  # read-only for everyone


def test_the_list_and_page_show_targets_calendar_and_ladder(personas):
    p = personas
    policy = standard(p.company_a)
    tech = signed_in("tech1@alpha.test")
    page = tech.get("/app/settings/policies/").content.decode()
    row = page.split('data-policy="Standard"', 1)[1].split("</tr>", 1)[0]
    assert "Default" in row and "Business hours" in row
    assert "Critical 1h / 4h" in row and "Low 8h / 40h" in row and "80 %" in row
    page = tech.get(f"/app/settings/policies/{policy.public_id}/").content.decode()
    assert "the warning (80 %)" in page and "150 % of the target" in page
    assert "Owners and admins" in page and "raises the priority, reassigns" in page


def test_editing_targets_ladder_and_pauses_saves_and_audits(personas):
    p = personas
    policy = standard(p.company_a)
    manager = signed_in("manager@alpha.test")
    data = form_data(policy, critical_first_response="30m", critical_resolution="2h 30m",
                     low_resolution="50:00", warning_percent="75", pause_statuses=["on_hold"],
                     ladder_3_level="4", ladder_3_percent="200", ladder_3_notify="managers")
    response = manager.post(f"/app/settings/policies/{policy.public_id}/edit", data,
                            follow=True)
    assert "SLA policy “Standard” saved" in response.content.decode()
    policy = standard(p.company_a)
    assert policy.targets["critical"] == {"first_response_minutes": 30,
                                          "resolution_minutes": 150}
    assert policy.targets["low"]["resolution_minutes"] == 50 * 60
    assert policy.warning_percent == 75 and policy.pause_statuses == ["on_hold"]
    assert policy.escalation_ladder[-1] == {"level": 4, "percent": 200, "notify": "managers",
                                            "raise_priority": False, "reassign": False}
    [entry] = audit(p.company_a, "sla_policy.updated", policy)
    assert entry.actor.email == "manager@alpha.test"
    assert entry.data["warning_percent"] == 75
    assert set(entry.data) == {"targets", "warning_percent", "pause_statuses",
                               "escalation_ladder"}
    form = manager.get(f"/app/settings/policies/{policy.public_id}/edit").content.decode()
    assert 'value="2h 30m"' in form and 'value="30m"' in form


def test_saving_an_unchanged_policy_writes_nothing(personas):
    p = personas
    policy = standard(p.company_a)
    response = signed_in("manager@alpha.test").post(
        f"/app/settings/policies/{policy.public_id}/edit", form_data(policy), follow=True)
    assert "Nothing to save: SLA policy “Standard” is unchanged." in response.content.decode()
    assert audit(p.company_a, "sla_policy.updated", policy) == []


def test_a_new_policy_on_another_calendar_can_take_the_default(personas):
    p = personas
    with scope(company=p.company_a.pk):
        weekend = create_calendar(p.company_a, {"name": "Weekend", "timezone": "UTC",
                                                "hours": {"sat": [["08:00", "20:00"]]}})
    old = standard(p.company_a)
    owner = signed_in("owner@alpha.test")
    response = owner.post("/app/settings/policies/new",
                          form_data(old, name="Weekend cover", calendar=weekend.public_id),
                          follow=True)
    assert "SLA policy “Weekend cover” created." in response.content.decode()
    with scope(company=p.company_a.pk):
        created = SLAPolicy.objects.get(name="Weekend cover")
    assert created.calendar_id == weekend.pk and created.is_default
    assert not standard(p.company_a).is_default
    assert len(audit(p.company_a, "sla_policy.created", created)) == 1
    calendars = owner.get("/app/settings/calendars/").content.decode()
    assert ">Weekend cover</a>" in calendars.split('data-calendar="Weekend"', 1)[1]


def test_clearing_every_rung_leaves_the_standard_ladder(personas):
    p = personas
    policy = standard(p.company_a)
    data = form_data(policy, **{f"ladder_{i}_level": "" for i in range(5)},
                     **{f"ladder_{i}_percent": "" for i in range(5)})
    response = signed_in("owner@alpha.test").post(
        f"/app/settings/policies/{policy.public_id}/edit", data)
    assert response.status_code == 302
    assert standard(p.company_a).escalation_ladder == []


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "Name: Name the policy."),
    ({"calendar": "cal_nope"}, "Business calendar: Select a valid choice."),
    ({"high_first_response": ""}, "High first response: Enter the target, e.g. 4h or 30m."),
    ({"high_first_response": "soon"},
     "High first response: Enter business time like 4h, 30m or 1h 30m."),
    ({"medium_resolution": "0m"},
     "Medium resolution: Must be from 1 minute to 100,000 hours of business time."),
    ({"low_resolution": "100001h"},
     "Low resolution: Must be from 1 minute to 100,000 hours of business time."),
    ({"warning_percent": "150"}, "Warning at (% of a target): Must be a whole number from 1 "
                                 "to 99."),
    ({"warning_percent": "lots"}, "Warning at (% of a target): Enter a whole number."),
    ({"pause_statuses": ["closed"]}, "Clocks pause while a ticket is: Select a valid choice."),
    ({"ladder_1_level": "1"}, "Escalation ladder: Levels must be unique."),
    ({"ladder_2_percent": "5000"},
     "Rung 3 fires at (% of target): Must be a whole number from 1 to 1000, or null."),
    ({"ladder_0_level": "99"}, "Level of rung 1: Must be a whole number from 1 to 20."),
    ({"ladder_4_percent": "50"}, "Level of rung 5: Enter the level of this rung, or clear "
                                 "the row."),
    ({"ladder_0_notify": "everyone"}, "Rung 1 notifies: Select a valid choice."),
    ({"is_default": None}, "The company&#x27;s default policy: Make another policy the "
                           "default instead."),
])
def test_bad_input_names_the_field_and_writes_nothing(personas, changes, message):
    p = personas
    policy = standard(p.company_a)
    before = (policy.name, policy.targets, policy.warning_percent, policy.pause_statuses,
              policy.escalation_ladder, policy.is_default)
    response = signed_in("manager@alpha.test").post(
        f"/app/settings/policies/{policy.public_id}/edit", form_data(policy, **changes))
    assert response.status_code == 400
    assert message in response.content.decode()
    after = standard(p.company_a)
    assert (after.name, after.targets, after.warning_percent, after.pause_statuses,
            after.escalation_ladder, after.is_default) == before
    assert audit(p.company_a, "sla_policy.updated", policy) == []


def test_a_bad_new_policy_writes_nothing(personas):
    p = personas
    policy = standard(p.company_a)
    response = signed_in("manager@alpha.test").post(
        "/app/settings/policies/new", form_data(policy, name="Gold", low_first_response="x"))
    assert response.status_code == 400
    assert "Low first response: Enter business time" in response.content.decode()
    with scope(company=p.company_a.pk):
        assert not SLAPolicy.objects.filter(name="Gold").exists()


def test_another_companys_policy_and_calendar_are_out_of_reach(personas):
    p = personas
    theirs = standard(p.company_b)
    owner = signed_in("owner@alpha.test")
    for url in (f"/app/settings/policies/{theirs.public_id}/",
                f"/app/settings/policies/{theirs.public_id}/edit"):
        assert owner.get(url).status_code == 404, url
    response = owner.post(f"/app/settings/policies/{theirs.public_id}/edit",
                          form_data(theirs, warning_percent="50"))
    assert response.status_code == 404
    assert standard(p.company_b).warning_percent == 80
    # Their calendar is no choice for our policy either.
    mine = standard(p.company_a)
    response = owner.post(f"/app/settings/policies/{mine.public_id}/edit",
                          form_data(mine, calendar=theirs.calendar.public_id))
    assert response.status_code == 400
    assert "Business calendar: Select a valid choice." in response.content.decode()
    with scope(company=p.company_a.pk):
        assert standard(p.company_a).calendar_id == BusinessCalendar.objects.get(
            name="Business hours").pk
