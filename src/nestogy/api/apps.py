from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "nestogy.api"
    label = "api"
    verbose_name = "API"
