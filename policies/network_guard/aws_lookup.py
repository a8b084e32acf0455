"""What AWS shows of the subnets, route tables, security groups and prefix lists a stack references but
does not manage (ids from another stack, config or `aws.ec2.get_subnets(...)`).

When the pack runs with AWS credentials (a real `pulumi preview`), the ids are read with read-only
describe calls and turned into `Node`s shaped like the resources the stack would hold (a route table
with inline `routes`, its associations, a security group with inline `ingress`), so the rules judge
them with the same code as managed ones. Each region is read whole or not at all: an API error, a
missing permission, no credentials or a spent time budget leave the ids unresolved, and the rules
report them as the advisory they were. Results are cached for the life of the pack process, which
is one preview.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from . import aws_types as aws
from .graph import Node, StackIndex, declared_region, is_unknown

# Where a resource names ids this stack may not manage, by the id's prefix.
_REFERENCE_KEYS: dict[str, tuple[str, ...]] = {
    aws.DB_SUBNET_GROUP: ("subnetIds",),
    aws.LAMBDA_FUNCTION: ("vpcConfig",),
    aws.RDS_INSTANCE: ("vpcSecurityGroupIds",),
    aws.RDS_CLUSTER: ("vpcSecurityGroupIds",),
    aws.ROUTE_TABLE_ASSOCIATION: ("subnetId", "routeTableId"),
    aws.NAT_GATEWAY: ("subnetId",),
    aws.SECURITY_GROUP: ("ingress",),
    aws.SECURITY_GROUP_RULE: ("securityGroupId", "prefixListIds"),
    aws.SECURITY_GROUP_INGRESS_RULE: ("securityGroupId", "prefixListId"),
}
_KINDS = {"subnet-": "subnet", "rtb-": "route-table", "sg-": "security-group", "pl-": "prefix-list"}
# Bounds: a preview must never wait long on AWS (botocore Config: connect/read timeouts, retries).
CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 5
MAX_ATTEMPTS = 2
BUDGET_S = 20.0
_LOOKUP_URN = "urn:aws-lookup"
# EC2 route target fields (DescribeRouteTables Route) -> the inline route keys of aws.ec2.RouteTable.
_ROUTE_TARGETS = {
    "GatewayId": "gatewayId",
    "NatGatewayId": "natGatewayId",
    "TransitGatewayId": "transitGatewayId",
    "VpcPeeringConnectionId": "vpcPeeringConnectionId",
    "EgressOnlyInternetGatewayId": "egressOnlyGatewayId",
    "CarrierGatewayId": "carrierGatewayId",
    "LocalGatewayId": "localGatewayId",
    "NetworkInterfaceId": "networkInterfaceId",
    "CoreNetworkArn": "coreNetworkArn",
}


class Unreadable(Exception):
    """Why a region could not be read; it never leaves this module (the ids stay doubts)."""


def referenced_ids(nodes: Iterable[Node], index: StackIndex) -> dict[str, set[str]]:
    """Region -> the known ids of subnets, route tables, security groups and prefix lists that the
    stack's resources name and no resource of the stack has."""
    by_region: dict[str, set[str]] = {}
    for node in nodes:
        keys = _REFERENCE_KEYS.get(node.type)
        if not keys:
            continue
        found = [value for key in keys for value in _strings(node.props.get(key))]
        wanted = [value for value in found if value.startswith(tuple(_KINDS)) and not index.find_any(value)]
        if wanted:
            by_region.setdefault(region_of(node), set()).update(wanted)
    return by_region


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        if value and not is_unknown(value):
            yield value
    elif depth < 3 and isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)
    elif depth < 3 and isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item, depth + 1)


def region_of(node: Node) -> str:
    """The region a resource lives in: its own `region` (pulumi-aws 7), else its provider's, else the
    environment's (empty: boto3 decides)."""
    return declared_region(node) or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or ""


# (region, ids) -> the nodes read, or why the region could not be read.
_CACHE: dict[tuple[str, frozenset[str]], list[Node] | str] = {}
_CACHE_LOCK = threading.Lock()


def forget() -> None:
    """Drop what was looked up (the cache lives as long as the pack process, one preview)."""
    with _CACHE_LOCK:
        _CACHE.clear()


