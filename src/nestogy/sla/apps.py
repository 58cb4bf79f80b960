from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "nestogy.sla"
    label = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        from nestogy.sla import events  # noqa: F401  (registers the SLA event types)
