from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "nestogy.tenancy"
    label = "tenancy"
    verbose_name = "Companies"
