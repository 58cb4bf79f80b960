"""The dispatch board (``/app/dispatch/``): unassigned and at-risk tickets in SLA-urgency
order next to the technicians' load, skills and today's availability; assign by suggestion,
by drag and drop (or the select on each card), or all at once after previewing the optimal
batch against greedy.

The board reads through ``tickets.dispatch`` (routing's ``gather`` and engine) and the
workspace's urgency ordering and countdowns; every assignment goes through
``tickets.actions.assign_ticket``. Permission: ``tickets.dispatch`` (owner, admin, manager).
"""

from __future__ import annotations

from django.contrib import messages
from django.core import signing
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from nestogy.core.errors import ValidationError
from nestogy.core.timeutil import now as utc_now
from nestogy.tickets import dispatch
from nestogy.tickets.models import Ticket
from nestogy.workspace import auth
from nestogy.workspace import queries as q

BOARD_LIMIT = 100
PLAN_SALT = "nestogy.workspace.dispatch.plan"
PLAN_MAX_AGE = 30 * 60  # seconds a preview stays valid
HOME = "/app/dispatch/"


def board_condition(user, now) -> Q:
    """Unassigned open tickets, and at-risk ones (due soon or breached) whoever has them."""
    return (q.view_condition("unassigned", user, now) | q.view_condition("due_soon", user, now)
            | q.view_condition("breached", user, now))


def _board(request: HttpRequest) -> dict:
    now = utc_now()
    qs = Ticket.objects.filter(board_condition(request.user, now))
    counts = qs.aggregate(total=Count("pk"), unassigned=Count("pk", filter=Q(
        assignee__isnull=True)))
    tickets = list(q.urgency_ordered(qs).select_related("client", "assignee")[:BOARD_LIMIT])
    data = dispatch.board(tickets, request.company, now=now)
    calendars = q.Calendars()
    cards = [(row, q.next_countdown(row.ticket, now, calendars)) for row in data.tickets]
    return {"cards": cards, "techs": data.techs, "total": counts["total"], "now": now,
            "shown": len(cards), "unassigned": counts["unassigned"]}


@auth.staff_view("tickets.dispatch")
def board_view(request: HttpRequest) -> HttpResponse:
    return render(request, "workspace/dispatch.html", _board(request))


def _refuse(request: HttpRequest, message: str) -> HttpResponse:
    messages.error(request, message)
    return render(request, "workspace/dispatch.html", _board(request), status=400)


@require_POST
@auth.staff_view("tickets.dispatch")
def assign_view(request: HttpRequest) -> HttpResponse:
    """Assign one ticket (``ticket``) to a technician (``assignee``), from a suggestion, a
    drop or the select; ``seen`` is the assignee the board showed ("" for nobody)."""
    ticket_id = request.POST.get("ticket", "").strip()
    user_id = request.POST.get("assignee", "").strip()
    if not ticket_id:
        return _refuse(request, "Ticket: choose a ticket to assign.")
    if not user_id:
        return _refuse(request, "Technician: choose a technician.")
    ticket = Ticket.objects.filter(public_id=ticket_id).first()
    user = dispatch.technician(user_id)
    if ticket is None or user is None:
        raise Http404("ticket or technician not found")
    try:
        dispatch.assign_from_board(ticket, user, seen_assignee=request.POST.get("seen", ""),
                                   actor=request.user)
    except ValidationError as exc:
        return _refuse(request, f"{exc.field.capitalize()}: {exc!s}")
    messages.success(request, f"#{ticket.number} {ticket.subject} assigned to "
                              f"{user.name or user.email}.")
    return redirect(HOME)


@auth.staff_view("tickets.dispatch")
def preview_view(request: HttpRequest) -> HttpResponse:
    """What "Auto-assign all" would do: the optimal batch next to greedy. Writes nothing."""
    result = dispatch.preview(request.company)
    token = signing.dumps({"company": request.company.public_id,
                           "by": request.user.public_id,
                           "plan": [item.as_list() for item in result.plan]}, salt=PLAN_SALT)
    return render(request, "workspace/dispatch_preview.html",
                  {"preview": result, "token": token, "now": utc_now()})


@require_POST
@auth.staff_view("tickets.dispatch")
def apply_view(request: HttpRequest) -> HttpResponse:
    """Assign exactly the previewed batch; tickets that changed since are skipped and
    named."""
    try:
        data = signing.loads(request.POST.get("plan", ""), salt=PLAN_SALT,
                             max_age=PLAN_MAX_AGE)
    except signing.SignatureExpired:
        messages.error(request, "Plan: the preview is older than 30 minutes; here is a new "
                                "one. Nothing was assigned.")
        return redirect(HOME + "auto/")
    except signing.BadSignature:
        return _refuse(request, "Plan: this is not a preview made by this board; nothing was "
                                "assigned.")
    if (not isinstance(data, dict) or data.get("company") != request.company.public_id
            or data.get("by") != request.user.public_id or not isinstance(data.get("plan"),
                                                                          list)):
        return _refuse(request, "Plan: this preview was made for another company or person; "
                                "nothing was assigned.")
    try:
        plan = [dispatch.PlanItem.from_list(item) for item in data["plan"]]
    except ValidationError as exc:
        return _refuse(request, f"Plan: {exc!s}; nothing was assigned.")
    result = dispatch.apply_plan(plan, actor=request.user)
    n = len(result.assigned)
    messages.success(request, f"Auto-assign: {n} ticket{'s' if n != 1 else ''} assigned as "
                              "previewed.")
    for skipped in result.skipped:
        messages.warning(request, f"Skipped {skipped.label}: {skipped.reason}.")
    return redirect(HOME)
