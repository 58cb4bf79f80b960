"""/company: the caller's company and its settings (declared in code, validated on write).

Reading and changing settings needs ``company.settings`` (``/me`` gives every member the
company's name, time zone and currency). Secret settings are write-only: their ``value`` is
``{"set", "last4"}``, never the secret. ``/company/sender/verify`` mails a confirmation link
to ``notifications.from_email``; the ``sender`` object says whether mail uses it yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema

from nestogy.accounts.actions import change_company_settings
from nestogy.accounts.roles import require
from nestogy.api.schemas import InputSchema, responses
from nestogy.notifications import actions as notification_actions
from nestogy.notifications import sender
from nestogy.tenancy import company_settings

router = Router(tags=["company"])


class SettingOut(Schema):
    key: str
    # For a secret: {"set": bool, "last4": str | null} (never the value).
    value: Any
    default: Any
    help: str
    changed: bool
    secret: bool


class SenderOut(Schema):
    email: str | None
    status: str
    requested_at: datetime | None
    verified_at: datetime | None
    # The From and Reply-To headers notification mail uses right now.
    sends_as: str
    reply_to: str | None


class CompanyOut(Schema):
    id: str
    name: str
    slug: str
    timezone: str
    currency: str
    settings: list[SettingOut]
    sender: SenderOut


class SettingsIn(InputSchema):
    settings: dict[str, Any]


def _jsonable(value: Any) -> Any:
    return str(value) if not isinstance(value, str | int | float | bool | list | dict
                                        | type(None)) else value


def _setting_out(company, key: str, definition, stored: dict) -> dict:
    if definition.secret:
        value, default = company.secret_state(key), {"set": False, "last4": None}
    else:
        value, default = _jsonable(company.get_setting(key)), _jsonable(definition.default)
    return {"key": key, "value": value, "default": default, "help": definition.help,
            "changed": key in stored, "secret": definition.secret}


def company_out(company) -> dict:
    stored = company.settings or {}
    return {
        "id": company.public_id, "name": company.name, "slug": company.slug,
        "timezone": company.timezone, "currency": company.currency,
        "settings": [_setting_out(company, key, definition, stored)
                     for key, definition in sorted(company_settings.REGISTRY.items())],
        "sender": sender.state(company),
    }


@router.get("", response=responses({200: CompanyOut}),
            summary="The caller's company with every setting (value, default, help); "
                    "secrets show only whether they are set and their last 4 characters")
def get_company(request):
    require(request.auth, "company.settings")
    return company_out(request.auth.company)


@router.patch("/settings", response=responses({200: CompanyOut}),
              summary="Change settings; null resets a key to its default")
def patch_settings(request, payload: SettingsIn):
    require(request.auth, "company.settings")
    company = change_company_settings(request.auth.company, payload.settings,
                                      actor=request.auth.user)
    return company_out(company)


@router.post("/sender/verify", response=responses({200: CompanyOut}),
             summary="Mail a confirmation link to notifications.from_email; mail is sent "
                     "from that address once the link is confirmed")
def verify_sender(request):
    require(request.auth, "company.settings")
    notification_actions.request_sender_verification(request.auth.company,
                                                     actor=request.auth.user)
    return company_out(request.auth.company)
