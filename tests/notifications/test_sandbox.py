"""Company template overrides render in a sandbox: allow-listed tags and filters, read-only
plain data, limits on size, output and time. Each attack is an override a company's admin
could save, sent through the real outbox."""

from __future__ import annotations

import time

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.notifications.models import Delivery, TemplateOverride
from nestogy.notifications.sending import send_due
from tests.notifications.conftest import emit


def only_email(event_types):
    for role in ("technician", "owner", "billing", "manager", "admin"):
        event_types[role] = ("email",)


def override(company, content, *, part="body", channel=""):
    """Store an override as it may already sit in the database (no form validation)."""
    with scope(company=company.pk):
        return TemplateOverride.objects.create(company=company, event_type="test.ping",
                                               channel=channel, part=part, content=content)


def send_one(personas, **data):
    emit(personas.company_a, users=[personas.tech_a.user], **data)
    started = time.monotonic()
    counts = send_due()
    elapsed = time.monotonic() - started
    with scopes_disabled():
        [delivery] = Delivery.objects.filter(company=personas.company_a)
    return counts, delivery, elapsed


@pytest.fixture
def email_only(event_types):
    only_email(event_types)
    return event_types


def test_rjust_bomb_is_refused(personas, email_only, mailoutbox):
    override(personas.company_a, "{{ 'a'|rjust:'20000000' }}")
    counts, delivery, _ = send_one(personas)
    assert counts == {"failed": 1} and mailoutbox == []
    assert "the filter |rjust is not allowed" in delivery.last_error


def test_nested_loop_bomb_is_cut_off(personas, email_only, mailoutbox, settings):
    settings.NESTOGY_NOTIFY_OVERRIDE_MAX_SECONDS = 0.3
    override(personas.company_a, "{% for a in lines %}{% for b in lines %}{% for c in lines %}"
                                 "{% endfor %}{% endfor %}{% endfor %}done")
    counts, delivery, elapsed = send_one(personas, lines=list(range(200)))
    assert counts == {"failed": 1} and mailoutbox == []
    assert "took longer than 0.3 s and was cut off" in delivery.last_error
    assert elapsed < 5


def test_output_bomb_is_cut_off(personas, email_only, mailoutbox):
    override(personas.company_a, "{% for a in lines %}{% for b in lines %}{{ subject }}"
                                 "{% endfor %}{% endfor %}")
    counts, delivery, _ = send_one(personas, lines=list(range(1000)))
    assert counts == {"failed": 1} and mailoutbox == []
    assert "longer than 200000 characters and was cut off" in delivery.last_error


@pytest.mark.parametrize(("content", "error"), [
    ("{% load humanize %}{{ 1000000|intcomma }}", "{% load humanize %} is not allowed"),
    ('{% include "billing/invoice.html" %}', "the tag {% include %} is not allowed"),
    ("{% debug %}", "the tag {% debug %} is not allowed"),
    ('{% extends "billing/invoice.html" %}', "the tag {% extends %} is not allowed"),
    ("{% url 'admin:index' %}", "the tag {% url %} is not allowed"),
    ("{% autoescape off %}{{ subject }}{% endautoescape %}", "{% autoescape %} is not allowed"),
    ("{{ subject|safe }}", "the filter |safe is not allowed"),
    ("{{ 1|stringformat:'20000000s' }}", "the filter |stringformat is not allowed"),
    ("{{ 1.5|floatformat:100000 }}", "the argument of |floatformat is larger than 20"),
    ("{{ company.__class__ }}", "may not begin with underscores"),
])
def test_forbidden_tags_filters_and_names_fail_the_delivery(personas, email_only, mailoutbox,
                                                           content, error):
    override(personas.company_a, content)
    counts, delivery, _ = send_one(personas)
    assert counts == {"failed": 1} and mailoutbox == []
    assert error in delivery.last_error, delivery.last_error


