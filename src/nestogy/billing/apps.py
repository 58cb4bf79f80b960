from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "nestogy.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self) -> None:
        # registers company settings, events, attachments
        from nestogy.billing import conf, events, pdf  # noqa: F401
