"""Company settings of time tracking (declared in code with their defaults)."""

from nestogy.tenancy.company_settings import define

define("time.week_starts_on", "monday",
       "First day of the working week for time views and weekly totals (monday or sunday)",
       choices=("monday", "sunday"))
