from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "nestogy.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from nestogy.routing import actions, settings  # noqa: F401  (company settings; the
        # hook that applies an accepted invitation's working calendar)
