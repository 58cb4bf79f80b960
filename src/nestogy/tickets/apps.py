from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "nestogy.tickets"
    label = "tickets"
    verbose_name = "Service desk"

    def ready(self) -> None:
        from nestogy.tickets import actions, events  # noqa: F401  (register events and hooks)
