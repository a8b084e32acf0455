"""Hand-made preview records, shaped as the mock engine records them, for the preview front end's tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from preview.model import UNKNOWN, ResourceRecord

PROJECT = "zappa-vpc"
PATTERN_TYPE = "zappa-vpc:patterns:PublicPrivateVpc"


@dataclass
class RecordBuilder:
    """Registers resources the way the SDK does: URNs qualified by the parent's type, ids unknown.

    The stack resource comes first unless `with_stack` is False (records made by hand, not by a run).
    """

    stack: str = "dev"
    with_stack: bool = True
    records: list[ResourceRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stack_record: ResourceRecord | None = None
        if self.with_stack:
            self.stack_record = self.add("pulumi:pulumi:Stack", f"{PROJECT}-{self.stack}", custom=False)

    def add(
        self,
        resource_type: str,
        name: str,
        properties: Mapping[str, Any] | None = None,
        *,
        links: Mapping[str, Sequence[ResourceRecord]] | None = None,
        parent: ResourceRecord | str | None = None,
        custom: bool = True,
    ) -> ResourceRecord:
        """Register a resource under `parent` (a record, a URN, or by default the stack); `links` names
        the input properties that take other resources' ids."""
        parent = parent if parent is not None else self.stack_record
        parent_urn = parent.urn if isinstance(parent, ResourceRecord) else parent or ""
        qualified = resource_type
        if parent_urn:
            qualified = f"{parent_urn.split('::')[2].split('$')[-1]}${resource_type}"
        property_dependencies = {key: tuple(r.urn for r in linked) for key, linked in (links or {}).items()}
        inputs = dict(properties or {})
        for key, linked in (links or {}).items():
            inputs.setdefault(key, UNKNOWN if len(linked) == 1 else [UNKNOWN] * len(linked))
        record = ResourceRecord(
            urn=f"urn:pulumi:{self.stack}::{PROJECT}::{qualified}::{name}",
            type=resource_type,
            name=name,
            custom=custom,
            properties=inputs,
            parent=parent_urn,
            dependencies=tuple(urn for urns in property_dependencies.values() for urn in urns),
            property_dependencies=property_dependencies,
        )
        self.records.append(record)
        return record


def subnet_tags(name: str, tier: str) -> dict[str, Any]:
    return {"tags": {"Name": name, "zappa-vpc:tier": tier}}


