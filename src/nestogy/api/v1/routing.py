"""/routing: what categories require, the scoring weights, technicians' absences."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from ninja import Router, Schema, Status

from nestogy.accounts.queries import get_member
from nestogy.accounts.roles import require
from nestogy.api.schemas import InputSchema, responses
from nestogy.core.errors import NotFound
from nestogy.routing import actions
from nestogy.routing.models import CategorySkill, OutOfOffice

router = Router(tags=["routing"])


class CategoryOut(Schema):
    category: str
    skills: dict[str, int]


class CategoryList(Schema):
    items: list[CategoryOut]


class SkillsIn(InputSchema):
    category: str
    skills: dict[str, int]


class WeightsIn(InputSchema):
    weights: dict[str, float]


class WeightsOut(Schema):
    weights: dict[str, float]
    overrides: dict[str, float]


class AbsenceIn(InputSchema):
    starts_at: datetime
    ends_at: datetime
    note: str = ""


class AbsenceOut(Schema):
    id: str
    user_id: str
    starts_at: datetime
    ends_at: datetime
    note: str


class AbsenceList(Schema):
    items: list[AbsenceOut]


def absence_out(period: OutOfOffice) -> dict:
    return {"id": period.public_id, "user_id": period.user.public_id,
            "starts_at": period.starts_at, "ends_at": period.ends_at, "note": period.note}


@router.get("/category-skills", response=responses({200: CategoryList}),
            summary="Skills each ticket category requires")
def list_category_skills(request):
    require(request.auth, "tickets.view")
    grouped: dict[str, dict[str, int]] = defaultdict(dict)
    for category, skill, level in CategorySkill.objects.values_list("category", "skill",
                                                                    "min_level"):
        grouped[category][skill] = level
    return {"items": [{"category": c, "skills": s} for c, s in sorted(grouped.items())]}


@router.put("/category-skills", response=responses({200: CategoryOut}),
            summary="Set what a ticket category requires (replaces; {} = nothing)")
def set_category_skills(request, payload: SkillsIn):
    require(request.auth, "routing.manage")
    rows = actions.set_category_skills(request.auth.company, payload.category, payload.skills,
                                       actor=request.auth.user)
    return {"category": payload.category.strip(),
            "skills": {r.skill: r.min_level for r in rows}}


@router.get("/weights", response=responses({200: WeightsOut}), summary="Scoring weights")
def get_weights(request):
    require(request.auth, "tickets.view")
    return {"weights": actions.weights_for(request.auth.company).as_dict(),
            "overrides": request.auth.company.get_setting("routing.weights")}


@router.put("/weights", response=responses({200: WeightsOut}),
            summary="Override scoring weights (skill, familiarity, load, headroom)")
def put_weights(request, payload: WeightsIn):
    require(request.auth, "routing.manage")
    weights = actions.set_weights(request.auth.company, payload.weights, actor=request.auth.user)
    return {"weights": weights.as_dict(), "overrides": payload.weights}


@router.get("/users/{user_id}/absences", response=responses({200: AbsenceList}),
            summary="A technician's out-of-office periods")
def list_absences(request, user_id: str):
    require(request.auth, "users.view")
    member = get_member(user_id)
    periods = OutOfOffice.objects.filter(user=member.user).select_related("user")[:200]
    return {"items": [absence_out(p) for p in periods]}


@router.post("/users/{user_id}/absences", response=responses({201: AbsenceOut}),
             summary="Record an out-of-office period (routing skips the technician)")
def add_absence(request, user_id: str, payload: AbsenceIn):
    member = get_member(user_id)
    if member.user_id != request.auth.user.pk:
        require(request.auth, "routing.manage")
    with transaction.atomic():
        period = actions.add_out_of_office(member.user, request.auth.company,
                                           payload.starts_at, payload.ends_at, payload.note,
                                           actor=request.auth.user)
    return Status(201, absence_out(period))


@router.delete("/absences/{absence_id}", response=responses({204: None}),
               summary="Remove an out-of-office period")
def remove_absence(request, absence_id: str):
    period = OutOfOffice.objects.select_related("user").filter(public_id=absence_id).first()
    if period is None:
        raise NotFound("absence not found")
    if period.user_id != request.auth.user.pk:
        require(request.auth, "routing.manage")
    actions.remove_out_of_office(period, actor=request.auth.user)
    return Status(204, None)
