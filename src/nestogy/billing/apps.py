from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "nestogy.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        from nestogy.billing import events, pdf  # noqa: F401  (registers events, attachments)
