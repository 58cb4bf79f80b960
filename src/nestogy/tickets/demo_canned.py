"""Demo data: five canned responses per demo company, the answers a service desk gives
every day (created through :func:`nestogy.tickets.canned.create_canned`, so they pass the
same sandbox check as a manager's own)."""

from __future__ import annotations

from nestogy.tickets.canned import create_canned

CANNED = (
    ("Acknowledge new ticket", "General",
     "Hi {{ contact.first_name|default:'there' }},\n\n"
     "Thanks for getting in touch. Ticket #{{ ticket.number }} (\"{{ ticket.subject }}\") is "
     "logged and I am looking at it now. I will update you as soon as I know more.\n\n"
     "Best regards,\n{{ technician.first_name }}\n{{ company.name }} Service Desk"),
    ("Password reset done", "Accounts",
     "Hi {{ contact.first_name|default:'there' }},\n\n"
     "I have reset the password. You will be asked to choose a new one at your next sign-in; "
     "please pick at least 14 characters and do not reuse an old password.\n\n"
     "If anything still does not work, just reply to this message.\n\n"
     "{{ technician.first_name }}"),
    ("Remote session request", "General",
     "Hi {{ contact.first_name|default:'there' }},\n\n"
     "To look at this directly I would like to connect to your computer. Could you reply "
     "with a time today that suits you? The session will not start until you accept it on "
     "screen.\n\n{{ technician.first_name }}, {{ company.name }}"),
    ("Waiting for your reply", "Follow-up",
     "Hi {{ contact.first_name|default:'there' }},\n\n"
     "I am following up on ticket #{{ ticket.number }}. We have not heard back yet; is the "
     "problem still happening? If we do not hear from you in three working days we will "
     "close the ticket, and you can reopen it at any time by replying.\n\n"
     "{{ technician.first_name }}"),
    ("Resolved, please confirm", "Follow-up",
     "Hi {{ contact.first_name|default:'there' }},\n\n"
     "Good news: the issue on ticket #{{ ticket.number }} for {{ client.name }} should now be "
     "fixed. Please check on your side and let us know if anything is still not right.\n\n"
     "Thanks for your patience,\n{{ technician.first_name }}\n{{ company.name }}"),
)


def seed_canned_responses(company, context: dict, rng, report) -> None:
    owner = context["owner"].user
    for title, category, body in CANNED:
        create_canned(company, {"title": title, "category": category, "body": body},
                      actor=owner)
