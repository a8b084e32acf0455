"""zappa-vpc: a secure network for a Zappa (AWS Lambda) Django app.

Composes only: stack config -> validated settings -> network -> database and endpoints -> exports.
"""

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.cost_output import PlannedResources
from zappa_vpc.components.network import PATTERN_COMPONENTS
from zappa_vpc.components.service_access import ServiceAccess, ServiceAccessArgs
from zappa_vpc.plan.options import InstanceTypeOffer
from zappa_vpc.plan.prices import load_prices
from zappa_vpc.plan.settings import CONFIG_SCHEMA, SettingsError, parse_settings


def _available_zones() -> list[str]:
    # Opted-in Local Zones and Wavelength Zones are "available" too, and sort first (us-east-1-atl-1a):
    # keep the region's own zones (DescribeAvailabilityZones filter zone-type).
    return aws.get_availability_zones(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(name="zone-type", values=["availability-zone"])],
    ).names


def _instance_type_offer(instance_type: str, zones: Sequence[str]) -> InstanceTypeOffer:
    offered = aws.ec2.get_instance_type_offerings(
        location_type="availability-zone",
        filters=[
            aws.ec2.GetInstanceTypeOfferingsFilterArgs(name="instance-type", values=[instance_type]),
            aws.ec2.GetInstanceTypeOfferingsFilterArgs(name="location", values=list(zones)),
        ],
    ).locations
    if not offered:  # EC2 does not know the type, or these zones do not offer it: nothing to describe
        return InstanceTypeOffer((), ())
    described = aws.ec2.get_instance_type(instance_type=instance_type)
    return InstanceTypeOffer(tuple(offered), tuple(described.supported_architectures))


stack = pulumi.get_stack()
config = pulumi.Config()
try:
    settings = parse_settings(
        {key.name: config.get(key.name) for key in CONFIG_SCHEMA},
        stack=stack,
        region=pulumi.Config("aws").get("region"),
        region_zones=_available_zones,
        instance_type_offer=_instance_type_offer,
        deploying=not pulumi.runtime.is_dry_run(),
    )
except SettingsError as error:
    # A user mistake: say what to fix, without a traceback, before anything is registered.
    raise pulumi.RunError(str(error)) from None

planned = PlannedResources()  # before the first resource: the cost estimate prices what is registered
network = PATTERN_COMPONENTS[settings.network.pattern](stack, settings.network)
access = ServiceAccess(f"{stack}-access", ServiceAccessArgs(settings.access, settings.region, network))

for name, value in {**network.outputs, **access.outputs}.items():
    pulumi.export(name, value)
pulumi.export("monthly_cost_estimate", planned.estimate(load_prices(), settings.region).to_dict())
