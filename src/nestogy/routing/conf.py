"""Company settings of routing (declared in code with their defaults)."""

from nestogy.core.errors import ValidationError
from nestogy.routing.engine import Weights
from nestogy.tenancy.company_settings import define


def _weights(value):
    try:
        Weights.from_overrides(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("settings.routing.weights", str(exc)) from None
    return value


define("routing.auto_assign", False,
       "Assign new unassigned tickets automatically to the best available technician")
define("routing.weights", {}, "Overrides of the routing weights, e.g. {\"load\": 120}",
       kind=dict, validate=_weights)
