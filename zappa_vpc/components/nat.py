"""NAT gateways for the private tier: none, one shared, or one per AZ."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from zappa_vpc.plan.options import NatStrategy, Problem, require_valid


@dataclass(frozen=True)
class NatGatewaysArgs:
    """strategy: `single` saves money (one NAT, ~32 USD a month) but an AZ outage cuts every private subnet
    off the Internet; `one-per-az` keeps each AZ independent.
    public_subnet_ids: AZ name -> public subnet id, in AZ order; a NAT lives in a public subnet.
    """

    strategy: NatStrategy
    public_subnet_ids: Mapping[str, pulumi.Input[str]]

    def problems(self) -> list[Problem]:
        if self.strategy is not NatStrategy.NONE and not self.public_subnet_ids:
            return [Problem("public_subnet_ids", "{}", "a NAT gateway needs a public subnet")]
        return []


class NatGateways(pulumi.ComponentResource):
    """Elastic IPs and NAT gateways; `gateway_for(az)` is the NAT a private subnet in that AZ routes to."""

    def __init__(self, name: str, args: NatGatewaysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        require_valid("NatGateways", args.problems())
        super().__init__("zappa-vpc:nat:NatGateways", name, None, opts)
        zones = list(args.public_subnet_ids)
        if args.strategy is NatStrategy.SINGLE:
            zones = zones[:1]
        elif args.strategy is NatStrategy.NONE:
            zones = []
        self.gateways: dict[str, aws.ec2.NatGateway] = {}
        for az in zones:
            eip = aws.ec2.Eip(
                f"{name}-eip-{az}",
                domain="vpc",
                tags={"Name": f"{name}-eip-{az}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.gateways[az] = aws.ec2.NatGateway(
                f"{name}-gateway-{az}",
                allocation_id=eip.id,
                subnet_id=args.public_subnet_ids[az],
                tags={"Name": f"{name}-gateway-{az}"},
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"nat_gateway_ids": {az: nat.id for az, nat in self.gateways.items()}})

    def gateway_for(self, az: str) -> aws.ec2.NatGateway | None:
        """The NAT in the same AZ when there is one (no cross-AZ dependency), else the shared one."""
        if az in self.gateways:
            return self.gateways[az]
        return next(iter(self.gateways.values()), None)
