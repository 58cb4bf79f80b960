"""Changes the workspace makes to its own data: each user's saved queue views.

A saved view belongs to one user in one company; nobody else sees, renames or deletes it
(the views look it up by owner, so another user's id is simply not found). Its filters are
validated with the queue's own filter form and stored normalised (``workspace.filters``).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Max

from nestogy.core.errors import NotFound, ValidationError
from nestogy.core.validation import clean_text
from nestogy.workspace import filters
from nestogy.workspace.models import SavedView

MAX_SAVED_VIEWS = 30
NAME_LENGTH = 80


def get_saved_view(user, public_id: str) -> SavedView:
    """The user's own saved view (another user's or company's: ``NotFound``)."""
    found = SavedView.objects.filter(user=user, public_id=public_id).first()
    if found is None:
        raise NotFound("saved view not found")
    return found


def _name(user, value, *, exclude: SavedView | None = None) -> str:
    name = clean_text(value, "name", max_length=NAME_LENGTH, required=True)
    clash = SavedView.objects.filter(user=user, name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise ValidationError("name", f"you already have a saved view called “{name}”")
    return name


def _query(query: str, sources: filters.Sources | None = None) -> str:
    form = filters.parse(query, sources or filters.Sources())
    if not form.is_valid():
        label, message = filters.first_error(form)
        raise ValidationError("query", f"{label}: {message}")
    return filters.normalised_query(form.cleaned_data)


@transaction.atomic
def create_saved_view(company, user, name: str, query: str, *,
                      sources: filters.Sources | None = None) -> SavedView:
    """Save the queue's filters (``query``, as on the queue's address) under ``name``."""
    name = _name(user, name)
    normalised = _query(query, sources)
    mine = SavedView.objects.select_for_update().filter(user=user)
    if mine.count() >= MAX_SAVED_VIEWS:
        raise ValidationError("name", f"you can keep at most {MAX_SAVED_VIEWS} saved views; "
                                      "delete one first")
    position = (mine.aggregate(last=Max("position"))["last"] or 0) + 1
    try:
        with transaction.atomic():
            return SavedView.objects.create(company=company, user=user, name=name,
                                            query=normalised, position=position)
    except IntegrityError:  # the same name saved at the same moment in another tab
        raise ValidationError("name", f"you already have a saved view called “{name}”") from None


@transaction.atomic
def rename_saved_view(view: SavedView, name: str) -> SavedView:
    view.name = _name(view.user, name, exclude=view)
    try:
        with transaction.atomic():
            view.save(update_fields=["name", "updated_at"])
    except IntegrityError:
        raise ValidationError("name", f"you already have a saved view called “{view.name}”"
                              ) from None
    return view


@transaction.atomic
def delete_saved_view(view: SavedView) -> None:
    view.delete()


@transaction.atomic
def move_saved_view(view: SavedView, direction: str) -> SavedView:
    """Move one place ``up`` or ``down`` in the user's list (swaps with the neighbour)."""
    if direction not in ("up", "down"):
        raise ValidationError("direction", "must be up or down")
    ordered = list(SavedView.objects.select_for_update().filter(user=view.user)
                   .order_by("position", "id"))
    at = next(i for i, v in enumerate(ordered) if v.pk == view.pk)
    other = at - 1 if direction == "up" else at + 1
    if not 0 <= other < len(ordered):
        return view
    ordered[at], ordered[other] = ordered[other], ordered[at]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    SavedView.objects.bulk_update(ordered, ["position"])
    return ordered[other]
