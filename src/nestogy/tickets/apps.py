from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "nestogy.tickets"
    label = "tickets"
    verbose_name = "Service desk"

    def ready(self) -> None:
        from nestogy.core.events import react
        from nestogy.tickets import (
            events,  # noqa: F401  (registers the desk's event types)
            sla,
        )

        # A calendar or policy edit recomputes the open tickets on it; a client's policy
        # assignment (or a contract's) re-selects the policy of its open tickets.
        react("sla.policy_changed", sla.on_policy_changed)
        react("sla.client_policy_changed", sla.on_client_policy_changed)