def nodes_for_unmanaged(index: StackIndex, nodes: Iterable[Node]) -> list[Node]:
    """Nodes for what AWS shows of the unmanaged ids the stack references; empty when there are none,
    no credentials, or AWS could not be read."""
    return _look_up(index, nodes)[0]


def _look_up(index: StackIndex, nodes: Iterable[Node]) -> tuple[list[Node], list[str]]:
    """The nodes read, and for each region that could not be read, why."""
    wanted = referenced_ids(nodes, index)
    deadline = time.monotonic() + BUDGET_S
    looked_up: list[Node] = []
    failures: list[str] = []
    for region, ids in sorted(wanted.items()):
        key = (region, frozenset(ids))
        with _CACHE_LOCK:
            cached = _CACHE.get(key)
        if cached is None:
            try:
                cached = _read_region(region, ids, deadline)
            except Unreadable as error:
                cached = str(error)
            except Exception as error:  # whatever AWS or botocore raises, the preview goes on, with the doubt
                cached = f"{type(error).__name__}: {error}"
            with _CACHE_LOCK:
                _CACHE[key] = cached
        if isinstance(cached, str):
            failures.append(f"{region or 'no region'}: {cached}")
        else:
            looked_up.extend(node for node in cached if not index.find_any(node.props["id"]))
    return looked_up, failures


def looked_up_index(plain: StackIndex, nodes: list[Node]) -> StackIndex:
    """The stack's index with what AWS shows of its unmanaged references (`plain` itself if there are
    none), and in `lookup_note` why AWS could not be read where it could not."""
    looked_up, failures = _look_up(plain, nodes)
    if not looked_up and not failures:
        return plain
    index = StackIndex(nodes + looked_up)
    index.lookup_note = "; ".join(failures)
    return index


def _client(region: str, deadline: float) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as error:
        raise Unreadable("boto3 is not installed") from error
    session = boto3.Session(region_name=region or None)  # a missing AWS_PROFILE raises here: no lookups
    if session.region_name is None:
        raise Unreadable("no region: set aws:region or AWS_REGION")
    if session.get_credentials() is None or time.monotonic() > deadline:
        raise Unreadable("no AWS credentials")
    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    return session.client("ec2", config=config)


def _call(deadline: float, method: Any, **kwargs: Any) -> list[dict[str, Any]]:
    """Every page of one describe call, within the time budget."""
    from botocore.exceptions import BotoCoreError, ClientError

    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        if time.monotonic() > deadline:
            raise Unreadable("the time budget for AWS lookups is spent")
        try:
            page = method(**kwargs, **({"NextToken": token} if token else {}))
        except (BotoCoreError, ClientError) as error:
            raise Unreadable(str(error)) from error
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            return pages


def _read_region(region: str, ids: set[str], deadline: float) -> list[Node]:
    ec2 = _client(region, deadline)
    by_kind: dict[str, list[str]] = {kind: [] for kind in _KINDS.values()}
    for identity in sorted(ids):
        by_kind[next(kind for prefix, kind in _KINDS.items() if identity.startswith(prefix))].append(identity)
    nodes: list[Node] = []
    subnets = _describe(ec2, deadline, "describe_subnets", "Subnets", "subnet-id", by_kind["subnet"])
    for subnet in subnets:
        nodes.append(
            _node(
                aws.SUBNET,
                subnet["SubnetId"],
                region,
                vpcId=subnet.get("VpcId"),
                availabilityZone=subnet.get("AvailabilityZone"),
                availabilityZoneId=subnet.get("AvailabilityZoneId"),
                cidrBlock=subnet.get("CidrBlock"),
                mapPublicIpOnLaunch=subnet.get("MapPublicIpOnLaunch", False),
            )
        )
    vpc_ids = sorted({subnet["VpcId"] for subnet in subnets if subnet.get("VpcId")})
    tables = _describe(
        ec2, deadline, "describe_route_tables", "RouteTables", "route-table-id", by_kind["route-table"]
    )
    if subnets:
        tables += _describe(
            ec2,
            deadline,
            "describe_route_tables",
            "RouteTables",
            "association.subnet-id",
            [s["SubnetId"] for s in subnets],
        )
    if vpc_ids:
        # Every VPC has exactly one main table: it routes each subnet with no explicit association.
        tables += _describe(
            ec2,
            deadline,
            "describe_route_tables",
            "RouteTables",
            "vpc-id",
            vpc_ids,
            [{"Name": "association.main", "Values": ["true"]}],
        )
    nodes.extend(_route_table_nodes(tables, region))
    nodes.extend(_node(aws.VPC, vpc_id, region) for vpc_id in vpc_ids)
    groups = _describe(
        ec2, deadline, "describe_security_groups", "SecurityGroups", "group-id", by_kind["security-group"]
    )
    prefix_lists = set(by_kind["prefix-list"])
    for group in groups:
        ingress = [_ingress(permission) for permission in group.get("IpPermissions", [])]
        prefix_lists.update(pl for rule in ingress for pl in rule["prefixListIds"])
        nodes.append(
            _node(aws.SECURITY_GROUP, group["GroupId"], region, vpcId=group.get("VpcId"), ingress=ingress)
        )
    for prefix_list in sorted(prefix_lists):
        pages = _call(deadline, ec2.get_managed_prefix_list_entries, PrefixListId=prefix_list)
        entries = [{"cidr": entry["Cidr"]} for page in pages for entry in page.get("Entries", [])]
        nodes.append(_node(aws.MANAGED_PREFIX_LIST, prefix_list, region, entries=entries))
    return nodes


