"""Reads of calendars and policies. The active company scope filters every query."""

from __future__ import annotations

from nestogy.core.errors import NotFound
from nestogy.sla.models import BusinessCalendar, ClientSLAPolicy, SLAPolicy


def get_calendar(public_id: str, field: str = "calendar") -> BusinessCalendar:
    calendar = BusinessCalendar.objects.filter(public_id=public_id).first()
    if calendar is None:
        raise NotFound(f"{field} not found")
    return calendar


def get_policy(public_id: str, field: str = "sla policy") -> SLAPolicy:
    policy = SLAPolicy.objects.select_related("calendar").filter(public_id=public_id).first()
    if policy is None:
        raise NotFound(f"{field} not found")
    return policy


def default_policy() -> SLAPolicy | None:
    return SLAPolicy.objects.select_related("calendar").filter(is_default=True).first()


def client_policy(client) -> SLAPolicy | None:
    """The policy assigned to ``client``, if any."""
    link = (ClientSLAPolicy.objects.select_related("policy__calendar")
            .filter(client_id=client.pk).first())
    return link.policy if link else None


def client_policy_ids(client_ids) -> dict[int, str]:
    """client pk → assigned policy public id (one query, for client list bodies)."""
    return dict(ClientSLAPolicy.objects.filter(client_id__in=list(client_ids))
                .values_list("client_id", "policy__public_id"))
