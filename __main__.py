"""zappa-vpc: a secure network for a Zappa (AWS Lambda) Django app.

Composes only: stack config -> validated settings -> network -> database and endpoints -> exports.
"""

import pulumi
import pulumi_aws as aws

from components.cost_output import PlannedResources
from components.network import PATTERN_COMPONENTS
from components.prices import load_prices
from components.service_access import ServiceAccess, ServiceAccessArgs
from components.settings import CONFIG_SCHEMA, SettingsError, parse_settings


def _available_zones() -> list[str]:
    return aws.get_availability_zones(state="available").names


config = pulumi.Config()
try:
    settings = parse_settings(
        {key.name: config.get(key.name) for key in CONFIG_SCHEMA},
        stack=pulumi.get_stack(),
        region=pulumi.Config("aws").get("region"),
        region_zones=_available_zones,
    )
except SettingsError as error:
    # A user mistake: say what to fix, without a traceback, before anything is registered.
    raise pulumi.RunError(str(error)) from None

stack = pulumi.get_stack()
planned = PlannedResources()  # before the first resource: the cost estimate prices what is registered
network = PATTERN_COMPONENTS[settings.network.pattern](stack, settings.network)
access = ServiceAccess(f"{stack}-access", ServiceAccessArgs(settings.access, settings.region, network))

pulumi.export("pattern", settings.network.pattern.value)
pulumi.export("vpc_id", network.vpc.id)
pulumi.export("subnet_ids", network.subnet_ids)
pulumi.export("route_table_ids", network.route_table_ids)
pulumi.export("lambda_security_group_id", network.lambda_network.security_group.id)
pulumi.export("zappa_vpc_config", network.lambda_network.vpc_config)
pulumi.export(
    "address_plan",
    [
        {
            "tier": s.tier,
            "availability_zone": settings.network.availability_zones[s.az_index],
            "cidr": s.cidr,
            "usable_addresses": s.usable_addresses,
        }
        for s in settings.plan.subnets
        if s.az_index < len(settings.network.availability_zones)
    ],
)
if network.nat is not None:
    pulumi.export("nat_gateway_ids", {az: nat.id for az, nat in network.nat.gateways.items()})
if network.bastion is not None:
    pulumi.export("bastion_instance_id", network.bastion.instance.id)
if network.vpn is not None:
    pulumi.export("vpn_connection_id", network.vpn.connection.id)
for name, value in access.outputs.items():
    pulumi.export(name, value)
pulumi.export("monthly_cost_estimate", planned.estimate(load_prices(), settings.region).to_dict())
