"""/company: the caller's company and its settings (declared in code, validated on write)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Router, Schema
from pydantic import Field, StrictBool, StrictInt, StrictStr, create_model

from nestogy.accounts.actions import change_company_settings
from nestogy.accounts.roles import require
from nestogy.api.schemas import DecimalInput, InputSchema, responses
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


def _setting_type(definition: company_settings.SettingDef) -> Any:
    """The JSON type of one declared setting, with its choices and range."""
    if definition.choices is not None:
        kind: Any = Literal[tuple(definition.choices)]
    elif definition.kind is Decimal:
        kind = DecimalInput(integer_digits=12, places=6, signed=True, example="1.5")
    else:
        # Strict: "yes" is not true and "5" is not 5 (the settings take JSON values as-is).
        kind = {bool: StrictBool, int: StrictInt, str: StrictStr, list: list[Any],
                dict: dict[str, Any]}.get(definition.kind, Any)
    bounds = {k: v for k, v in (("ge", definition.minimum), ("le", definition.maximum),
                                ("max_length", definition.max_length)) if v is not None}
    if bounds and definition.choices is None:
        kind = Annotated[kind, Field(**bounds)]
    return Annotated[kind | None, Field(description=definition.help + "; null resets it to "
                                        "the default")]


def _settings_values() -> type:
    """An object with one optional property per declared setting (others are refused)."""
    fields = {key.replace(".", "__"): (_setting_type(definition), Field(None, alias=key))
              for key, definition in sorted(company_settings.REGISTRY.items())}
    return create_model("CompanySettingsValues", __base__=InputSchema, **fields)


SettingsValues = _settings_values()


class SettingsIn(InputSchema):
    settings: SettingsValues = Field(description="the settings to change (at least one)")


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
    values = payload.settings.model_dump(by_alias=True, exclude_unset=True)
    company = change_company_settings(request.auth.company, values, actor=request.auth.user)
    return company_out(company)
