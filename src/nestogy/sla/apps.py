from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "nestogy.sla"
    label = "sla"
    verbose_name = "SLA"
