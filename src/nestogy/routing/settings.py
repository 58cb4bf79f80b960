"""Company settings of routing (declared in code with their defaults)."""

from nestogy.tenancy.company_settings import define

define("routing.auto_assign", False,
       "Assign new unassigned tickets automatically to the best available technician")
define("routing.weights", {}, "Overrides of the routing weights, e.g. {\"load\": 120}",
       kind=dict)
