"""Reactions: a higher app's handler runs for one event type, inside the emitting transaction."""

from __future__ import annotations

import pytest
from django.db import transaction
from django_scopes import scope

from nestogy.audit.models import AuditEntry
from nestogy.core import events


@pytest.fixture
def probe_event():
    events.register("probe.happened", description="A test event.")
    yield "probe.happened"
    events.REGISTRY.pop("probe.happened", None)
    events._reactions.pop("probe.happened", None)


@pytest.mark.django_db
def test_reaction_runs_for_its_type_only_and_before_notifications(probe_event, personas):
    order: list[str] = []
    events.react(probe_event, lambda e: order.append(f"react:{e.data['n']}"))
    seen = lambda e: order.append(f"sub:{e.type}")  # noqa: E731
    events.subscribe(seen)
    try:
        events.emit(probe_event, company_id=personas.company_a.pk, data={"n": 1})
        events.emit_many([(probe_event, {"n": 2}), (probe_event, {"n": 3})],
                           company_id=personas.company_a.pk)
    finally:
        events.unsubscribe(seen)
    assert order == ["react:1", "sub:probe.happened",
                     "react:2", "react:3", "sub:probe.happened", "sub:probe.happened"]
    assert len(events.reactions(probe_event)) == 1


@pytest.mark.django_db
def test_a_failing_reaction_rolls_the_action_back(probe_event, personas):
    def refuse(event):
        raise RuntimeError("reaction failed")

    events.react(probe_event, refuse)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            AuditEntry.objects.create(company=personas.company_a, action="probe.happened",
                                      actor_label="system", object_type="x", object_id="1")
            events.emit(probe_event, company_id=personas.company_a.pk)
    with scope(company=personas.company_a.pk):
        assert not AuditEntry.objects.filter(action="probe.happened").exists()
