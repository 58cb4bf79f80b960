"""*Test the channels* on the company settings page (Django test client): a Slack test and an
SMS test received by a real server on 127.0.0.1 through Apprise, the page's hints (counts
and last digits, never a URL), refusals shown as a message with nothing written, POST only
with the CSRF token, every role, and the company of the session only."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled

from nestogy.accounts.roles import allowed
from nestogy.audit.models import AuditEntry
from nestogy.notifications.models import ChannelAddress, Delivery
from nestogy.tenancy.models import Company
from tests.notifications.test_delivery import SLACK_SHAPE
from tests.workspace.helpers import check_role_matrix, signed_in, ticket

pytestmark = pytest.mark.django_db

ROLES = ("owner_a", "admin_a", "manager_a", "tech_a", "billing_a")
URL = "/app/settings/company/"
SLACK = f"{URL}test/slack"
SMS = f"{URL}test/sms"
TOKEN = "T0KEN-abcdef0123456789"


@pytest.fixture
def immediate(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
                                  "QUEUES": ["default", "notifications", "billing", "sla"]}}


def configure(company, receiver, *, slack=True, sms=True) -> None:
    company = Company.objects.get(pk=company.pk)
    if slack:
        company.set_setting("notifications.slack_urls", [
            f"json://127.0.0.1:{receiver.port}/{TOKEN}/alerts{SLACK_SHAPE}",
            f"json://127.0.0.1:{receiver.port}/{TOKEN}/night{SLACK_SHAPE}"])
    if sms:
        company.set_setting("notifications.sms_url",
                            f"json://127.0.0.1:{receiver.port}/{TOKEN}/sms/{{phone}}")
    company.save()


def phone(company, user, number="+15550002222") -> None:
    with scope(company=company.pk):
        ChannelAddress.objects.create(company=company, user=user, channel="sms",
                                      address=number)


def written(company) -> tuple[int, int]:
    with scopes_disabled():
        return (Delivery.objects.filter(company=company, channel__in=["slack", "sms"]).count(),
                AuditEntry.objects.filter(company=company,
                                          action="notification.test_sent").count())


def test_the_buttons_send_real_tests_and_say_so(personas, receiver, immediate,
                                                django_capture_on_commit_callbacks):
    p = personas
    configure(p.company_a, receiver)
    phone(p.company_a, p.owner_a.user)
    with django_capture_on_commit_callbacks(execute=True):
        ticket(p.company_a, p.client_a, "Router down")  # the event a test carries
    receiver.requests.clear()
    client = signed_in("owner@alpha.test", csrf=True)
    page = client.get(URL).content.decode()
    assert "Test the channels" in page and "2 set" in page and "ends in 2222" in page
    assert "A ticket was opened" in page
    assert TOKEN not in page and "127.0.0.1" not in page
    csrf = client.cookies["csrftoken"].value

    with django_capture_on_commit_callbacks(execute=True):
        body = client.post(SLACK, {"csrfmiddlewaretoken": csrf}, follow=True).content.decode()
    assert "A test was queued to Slack (2 addresses) with the latest ticket.created " \
           "notification" in body
    assert sorted(r.path for r in receiver.requests) == [f"/{TOKEN}/alerts",
                                                         f"/{TOKEN}/night"]
    assert all("Router down" in r.json["text"] for r in receiver.requests)
    receiver.requests.clear()

    with django_capture_on_commit_callbacks(execute=True):
        body = client.post(SMS, {"csrfmiddlewaretoken": csrf}, follow=True).content.decode()
    assert "A test SMS was queued to your number ending in 2222" in body
    [request] = receiver.requests
    assert request.path == f"/{TOKEN}/sms/+15550002222"
    assert "Router down" in request.json["message"]
    assert TOKEN not in body and "127.0.0.1" not in body
    with scopes_disabled():
        rows = Delivery.objects.filter(company=p.company_a, channel__in=["slack", "sms"])
        assert sorted(rows.values_list("channel", "status")) == [
            ("slack", "sent"), ("slack", "sent"), ("sms", "sent")]
    assert written(p.company_a)[1] == 2


@pytest.mark.parametrize(("slack", "sms", "number", "event", "url", "message"), [
    (False, True, True, True, SLACK,
     "No test sent: no company Slack URL is set (Notifications, Slack urls)."),
    (True, False, True, True, SMS, "No test sent: no SMS gateway is set"),
    (True, True, False, True, SMS, "No test sent: you have no phone number for SMS"),
    (True, True, True, False, SLACK, "No test sent: no notification has gone out yet"),
    (True, True, True, False, SMS, "No test sent: no notification has gone out yet"),
])
def test_refusals_show_the_reason_and_write_nothing(personas, receiver, slack, sms, number,
                                                    event, url, message):
    p = personas
    configure(p.company_a, receiver, slack=slack, sms=sms)
    if number:
        phone(p.company_a, p.owner_a.user)
    if event:
        ticket(p.company_a, p.client_a, "Router down")
    before = written(p.company_a)
    client = signed_in("owner@alpha.test")
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == URL
    body = client.get(URL).content.decode()
    assert message in body and 'class="msg error"' in body
    assert TOKEN not in body
    assert written(p.company_a) == before
    assert receiver.requests == []


def test_the_page_says_what_is_missing(personas):
    body = signed_in("admin@alpha.test").get(URL).content.decode()
    assert "None has gone out yet, so a test is refused" in body
    assert "none set yet, so a test is refused" in body
    assert "Gateway: not set yet" in body and "Your number: none yet" in body


def test_post_only_and_the_csrf_token_is_required(personas, receiver):
    p = personas
    configure(p.company_a, receiver)
    phone(p.company_a, p.owner_a.user)
    ticket(p.company_a, p.client_a, "Router down")
    before = written(p.company_a)
    client = signed_in("owner@alpha.test", csrf=True)
    for url in (SLACK, SMS):
        assert client.get(url).status_code == 405
        assert client.post(url).status_code == 403  # no CSRF token
    assert written(p.company_a) == before


def test_only_the_sessions_company_is_used(personas, receiver, immediate,
                                           django_capture_on_commit_callbacks):
    """Bravo's owner tests Bravo's channels: Alpha's event and URLs are never used, and
    nothing in the request can name another company."""
    p = personas
    configure(p.company_a, receiver)
    ticket(p.company_a, p.client_a, "Alpha's secret subject")
    client = signed_in("owner@bravo.test")
    before_a, before_b = written(p.company_a), written(p.company_b)
    with django_capture_on_commit_callbacks(execute=True):
        body = client.post(SLACK, {"company": p.company_a.public_id}, follow=True
                           ).content.decode()
    assert "No test sent: no company Slack URL is set" in body
    configure(p.company_b, receiver, sms=False)
    with django_capture_on_commit_callbacks(execute=True):
        body = client.post(SLACK, {"company": p.company_a.public_id}, follow=True
                           ).content.decode()
    assert "No test sent: no notification has gone out yet" in body
    assert "Alpha's secret subject" not in body
    assert receiver.requests == []
    assert (written(p.company_a), written(p.company_b)) == (before_a, before_b)


@pytest.mark.parametrize("role", ROLES)
def test_the_test_buttons_ask_the_role_matrix(personas, receiver, role):
    p = personas
    persona = getattr(p, role)
    configure(p.company_a, receiver)
    phone(p.company_a, persona.user)
    ticket(p.company_a, p.client_a, "Router down")
    client = signed_in(persona.email)
    check_role_matrix(client, persona.role, [
        ("post", SLACK, {}, "company.settings"),
        ("post", SMS, {}, "company.settings"),
    ])
    may = allowed(persona.role, "company.settings")
    assert written(p.company_a) == ((3, 2) if may else (0, 0))
    # A GET is refused as a GET (405) for those who may, and as a role (403) for the others.
    assert client.get(SLACK).status_code == (405 if may else 403)