def public_private_network(
    stack: str = "dev", azs: Sequence[str] = ("us-east-1a", "us-east-1b"), *, with_vpn: bool = True
) -> list[ResourceRecord]:
    """A full public / private / data VPC: IGW, NAT per AZ, bastion, database with proxy, endpoints, VPN."""
    build = RecordBuilder(stack=stack)
    pattern = build.add(PATTERN_TYPE, stack, custom=False)
    vpc = build.add("aws:ec2/vpc:Vpc", f"{stack}-vpc", {"cidrBlock": "10.20.0.0/16"}, parent=pattern)
    igw = build.add(
        "aws:ec2/internetGateway:InternetGateway", f"{stack}-igw", links={"vpcId": [vpc]}, parent=pattern
    )
    subnets: dict[str, list[ResourceRecord]] = {"public": [], "private": [], "data": []}
    for tier_index, tier in enumerate(subnets):
        for az_index, az in enumerate(azs):
            name = f"{stack}-{tier}-{az[-1]}"
            cidr = f"10.20.{tier_index * 64 + az_index * 16}.0/20"
            subnets[tier].append(
                build.add(
                    "aws:ec2/subnet:Subnet",
                    name,
                    {"availabilityZone": az, "cidrBlock": cidr, **subnet_tags(name, tier)},
                    links={"vpcId": [vpc]},
                    parent=pattern,
                )
            )
    public_table = build.add(
        "aws:ec2/routeTable:RouteTable", f"{stack}-public-rt", links={"vpcId": [vpc]}, parent=pattern
    )
    build.add(
        "aws:ec2/route:Route",
        f"{stack}-public-default",
        {"destinationCidrBlock": "0.0.0.0/0"},
        links={"routeTableId": [public_table], "gatewayId": [igw]},
        parent=pattern,
    )
    for subnet in subnets["public"]:
        build.add(
            "aws:ec2/routeTableAssociation:RouteTableAssociation",
            f"{subnet.name}-rta",
            links={"subnetId": [subnet], "routeTableId": [public_table]},
            parent=pattern,
        )
    for public, private, data in zip(subnets["public"], subnets["private"], subnets["data"], strict=True):
        az_letter = public.name[-1]
        eip = build.add("aws:ec2/eip:Eip", f"{stack}-nat-eip-{az_letter}", {"domain": "vpc"}, parent=pattern)
        nat = build.add(
            "aws:ec2/natGateway:NatGateway",
            f"{stack}-nat-{az_letter}",
            links={"subnetId": [public], "allocationId": [eip]},
            parent=pattern,
        )
        private_table = build.add(
            "aws:ec2/routeTable:RouteTable",
            f"{stack}-private-rt-{az_letter}",
            {"routes": [{"cidrBlock": "0.0.0.0/0", "natGatewayId": UNKNOWN}]},
            links={"vpcId": [vpc], "routes": [nat]},
            parent=pattern,
        )
        for subnet in (private, data):
            build.add(
                "aws:ec2/routeTableAssociation:RouteTableAssociation",
                f"{subnet.name}-rta",
                links={"subnetId": [subnet], "routeTableId": [private_table]},
                parent=pattern,
            )
    lambda_sg = build.add(
        "aws:ec2/securityGroup:SecurityGroup",
        f"{stack}-lambda-sg",
        {"description": "Zappa Lambda functions"},
        links={"vpcId": [vpc]},
        parent=pattern,
    )
    bastion_sg = build.add(
        "aws:ec2/securityGroup:SecurityGroup", f"{stack}-bastion-sg", links={"vpcId": [vpc]}, parent=pattern
    )
    build.add(
        "aws:ec2/instance:Instance",
        f"{stack}-bastion",
        {"instanceType": "t4g.nano", "ami": "ami-0123456789abcdef0"},
        links={"subnetId": [subnets["public"][0]], "vpcSecurityGroupIds": [bastion_sg]},
        parent=pattern,
    )
    db_sg = build.add(
        "aws:ec2/securityGroup:SecurityGroup", f"{stack}-db-sg", links={"vpcId": [vpc]}, parent=pattern
    )
    subnet_group = build.add(
        "aws:rds/subnetGroup:SubnetGroup",
        f"{stack}-db-subnets",
        links={"subnetIds": subnets["data"]},
        parent=pattern,
    )
    build.add(
        "aws:rds/instance:Instance",
        f"{stack}-db",
        {"engine": "postgres", "instanceClass": "db.t4g.micro", "multiAz": True, "publiclyAccessible": False},
        links={"dbSubnetGroupName": [subnet_group], "vpcSecurityGroupIds": [db_sg]},
        parent=pattern,
    )
    build.add(
        "aws:rds/proxy:Proxy",
        f"{stack}-db-proxy",
        {"engineFamily": "POSTGRESQL"},
        links={"vpcSubnetIds": subnets["private"], "vpcSecurityGroupIds": [db_sg]},
        parent=pattern,
    )
    build.add(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        f"{stack}-s3-endpoint",
        {"serviceName": "com.amazonaws.us-east-1.s3", "vpcEndpointType": "Gateway"},
        links={"vpcId": [vpc]},
        parent=pattern,
    )
    build.add(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        f"{stack}-secretsmanager-endpoint",
        {"serviceName": "com.amazonaws.us-east-1.secretsmanager", "vpcEndpointType": "Interface"},
        links={"vpcId": [vpc], "subnetIds": subnets["private"], "securityGroupIds": [lambda_sg]},
        parent=pattern,
    )
    if with_vpn:
        vgw = build.add(
            "aws:ec2/vpnGateway:VpnGateway", f"{stack}-vgw", links={"vpcId": [vpc]}, parent=pattern
        )
        cgw = build.add(
            "aws:ec2/customerGateway:CustomerGateway",
            f"{stack}-cgw",
            {"ipAddress": "203.0.113.10", "bgpAsn": "65000", "type": "ipsec.1"},
            parent=pattern,
        )
        connection = build.add(
            "aws:ec2/vpnConnection:VpnConnection",
            f"{stack}-vpn",
            {"staticRoutesOnly": True, "type": "ipsec.1"},
            links={"vpnGatewayId": [vgw], "customerGatewayId": [cgw]},
            parent=pattern,
        )
        build.add(
            "aws:ec2/vpnConnectionRoute:VpnConnectionRoute",
            f"{stack}-vpn-route",
            {"destinationCidrBlock": "192.168.0.0/16"},
            links={"vpnConnectionId": [connection]},
            parent=pattern,
        )
    return build.records
