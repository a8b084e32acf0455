"""An existing Pulumi program (a bucket for the app's uploads) that adds zappa-vpc: the public-private VPC,
then the private database, the endpoints and the Lambda security group on it, and the Zappa settings."""

import pulumi
import pulumi_aws as aws

from zappa_vpc import PublicPrivateVpc, ServiceAccess, ServiceAccessArgs, VpcArgs

region = pulumi.Config("aws").require("region")

# The program's own resources, untouched.
uploads = aws.s3.Bucket("uploads", force_destroy=False)

# The class is the pattern; every other field has the stack's default (see `help(VpcArgs)`).
vpc = PublicPrivateVpc(
    "app",
    VpcArgs(availability_zones=[f"{region}a", f"{region}b"], nat_strategy="one-per-az"),
)
access = ServiceAccess(
    "app-access",
    ServiceAccessArgs(network=vpc, region=region, database="postgres", database_proxy=False),
)

pulumi.export("uploads_bucket", uploads.bucket)
pulumi.export("zappa_vpc_config", vpc.outputs["zappa_vpc_config"])
pulumi.export("zappa_environment", access.outputs["zappa_environment"])
pulumi.export("database_tunnel_command", access.outputs["database_tunnel_command"])
