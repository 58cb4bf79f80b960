"""/company: the caller's company and its settings (declared in code, validated on write)."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema

from nestogy.accounts.actions import change_company_settings
from nestogy.accounts.roles import require
from nestogy.api.schemas import InputSchema, responses
from nestogy.tenancy import company_settings

router = Router(tags=["company"])


class SettingOut(Schema):
    key: str
    value: Any
    default: Any
    help: str
    changed: bool


class CompanyOut(Schema):
    id: str
    name: str
    slug: str
    timezone: str
    currency: str
    settings: list[SettingOut]


class SettingsIn(InputSchema):
    settings: dict[str, Any]


def _jsonable(value: Any) -> Any:
    return str(value) if not isinstance(value, str | int | float | bool | list | dict
                                        | type(None)) else value


def company_out(company) -> dict:
    stored = company.settings or {}
    return {
        "id": company.public_id, "name": company.name, "slug": company.slug,
        "timezone": company.timezone, "currency": company.currency,
        "settings": [{"key": key, "value": _jsonable(company.get_setting(key)),
                      "default": _jsonable(definition.default), "help": definition.help,
                      "changed": key in stored}
                     for key, definition in sorted(company_settings.REGISTRY.items())],
    }


@router.get("", response=responses({200: CompanyOut}),
            summary="The caller's company with every setting (value, default, help)")
def get_company(request):
    return company_out(request.auth.company)


@router.patch("/settings", response=responses({200: CompanyOut}),
              summary="Change settings; null resets a key to its default")
def patch_settings(request, payload: SettingsIn):
    require(request.auth, "company.settings")
    company = change_company_settings(request.auth.company, payload.settings,
                                      actor=request.auth.user)
    return company_out(company)
