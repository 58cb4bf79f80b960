from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "nestogy.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Registers company settings, events, the Stripe gateway and the statement builder.
        from nestogy.payments import events, settings, statement  # noqa: F401
        from nestogy.payments.gateways import stripe as _stripe  # noqa: F401
