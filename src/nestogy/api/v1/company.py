"""/company: the caller's company and its settings (declared in code, validated on write).

Reading and changing settings needs ``company.settings`` (``/me`` gives every member the
company's name, time zone and currency). Secret settings are write-only: their ``value`` is
``{"set", "last4"}``, never the secret. ``/company/sender/verify`` mails a confirmation link
to ``notifications.from_email``; the ``sender`` object says whether mail uses it yet.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field, StrictBool, StrictInt, StrictStr, create_model

from nestogy.accounts.actions import (
    change_company_settings,
    remove_company_logo,
    upload_company_logo,
)
from nestogy.accounts.roles import require
from nestogy.api.schemas import DecimalInput, InputSchema, responses
from nestogy.core import images
from nestogy.core.errors import FieldError, ValidationError
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
    values = payload.settings.model_dump(by_alias=True, exclude_unset=True)
    company = change_company_settings(request.auth.company, values, actor=request.auth.user)
    return company_out(company)


@router.post("/sender/verify", response=responses({200: CompanyOut}),
             summary="Mail a confirmation link to notifications.from_email; mail is sent "
                     "from that address once the link is confirmed")
def verify_sender(request):
    require(request.auth, "company.settings")
    notification_actions.request_sender_verification(request.auth.company,
                                                     actor=request.auth.user)
    return company_out(request.auth.company)


class LogoOut(Schema):
    id: str
    content_type: str
    width: int
    height: int
    bytes: int
    sha256: str
    source: str
    updated_at: datetime


UPLOAD_FIELD = "file"
# The image limit plus room for the multipart envelope.
MAX_UPLOAD_BODY = images.MAX_BYTES + 64 * 1024


def _uploaded_bytes(request: HttpRequest) -> bytes:
    """The ``file`` part of a multipart/form-data body (PUT is not parsed by Django).

    Any other part, or a JSON body with fields, is refused naming that field; nothing else is
    read from the request.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_UPLOAD_BODY:
        raise ValidationError(UPLOAD_FIELD, f"the file is larger than "
                                            f"{images.MAX_BYTES / (1024 * 1024):g} MB")
    content_type = (request.content_type or "").lower()
    if content_type != "multipart/form-data":
        if content_type == "application/json" and request.body.strip():
            try:
                body = json.loads(request.body)
            except ValueError:
                body = None
            if isinstance(body, dict):
                unknown = sorted(k for k in body if k != UPLOAD_FIELD)
                if unknown:
                    raise ValidationError.many([FieldError(k, "is not a known field",
                                                           "extra_forbidden") for k in unknown])
        raise ValidationError(UPLOAD_FIELD, "upload the image as multipart/form-data "
                                            "with a part named 'file'", code="missing")
    try:
        post, files = request.parse_file_upload(request.META, io.BytesIO(request.body))
    except Exception:
        raise ValidationError(UPLOAD_FIELD, "the multipart body could not be read") from None
    unknown = sorted({*post.keys(), *files.keys()} - {UPLOAD_FIELD})
    if unknown:
        raise ValidationError.many([FieldError(k, "is not a known field", "extra_forbidden")
                                    for k in unknown])
    uploads = files.getlist(UPLOAD_FIELD)
    if len(uploads) != 1:
        raise ValidationError(UPLOAD_FIELD, "is required (exactly one file)", code="missing")
    upload = uploads[0]
    if upload.size is not None and upload.size > images.MAX_BYTES:
        raise ValidationError(UPLOAD_FIELD, f"the file is larger than "
                                            f"{images.MAX_BYTES / (1024 * 1024):g} MB")
    return upload.read(images.MAX_BYTES + 1)


def logo_out(logo) -> dict:
    return {"id": logo.public_id, "content_type": logo.content_type, "width": logo.width,
            "height": logo.height, "bytes": logo.size, "sha256": logo.sha256,
            "source": logo.source, "updated_at": logo.updated_at}


@router.put("/logo", response=responses({200: LogoOut}),
            summary="Upload the company logo (multipart/form-data, part 'file': PNG, JPEG, "
                    "GIF or WebP up to 2 MB; SVG is refused). Stored re-encoded without "
                    "metadata; replaces branding.logo_url",
            openapi_extra={"requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": {
                    "type": "object", "required": [UPLOAD_FIELD],
                    "properties": {UPLOAD_FIELD: {"type": "string", "format": "binary"}}}}}}})
def put_logo(request):
    require(request.auth, "company.settings")
    data = _uploaded_bytes(request)
    return logo_out(upload_company_logo(request.auth.company, data, actor=request.auth.user))


@router.delete("/logo", response=responses({204: None}),
               summary="Remove the company logo (and branding.logo_url)")
def delete_logo(request):
    require(request.auth, "company.settings")
    remove_company_logo(request.auth.company, actor=request.auth.user)
    return Status(204, None)
