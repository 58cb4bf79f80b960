from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "nestogy.ops"
    label = "ops"
    verbose_name = "Operations"
