"""What a stack's network looks like, read from its preview records: the model the picture draws.

Everything comes from the registrations: a subnet's AZ, CIDR and tier (its `zappa-vpc:tier` tag), and
what sits in which subnet through property dependencies (a NAT gateway's `subnetId`, a database's
subnet group's `subnetIds`), which the engine records even while every id is still unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from preview.model import UNKNOWN, ResourceRecord

TIER_TAG = "zappa-vpc:tier"
TIER_ORDER = ("public", "private", "data")
UNTAGGED_TIER = "untagged"
# Where Zappa's functions run: the tier the Lambda security group is drawn over, first one present wins.
LAMBDA_TIERS = ("private", "public")

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
VPN_GATEWAY = "aws:ec2/vpnGateway:VpnGateway"
CUSTOMER_GATEWAY = "aws:ec2/customerGateway:CustomerGateway"
VPN_CONNECTION = "aws:ec2/vpnConnection:VpnConnection"
VPN_CONNECTION_ROUTE = "aws:ec2/vpnConnectionRoute:VpnConnectionRoute"
VPN_ROUTE_PROPAGATION = "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
MAIN_ROUTE_TABLE_ASSOCIATION = "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
INSTANCE = "aws:ec2/instance:Instance"
AUTO_SCALING_GROUP = "aws:autoscaling/group:Group"
S3_BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
VPC_ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
DB_INSTANCE = "aws:rds/instance:Instance"
DB_CLUSTER = "aws:rds/cluster:Cluster"
DB_PROXY = "aws:rds/proxy:Proxy"
LAMBDA_FUNCTION = "aws:lambda/function:Function"

_DEFAULT_ROUTES = ("0.0.0.0/0", "::/0")

# Friendlier names for the endpoint services a Zappa app typically reaches privately.
_SERVICE_NAMES = {
    "s3": "S3",
    "dynamodb": "DynamoDB",
    "secretsmanager": "Secrets Manager",
    "ssm": "Systems Manager",
    "ssmmessages": "SSM messages",
    "ec2messages": "EC2 messages",
    "logs": "CloudWatch Logs",
    "monitoring": "CloudWatch",
    "sqs": "SQS",
    "sns": "SNS",
    "kms": "KMS",
    "sts": "STS",
    "rds": "RDS API",
    "execute-api": "API Gateway",
    "lambda": "Lambda API",
    "events": "EventBridge",
}


@dataclass(frozen=True)
class SubnetView:
    urn: str
    name: str
    availability_zone: str
    tier: str
    cidr: str
    internet_route: str
    corporate_route: bool


@dataclass(frozen=True)
class Placement:
    """Something that lives in subnets: one subnet for a NAT or an instance, several for a database."""

    kind: str  # nat | bastion | instance | workers | database | proxy | lambda | lambda-group
    label: str
    detail: str
    subnet_urns: tuple[str, ...]


@dataclass(frozen=True)
class EndpointView:
    """A VPC endpoint, or (with `reached`) a bucket whose policy admits data only through an endpoint."""

    service: str
    endpoint_type: str
    tiers: tuple[str, ...]
    reached: str = ""


@dataclass(frozen=True)
class VpnView:
    gateway_name: str
    customer_gateway: str
    tunnel: str
    corporate_cidrs: tuple[str, ...]


@dataclass(frozen=True)
class NetworkView:
    stack: str
    pattern: str
    vpc_name: str
    vpc_cidr: str
    region: str
    availability_zones: tuple[str, ...]
    tiers: tuple[str, ...]
    subnets: tuple[SubnetView, ...]
    placements: tuple[Placement, ...]
    endpoints: tuple[EndpointView, ...]
    internet_gateway: str
    vpn: VpnView | None
    flow_logs: bool

    def subnet(self, availability_zone: str, tier: str) -> list[SubnetView]:
        return [s for s in self.subnets if s.availability_zone == availability_zone and s.tier == tier]


def _known(value: Any, fallback: str = "?") -> str:
    return fallback if value in (None, "", UNKNOWN) else str(value)


class _Records:
    """The records indexed by URN and type, with the link-following the view needs."""

    def __init__(self, records: Iterable[ResourceRecord]) -> None:
        self.all = list(records)
        self.by_urn = {r.urn: r for r in self.all}

    def of_type(self, *resource_types: str) -> list[ResourceRecord]:
        return [r for r in self.all if r.type in resource_types]

    def linked(self, record: ResourceRecord, *properties: str) -> list[ResourceRecord]:
        """The recorded resources whose outputs fed `properties` of `record`."""
        urns = [urn for prop in properties for urn in record.property_dependencies.get(prop, ())]
        return [self.by_urn[urn] for urn in dict.fromkeys(urns) if urn in self.by_urn]

    def linking_to(self, target: ResourceRecord, resource_type: str, prop: str) -> list[ResourceRecord]:
        """The resources of `resource_type` whose `prop` came from `target`."""
        return [r for r in self.of_type(resource_type) if target.urn in r.property_dependencies.get(prop, ())]

    def subnets_of(self, record: ResourceRecord, *properties: str) -> tuple[str, ...]:
        """Subnet URNs behind `properties`, looking through a DB subnet group to its subnets."""
        found: list[str] = []
        for linked in self.linked(record, *properties):
            if linked.type == SUBNET:
                found.append(linked.urn)
            elif linked.type == DB_SUBNET_GROUP:
                found += [s.urn for s in self.linked(linked, "subnetIds") if s.type == SUBNET]
        return tuple(dict.fromkeys(found))


def _tier(subnet: ResourceRecord) -> str:
    tags = subnet.properties.get("tags") or {}
    tier = tags.get(TIER_TAG) if isinstance(tags, dict) else None
    return tier if isinstance(tier, str) and tier and tier != UNKNOWN else UNTAGGED_TIER


def _route_targets(index: _Records, table: ResourceRecord) -> list[tuple[str, ResourceRecord]]:
    """(destination, target resource) for each route of a table, inline or as `aws.ec2.Route`."""
    routes: list[tuple[str, ResourceRecord]] = []
    for route in index.linking_to(table, ROUTE, "routeTableId"):
        destination = _known(
            route.properties.get("destinationCidrBlock") or route.properties.get("destinationIpv6CidrBlock")
        )
        routes += [(destination, target) for target in index.linked(route, "gatewayId", "natGatewayId")]
    inline = table.properties.get("routes")
    targets = index.linked(table, "routes")
    if isinstance(inline, list):
        for entry in inline:
            if not isinstance(entry, dict):
                continue
            destination = _known(entry.get("cidrBlock") or entry.get("ipv6CidrBlock"))
            wanted = (NAT_GATEWAY,) if "natGatewayId" in entry else (INTERNET_GATEWAY, VPN_GATEWAY)
            candidates = [t for t in targets if t.type in wanted]
            # One inline list names all its targets together; a default route prefers the internet gateway.
            candidates.sort(key=lambda t: (destination in _DEFAULT_ROUTES) != (t.type == INTERNET_GATEWAY))
            routes += [(destination, candidates[0])] if candidates else []
    return routes


def _route_table_of(index: _Records, subnet: ResourceRecord) -> ResourceRecord | None:
    for association in index.linking_to(subnet, ROUTE_TABLE_ASSOCIATION, "subnetId"):
        tables = index.linked(association, "routeTableId")
        if tables:
            return tables[0]
    # Without an explicit association a subnet uses its VPC's main route table.
    for association in index.of_type(MAIN_ROUTE_TABLE_ASSOCIATION):
        tables = index.linked(association, "routeTableId")
        if tables:
            return tables[0]
    defaults = index.of_type(DEFAULT_ROUTE_TABLE)
    return defaults[0] if defaults else None


def _az_letter(availability_zone: str) -> str:
    return availability_zone[-1:] if availability_zone and availability_zone != "?" else "?"


def _subnet_view(index: _Records, subnet: ResourceRecord) -> SubnetView:
    table = _route_table_of(index, subnet)
    routes = _route_targets(index, table) if table else []
    internet_route = "no internet route"
    for destination, target in routes:
        if destination not in _DEFAULT_ROUTES:
            continue
        if target.type == INTERNET_GATEWAY:
            internet_route = f"{destination} → internet gateway"
        elif target.type == NAT_GATEWAY:
            nat_subnets = [index.by_urn[u] for u in index.subnets_of(target, "subnetId")]
            zone = _known(nat_subnets[0].properties.get("availabilityZone")) if nat_subnets else "?"
            internet_route = f"{destination} → NAT gateway ({_az_letter(zone)})"
    propagated = table is not None and bool(index.linking_to(table, VPN_ROUTE_PROPAGATION, "routeTableId"))
    return SubnetView(
        urn=subnet.urn,
        name=subnet.name,
        availability_zone=_known(subnet.properties.get("availabilityZone")),
        tier=_tier(subnet),
        cidr=_known(subnet.properties.get("cidrBlock")),
        internet_route=internet_route,
        corporate_route=propagated or any(target.type == VPN_GATEWAY for _, target in routes),
    )


def _database_label(record: ResourceRecord) -> tuple[str, str]:
    engine = _known(record.properties.get("engine"), "database")
    if record.type == DB_CLUSTER:
        return f"Aurora cluster ({engine})", _known(record.properties.get("engineMode"), "provisioned")
    detail = _known(record.properties.get("instanceClass"), "")
    if record.properties.get("multiAz") is True:
        detail = f"{detail} · Multi-AZ".strip(" ·")
    return f"RDS {engine}", detail


def _placements(index: _Records, subnets: Sequence[SubnetView]) -> list[Placement]:
    placements: list[Placement] = []
    for nat in index.of_type(NAT_GATEWAY):
        kind = "private NAT" if nat.properties.get("connectivityType") == "private" else "NAT gateway"
        placements.append(Placement("nat", kind, "", index.subnets_of(nat, "subnetId")))
    for instance in index.of_type(INSTANCE):
        is_bastion = "bastion" in instance.name.lower()
        access = "SSH allowlist" if _opens_ssh(index, instance) else "SSM only"
        placements.append(
            Placement(
                "bastion" if is_bastion else "instance",
                "Bastion" if is_bastion else instance.name,
                f"{_known(instance.properties.get('instanceType'), '')} · {access}".strip(" ·"),
                index.subnets_of(instance, "subnetId"),
            )
        )
    templates = {t.properties.get("name"): t for t in index.of_type(LAUNCH_TEMPLATE)}
    for group in index.of_type(AUTO_SCALING_GROUP):
        reference = group.properties.get("launchTemplate")
        template = templates.get(reference.get("name")) if isinstance(reference, Mapping) else None
        instance_type = _known(template.properties.get("instanceType"), "") if template else ""
        size = (
            f"{_count(group.properties.get('minSize'))}-{_count(group.properties.get('maxSize'))} instances"
        )
        placements.append(
            Placement(
                "workers",
                "EC2 workers",
                " · ".join(part for part in (instance_type, size, "Auto Scaling") if part),
                index.subnets_of(group, "vpcZoneIdentifiers"),
            )
        )
    for database in index.of_type(DB_INSTANCE, DB_CLUSTER):
        if database.type == DB_INSTANCE and database.properties.get("clusterIdentifier"):
            continue  # an Aurora member: its cluster is drawn
        label, detail = _database_label(database)
        placements.append(
            Placement("database", label, detail, index.subnets_of(database, "dbSubnetGroupName"))
        )
    for proxy in index.of_type(DB_PROXY):
        placements.append(
            Placement("proxy", "RDS Proxy", proxy.name, index.subnets_of(proxy, "vpcSubnetIds"))
        )
    for function in index.of_type(LAMBDA_FUNCTION):
        placements.append(
            Placement("lambda", f"λ {function.name}", "", index.subnets_of(function, "vpcConfig"))
        )
    lambda_groups = [g for g in index.of_type(SECURITY_GROUP) if _is_lambda_group(g)]
    lambda_tier = next((t for t in LAMBDA_TIERS if any(s.tier == t for s in subnets)), None)
    if lambda_groups and lambda_tier:
        tier_subnets = tuple(s.urn for s in subnets if s.tier == lambda_tier)
        names = ", ".join(g.name for g in lambda_groups)
        placements.append(
            Placement("lambda-group", "Zappa Lambda functions", f"security group {names}", tier_subnets)
        )
    return placements


def _count(value: Any) -> str:
    # Struct numbers arrive as floats.
    return str(int(value)) if isinstance(value, int | float) and not isinstance(value, bool) else "?"


def _admits_port(rule: Mapping[str, Any], port: int) -> bool:
    protocol = str(rule.get("ipProtocol") or rule.get("protocol") or "")
    if protocol in ("-1", "all"):
        return True
    low, high = rule.get("fromPort"), rule.get("toPort")
    # Struct numbers arrive as floats.
    return isinstance(low, (int, float)) and isinstance(high, (int, float)) and low <= port <= high


def _opens_ssh(index: _Records, instance: ResourceRecord) -> bool:
    """Whether any security group of the instance admits TCP 22, inline or as a separate ingress rule."""
    for group in index.linked(instance, "vpcSecurityGroupIds", "securityGroups"):
        inline = group.properties.get("ingress")
        rules = [r for r in inline if isinstance(r, dict)] if isinstance(inline, list) else []
        rules += [r.properties for r in index.linking_to(group, INGRESS_RULE, "securityGroupId")]
        if any(_admits_port(rule, 22) for rule in rules):
            return True
    return False


def _is_lambda_group(group: ResourceRecord) -> bool:
    # The group the Lambda network component makes; by name for groups made elsewhere. Not by description:
    # a database's group says it admits the Lambda.
    parent_type = group.parent.split("::")[2].split("$")[-1] if group.parent.count("::") >= 3 else ""
    return parent_type.endswith(":LambdaNetwork") or "lambda" in group.name.lower()


def _endpoint_views(index: _Records, subnets: Mapping[str, SubnetView]) -> list[EndpointView]:
    views = []
    for endpoint in index.of_type(VPC_ENDPOINT):
        service = _known(endpoint.properties.get("serviceName")).rsplit(".", 1)[-1]
        tiers = {subnets[u].tier for u in index.subnets_of(endpoint, "subnetIds") if u in subnets}
        views.append(
            EndpointView(
                service=_SERVICE_NAMES.get(service, service),
                endpoint_type=_known(endpoint.properties.get("vpcEndpointType"), "Gateway").lower(),
                tiers=tuple(t for t in (*TIER_ORDER, UNTAGGED_TIER) if t in tiers),
            )
        )
    for bucket in index.of_type(S3_BUCKET):
        policies = index.linking_to(bucket, BUCKET_POLICY, "bucket")
        if any(r.type == VPC_ENDPOINT for policy in policies for r in index.linked(policy, "policy")):
            views.append(EndpointView("App bucket", "S3 bucket", (), reached="data via the S3 endpoint"))
    return views


def _vpn_view(index: _Records) -> VpnView | None:
    gateways = index.of_type(VPN_GATEWAY)
    if not gateways:
        return None
    customer_gateway = "no customer gateway"
    tunnel = "no VPN connection"
    cidrs: list[str] = []
    for connection in index.of_type(VPN_CONNECTION):
        static = connection.properties.get("staticRoutesOnly") is True
        for customer in index.linked(connection, "customerGatewayId"):
            customer_gateway = _known(customer.properties.get("ipAddress"))
            if not static:  # with static routes AWS still wants an ASN, but nothing uses it
                asn = customer.properties.get("bgpAsn") or customer.properties.get("bgpAsnExtended")
                customer_gateway += f" · BGP ASN {_known(asn)}"
        tunnel = "Site-to-Site VPN, static routes" if static else "Site-to-Site VPN, BGP"
        for route in index.linking_to(connection, VPN_CONNECTION_ROUTE, "vpnConnectionId"):
            cidrs.append(_known(route.properties.get("destinationCidrBlock")))
    for route in index.of_type(ROUTE):
        if any(t.type == VPN_GATEWAY for t in index.linked(route, "gatewayId")):
            cidrs.append(_known(route.properties.get("destinationCidrBlock")))
    return VpnView(gateways[0].name, customer_gateway, tunnel, tuple(dict.fromkeys(cidrs)))


def _pattern_name(index: _Records) -> str:
    """The type of the component that owns the VPC (ours: the pattern), else of the first component."""
    owners = {r.urn: r for r in index.all if not r.custom and r.type != "pulumi:pulumi:Stack"}
    vpc_owners = [owners[v.parent] for v in index.of_type("aws:ec2/vpc:Vpc") if v.parent in owners]
    candidates = vpc_owners or list(owners.values())
    return candidates[0].type.rsplit(":", 1)[-1] if candidates else ""


def describe_network(records: Iterable[ResourceRecord], stack: str) -> NetworkView:
    """The network of one stack as the picture shows it; empty parts when the stack has no VPC."""
    index = _Records(records)
    vpcs = index.of_type(VPC)
    subnet_views = [_subnet_view(index, s) for s in index.of_type(SUBNET)]
    zones = tuple(sorted({s.availability_zone for s in subnet_views}))
    present = {s.tier for s in subnet_views}
    tiers = tuple(t for t in TIER_ORDER if t in present) + tuple(sorted(present - set(TIER_ORDER)))
    gateways = index.of_type(INTERNET_GATEWAY)
    known_zones = [z for z in zones if z != "?"]
    return NetworkView(
        stack=stack,
        pattern=_pattern_name(index),
        vpc_name=vpcs[0].name if vpcs else "",
        vpc_cidr=_known(vpcs[0].properties.get("cidrBlock")) if vpcs else "",
        region=known_zones[0][:-1] if known_zones else "",
        availability_zones=zones,
        tiers=tiers,
        subnets=tuple(subnet_views),
        placements=tuple(_placements(index, subnet_views)),
        endpoints=tuple(_endpoint_views(index, {s.urn: s for s in subnet_views})),
        internet_gateway=gateways[0].name if gateways else "",
        vpn=_vpn_view(index),
        flow_logs=bool(index.of_type(FLOW_LOG)),
    )
