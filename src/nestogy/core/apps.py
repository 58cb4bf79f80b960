from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "nestogy.core"
    label = "core"
    verbose_name = "Core"
