"""Small queries over a StackRun's records, for assertions that name the URN when they fail."""

from __future__ import annotations

from preview.engine import StackRun
from preview.model import ResourceRecord

SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
ROUTE = "aws:ec2/route:Route"
ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def referenced(run: StackRun, record: ResourceRecord, prop: str) -> list[ResourceRecord]:
    """The resources whose outputs feed `record`'s property `prop`."""
    by_urn = run.by_urn()
    return [by_urn[urn] for urn in record.property_dependencies.get(prop, ())]


def the_one(records: list[ResourceRecord], what: str) -> ResourceRecord:
    assert len(records) == 1, f"expected one {what}, found {[r.urn for r in records]}"
    return records[0]


def tier_of(record: ResourceRecord) -> str:
    return record.properties.get("tags", {}).get("zappa-vpc:tier", "")


def route_table_of(run: StackRun, subnet: ResourceRecord) -> ResourceRecord:
    associations = [a for a in run.of_type(ASSOCIATION) if referenced(run, a, "subnetId") == [subnet]]
    association = the_one(associations, f"route table association for {subnet.urn}")
    return the_one(referenced(run, association, "routeTableId"), f"route table of {subnet.urn}")


def default_routes(run: StackRun, table: ResourceRecord) -> list[ResourceRecord]:
    return [
        route
        for route in run.of_type(ROUTE)
        if referenced(run, route, "routeTableId") == [table]
        and route.properties.get("destinationCidrBlock") == "0.0.0.0/0"
    ]


# The hybrid and internal samples point their VPN at a placeholder and refuse to deploy; a run that plays
# an update (preview=False) gives them a public address instead.
DEPLOYABLE_VPN = {"zappa-vpc:vpnCustomerGatewayIp": "192.0.32.10", "zappa-vpc:vpnPlaceholderGatewayIp": None}


def as_deployed(stack: str) -> dict[str, object] | None:
    return DEPLOYABLE_VPN if stack in ("hybrid", "internal") else None
