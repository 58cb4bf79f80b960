"""/company: read the settings, change them validated and audited, reset to defaults."""

from __future__ import annotations

from django_scopes import scopes_disabled

from nestogy.audit.models import AuditEntry
from nestogy.tenancy.models import Company


def test_company_settings_read_change_reset(personas):
    api = personas.owner_a.api
    body = api.get("/company").data
    settings = {s["key"]: s for s in body["settings"]}
    assert body["name"] == "Alpha IT"
    assert settings["routing.auto_assign"] == {
        "key": "routing.auto_assign", "value": False, "default": False,
        "help": settings["routing.auto_assign"]["help"], "changed": False}
    changed = api.patch("/company/settings", {"settings": {
        "routing.auto_assign": True, "notifications.slack_urls": ["slack://a/b/c"]}})
    assert changed.status_code == 200, changed.data
    settings = {s["key"]: s for s in changed.data["settings"]}
    assert settings["routing.auto_assign"]["value"] is True
    assert settings["routing.auto_assign"]["changed"] is True
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="company.settings_updated").count() == 1
    reset = api.patch("/company/settings", {"settings": {"routing.auto_assign": None}})
    assert {s["key"]: s for s in reset.data["settings"]}["routing.auto_assign"]["changed"] \
        is False


def test_bad_settings_name_the_key_and_change_nothing(personas):
    api = personas.owner_a.api
    before = Company.objects.get(pk=personas.company_a.pk).settings
    for bad, field in [({"routing.auto_assign": "yes"}, "settings.routing.auto_assign"),
                       ({"no.such.key": 1}, "settings.no.such.key"),
                       ({"routing.auto_assign": True, "payments.max_retries": "x"},
                        "settings.payments.max_retries")]:
        response = api.patch("/company/settings", {"settings": bad})
        assert response.status_code == 422, response.data
        assert response.data["error"]["field"] == field
    assert api.patch("/company/settings", {"settings": {}}).status_code == 422
    assert Company.objects.get(pk=personas.company_a.pk).settings == before


def test_each_company_sees_and_changes_only_its_own(personas):
    personas.owner_b.api.patch("/company/settings", {"settings": {"routing.auto_assign": True}})
    assert personas.owner_b.api.get("/company").data["name"] == "Bravo IT"
    settings = {s["key"]: s for s in personas.owner_a.api.get("/company").data["settings"]}
    assert settings["routing.auto_assign"]["value"] is False
    assert personas.tech_a.api.patch("/company/settings", {
        "settings": {"routing.auto_assign": True}}).status_code == 403
