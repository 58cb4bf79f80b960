"""Work types (``/app/settings/work-types/``): the kinds of work time is logged as (remote
support, on-site, project…), each with whether its new entries are billable by default.

Whoever logs time reads them (``time.own``, as in the admin); owners and admins add one,
rename it, change its billable default, deactivate and reactivate it
(``company.settings``) through ``timesheets.actions.create_work_type`` /
``update_work_type`` (names unique per company whatever the case; audited). There is no
delete: entries keep their work type, and an inactive type is simply no longer offered for
new time. A refusal is shown on its field with status 400 and nothing is written; another
company's work type is not found (404). An edit passes only what changed to the action,
so an unchanged form writes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from nestogy.core.errors import ValidationError
from nestogy.timesheets import actions as time_actions
from nestogy.timesheets import queries as time_queries
from nestogy.timesheets.models import WorkType
from nestogy.workspace import auth

HERE = "/app/settings/work-types/"


def _sentence(message: str) -> str:
    message = str(message)
    return f"{message[:1].upper()}{message[1:]}{'' if message.endswith('.') else '.'}"


def _work_type(work_type_id: str) -> WorkType:
    work_type = WorkType.objects.filter(public_id=work_type_id).first()
    if work_type is None:
        raise Http404("work type not found")
    return work_type


def _page(request: HttpRequest, *, status: int = 200, errors: dict | None = None,
          typed: dict | None = None) -> HttpResponse:
    """``errors``/``typed``: by row (a work type's id, or ``new``), what to show again."""
    errors, typed = errors or {}, typed or {}
    rows = []
    for w in time_queries.work_types(active_only=False).order_by("-is_active", "name", "id"):
        mine = typed.get(w.public_id, {})
        rows.append({"work_type": w, "name": mine.get("name", w.name),
                     "billable": mine.get("billable", w.billable),
                     "error": errors.get(w.public_id, "")})
    new = typed.get("new", {"name": "", "billable": True})
    return render(request, "workspace/settings_work_types.html", {
        "rows": rows, "new": new, "new_error": errors.get("new", ""),
        "can_change": auth.can(request, "company.settings"),
    }, status=status)


def _typed(request: HttpRequest) -> dict:
    return {"name": request.POST.get("name", "").strip(),
            "billable": request.POST.get("billable") == "on"}


@auth.staff_view("time.own")
@require_GET
def work_types_view(request: HttpRequest) -> HttpResponse:
    return _page(request)


@auth.staff_view("company.settings")
@require_POST
def work_type_new_view(request: HttpRequest) -> HttpResponse:
    typed = _typed(request)
    try:
        work_type = time_actions.create_work_type(request.company, typed, actor=request.user)
    except ValidationError as exc:
        return _page(request, status=400, typed={"new": typed}, errors={
            "new": f"{'Name: ' if exc.field == 'name' else ''}{_sentence(exc.message)}"})
    messages.success(request, f"Work type {work_type.name} added"
                              f"{'' if work_type.billable else ' (not billable)'}.")
    return redirect(HERE)


@auth.staff_view("company.settings")
@require_POST
def work_type_edit_view(request: HttpRequest, work_type_id: str) -> HttpResponse:
    """Rename and change the billable default (what changed only)."""
    work_type = _work_type(work_type_id)
    typed = _typed(request)
    changes = {}
    if typed["name"] != work_type.name:
        changes["name"] = typed["name"]
    if typed["billable"] != work_type.billable:
        changes["billable"] = typed["billable"]
    if not changes:
        messages.success(request, f"{work_type.name}: nothing changed.")
        return redirect(HERE)
    old_name = work_type.name
    try:
        time_actions.update_work_type(work_type, changes, actor=request.user)
    except ValidationError as exc:
        return _page(request, status=400, typed={work_type.public_id: typed}, errors={
            work_type.public_id: f"{'Name: ' if exc.field == 'name' else ''}"
                                 f"{_sentence(exc.message)}"})
    said = []
    if "name" in changes:
        said.append(f"renamed {work_type.name}")
    if "billable" in changes:
        said.append("billable by default" if work_type.billable else "not billable by default")
    messages.success(request, f"{old_name}: {' and '.join(said)}.")
    return redirect(HERE)


@auth.staff_view("company.settings")
@require_POST
def work_type_active_view(request: HttpRequest, work_type_id: str) -> HttpResponse:
    """Deactivate (``active=0``) or reactivate (``active=1``)."""
    work_type = _work_type(work_type_id)
    wanted = request.POST.get("active")
    if wanted not in ("0", "1"):
        return _page(request, status=400, errors={
            work_type.public_id: "Active: choose to deactivate or reactivate."})
    active = wanted == "1"
    if active != work_type.is_active:
        time_actions.update_work_type(work_type, {"is_active": active}, actor=request.user)
    messages.success(request, f"{work_type.name} is offered for new time again." if active
                     else f"{work_type.name} is no longer offered for new time; entries "
                          "logged as it keep it.")
    return redirect(HERE)
