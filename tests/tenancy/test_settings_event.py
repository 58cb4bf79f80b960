"""A company settings change is audited and announced under one name,
``company.settings_updated``, with the keys whose value changed; a failed change announces
nothing."""

from __future__ import annotations

import pytest
from django_scopes import scope

from nestogy.accounts.actions import change_company_settings
from nestogy.audit.models import AuditEntry
from nestogy.core import events
from nestogy.core.errors import ValidationError


@pytest.fixture
def heard():
    seen: list[events.Event] = []
    events.subscribe(seen.append)
    yield seen
    events.unsubscribe(seen.append)


def _settings_events(seen):
    return [e for e in seen if e.type == "company.settings_updated"]


def test_a_change_is_audited_and_emitted_with_the_changed_keys(personas, heard):
    p = personas
    with scope(company=p.company_a.pk):
        change_company_settings(p.company_a, {"branding.support_email": "help@alpha.test"},
                                actor=p.owner_a.user)
        # The same value again: audited as asked, but no key changed.
        change_company_settings(p.company_a, {"branding.support_email": "help@alpha.test"},
                                actor=p.owner_a.user)
        audit = list(AuditEntry.objects.filter(action="company.settings_updated")
                     .order_by("pk").values_list("data", flat=True))
    assert audit == [{"keys": ["branding.support_email"]}] * 2
    emitted = _settings_events(heard)
    assert [e.data for e in emitted] == [{"keys": ["branding.support_email"]}, {"keys": []}]
    assert {e.company_id for e in emitted} == {p.company_a.pk}
    assert {e.actor_id for e in emitted} == {p.owner_a.user.pk}


def test_a_refused_change_emits_nothing(personas, heard):
    p = personas
    with scope(company=p.company_a.pk), pytest.raises(ValidationError):
        change_company_settings(p.company_a, {"no.such.setting": 1}, actor=p.owner_a.user)
    assert _settings_events(heard) == []
