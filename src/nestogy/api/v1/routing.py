"""/routing: what categories require, the scoring weights, technicians' absences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.db import transaction
from ninja import Body, Router, Schema, Status
from pydantic import Discriminator, Field, Tag

from nestogy.accounts.queries import get_member
from nestogy.accounts.roles import require
from nestogy.api.schemas import InputSchema, Timestamp, name_text, responses, text
from nestogy.api.v1.users import Skills
from nestogy.core.errors import NotFound
from nestogy.routing import actions
from nestogy.routing.engine import MAX_WEIGHT, Weights
from nestogy.routing.models import OutOfOffice

router = Router(tags=["routing"])


class CategoryOut(Schema):
    category: str
    skills: dict[str, int]


class CategoryList(Schema):
    items: list[CategoryOut]


class SkillsIn(InputSchema):
    """One category's requirements (replaces that category's)."""

    category: name_text(100)
    skills: Skills


class CategoryTableIn(InputSchema):
    """The whole table, as GET answers it: categories not listed require nothing any more."""

    items: list[SkillsIn] = Field(max_length=1000)


def _skills_form(value: Any) -> str:
    has_items = "items" in value if isinstance(value, dict) else hasattr(value, "items")
    return "CategoryTableIn" if has_items else "SkillsIn"


# One category, or (with ``items``) the whole table: errors name the fields of that form.
CategorySkillsIn = Annotated[
    Annotated[SkillsIn, Tag("SkillsIn")] | Annotated[CategoryTableIn, Tag("CategoryTableIn")],
    Discriminator(_skills_form)]

Weight = Annotated[float, Field(ge=0, le=MAX_WEIGHT)]


class WeightValues(InputSchema):
    skill: Weight | None = None
    familiarity: Weight | None = None
    load: Weight | None = None
    headroom: Weight | None = None


class WeightsIn(InputSchema):
    weights: WeightValues = Field(description="the weights wanted; unnamed ones keep their "
                                              "defaults")
    overrides: dict[str, Any] | None = Field(
        None, description="read-only (what GET answers); ignored in a request",
        json_schema_extra={"readOnly": True})


class WeightsOut(Schema):
    weights: dict[str, float]
    overrides: dict[str, float]


class AbsenceIn(InputSchema):
    starts_at: Timestamp
    ends_at: Timestamp
    note: text(200) = ""


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


def _category_table() -> dict:
    return {"items": [{"category": c, "skills": s}
                      for c, s in sorted(actions.category_table().items())]}


@router.get("/category-skills", response=responses({200: CategoryList}),
            summary="Skills each ticket category requires")
def list_category_skills(request):
    require(request.auth, "tickets.view")
    return _category_table()


@router.put("/category-skills", response=responses({200: CategoryList}),
            summary="Set what one ticket category requires ({category, skills}; {} = "
                    "nothing), or the whole table ({items}, as GET answers it); answers the "
                    "table")
def set_category_skills(request, payload: CategorySkillsIn = Body(...)):  # noqa: B008
    require(request.auth, "routing.manage")
    if isinstance(payload, CategoryTableIn):
        actions.set_category_table(request.auth.company,
                                   [(item.category, item.skills) for item in payload.items],
                                   actor=request.auth.user)
    else:
        actions.set_category_skills(request.auth.company, payload.category, payload.skills,
                                    actor=request.auth.user)
    return _category_table()


@router.get("/weights", response=responses({200: WeightsOut}), summary="Scoring weights")
def get_weights(request):
    require(request.auth, "tickets.view")
    return {"weights": actions.weights_for(request.auth.company).as_dict(),
            "overrides": request.auth.company.get_setting("routing.weights")}


@router.put("/weights", response=responses({200: WeightsOut}),
            summary="Override scoring weights (skill, familiarity, load, headroom)")
def put_weights(request, payload: WeightsIn):
    require(request.auth, "routing.manage")
    wanted = payload.weights.model_dump(exclude_none=True)
    defaults = Weights().as_dict()
    weights = actions.set_weights(request.auth.company,
                                  {k: v for k, v in wanted.items() if v != defaults[k]},
                                  actor=request.auth.user)
    return {"weights": weights.as_dict(),
            "overrides": request.auth.company.get_setting("routing.weights")}


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
