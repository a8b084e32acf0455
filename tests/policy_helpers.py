"""Synthetic stacks for the policy tests and benchmark: one description, three ways the engine can show it.

A `StackBuilder` holds resources whose properties may hold `Ref`s to other resources. `records(mode)`
renders them as the engine would: on a first preview (every id unknown, the link kept only in
`property_dependencies`), on an update (ids known, dependencies kept), or with ids passed as plain
strings (known ids, no dependencies at all).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from google.protobuf import json_format

from policies.network_guard import aws_lookup
from policies.network_guard import aws_types as aws
from policies.network_guard.catalog import RULES
from policies.network_guard.graph import Node, StackIndex
from policies.network_guard.rules import Finding, Rule
from preview.model import UNKNOWN, ResourceRecord
from preview.policy_client import analyze_request, stack_request

RULES_BY_NAME = {rule.name: rule for rule in RULES}
EIP = "aws:ec2/eip:Eip"
_ID_PREFIXES = {
    aws.VPC: "vpc",
    aws.DEFAULT_VPC: "vpc",
    aws.VPC_IPV4_CIDR_ASSOCIATION: "vpc-cidr-assoc",
    aws.SUBNET: "subnet",
    aws.DEFAULT_SUBNET: "subnet",
    aws.VPN_GATEWAY_ATTACHMENT: "vpn-attachment",
    aws.CARRIER_GATEWAY: "cagw",
    aws.ROUTE_TABLE: "rtb",
    aws.DEFAULT_ROUTE_TABLE: "rtb",
    aws.ROUTE: "r",
    aws.ROUTE_TABLE_ASSOCIATION: "rtbassoc",
    aws.MAIN_ROUTE_TABLE_ASSOCIATION: "rtbassoc",
    aws.INTERNET_GATEWAY: "igw",
    aws.INTERNET_GATEWAY_ATTACHMENT: "igw",
    aws.VPN_GATEWAY: "vgw",
    aws.NAT_GATEWAY: "nat",
    aws.EGRESS_ONLY_GATEWAY: "eigw",
    aws.TRANSIT_GATEWAY: "tgw",
    aws.SECURITY_GROUP: "sg",
    aws.DEFAULT_SECURITY_GROUP: "sg",
    aws.SECURITY_GROUP_RULE: "sgrule",
    aws.SECURITY_GROUP_INGRESS_RULE: "sgr",
    aws.SECURITY_GROUP_EGRESS_RULE: "sgr",
    aws.FLOW_LOG: "fl",
    aws.MANAGED_PREFIX_LIST: "pl",
    EIP: "eipalloc",
}
# Outputs of a VPC that other resources point at; on an update the engine shows them.
_VPC_OUTPUTS = {"defaultRouteTableId": "rtb", "mainRouteTableId": "rtb", "defaultSecurityGroupId": "sg"}


class IdMode(Enum):
    UNKNOWN = "first preview: ids unknown"
    KNOWN = "update: ids known"
    PLAIN = "plain id strings, no dependencies"


@dataclass(frozen=True)
class Ref:
    """A property value taken from another resource: its id, or another output (`name`, a VPC's
    `defaultRouteTableId`...)."""

    name: str
    attribute: str = "id"

    def attr(self, attribute: str) -> Ref:
        return Ref(self.name, attribute)


@dataclass
class _Resource:
    type: str
    name: str
    props: dict[str, Any]
    custom: bool = True
    depends_on: list[str] = field(default_factory=list)


def _hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:17]


class StackBuilder:
    def __init__(self, project: str = "shop", stack: str = "dev") -> None:
        self.project = project
        self.stack = stack
        self._resources: dict[str, _Resource] = {}

    # --- describing --------------------------------------------------------------------------

    def add(self, resource_type: str, name: str, **props: Any) -> Ref:
        if name in self._resources:
            raise ValueError(f"{name} is already in the stack")
        self._resources[name] = _Resource(resource_type, name, props)
        return Ref(name)

    def set(self, name: str, /, **props: Any) -> None:
        self._resources[name].props.update(props)

    def unset(self, name: str, *keys: str) -> None:
        for key in keys:
            self._resources[name].props.pop(key, None)

    def remove(self, name: str) -> None:
        del self._resources[name]

    def urn(self, name: str) -> str:
        resource = self._resources[name]
        return f"urn:pulumi:{self.stack}::{self.project}::{resource.type}::{name}"

    def known_value(self, ref: Ref) -> str:
        """What the value of `ref` is once the resource exists."""
        resource = self._resources[ref.name]
        if ref.attribute in _VPC_OUTPUTS:
            return f"{_VPC_OUTPUTS[ref.attribute]}-{_hex(ref.name + ref.attribute)}"
        if ref.attribute == "name":
            return resource.props.get("name") or ref.name
        if ref.attribute == "clusterIdentifier":
            return resource.props.get("clusterIdentifier") or ref.name
        if ref.attribute != "id":
            raise ValueError(f"no attribute {ref.attribute} on {ref.name}")
        return self._id(resource)

    def _id(self, resource: _Resource) -> str:
        if resource.type == aws.DB_SUBNET_GROUP:
            return resource.props.get("name") or resource.name
        if resource.type == aws.RDS_CLUSTER:
            return resource.props.get("clusterIdentifier") or resource.name
        prefix = _ID_PREFIXES.get(resource.type)
        return f"{prefix}-{_hex(resource.name)}" if prefix else f"{resource.name}-id"

    # --- rendering ---------------------------------------------------------------------------

    def records(self, mode: IdMode) -> list[ResourceRecord]:
        root = f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{self.project}-{self.stack}"
        records = [
            ResourceRecord(
                urn=root,
                type="pulumi:pulumi:Stack",
                name=f"{self.project}-{self.stack}",
                custom=False,
                properties={},
            )
        ]
        for resource in self._resources.values():
            dependencies: dict[str, tuple[str, ...]] = {}
            properties = {}
            for key, value in resource.props.items():
                sources: list[str] = []
                properties[key] = self._render(value, mode, sources)
                if mode is not IdMode.PLAIN:
                    dependencies[key] = tuple(dict.fromkeys(sources))
            if mode is not IdMode.UNKNOWN and resource.type in aws.VPC_TYPES:
                properties.update({key: self.known_value(Ref(resource.name, key)) for key in _VPC_OUTPUTS})
            all_dependencies = [urn for urns in dependencies.values() for urn in urns]
            all_dependencies += [self.urn(name) for name in resource.depends_on]
            records.append(
                ResourceRecord(
                    urn=self.urn(resource.name),
                    type=resource.type,
                    name=resource.name,
                    custom=resource.custom,
                    properties=properties,
                    parent=root,
                    dependencies=tuple(dict.fromkeys(all_dependencies)),
                    property_dependencies=dependencies,
                    id="" if mode is IdMode.UNKNOWN else self._id(resource),
                )
            )
        return records

    def _render(self, value: Any, mode: IdMode, sources: list[str]) -> Any:
        if isinstance(value, Ref):
            sources.append(self.urn(value.name))
            return UNKNOWN if mode is IdMode.UNKNOWN else self.known_value(value)
        if isinstance(value, dict):
            return {key: self._render(item, mode, sources) for key, item in value.items()}
        if isinstance(value, list):
            return [self._render(item, mode, sources) for item in value]
        return value


# --- the pack's view of records ------------------------------------------------------------------


def stack_nodes(records: Iterable[ResourceRecord]) -> list[Node]:
    """The resources exactly as AnalyzeStack shows them to the pack (through the same protobuf)."""
    return [
        Node(
            urn=item.urn,
            type=item.type,
            name=item.name,
            props=json_format.MessageToDict(item.properties),
            dependencies=tuple(item.dependencies),
            property_dependencies={key: tuple(deps.urns) for key, deps in item.propertyDependencies.items()},
        )
        for item in stack_request(records).resources
    ]


def resource_node(record: ResourceRecord) -> Node:
    """One resource as Analyze shows it to the pack."""
    request = analyze_request(record)
    return Node(
        urn=request.urn,
        type=request.type,
        name=request.name,
        props=json_format.MessageToDict(request.properties),
    )


def run_stack_rule(
    rule: Rule,
    builder: StackBuilder,
    mode: IdMode,
    config: dict[str, Any] | None = None,
    lookups: bool = False,
) -> list[Finding]:
    """The rule's findings; with `lookups`, on the index the pack builds with AWS lookups."""
    nodes = stack_nodes(builder.records(mode))
    index = StackIndex(nodes)
    return rule.run_stack(aws_lookup.looked_up_index(index, nodes) if lookups else index, config)


