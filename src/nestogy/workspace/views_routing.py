"""Routing settings (``/app/settings/routing/``, ``routing.manage``): how much each term
of a technician's score counts (``routing.actions.set_weights``), and what each ticket
category requires (``set_category_table``: every category with its skills and minimum
levels; a category left without skills requires nothing). Refusals are named on their
field or line and nothing is saved; each change is audited by the action."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from nestogy.core.errors import ValidationError
from nestogy.routing import actions as routing_actions
from nestogy.routing.engine import Weights
from nestogy.workspace import auth

HERE = "/app/settings/routing/"
WEIGHT_HELP = {
    "skill": "How well the technician's skills cover what the ticket's category requires",
    "familiarity": "Whether the technician has worked this client's tickets lately",
    "load": "How much open work the technician has now (subtracted)",
    "headroom": "How far the technician is from their open-ticket limit",
}
BLANK_ROWS = 3


def _skills_text(skills: dict[str, int]) -> str:
    return ", ".join(f"{name}:{level}" for name, level in sorted(skills.items()))


def _parse_skills(text: str, line: int) -> dict:
    skills = {}
    for piece in [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]:
        name, sep, level = piece.partition(":")
        if not sep or not level.strip().isdigit():
            raise ValidationError(f"line {line}", f"write each skill as name:level (1 to 5), "
                                                  f"not {piece[:40]!r}")
        skills[name.strip()] = int(level.strip())
    return skills


@auth.staff_view("routing.manage")
@require_http_methods(["GET", "POST"])
def routing_view(request: HttpRequest) -> HttpResponse:
    company = request.company
    current = routing_actions.weights_for(company).as_dict()
    table = routing_actions.category_table()
    errors: dict[str, str] = {}
    weights_in = {k: _number(v) for k, v in current.items()}
    rows = [{"category": c, "skills": _skills_text(s)} for c, s in sorted(table.items())]
    if request.method == "POST":
        form = request.POST.get("form")
        if form == "weights":
            weights_in = {k: request.POST.get(k, "").strip() for k in current}
            overrides = {}
            for key, raw in weights_in.items():
                try:
                    value = float(raw)
                except ValueError:
                    errors[key] = "Enter a number."
                    continue
                if value != getattr(Weights(), key):
                    overrides[key] = int(value) if value == int(value) else value
            if not errors:
                try:
                    routing_actions.set_weights(company, overrides, actor=request.user)
                except ValidationError as exc:
                    errors["weights"] = exc.message
                else:
                    messages.success(request, "Routing weights saved.")
                    return redirect(HERE)
        elif form == "categories":
            try:
                count = min(int(request.POST.get("rows", "0")), 500)
            except ValueError:
                count = 0
            rows = [{"category": request.POST.get(f"category-{i}", "").strip(),
                     "skills": request.POST.get(f"skills-{i}", "").strip()}
                    for i in range(count)]
            items = []
            for i, row in enumerate(rows, start=1):
                if not row["category"] and not row["skills"]:
                    continue
                try:
                    items.append((row["category"], _parse_skills(row["skills"], i)))
                except ValidationError as exc:
                    errors["categories"] = f"Line {i}: {exc.message}."
                    row["error"] = True
                    break
            if not errors:
                try:
                    routing_actions.set_category_table(company, items, actor=request.user)
                except ValidationError as exc:
                    where = exc.field or ""
                    line = ""
                    if where.startswith("items["):
                        index = int(where[6:].split("]")[0])
                        line = f"Line {index + 1}, "
                        nonblank = [r for r in rows if r["category"] or r["skills"]]
                        if index < len(nonblank):
                            nonblank[index]["error"] = True
                    label = "category" if where.endswith("category") else "skills"
                    errors["categories"] = f"{line}{label}: {exc.message}."
                else:
                    messages.success(request, "Category requirements saved.")
                    return redirect(HERE)
    rows = rows + [{"category": "", "skills": ""} for _ in range(BLANK_ROWS)]
    weights = [{"key": k, "label": k.capitalize(), "value": weights_in[k],
                "default": _number(getattr(Weights(), k)), "help": WEIGHT_HELP.get(k, ""),
                "error": errors.get(k, "")} for k in current]
    return render(request, "workspace/settings_routing.html", {
        "weights": weights, "rows": rows, "errors": errors,
    }, status=400 if errors else 200)


def _number(value) -> str:
    number = float(value)
    return str(int(number)) if number == int(number) else str(number)
