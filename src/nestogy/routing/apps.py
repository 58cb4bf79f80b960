from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "nestogy.routing"
    label = "routing"
    verbose_name = "Routing"

    def ready(self) -> None:
        from nestogy.routing import settings  # noqa: F401  (declares company settings)
