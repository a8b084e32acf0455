"""The monthly cost estimate as a stack output, computed by the same code as the offline preview's.

The program cannot read the engine's list of registrations, so it watches its own: a stack transformation
(it changes nothing) keeps each resource's type, name and inputs as it is constructed, in the engine's
camelCase names, with every value that is still an Output marked unknown as on a first preview. At the end of
the program `estimate()` hands that list to `zappa_vpc.plan.costs.estimate_monthly_cost`: no second copy of
what
a pattern creates, and the output agrees with `python -m preview` (a test holds them equal for every stack).

What it cannot know it says so: a price input that comes from another resource's output (an instance type
read from another stack, say) is an unpriced line, not a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from zappa_vpc.plan.costs import CostEstimate, estimate_monthly_cost
from zappa_vpc.plan.prices import PriceTable, camel_case
from zappa_vpc.plan.unknown import UNKNOWN


@dataclass(frozen=True)
class ObservedResource:
    """One resource the program constructed, as the engine will be told of it."""

    type: str
    name: str
    properties: dict[str, Any]


class PlannedResources:
    """Every resource constructed after this object, in order. Create it before the first resource."""

    def __init__(self) -> None:
        self.resources: list[ObservedResource] = []
        pulumi.runtime.register_stack_transformation(self._observe)

    def _observe(self, args: pulumi.ResourceTransformationArgs) -> None:
        self.resources.append(ObservedResource(args.type_, args.name, _engine_value(args.props)))
        return None  # observe only: the resource is registered exactly as the program wrote it

    def estimate(self, prices: PriceTable, region: str | None) -> CostEstimate:
        return estimate_monthly_cost(self.resources, prices, region)


def _engine_value(value: Any) -> Any:
    """An input as the engine receives it: camelCase keys, no None values, Outputs unknown."""
    if isinstance(value, pulumi.Output):
        return UNKNOWN
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_engine_value(item) for item in value]
    if isinstance(value, Mapping):
        return {camel_case(key): _engine_value(item) for key, item in value.items() if item is not None}
    if hasattr(value, "__dict__") and not isinstance(value, pulumi.Resource):
        # An input type (`InstanceRootBlockDeviceArgs(...)`) keeps its arguments as attributes.
        return _engine_value(vars(value))
    return UNKNOWN
