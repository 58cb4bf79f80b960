import re

import pytest
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from nestogy.clients.models import Client
from nestogy.core.errors import ValidationError
from nestogy.tenancy.actions import create_company


def test_tenant_query_without_scope_raises(personas):
    with pytest.raises(ScopeError):
        list(Client.objects.all())
    with pytest.raises(ScopeError):
        Client.objects.filter(name="Acme Dental").exists()


def test_scope_shows_only_that_company(personas):
    with scope(company=personas.company_a.pk):
        names = set(Client.objects.values_list("name", flat=True))
    assert names == {"Acme Dental", "Blue Ridge Accounting"}
    with scope(company=personas.company_b.pk):
        assert list(Client.objects.values_list("name", flat=True)) == ["Bravo Client"]


def test_public_ids_are_opaque_prefixed_and_unique(personas):
    ids = {personas.client_a.public_id, personas.client_a2.public_id, personas.client_b.public_id}
    assert len(ids) == 3
    for public_id in ids:
        assert re.fullmatch(r"cli_[0-9a-z]{26}", public_id)


def test_company_settings_have_declared_defaults_and_validate(personas):
    company = personas.company_a
    assert company.get_setting("branding.logo_url") == ""
    company.set_setting("branding.logo_url", "https://example.test/logo.png")
    assert company.get_setting("branding.logo_url") == "https://example.test/logo.png"
    with pytest.raises(ValidationError) as err:
        company.set_setting("no.such.setting", 1)
    assert err.value.field == "settings.no.such.setting"
    with pytest.raises(ValidationError):
        company.set_setting("branding.logo_url", 5)


@pytest.mark.django_db
def test_create_company_validates_and_makes_unique_slugs():
    first = create_company(name="Same Name")
    second = create_company(name="Same Name")
    assert first.slug != second.slug
    with pytest.raises(ValidationError) as err:
        create_company(name="X", timezone="Mars/Olympus")
    assert err.value.field == "timezone"
    with pytest.raises(ValidationError) as err:
        create_company(name="X", currency="dollars")
    assert err.value.field == "currency"
    with pytest.raises(ValidationError) as err:
        create_company(name="  ")
    assert err.value.field == "name"
