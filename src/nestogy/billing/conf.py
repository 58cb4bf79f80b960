"""Company settings of billing (defaults in code; companies store overrides)."""

from nestogy.tenancy.company_settings import define

define("billing.issue_recurring_immediately", True,
       "Issue recurring invoices at once (true) or leave them as drafts for review (false)")
define("billing.invoice_prefix", "INV-", "Prefix of invoice numbers (INV-00001)",
       max_length=20)
