from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "nestogy.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Registers company settings, events, the Stripe gateway and the statement builder;
        # auto-pay reacts to billing's invoice.issued inside the issuing transaction.
        from nestogy.core.events import react
        from nestogy.payments import conf, events, statement  # noqa: F401
        from nestogy.payments.auto_pay import on_invoice_issued
        from nestogy.payments.gateways import stripe as _stripe  # noqa: F401

        react("invoice.issued", on_invoice_issued)
