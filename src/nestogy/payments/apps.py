from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "nestogy.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from nestogy.payments import settings  # noqa: F401  (registers company settings)
        from nestogy.payments.gateways import stripe as _stripe  # noqa: F401  (registers)