def test_oversized_template_is_refused_at_render_time(personas, email_only, mailoutbox):
    override(personas.company_a, "x" * 10_001)
    counts, delivery, _ = send_one(personas)
    assert counts == {"failed": 1}
    assert "10001 characters long; at most 10000" in delivery.last_error


def test_context_is_read_only_data(personas, email_only, mailoutbox):
    """Attack: call methods with side effects through variables ({{ lines.pop }} used to pop
    the list while rendering)."""
    override(personas.company_a, "{{ lines.pop }}{{ lines.clear }}{{ company.clear }}"
                                 "|{{ lines|length }}|{{ company.name }}")
    counts, _, _ = send_one(personas, lines=[1, 2, 3])
    assert counts == {"sent": 1}
    assert mailoutbox[0].body == "|3|Alpha IT"


def test_normal_overrides_still_render(personas, email_only, mailoutbox):
    override(personas.company_a, "{% load nestogy_format %}[{{ number }}] {{ subject|upper }}",
             part="title")
    override(personas.company_a,
             "Hello {{ recipient.name|default:'there' }},\n"
             "{% for line in lines %}- {{ line.what|capfirst }}: {{ line.amount|floatformat:2 }}"
             "{% if not forloop.last %}\n{% endif %}{% empty %}nothing{% endfor %}\n"
             "Due {{ due|day }}. {{ lines|length }} line{{ lines|length|pluralize }}.")
    override(personas.company_a, "<p>{{ subject }}</p>", part="html")
    counts, _, _ = send_one(personas, subject="<b>Printer</b> on fire", due="2030-01-31T09:00:00",
                            lines=[{"what": "toner", "amount": "12.5"},
                                   {"what": "visit", "amount": 80}])
    assert counts == {"sent": 1}
    [message] = mailoutbox
    assert message.subject == "[T-1001] <B>PRINTER</B> ON FIRE"
    assert message.body == ("Hello Tech1,\n- Toner: 12.50\n- Visit: 80.00\n"
                            "Due 2030-01-31. 2 lines.")
    assert message.alternatives[0][0] == "<p>&lt;b&gt;Printer&lt;/b&gt; on fire</p>"


def test_shipped_file_templates_render_with_the_full_engine(personas, email_only, mailoutbox):
    counts, _, _ = send_one(personas)
    assert counts == {"sent": 1}
    assert mailoutbox[0].subject == "Ticket T-1001: Printer on fire"


# -- saving overrides in the admin -------------------------------------------------------------

def _admin():
    from tests.support.admin_forms import operator

    return operator()  # the admin is the operators' (the workspace has its own editor)


def _post(http, content, company):
    return http.post("/admin/notifications/templateoverride/add/", {
        "company": company.pk, "event_type": "ticket.created", "channel": "", "part": "body",
        "content": content})


@pytest.mark.parametrize(("content", "error"), [
    ("{{ 'a'|rjust:'20000000' }}", "the filter |rjust is not allowed"),
    ('{% include "billing/invoice.html" %}', "the tag {% include %} is not allowed"),
    ("{% load humanize %}", "is not allowed in a template override"),
    ("{% debug %}", "the tag {% debug %} is not allowed"),
    ("{% for %}", "for"),
    ("y" * 10_001, "at most 10000 are allowed"),
])
def test_admin_refuses_to_save_an_unsafe_override(personas, content, error):
    response = _post(_admin(), content, personas.company_a)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert error in " ".join(errors["content"]), errors
    with scopes_disabled():
        assert not TemplateOverride.objects.exists()


def test_admin_saves_a_normal_override(personas):
    response = _post(_admin(), "New ticket {{ ticket.number }}: {{ ticket.subject|upper }}",
                     personas.company_a)
    assert response.status_code == 302
    with scope(company=personas.company_a.pk):
        saved = TemplateOverride.objects.get()
    assert saved.company_id == personas.company_a.pk
