"""Company settings of payments and dunning (defaults in code; companies store overrides).

The Stripe secret key and webhook secret can be set per company here or for the whole
installation through the environment (``NESTOGY_STRIPE_API_KEY``,
``NESTOGY_STRIPE_WEBHOOK_SECRET``, ``NESTOGY_STRIPE_API_BASE``); a company value wins.
Secrets are never committed to the repository.
"""

from nestogy.tenancy.company_settings import define

define("payments.retry_base_hours", 24,
       "Delay before the first retry of a failed automatic payment, in hours", minimum=1,
       maximum=24 * 30)
define("payments.retry_factor", 2,
       "Each further retry waits this many times longer than the previous one", minimum=1,
       maximum=10)
define("payments.max_retries", 4,
       "Retries of a failed automatic payment before the invoice goes to collections",
       minimum=0, maximum=20)
define("payments.retry_jitter_hours", 0,
       "Random extra delay (0 to this many hours) added to each retry; 0 = none", minimum=0,
       maximum=72)
define("payments.gateway", "stripe", "Payment gateway used for card payments and auto-pay",
       choices=("stripe",))
define("payments.stripe_api_key", "",
       "Stripe secret key (sk_...); empty = NESTOGY_STRIPE_API_KEY from the environment",
       secret=True)
define("payments.stripe_webhook_secret", "",
       "Stripe webhook signing secret (whsec_...); empty = NESTOGY_STRIPE_WEBHOOK_SECRET",
       secret=True)
