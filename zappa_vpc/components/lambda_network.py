"""The Lambda's place in the VPC: its security group and the `vpc_config` Zappa needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from zappa_vpc.plan.access_info import lambda_vpc_config
from zappa_vpc.plan.options import Problem, require_valid


@dataclass(frozen=True)
class LambdaNetworkArgs:
    """vpc_id: the VPC. subnet_ids: the Lambda tier's subnets, one per AZ; at least 2 so an AZ outage
    does not stop the app."""

    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]

    def problems(self) -> list[Problem]:
        if len(self.subnet_ids) < 2:
            return [Problem("subnet_ids", len(self.subnet_ids), "the Lambda needs subnets in at least 2 AZs")]
        return []


class LambdaNetwork(pulumi.ComponentResource):
    """A security group with no inbound rule (API Gateway invokes the function; nothing connects to it)
    and all outbound, plus `vpc_config`, ready for zappa_settings.json."""

    def __init__(
        self, name: str, args: LambdaNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("LambdaNetwork", args.problems())
        super().__init__("zappa-vpc:lambda_network:LambdaNetwork", name, None, opts)
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Zappa Lambda functions: no inbound; outbound to the database, endpoints and NAT",
            vpc_id=args.vpc_id,
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_blocks=["0.0.0.0/0"],
                    description="all outbound",
                )
            ],
            tags={"Name": f"{name}-sg"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # A structure of Outputs, not one `apply`: a first preview shows Zappa's keys, only ids unknown.
        self.vpc_config = lambda_vpc_config(args.subnet_ids, self.security_group.id)
        self.register_outputs({"security_group_id": self.security_group.id, "vpc_config": self.vpc_config})
