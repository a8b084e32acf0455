"""The five VPC patterns as components. One base builds what a pattern's traits say; each pattern is a type.

Every VPC gets DNS support and hostnames, an emptied default security group, subnets from the address
plan in every AZ, explicit route tables (the main route table is never used, so it never learns a route to
the Internet), the Lambda security group and, where configured, flow logs, NAT, bastion and VPN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.bastion import Bastion, BastionArgs
from zappa_vpc.components.flow_logs import FlowLogs, FlowLogsArgs
from zappa_vpc.components.lambda_network import LambdaNetwork, LambdaNetworkArgs
from zappa_vpc.components.lookups import available_zones, instance_type_offer
from zappa_vpc.components.nat import NatGateways, NatGatewaysArgs
from zappa_vpc.components.vpn import VpnAttachment, VpnAttachmentArgs
from zappa_vpc.plan.args import AccessArgs, VpcArgs, access_options, network_options
from zappa_vpc.plan.options import Pattern, ServiceAccessOptions, Tier

TIER_TAG = "zappa-vpc:tier"


@dataclass(frozen=True)
class AccessTarget:
    """What ServiceAccess builds on, from one of our networks or an existing one.

    options: the access, validated against the network. route_table_ids: label -> table the gateway
    endpoints join. bastion: the bastion the database admits and tunnels go through, if any.
    """

    options: ServiceAccessOptions
    vpc_id: pulumi.Input[str]
    lambda_subnet_ids: Sequence[pulumi.Input[str]]
    data_subnet_ids: Sequence[pulumi.Input[str]]
    route_table_ids: Mapping[str, pulumi.Input[str]]
    lambda_security_group_id: pulumi.Input[str]
    bastion: Bastion | None = None


class VpcNetwork(pulumi.ComponentResource):
    """The shared build of every pattern. Use one of the pattern classes below (the class is the pattern),
    or `PATTERN_COMPONENTS[pattern]` to pick one from a setting.

    Attributes for the pieces built on top (database, endpoints): `vpc`, `subnets[tier]` (one per AZ, in AZ
    order), `route_tables[tier]` (label -> table), `lambda_network`, `bastion`, `nat`, `vpn`.
    """

    if TYPE_CHECKING:  # declared only for type checkers: the component provider reads class annotations
        PATTERN: Pattern  # as outputs (pulumi/provider/experimental/analyzer.py, Analyzer.analyze_type)
    # The type token's module; the component provider hosts its types in `index` only.
    TYPE_MODULE = "network"

    def __init__(self, name: str, args: VpcArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Every problem, as the stack config would report it, before anything registers.
        options = network_options(
            type(self).__name__,
            self.PATTERN,
            args,
            available_zones,
            instance_type_offer,
            deploying=not pulumi.runtime.is_dry_run(),
        )
        super().__init__(f"zappa-vpc:{self.TYPE_MODULE}:{type(self).__name__}", name, None, opts)
        self.args = args
        self.options = options
        traits = options.traits
        zones = options.availability_zones
        child = pulumi.ResourceOptions(parent=self)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=options.plan.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        # Managing the default security group with no rules strips the allow-all rules AWS puts in it.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags={"Name": f"{name}-default-sg (emptied)"},
            opts=child,
        )
        if options.flow_logs is not None:
            self.flow_logs = FlowLogs(
                f"{name}-flow-logs", FlowLogsArgs(options.flow_logs, self.vpc.id), child
            )

        self.subnets: dict[Tier, list[aws.ec2.Subnet]] = {
            tier: [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{zones[planned.az_index]}",
                    vpc_id=self.vpc.id,
                    cidr_block=planned.cidr,
                    availability_zone=zones[planned.az_index],
                    # Nothing gets a public address unless it asks (the bastion does).
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier}-{zones[planned.az_index]}", TIER_TAG: tier.value},
                    opts=child,
                )
                for planned in options.plan.tier(tier.value)
            ]
            for tier in traits.tiers
        }

        self.internet_gateway = None
        if traits.internet_gateway:
            self.internet_gateway = aws.ec2.InternetGateway(
                f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": f"{name}-igw"}, opts=child
            )

        self.nat = None
        if traits.can_use_nat:
            self.nat = NatGateways(
                f"{name}-nat",
                NatGatewaysArgs(
                    options.nat, dict(zip(zones, (s.id for s in self.subnets[Tier.PUBLIC]), strict=True))
                ),
                pulumi.ResourceOptions(parent=self, depends_on=[self.internet_gateway]),
            )

        self.route_tables: dict[Tier, dict[str, aws.ec2.RouteTable]] = {}
        for tier in traits.tiers:
            self.route_tables[tier] = self._route_tables(name, tier)

        self.lambda_network = LambdaNetwork(
            f"{name}-lambda",
            LambdaNetworkArgs(self.vpc.id, [s.id for s in self.subnets[traits.lambda_tier]]),
            child,
        )

        self.bastion = None
        if options.bastion is not None:
            # In a zone that offers its instance type (settings ask EC2), else the first.
            zone_index = zones.index(options.bastion.availability_zone or zones[0])
            self.bastion = Bastion(
                f"{name}-bastion",
                BastionArgs(
                    options.bastion,
                    self.vpc.id,
                    options.plan.vpc_cidr,
                    self.subnets[Tier.PUBLIC][zone_index].id,
                ),
                pulumi.ResourceOptions(parent=self, depends_on=[self.internet_gateway]),
            )

        self.vpn = None
        if options.vpn is not None:
            # Corporate routes propagate into every table but the public one.
            self.vpn = VpnAttachment(
                f"{name}-vpn",
                VpnAttachmentArgs(options.vpn, self.vpc.id, self.labelled_route_table_ids()),
                child,
            )

        self.outputs: dict[str, pulumi.Input[object]] = {
            "pattern": options.pattern.value,
            "vpc_id": self.vpc.id,
            "subnet_ids": self.subnet_ids,
            "route_table_ids": self.route_table_ids,
            "lambda_security_group_id": self.lambda_network.security_group.id,
            "zappa_vpc_config": self.lambda_network.vpc_config,
            "address_plan": self.address_plan,
        }
        if self.nat is not None:
            self.outputs["nat_gateway_ids"] = {az: nat.id for az, nat in self.nat.gateways.items()}
        if self.bastion is not None:
            self.outputs["bastion_instance_id"] = self.bastion.instance.id
        if self.vpn is not None:
            self.outputs["vpn_connection_id"] = self.vpn.connection.id
            self.outputs["vpn_tunnel_addresses"] = self.vpn.tunnel_addresses
            self.outputs["vpn_preshared_key_secret_arn"] = self.vpn.connection.preshared_key_arn
        self._complete(name)

    def _complete(self, name: str) -> None:
        """The last step: register the outputs. A subclass that builds more on itself (the component
        provider's patterns add their ServiceAccess) does it here, then calls this: registering stays last."""
        self.register_outputs(self.outputs)

    def _route_tables(self, name: str, tier: Tier) -> dict[str, aws.ec2.RouteTable]:
        """Public: one table to the Internet gateway. Private: one per AZ, to that AZ's NAT. Data: one
        table with no route out (local and VPN routes only)."""
        child = pulumi.ResourceOptions(parent=self)
        zones = self.options.availability_zones
        per_az = tier is Tier.PRIVATE
        labels = list(zones) if per_az else [tier.value]
        tables = {
            label: aws.ec2.RouteTable(
                f"{name}-{tier}-rt" + (f"-{label}" if per_az else ""),
                vpc_id=self.vpc.id,
                tags={"Name": f"{name}-{tier}-rt" + (f"-{label}" if per_az else ""), TIER_TAG: tier.value},
                opts=child,
            )
            for label in labels
        }
        for az, subnet in zip(zones, self.subnets[tier], strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-{tier}-rta-{az}",
                subnet_id=subnet.id,
                route_table_id=tables[az if per_az else tier.value].id,
                opts=child,
            )
        if tier is Tier.PUBLIC and self.internet_gateway is not None:
            aws.ec2.Route(
                f"{name}-public-default-route",
                route_table_id=tables[tier.value].id,
                destination_cidr_block="0.0.0.0/0",
                gateway_id=self.internet_gateway.id,
                opts=child,
            )
        if per_az and self.nat is not None:
            for az in zones:
                gateway = self.nat.gateway_for(az)
                if gateway is not None:
                    aws.ec2.Route(
                        f"{name}-private-default-route-{az}",
                        route_table_id=tables[az].id,
                        destination_cidr_block="0.0.0.0/0",
                        nat_gateway_id=gateway.id,
                        opts=child,
                    )
        return tables

    @property
    def address_plan(self) -> list[dict[str, object]]:
        """Every subnet this network creates, with its AZ, CIDR and usable addresses (known before deploy)."""
        zones = self.options.availability_zones
        return [
            {
                "tier": planned.tier,
                "availability_zone": zones[planned.az_index],
                "cidr": planned.cidr,
                "usable_addresses": planned.usable_addresses,
            }
            for tier in self.subnets
            for planned in self.options.plan.tier(tier.value)
        ]

    @property
    def subnet_ids(self) -> dict[str, list[pulumi.Output[str]]]:
        return {tier.value: [s.id for s in subnets] for tier, subnets in self.subnets.items()}

    @property
    def route_table_ids(self) -> dict[str, dict[str, pulumi.Output[str]]]:
        return {
            tier.value: {label: t.id for label, t in tables.items()}
            for tier, tables in self.route_tables.items()
        }

    def access_target(self, component: str, args: AccessArgs) -> AccessTarget:
        """What ServiceAccess builds on here, with `args` checked against this network as the stack checks."""
        lambda_tier = self.options.traits.lambda_tier
        return AccessTarget(
            options=access_options(
                component,
                self.PATTERN,
                self.options.availability_zones,
                self.args,
                args,
                # Only for workers: the bastion's type was looked up with the network.
                instance_type_offer if args.workers else None,
            ),
            vpc_id=self.vpc.id,
            lambda_subnet_ids=[s.id for s in self.subnets[lambda_tier]],
            data_subnet_ids=[s.id for s in self.subnets.get(Tier.DATA, [])],
            # Gateway endpoints join every table the Lambda or the database uses (the public one in `single`).
            route_table_ids=self.labelled_route_table_ids(include_public=lambda_tier is Tier.PUBLIC),
            lambda_security_group_id=self.lambda_network.security_group.id,
            bastion=self.bastion,
        )

    def labelled_route_table_ids(self, include_public: bool = False) -> dict[str, pulumi.Output[str]]:
        """Every route table, the public one only if asked, labelled `<tier>-<label>`."""
        return {
            f"{tier}-{label}": table.id
            for tier, tables in self.route_tables.items()
            if include_public or tier is not Tier.PUBLIC
            for label, table in tables.items()
        }


class IsolatedVpc(VpcNetwork):
    """Private and data subnets with no Internet gateway, no NAT and no route out: the minimal working
    setup. AWS services through VPC endpoints only."""

    PATTERN = Pattern.ISOLATED


class SingleTierVpc(VpcNetwork):
    """One Internet-accessible tier behind an Internet gateway; no NAT, so the Lambda has no Internet."""

    PATTERN = Pattern.SINGLE


class PublicPrivateVpc(VpcNetwork):
    """Public tier (Internet gateway, NAT, bastion) and private Lambda and data tiers behind it."""

    PATTERN = Pattern.PUBLIC_PRIVATE


class HybridVpc(VpcNetwork):
    """Public-private plus a site-to-site VPN whose routes propagate into the private and data tiers."""

    PATTERN = Pattern.HYBRID


class InternalVpc(VpcNetwork):
    """Private tiers only, reached from the corporate network over the VPN; no Internet gateway, no NAT."""

    PATTERN = Pattern.INTERNAL


PATTERN_COMPONENTS: dict[Pattern, type[VpcNetwork]] = {
    component.PATTERN: component
    for component in (IsolatedVpc, SingleTierVpc, PublicPrivateVpc, HybridVpc, InternalVpc)
}
