"""Managing clients, their sites and their contacts in the workspace (``/app/clients/``).

- **New client** (``/app/clients/new``, ``clients.create``) and **edit client**
  (``/app/clients/<id>/edit``, ``clients.update``): name, billing e-mail, phone, website,
  notes, status (archive and restore) and the client's SLA policy, one of the company's
  policies or the company default (``clients.actions.create_client`` / ``update_client``
  and ``sla.actions.set_client_policy``, in one transaction). **Delete**
  (``/app/clients/<id>/delete``, ``clients.delete``): a confirmation page, then
  ``delete_client``, whose refusal (a client with tickets, contracts, invoices …) is shown
  as a message.
- **Sites** (``/app/clients/<id>/sites/…``): add, edit, delete with ``create_site`` /
  ``update_site`` / ``delete_site``; the permission is ``clients.update``, as in the API.
- **Contacts** (``/app/clients/<id>/contacts/…``): add and edit (``contacts.create`` /
  ``contacts.update``) with ``create_contact`` / ``update_contact``, delete
  (``contacts.delete``) with ``delete_contact``. Portal access, portal admin, the portal
  invitation (``invite_contact``) and the password-reset mail (``request_password_reset``)
  are offered only to roles with ``contacts.portal``; the actions get the acting role, so
  ``check_portal_change`` refuses a forged change (or a new e-mail for a contact who can
  sign in) and the refusal lands on the form. Granting portal access to a contact without
  a password e-mails the invitation, on a new contact and on an edit alike.

A refusal of an action names its field: the form comes back with status 400, the message
on that field, nothing written. Edits pass only what changed, so the audit entry lists just
that. Another company's client, site, contact or SLA policy is not found (404, or "choose
one of your SLA policies" on the field).
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from nestogy.clients import actions as client_actions
from nestogy.clients import queries as client_queries
from nestogy.clients.models import Client, Contact, Site
from nestogy.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from nestogy.sla import actions as sla_actions
from nestogy.sla import queries as sla_queries
from nestogy.sla.models import SLAPolicy
from nestogy.workspace import auth

CLIENTS = "/app/clients/"
COMPANY_DEFAULT = ""
FIELD_ALIASES = {"sla_policy_id": "sla_policy", "client_id": None}
ZONE_HINT = "An IANA name such as America/New_York or Europe/Berlin; blank for the company's."


def _sentence(message: str) -> str:
    message = str(message)
    return f"{message[:1].upper()}{message[1:]}{'' if message.endswith('.') else '.'}"


def _refuse(form: forms.Form, exc: ValidationError | PermissionDenied) -> None:
    """Put an action's refusal on the field it names (``check_portal_change`` names it
    before a colon), else above the form."""
    if isinstance(exc, ValidationError):
        field, message = exc.field or "", exc.message
    else:
        found = re.match(r"^(\w+): (.*)$", str(exc), re.S)
        field, message = (found.group(1), found.group(2)) if found else ("", str(exc))
    field = FIELD_ALIASES.get(field, field)
    if field and field in form.fields:
        form.add_error(field, _sentence(message))
    else:
        label = field.replace("_", " ").capitalize() if field else ""
        form.add_error(None, f"{label}: {_sentence(message)}" if label else _sentence(message))


def _changed(wanted: dict, obj, emails: tuple[str, ...] = ()) -> dict:
    """What in ``wanted`` differs from ``obj`` (e-mail addresses compared as stored:
    lower-cased)."""
    diff = {}
    for key, value in wanted.items():
        stored = getattr(obj, key)
        if key in emails and isinstance(value, str):
            value_cmp = value.strip().lower()
        else:
            value_cmp = value.strip() if isinstance(value, str) else value
        if value_cmp != stored:
            diff[key] = value
    return diff


# -- lookups (the company scope filters: another company's object is 404) ------------------


def _client(client_id: str) -> Client:
    try:
        return client_queries.get_client(client_id)
    except NotFound:
        raise Http404("client not found") from None


def _site(client: Client, site_id: str) -> Site:
    try:
        site = client_queries.get_site(site_id)
    except NotFound:
        raise Http404("site not found") from None
    if site.client_id != client.pk:
        raise Http404("site not found")
    return site


def _contact(client: Client, contact_id: str) -> Contact:
    try:
        contact = client_queries.get_contact(contact_id)
    except NotFound:
        raise Http404("contact not found") from None
    if contact.client_id != client.pk:
        raise Http404("contact not found")
    return contact


def _back(client: Client, anchor: str = "") -> str:
    return f"{CLIENTS}{client.public_id}/{anchor}"


# -- clients -----------------------------------------------------------------------------------


class ClientForm(forms.Form):
    """The client's fields, its status (on edit) and its SLA policy."""

    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Name the client."})
    email = forms.CharField(label="Billing e-mail", max_length=254, required=False,
                            widget=forms.EmailInput,
                            help_text="Where invoices and statements go.")
    phone = forms.CharField(label="Phone", max_length=50, required=False)
    website = forms.CharField(label="Website", max_length=200, required=False,
                              help_text="A full address such as https://example.com.")
    status = forms.ChoiceField(label="Status", choices=Client.Status.choices,
                               help_text="An archived client is hidden from the client list "
                                         "and the new-ticket form, and its contacts cannot "
                                         "sign in to the portal.")
    sla_policy = forms.ChoiceField(label="SLA policy", required=False,
                                   help_text="Used for the client's tickets unless a contract "
                                             "names a policy.",
                                   error_messages={"invalid_choice":
                                                   "Choose one of your SLA policies."})
    notes = forms.CharField(label="Notes", max_length=10_000, required=False,
                            widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, new: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if new:
            del self.fields["status"]
        policies = list(SLAPolicy.objects.order_by("name", "id"))
        default = next((p for p in policies if p.is_default), None)
        self.policies = {p.public_id: p for p in policies}
        self.fields["sla_policy"].choices = [
            (COMPANY_DEFAULT, f"Company default ({default.name})" if default
             else "Company default")] + [(p.public_id, p.name) for p in policies]

    def data_for_action(self) -> dict:
        data = self.cleaned_data
        return {key: data[key] for key in ("name", "email", "phone", "website", "notes",
                                           "status") if key in self.fields}

    def policy(self) -> SLAPolicy | None:
        return self.policies.get(self.cleaned_data["sla_policy"] or "")


def _client_form_page(request, form, *, client=None, status=200) -> HttpResponse:
    return render(request, "workspace/client_form.html", {
        "form": form, "client": client,
        "can_delete": client is not None and auth.can(request, "clients.delete"),
    }, status=status)


@auth.staff_view("clients.create")
@require_http_methods(["GET", "POST"])
def client_new_view(request: HttpRequest) -> HttpResponse:
    form = ClientForm(request.POST or None, new=True)
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    client = client_actions.create_client(
                        request.company, form.data_for_action(), actor=request.user)
                    if form.policy() is not None:
                        sla_actions.set_client_policy(client, form.policy(),
                                                      actor=request.user)
            except ValidationError as exc:
                _refuse(form, exc)
            else:
                messages.success(request, f"Client “{client.name}” created.")
                return redirect(_back(client))
        return _client_form_page(request, form, status=400)
    return _client_form_page(request, form)


@auth.staff_view("clients.update")
@require_http_methods(["GET", "POST"])
def client_edit_view(request: HttpRequest, client_id: str) -> HttpResponse:
    client = _client(client_id)
    current = sla_queries.client_policy(client)
    initial = {"name": client.name, "email": client.email, "phone": client.phone,
               "website": client.website, "notes": client.notes, "status": client.status,
               "sla_policy": current.public_id if current else COMPANY_DEFAULT}
    form = ClientForm(request.POST or None, new=False, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            changes = _changed(form.data_for_action(), client, emails=("email",))
            policy = form.policy()
            policy_changed = policy != current
            try:
                with transaction.atomic():
                    if changes:
                        client_actions.update_client(client, changes, actor=request.user)
                    if policy_changed:
                        sla_actions.set_client_policy(client, policy, actor=request.user)
            except ValidationError as exc:
                _refuse(form, exc)
            else:
                if not changes and not policy_changed:
                    text = f"Nothing to save: client “{client.name}” is unchanged."
                elif changes.get("status") == Client.Status.ARCHIVED:
                    text = f"Client “{client.name}” saved and archived."
                elif changes.get("status") == Client.Status.ACTIVE:
                    text = f"Client “{client.name}” saved and restored."
                else:
                    text = f"Client “{client.name}” saved."
                messages.success(request, text)
                return redirect(_back(client))
        return _client_form_page(request, form, client=_client(client_id), status=400)
    return _client_form_page(request, form, client=client)


@auth.staff_view("clients.update")
@require_POST
def client_status_view(request: HttpRequest, client_id: str) -> HttpResponse:
    """Archive or restore in one click (``status`` = ``archived`` or ``active``)."""
    client = _client(client_id)
    wanted = request.POST.get("status", "")
    if wanted not in Client.Status.values:
        messages.error(request, "Not done: choose to archive or to restore the client.")
    elif wanted == client.status:
        messages.success(request, f"Nothing to do: client “{client.name}” is already "
                                  f"{client.get_status_display().lower()}.")
    else:
        client_actions.update_client(client, {"status": wanted}, actor=request.user)
        messages.success(request, f"Client “{client.name}” archived: it no longer shows in "
                                  "the client list, and its contacts cannot sign in to the "
                                  "portal." if wanted == Client.Status.ARCHIVED else
                         f"Client “{client.name}” restored.")
    return redirect(_back(client))


@auth.staff_view("clients.delete")
@require_http_methods(["GET", "POST"])
def client_delete_view(request: HttpRequest, client_id: str) -> HttpResponse:
    client = _client(client_id)
    if request.method == "POST":
        name = client.name
        try:
            client_actions.delete_client(client, actor=request.user)
        except Conflict as exc:
            messages.error(request, f"Not deleted: {_sentence(exc)}")
            return redirect(_back(client))
        messages.success(request, f"Client “{name}” deleted, with its sites and contacts.")
        return redirect(CLIENTS)
    return render(request, "workspace/client_delete.html", {
        "client": client, "what": f"the client “{client.name}”",
        "action": f"{CLIENTS}{client.public_id}/delete", "cancel": _back(client),
        "consequence": "Its sites and contacts are deleted with it, and its contacts can no "
                       "longer sign in to the portal. A client with tickets, contracts, "
                       "invoices or payments cannot be deleted: archive it instead.",
    })


# -- sites -------------------------------------------------------------------------------------


class SiteForm(forms.Form):
    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Name the site."})
    address = forms.CharField(label="Address", max_length=300, required=False)
    city = forms.CharField(label="City", max_length=100, required=False)
    postal_code = forms.CharField(label="Postal code", max_length=20, required=False)
    country = forms.CharField(label="Country", max_length=2, required=False,
                              help_text="A two-letter ISO code such as US or DE.",
                              error_messages={"max_length": "Must be a two-letter ISO 3166 "
                                                            "code such as US or DE."})
    timezone = forms.CharField(label="Time zone", max_length=64, required=False,
                               help_text=ZONE_HINT)

    def data_for_action(self) -> dict:
        return dict(self.cleaned_data)


def _site_form_page(request, form, client, site=None, status=200) -> HttpResponse:
    return render(request, "workspace/site_form.html",
                  {"form": form, "client": client, "site": site}, status=status)


@auth.staff_view("clients.update")
@require_http_methods(["GET", "POST"])
def site_new_view(request: HttpRequest, client_id: str) -> HttpResponse:
    client = _client(client_id)
    form = SiteForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                site = client_actions.create_site(client, form.data_for_action(),
                                                  actor=request.user)
            except ValidationError as exc:
                _refuse(form, exc)
            else:
                messages.success(request, f"Site “{site.name}” added.")
                return redirect(_back(client, "#sites"))
        return _site_form_page(request, form, client, status=400)
    return _site_form_page(request, form, client)


@auth.staff_view("clients.update")
@require_http_methods(["GET", "POST"])
def site_edit_view(request: HttpRequest, client_id: str, site_id: str) -> HttpResponse:
    client = _client(client_id)
    site = _site(client, site_id)
    form = SiteForm(request.POST or None, initial={
        key: getattr(site, key) for key in SiteForm.base_fields})
    if request.method == "POST":
        if form.is_valid():
            changes = _changed(form.data_for_action(), site)
            if "country" in changes and changes["country"].strip().upper() == site.country:
                del changes["country"]
            try:
                if changes:
                    client_actions.update_site(site, changes, actor=request.user)
            except ValidationError as exc:
                _refuse(form, exc)
            else:
                messages.success(request, f"Site “{site.name}” saved." if changes else
                                 f"Nothing to save: site “{site.name}” is unchanged.")
                return redirect(_back(client, "#sites"))
        return _site_form_page(request, form, client, _site(client, site_id), status=400)
    return _site_form_page(request, form, client, site)


@auth.staff_view("clients.update")
@require_http_methods(["GET", "POST"])
def site_delete_view(request: HttpRequest, client_id: str, site_id: str) -> HttpResponse:
    client = _client(client_id)
    site = _site(client, site_id)
    if request.method == "POST":
        name = site.name
        client_actions.delete_site(site, actor=request.user)
        messages.success(request, f"Site “{name}” deleted.")
        return redirect(_back(client, "#sites"))
    return render(request, "workspace/client_delete.html", {
        "client": client, "what": f"the site “{site.name}” of {client.name}",
        "action": f"{CLIENTS}{client.public_id}/sites/{site.public_id}/delete",
        "cancel": _back(client, "#sites"),
        "consequence": "Its address and time zone are removed from the client.",
    })


# -- contacts ----------------------------------------------------------------------------------


PORTAL_FLAGS = ("portal_access", "portal_admin")


class ContactForm(forms.Form):
    """The contact's fields; the portal flags only for roles with ``contacts.portal``."""

    name = forms.CharField(label="Name", max_length=200,
                           error_messages={"required": "Name the contact."})
    email = forms.CharField(label="E-mail", max_length=254, widget=forms.EmailInput,
                            error_messages={"required": "Enter the contact's e-mail address."})
    phone = forms.CharField(label="Phone", max_length=50, required=False)
    title = forms.CharField(label="Job title", max_length=100, required=False)
    timezone = forms.CharField(label="Time zone", max_length=64, required=False,
                               help_text=ZONE_HINT + " The portal shows times in it.")
    portal_access = forms.BooleanField(
        label="Portal access", required=False,
        help_text="The contact signs in to the client portal to open and follow tickets. "
                  "Granting it to a contact without a password e-mails an invitation to "
                  "choose one.")
    portal_admin = forms.BooleanField(
        label="Portal admin", required=False,
        help_text="Sees every ticket of the client in the portal, not only their own.")

    def __init__(self, *args, portal: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.portal = portal
        if not portal:
            for flag in PORTAL_FLAGS:
                del self.fields[flag]

    def data_for_action(self) -> dict:
        data = dict(self.cleaned_data)
        if not self.portal:
            # Not offered to this role: a flag sent anyway (a forged form) goes to the action,
            # whose check_portal_change refuses it when it would change anything.
            for flag in PORTAL_FLAGS:
                if flag in self.data:
                    data[flag] = True
        return data


def _contact_form_page(request, form, client, contact=None, status=200) -> HttpResponse:
    return render(request, "workspace/contact_form.html", {
        "form": form, "client": client, "contact": contact,
        "portal": form.portal,
        "can_delete": contact is not None and auth.can(request, "contacts.delete"),
        "can_reset": contact is not None and form.portal and contact.portal_access
        and contact.has_password and client.status == Client.Status.ACTIVE,
        "can_invite": contact is not None and form.portal and not contact.has_password
        and client.status == Client.Status.ACTIVE,
    }, status=status)


def _invitation_note(contact: Contact) -> str:
    return f" An invitation to the portal was e-mailed to {contact.email}."


@auth.staff_view("contacts.create")
@require_http_methods(["GET", "POST"])
def contact_new_view(request: HttpRequest, client_id: str) -> HttpResponse:
    client = _client(client_id)
    form = ContactForm(request.POST or None, portal=auth.can(request, "contacts.portal"))
    if request.method == "POST":
        if form.is_valid():
            try:
                contact = client_actions.create_contact(
                    client, form.data_for_action(), actor=request.user,
                    actor_role=request.membership.role)
            except (ValidationError, PermissionDenied) as exc:
                _refuse(form, exc)
            else:
                invited = contact.portal_access and not contact.has_password
                messages.success(request, f"Contact {contact.name} added."
                                 + (_invitation_note(contact) if invited else ""))
                return redirect(_back(client, "#contacts"))
        return _contact_form_page(request, form, client, status=400)
    return _contact_form_page(request, form, client)


@auth.staff_view("contacts.update")
@require_http_methods(["GET", "POST"])
def contact_edit_view(request: HttpRequest, client_id: str, contact_id: str) -> HttpResponse:
    client = _client(client_id)
    contact = _contact(client, contact_id)
    initial = {key: getattr(contact, key) for key in ContactForm.base_fields}
    form = ContactForm(request.POST or None, portal=auth.can(request, "contacts.portal"),
                       initial=initial)
    if request.method == "POST":
        if form.is_valid():
            changes = _changed(form.data_for_action(), contact, emails=("email",))
            invite = changes.get("portal_access") is True and not contact.has_password
            try:
                with transaction.atomic():
                    if changes:
                        client_actions.update_contact(contact, changes, actor=request.user,
                                                      actor_role=request.membership.role)
                    if invite:
                        client_actions.invite_contact(contact, actor=request.user,
                                                      actor_role=request.membership.role)
            except (ValidationError, PermissionDenied) as exc:
                _refuse(form, exc)
            else:
                messages.success(request, (f"Contact {contact.name} saved." if changes else
                                           f"Nothing to save: contact {contact.name} is "
                                           "unchanged.")
                                 + (_invitation_note(contact) if invite else ""))
                return redirect(_back(client, "#contacts"))
        return _contact_form_page(request, form, client, _contact(client, contact_id),
                                  status=400)
    return _contact_form_page(request, form, client, contact)


@auth.staff_view("contacts.delete")
@require_http_methods(["GET", "POST"])
def contact_delete_view(request: HttpRequest, client_id: str, contact_id: str) -> HttpResponse:
    client = _client(client_id)
    contact = _contact(client, contact_id)
    if request.method == "POST":
        name = contact.name
        try:
            client_actions.delete_contact(contact, actor=request.user)
        except Conflict as exc:
            messages.error(request, f"Not deleted: {_sentence(exc)}")
        else:
            messages.success(request, f"Contact {name} deleted.")
        return redirect(_back(client, "#contacts"))
    return render(request, "workspace/client_delete.html", {
        "client": client, "what": f"the contact {contact.name} ({contact.email})",
        "action": f"{CLIENTS}{client.public_id}/contacts/{contact.public_id}/delete",
        "cancel": _back(client, "#contacts"),
        "consequence": "They can no longer sign in to the portal. Their tickets stay with the "
                       "client, without a contact. To keep them but stop portal sign-in, "
                       "remove their portal access instead.",
    })


@auth.staff_view("contacts.portal")
@require_POST
def contact_invite_view(request: HttpRequest, client_id: str, contact_id: str) -> HttpResponse:
    client = _client(client_id)
    contact = _contact(client, contact_id)
    if contact.has_password:
        messages.error(request, f"Not sent: {contact.name} has already chosen a password; "
                                "send a password reset instead.")
    else:
        try:
            client_actions.invite_contact(contact, actor=request.user,
                                          actor_role=request.membership.role)
        except Conflict as exc:
            messages.error(request, f"Not sent: {exc.message}.")
        else:
            messages.success(request, f"An invitation to the portal was e-mailed to "
                                      f"{contact.email}.")
    return redirect(_back(client, "#contacts"))


@auth.staff_view("contacts.portal")
@require_POST
def contact_reset_view(request: HttpRequest, client_id: str, contact_id: str) -> HttpResponse:
    client = _client(client_id)
    contact = _contact(client, contact_id)
    if not client_queries.portal_contacts().filter(pk=contact.pk).exists():
        messages.error(request, f"Not sent: {contact.name} cannot sign in to the portal "
                                "(no portal access, or the client is archived).")
    else:
        client_actions.request_password_reset(contact)
        messages.success(request, f"A link to choose a new password was e-mailed to "
                                  f"{contact.email}.")
    return redirect(_back(client, "#contacts"))
