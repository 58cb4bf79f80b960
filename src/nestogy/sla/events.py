"""The SLA app's event types (what happened to calendars, policies and assignments).

Nobody is notified of them: higher apps react (``core.events.react``). The tickets app
re-selects policies and recomputes the clocks of the open tickets concerned, inside the
transaction of the change.
"""

from __future__ import annotations

from nestogy.core.events import register

register("sla.policy_changed",
         description="A calendar or an SLA policy was edited: the open tickets on these "
                     "policies (data: policy_ids) need their clocks recomputed")
register("sla.client_policy_changed",
         description="A client's SLA policy selection may have changed (its assignment, or a "
                     "contract's policy, status or dates; data: client_ids)")
