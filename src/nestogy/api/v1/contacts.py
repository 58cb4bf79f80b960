"""/contacts: people at clients, optionally with portal access.

Portal access, portal admin, invitations and the e-mail of a contact who can sign in need the
``contacts.portal`` permission (checked by ``clients.actions``). Staff never set a contact's
password: the contact chooses it through the invitation or the portal's reset link.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema, Status
from pydantic.json_schema import SkipJsonSchema

from nestogy.accounts.roles import require
from nestogy.api.pagination import paginate
from nestogy.api.schemas import (
    Cursor,
    Email,
    InputSchema,
    Limit,
    ObjectId,
    OptionalTimeZone,
    Search,
    name_text,
    responses,
    text,
)
from nestogy.clients import actions, queries
from nestogy.clients.models import Contact

router = Router(tags=["contacts"])




class ContactIn(InputSchema):
    client_id: ObjectId
    name: name_text(200)
    email: Email
    phone: text(50) | None = None
    title: text(100) | None = None
    timezone: OptionalTimeZone | None = None
    portal_access: bool = False
    portal_admin: bool = False
    # Not a field: staff never set a contact's password. Accepted here only so that a request
    # sending it is answered by the action's 422 naming ``password`` and saying what to do.
    password: SkipJsonSchema[Any] = None


class ContactPatch(InputSchema):
    name: name_text(200) | None = None
    email: Email | None = None
    phone: text(50) | None = None
    title: text(100) | None = None
    timezone: OptionalTimeZone | None = None
    portal_access: bool | None = None
    portal_admin: bool | None = None
    password: SkipJsonSchema[Any] = None  # refused by the action (see ContactIn)


class ContactOut(Schema):
    id: str
    client_id: str
    name: str
    email: str
    phone: str
    title: str
    timezone: str
    portal_access: bool
    portal_admin: bool
    has_password: bool
    last_login: datetime | None
    created_at: datetime


class ContactList(Schema):
    items: list[ContactOut]
    next_cursor: str | None


def contact_out(contact: Contact) -> dict:
    return {
        "id": contact.public_id, "client_id": contact.client.public_id, "name": contact.name,
        "email": contact.email, "phone": contact.phone, "title": contact.title,
        "timezone": contact.timezone, "portal_access": contact.portal_access,
        "portal_admin": contact.portal_admin, "has_password": contact.has_password,
        "last_login": contact.last_login, "created_at": contact.created_at,
    }


@router.get("", response=responses({200: ContactList}), summary="List contacts")
def list_contacts(request, limit: int = Limit(), cursor: str | None = Cursor(),
                  client_id: ObjectId | None = None, q: Search | None = None):
    require(request.auth, "contacts.view")
    client = queries.get_client(client_id, "client_id") if client_id else None
    rows, next_cursor = paginate(queries.contacts(client=client, q=q), limit=limit,
                                 cursor=cursor, order=("name", "id"))
    return {"items": [contact_out(c) for c in rows], "next_cursor": next_cursor}


@router.post("", response=responses({201: ContactOut}), summary="Create a contact")
def create_contact(request, payload: ContactIn):
    require(request.auth, "contacts.create")
    client = queries.get_client(payload.client_id, "client_id")
    data = payload.model_dump(exclude_unset=True)
    data.pop("client_id")
    contact = actions.create_contact(client, data, actor=request.auth.user,
                                     actor_role=request.auth.role)
    return Status(201, contact_out(contact))


@router.get("/{contact_id}", response=responses({200: ContactOut}), summary="Get a contact")
def get_contact(request, contact_id: str):
    require(request.auth, "contacts.view")
    return contact_out(queries.get_contact(contact_id))


@router.patch("/{contact_id}", response=responses({200: ContactOut}),
              summary="Update a contact")
def update_contact(request, contact_id: str, payload: ContactPatch):
    require(request.auth, "contacts.update")
    contact = actions.update_contact(queries.get_contact(contact_id),
                                     payload.model_dump(exclude_unset=True),
                                     actor=request.auth.user, actor_role=request.auth.role)
    return contact_out(contact)


@router.delete("/{contact_id}", response=responses({204: None}), summary="Delete a contact")
def delete_contact(request, contact_id: str):
    require(request.auth, "contacts.delete")
    actions.delete_contact(queries.get_contact(contact_id), actor=request.auth.user)
    return Status(204, None)


@router.post("/{contact_id}/invite", response=responses({200: ContactOut}),
             summary="Invite a contact to the client portal (emails a set-password link)")
def invite_contact(request, contact_id: str):
    require(request.auth, "contacts.portal")
    contact = actions.invite_contact(queries.get_contact(contact_id), actor=request.auth.user,
                                     actor_role=request.auth.role)
    return contact_out(contact)
