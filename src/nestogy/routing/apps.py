from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "nestogy.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from nestogy.core.events import react
        from nestogy.routing import conf  # noqa: F401  (declares company settings)
        from nestogy.routing.actions import apply_invited_calendar

        # An accepted invitation's working calendar (accounts.events).
        react("user.joined", apply_invited_calendar)
