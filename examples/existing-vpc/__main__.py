"""ServiceAccess on a VPC that already exists (made by a platform team, or in another stack): the private
database, the endpoints, the Lambda security group and the Zappa settings, and nothing else in the VPC.

The ids come from config here; a StackReference (`pulumi.StackReference("org/network/prod").get_output(...)`)
or a lookup (`aws.ec2.get_subnets(...)`) works as well. Plain-string ids are checked before anything registers
(at least 2 AZs, no Internet gateway route from the database subnets); ids known only at deploy time are not,
and a warning says so.
"""

import pulumi

from zappa_vpc import ExistingNetworkArgs, ServiceAccess, ServiceAccessArgs

config = pulumi.Config()
# The ids, not an ExistingNetwork: ServiceAccess checks the network and its own settings together, then
# builds the network (the Lambda's security group) as its child `app-access-network`, so a mistake in
# either registers nothing.
access = ServiceAccess(
    "app-access",
    ServiceAccessArgs(
        network=ExistingNetworkArgs(
            vpc_id=config.require("vpcId"),
            lambda_subnet_ids=config.require_object("lambdaSubnetIds"),
            database_subnet_ids=config.require_object("databaseSubnetIds"),
            route_table_ids=config.require_object("routeTableIds"),
        ),
        region=pulumi.Config("aws").require("region"),
    ),
)

pulumi.export("zappa_vpc_config", access.outputs["zappa_vpc_config"])
pulumi.export("zappa_environment", access.outputs["zappa_environment"])
pulumi.export("database_secret_arn", access.outputs["database_secret_arn"])
