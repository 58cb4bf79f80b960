from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "nestogy.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        # Registers company settings, events, the Stripe gateway and the statement builder.
        from nestogy.billing import actions as billing_actions
        from nestogy.payments import events, settings, statement  # noqa: F401
        from nestogy.payments.actions import charge_issued_invoices
        from nestogy.payments.gateways import stripe as _stripe  # noqa: F401

        if charge_issued_invoices not in billing_actions.AFTER_ISSUE:
            billing_actions.AFTER_ISSUE.append(charge_issued_invoices)
