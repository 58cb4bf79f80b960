"""Company events.

- ``company.settings_updated``: declared settings were saved (``data["keys"]``: the keys whose
  stored value changed, sorted; a secret set again counts as changed). Nobody is notified by
  default; higher apps react (``core.events.react``): notifications resets the sender
  verification when ``notifications.from_email`` changes.
"""

from __future__ import annotations

from nestogy.core.events import register

SETTINGS_UPDATED = "company.settings_updated"

register(SETTINGS_UPDATED,
         description="Company settings were changed (data: keys, the changed setting names)")
