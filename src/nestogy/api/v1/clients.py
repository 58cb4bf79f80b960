"""/clients and /clients/{id}/sites, /sites/{id}."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from django.db import transaction
from ninja import Router, Schema, Status
from pydantic import Field

from nestogy.accounts.roles import require
from nestogy.api.pagination import paginate
from nestogy.api.schemas import (
    Cursor,
    EmailOrEmpty,
    InputSchema,
    Limit,
    ObjectId,
    OptionalTimeZone,
    Search,
    name_text,
    responses,
    text,
)
from nestogy.api.v1.sla import ref
from nestogy.clients import actions, queries
from nestogy.clients.models import Client, Site
from nestogy.sla.actions import set_client_policy
from nestogy.sla.queries import client_policy_ids as sla_policy_ids
from nestogy.sla.queries import get_policy

router = Router(tags=["clients"])

ClientStatus = Literal[tuple(Client.Status.values)]
Website = Annotated[str, Field(max_length=200, json_schema_extra={"format": "uri"},
                               description="an http(s) URL, or empty")]


class ClientIn(InputSchema):
    name: name_text(200)
    status: ClientStatus | None = None
    email: EmailOrEmpty | None = None
    phone: text(50) | None = None
    website: Website | None = None
    notes: text(10_000) | None = None
    sla_policy_id: ObjectId | None = None


class ClientPatch(InputSchema):
    name: name_text(200) | None = None
    status: ClientStatus | None = None
    email: EmailOrEmpty | None = None
    phone: text(50) | None = None
    website: Website | None = None
    notes: text(10_000) | None = None
    sla_policy_id: ObjectId | None = None


class ClientOut(Schema):
    id: str
    name: str
    status: str
    email: str
    phone: str
    website: str
    notes: str
    sla_policy_id: str | None = None
    created_at: datetime
    updated_at: datetime


class ClientList(Schema):
    items: list[ClientOut]
    next_cursor: str | None


Country = Annotated[str, Field(pattern=r"^([A-Za-z]{2})?$",
                               description="ISO 3166 two-letter code, or empty")]


class SiteIn(InputSchema):
    name: name_text(200)
    address: text(300) | None = None
    city: text(100) | None = None
    postal_code: text(20) | None = None
    country: Country | None = None
    timezone: OptionalTimeZone | None = None


class SitePatch(InputSchema):
    name: name_text(200) | None = None
    address: text(300) | None = None
    city: text(100) | None = None
    postal_code: text(20) | None = None
    country: Country | None = None
    timezone: OptionalTimeZone | None = None


class SiteOut(Schema):
    id: str
    client_id: str
    name: str
    address: str
    city: str
    postal_code: str
    country: str
    timezone: str


class SiteList(Schema):
    items: list[SiteOut]
    next_cursor: str | None


def client_out(client: Client, sla_policy_id: str | None = None) -> dict:
    return {
        "id": client.public_id, "name": client.name, "status": client.status,
        "email": client.email, "phone": client.phone, "website": client.website,
        "notes": client.notes, "sla_policy_id": sla_policy_id,
        "created_at": client.created_at, "updated_at": client.updated_at,
    }


def _client_body(client: Client) -> dict:
    return client_out(client, sla_policy_ids([client.pk]).get(client.pk))


def _save_client(request, data: dict, client: Client | None = None) -> Client:
    """Create or update a client and, when given, its SLA policy, in one transaction."""
    has_policy = "sla_policy_id" in data
    policy_id = data.pop("sla_policy_id", None)
    with transaction.atomic():
        policy = ref(get_policy, policy_id, "sla_policy_id") if policy_id else None
        if client is None:
            client = actions.create_client(request.auth.company, data, actor=request.auth.user)
        else:
            client = actions.update_client(client, data, actor=request.auth.user)
        if has_policy:
            set_client_policy(client, policy, actor=request.auth.user)
    return client


def site_out(site: Site) -> dict:
    return {
        "id": site.public_id, "client_id": site.client.public_id, "name": site.name,
        "address": site.address, "city": site.city, "postal_code": site.postal_code,
        "country": site.country, "timezone": site.timezone,
    }


@router.get("", response=responses({200: ClientList}), summary="List clients")
def list_clients(request, limit: int = Limit(), cursor: str | None = Cursor(),
                 q: Search | None = None, status: ClientStatus | None = None):
    require(request.auth, "clients.view")
    qs = queries.clients(q=q, status=status)
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("name", "id"))
    policies = sla_policy_ids(c.pk for c in rows)
    return {"items": [client_out(c, policies.get(c.pk)) for c in rows],
            "next_cursor": next_cursor}


@router.post("", response=responses({201: ClientOut}), summary="Create a client")
def create_client(request, payload: ClientIn):
    require(request.auth, "clients.create")
    client = _save_client(request, payload.model_dump(exclude_unset=True))
    return Status(201, _client_body(client))


@router.get("/{client_id}", response=responses({200: ClientOut}), summary="Get a client")
def get_client(request, client_id: str):
    require(request.auth, "clients.view")
    return _client_body(queries.get_client(client_id))


@router.patch("/{client_id}", response=responses({200: ClientOut}), summary="Update a client")
def update_client(request, client_id: str, payload: ClientPatch):
    require(request.auth, "clients.update")
    client = queries.get_client(client_id)
    client = _save_client(request, payload.model_dump(exclude_unset=True), client)
    return _client_body(client)


@router.delete("/{client_id}", response=responses({204: None}), summary="Delete a client")
def delete_client(request, client_id: str):
    require(request.auth, "clients.delete")
    actions.delete_client(queries.get_client(client_id), actor=request.auth.user)
    return Status(204, None)


@router.get("/{client_id}/sites", response=responses({200: SiteList}), summary="List sites")
def list_sites(request, client_id: str, limit: int = Limit(), cursor: str | None = Cursor()):
    require(request.auth, "clients.view")
    client = queries.get_client(client_id)
    qs = Site.objects.filter(client=client).select_related("client")
    rows, next_cursor = paginate(qs, limit=limit, cursor=cursor, order=("name", "id"))
    return {"items": [site_out(s) for s in rows], "next_cursor": next_cursor}


@router.post("/{client_id}/sites", response=responses({201: SiteOut}), summary="Add a site")
def create_site(request, client_id: str, payload: SiteIn):
    require(request.auth, "clients.update")
    client = queries.get_client(client_id)
    site = actions.create_site(client, payload.model_dump(exclude_unset=True),
                               actor=request.auth.user)
    return Status(201, site_out(site))


sites_router = Router(tags=["clients"])


@sites_router.get("/{site_id}", response=responses({200: SiteOut}), summary="Get a site")
def get_site(request, site_id: str):
    require(request.auth, "clients.view")
    return site_out(queries.get_site(site_id))


@sites_router.patch("/{site_id}", response=responses({200: SiteOut}), summary="Update a site")
def update_site(request, site_id: str, payload: SitePatch):
    require(request.auth, "clients.update")
    site = actions.update_site(queries.get_site(site_id), payload.model_dump(exclude_unset=True),
                               actor=request.auth.user)
    return site_out(site)


@sites_router.delete("/{site_id}", response=responses({204: None}), summary="Delete a site")
def delete_site(request, site_id: str):
    require(request.auth, "clients.update")
    actions.delete_site(queries.get_site(site_id), actor=request.auth.user)
    return Status(204, None)
