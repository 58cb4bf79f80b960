"""Company settings of the tenancy app itself: branding shared by every client-facing page
and mail (declared in code with their defaults; see ``tenancy.company_settings``)."""

from nestogy.core import egress
from nestogy.core.errors import ValidationError
from nestogy.tenancy.company_settings import define


def _validate_logo_url(value: str) -> str:
    """The shape of ``branding.logo_url`` (http/https, no user information, …).

    Saving it through ``tenancy.actions.update_company_settings`` then fetches the image
    once (through :mod:`nestogy.core.egress`) and stores it; the URL itself is never loaded
    by a page or a PDF.
    """
    value = value.strip()
    if not value:
        return ""
    try:
        egress.parse(value)
    except egress.EgressRefused as exc:
        raise ValidationError("settings.branding.logo_url", str(exc)) from None
    return value


define("branding.logo_url", "",
       "http(s) URL of the company logo (PNG, JPEG, GIF or WebP); fetched once when saved and "
       "stored, like an upload to PUT /api/v1/company/logo",
       validate=_validate_logo_url)
define("branding.support_email", "", "Reply-to address of client-facing mail")
define("security.require_staff_2fa", False,
       "Staff must sign in to the workspace with a second factor (an authenticator app); "
       "members without one are sent to set it up before any other page")
