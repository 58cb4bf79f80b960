"""The queue's filter form, shared by the queue page and saved views.

A saved view's query is validated with exactly the form the queue uses and stored
normalised (:func:`normalised_query`): the known fields in the form's order, empty ones left
out, the built-in view always named. The same filters therefore always give the same text,
which is how the queue recognises that a saved view is on screen.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.http import QueryDict

from nestogy.accounts.queries import members
from nestogy.clients.models import Client
from nestogy.core.forms import LongSelect
from nestogy.tickets.models import Priority, Status
from nestogy.workspace import queries as q

SLA_STATE_CHOICES = [("", "Any SLA state"), ("running", "Running"), ("warning", "Warning"),
                     ("breached", "Breached"), ("paused", "Paused"), ("met", "Met"),
                     ("met_late", "Met late")]

# The fields a saved view keeps, in this order (``page`` is where you are, not a filter).
FILTER_FIELDS = ("view", "status", "priority", "client", "assignee", "category", "sla_state",
                 "q")


class QueueFilters(forms.Form):
    view = forms.ChoiceField(choices=[(v.key, v.label) for v in q.VIEWS], required=False)
    status = forms.ChoiceField(choices=[("", "Any status"), *Status.choices], required=False)
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices],
                                 required=False)
    client = forms.ChoiceField(required=False, label="Client", widget=LongSelect)
    assignee = forms.ChoiceField(required=False, label="Assignee", widget=LongSelect)
    category = forms.CharField(required=False, max_length=100)
    sla_state = forms.ChoiceField(choices=SLA_STATE_CHOICES, required=False,
                                  label="SLA state")
    q = forms.CharField(required=False, max_length=200, label="Search")
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args, clients, staff, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].choices = [("", "Any client"),
                                         *((c.public_id, c.name) for c in clients)]
        self.fields["assignee"].choices = [("", "Anyone"), ("none", "Unassigned"),
                                           *((m.user.public_id, m.user.name or m.user.email)
                                             for m in staff)]


class Sources:
    """What the filter form offers (clients, active members) and the database keys behind
    their public ids: loaded once per request (two queries), shared by every form built
    from it, so validating any number of saved views costs no further query."""

    def __init__(self) -> None:
        self.clients = list(Client.objects.order_by("name").only("public_id", "name"))
        self.staff = [m for m in members(None) if m.is_active]
        self.keys = q.FilterKeys(clients={c.public_id: c.pk for c in self.clients},
                                 users={m.user.public_id: m.user_id for m in self.staff})

    def form(self, data=None) -> QueueFilters:
        return QueueFilters(data, clients=self.clients, staff=self.staff)


def normalised_query(cleaned: dict) -> str:
    """The canonical query string of valid filters (``view`` always present)."""
    pairs = [("view", cleaned.get("view") or "mine")]
    pairs += [(name, str(cleaned[name])) for name in FILTER_FIELDS[1:] if cleaned.get(name)]
    return urlencode(pairs)


def parse(query: str, sources: Sources) -> QueueFilters:
    """A bound filter form for a stored or posted query string."""
    return sources.form(QueryDict(query or ""))


def describe(form: QueueFilters) -> str:
    """The filters in words: ``All open · Priority: High · Client: Acme Dental``."""
    data = form.cleaned_data
    view = data.get("view") or "mine"
    parts = [dict(form.fields["view"].choices)[view]]
    for name in FILTER_FIELDS[1:]:
        value = data.get(name)
        if not value:
            continue
        field = form.fields[name]
        label = field.label or name.replace("_", " ").capitalize()
        shown = dict(field.choices).get(value, value) if hasattr(field, "choices") else value
        parts.append(f"{label}: {shown}")
    return " · ".join(parts)


def first_error(form: QueueFilters) -> tuple[str, str]:
    """(field label, message) of the form's first error."""
    name, errors = next(iter(form.errors.items()))
    field = form.fields.get(name)
    label = (field.label or name.replace("_", " ").capitalize()) if field else "Filters"
    return label, errors[0]