def _describe(
    ec2: Any,
    deadline: float,
    method: str,
    field: str,
    filter_name: str,
    values: list[str],
    extra: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    # A filter, not SubnetIds=[...]: an id AWS does not know then drops out instead of failing the call.
    if not values:
        return []
    filters = [{"Name": filter_name, "Values": values}, *(extra or [])]
    pages = _call(deadline, getattr(ec2, method), Filters=filters)
    return [item for page in pages for item in page.get(field, [])]


def _route_table_nodes(tables: list[dict[str, Any]], region: str) -> Iterator[Node]:
    seen: set[str] = set()
    for table in tables:
        table_id = table["RouteTableId"]
        if table_id in seen:
            continue
        seen.add(table_id)
        routes = []
        for route in table.get("Routes", []):
            if route.get("State") == "blackhole":
                continue  # its target is gone: it carries no traffic
            entry = {
                "cidrBlock": route.get("DestinationCidrBlock"),
                "ipv6CidrBlock": route.get("DestinationIpv6CidrBlock"),
                "destinationPrefixListId": route.get("DestinationPrefixListId"),
            }
            entry.update({key: route[field] for field, key in _ROUTE_TARGETS.items() if route.get(field)})
            routes.append({key: value for key, value in entry.items() if value is not None})
        yield _node(aws.ROUTE_TABLE, table_id, region, vpcId=table.get("VpcId"), routes=routes)
        for association in table.get("Associations", []):
            if association.get("AssociationState", {}).get("State", "associated") != "associated":
                continue
            name = association.get("RouteTableAssociationId") or f"{table_id}-association"
            if association.get("Main"):
                yield _node(
                    aws.MAIN_ROUTE_TABLE_ASSOCIATION,
                    name,
                    region,
                    vpcId=table.get("VpcId"),
                    routeTableId=table_id,
                )
            elif association.get("SubnetId"):
                yield _node(
                    aws.ROUTE_TABLE_ASSOCIATION,
                    name,
                    region,
                    subnetId=association["SubnetId"],
                    routeTableId=table_id,
                )


def _ingress(permission: Mapping[str, Any]) -> dict[str, Any]:
    """One IpPermission as an inline ingress rule of aws.ec2.SecurityGroup."""
    protocol = str(permission.get("IpProtocol", "-1"))
    return {
        "protocol": protocol,
        "fromPort": permission.get("FromPort", 0),
        "toPort": permission.get("ToPort", 0),
        "cidrBlocks": [item["CidrIp"] for item in permission.get("IpRanges", [])],
        "ipv6CidrBlocks": [item["CidrIpv6"] for item in permission.get("Ipv6Ranges", [])],
        "prefixListIds": [item["PrefixListId"] for item in permission.get("PrefixListIds", [])],
        "securityGroups": [
            item["GroupId"] for item in permission.get("UserIdGroupPairs", []) if "GroupId" in item
        ],
    }


def _node(resource_type: str, identity: str, region: str, **props: Any) -> Node:
    return Node(
        urn=f"{_LOOKUP_URN}:{region}:{identity}",
        type=resource_type,
        name=f"{identity} (read from AWS)",
        props={"id": identity, **{key: value for key, value in props.items() if value is not None}},
    )