def run_resource_rule(
    rule: Rule, builder: StackBuilder, mode: IdMode, config: dict[str, Any] | None = None
) -> list[Finding]:
    return [
        finding
        for record in builder.records(mode)
        for finding in rule.run_resource(resource_node(record), config)
    ]


def findings(
    rule_name: str, builder: StackBuilder, mode: IdMode, config: dict[str, Any] | None = None
) -> list[tuple[str, str]]:
    """(urn, message) of what the named rule reports on the stack, run the way its kind runs."""
    rule = RULES_BY_NAME[rule_name]
    run = run_stack_rule if rule.check_stack else run_resource_rule
    return [(finding.urn, finding.message) for finding in run(rule, builder, mode, config)]


# --- a network that every rule accepts -----------------------------------------------------------


def secure_network(
    builder: StackBuilder, prefix: str = "app", zones: tuple[str, ...] = ("us-east-1a", "us-east-1b")
) -> None:
    """A VPC with public subnets (IGW), private subnets (one NAT per AZ), a closed default security
    group, a flow log, an encrypted Multi-AZ database reachable only from the Lambda's group, and the
    Lambda in the private subnets of every AZ."""
    b = builder
    vpc = b.add(
        aws.VPC, f"{prefix}-vpc", cidrBlock="10.0.0.0/16", enableDnsHostnames=True, enableDnsSupport=True
    )
    b.add(aws.DEFAULT_SECURITY_GROUP, f"{prefix}-default-sg", vpcId=vpc)
    b.add(
        aws.FLOW_LOG,
        f"{prefix}-flow-log",
        vpcId=vpc,
        trafficType="ALL",
        logDestinationType="s3",
        logDestination="arn:aws:s3:::flow-logs",
    )
    igw = b.add(aws.INTERNET_GATEWAY, f"{prefix}-igw", vpcId=vpc)
    public_table = b.add(aws.ROUTE_TABLE, f"{prefix}-public-rt", vpcId=vpc)
    b.add(
        aws.ROUTE,
        f"{prefix}-public-default",
        routeTableId=public_table,
        destinationCidrBlock="0.0.0.0/0",
        gatewayId=igw,
    )
    private_subnets = []
    for index, zone in enumerate(zones):
        letter = zone[-1]
        public = b.add(
            aws.SUBNET,
            f"{prefix}-public-{letter}",
            vpcId=vpc,
            cidrBlock=f"10.0.{index}.0/24",
            availabilityZone=zone,
            mapPublicIpOnLaunch=True,
        )
        b.add(
            aws.ROUTE_TABLE_ASSOCIATION,
            f"{prefix}-public-{letter}-rta",
            subnetId=public,
            routeTableId=public_table,
        )
        address = b.add(EIP, f"{prefix}-nat-{letter}-eip", domain="vpc")
        nat = b.add(aws.NAT_GATEWAY, f"{prefix}-nat-{letter}", subnetId=public, allocationId=address)
        private = b.add(
            aws.SUBNET,
            f"{prefix}-private-{letter}",
            vpcId=vpc,
            cidrBlock=f"10.0.{10 + index}.0/24",
            availabilityZone=zone,
        )
        table = b.add(aws.ROUTE_TABLE, f"{prefix}-private-{letter}-rt", vpcId=vpc)
        b.add(
            aws.ROUTE,
            f"{prefix}-private-{letter}-default",
            routeTableId=table,
            destinationCidrBlock="0.0.0.0/0",
            natGatewayId=nat,
        )
        b.add(
            aws.ROUTE_TABLE_ASSOCIATION,
            f"{prefix}-private-{letter}-rta",
            subnetId=private,
            routeTableId=table,
        )
        private_subnets.append(private)
    lambda_group = b.add(
        aws.SECURITY_GROUP,
        f"{prefix}-lambda-sg",
        vpcId=vpc,
        description="Lambda",
        egress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}],
    )
    database_group = b.add(aws.SECURITY_GROUP, f"{prefix}-db-sg", vpcId=vpc, description="Database")
    b.add(
        aws.SECURITY_GROUP_INGRESS_RULE,
        f"{prefix}-db-from-lambda",
        securityGroupId=database_group,
        referencedSecurityGroupId=lambda_group,
        ipProtocol="tcp",
        fromPort=5432,
        toPort=5432,
    )
    subnet_group = b.add(aws.DB_SUBNET_GROUP, f"{prefix}-db-subnets", subnetIds=list(private_subnets))
    b.add(
        aws.RDS_INSTANCE,
        f"{prefix}-db",
        engine="postgres",
        instanceClass="db.t4g.micro",
        allocatedStorage=20,
        dbSubnetGroupName=subnet_group.attr("name"),
        vpcSecurityGroupIds=[database_group],
        storageEncrypted=True,
        multiAz=True,
        publiclyAccessible=False,
        manageMasterUserPassword=True,
        username="app",
    )
    b.add(
        aws.LAMBDA_FUNCTION,
        f"{prefix}-api",
        role="arn:aws:iam::123456789012:role/api",
        runtime="python3.12",
        handler="handler.lambda_handler",
        vpcConfig={"subnetIds": list(private_subnets), "securityGroupIds": [lambda_group]},
    )


def secure_stack(zones: tuple[str, ...] = ("us-east-1a", "us-east-1b")) -> StackBuilder:
    builder = StackBuilder()
    secure_network(builder, zones=zones)
    return builder
