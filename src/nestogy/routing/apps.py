from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "nestogy.routing"
    label = "routing"
    verbose_name = "Routing"
