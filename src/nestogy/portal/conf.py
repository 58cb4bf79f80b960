"""Company settings the portal reads (declared in code with their defaults).

``branding.logo_url`` and ``branding.support_email`` are declared by tenancy.
"""

import re

from nestogy.core.errors import ValidationError
from nestogy.tenancy.company_settings import define

COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _color(value: str) -> str:
    if not COLOR.match(value):
        raise ValidationError("settings.branding.accent_color",
                              "must be a colour written #rrggbb, such as #1f5fbf")
    return value.lower()


define("branding.accent_color", "#1f5fbf", "Accent colour of the client portal (#rrggbb)",
       validate=_color)
define("portal.max_attachment_mb", 10, "Largest file a contact may attach to a ticket, in MB",
       minimum=1, maximum=50)
