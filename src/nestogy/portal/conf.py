"""Company settings the portal reads (declared in code with their defaults).

``branding.logo_url`` and ``branding.support_email`` are declared by tenancy.
"""

from nestogy.tenancy.company_settings import define

define("branding.accent_color", "#1f5fbf", "Accent colour of the client portal (#rrggbb)")
define("portal.max_attachment_mb", 10, "Largest file a contact may attach to a ticket, in MB",
       minimum=1, maximum=50)
