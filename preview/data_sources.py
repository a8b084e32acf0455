"""Offline answers to AWS data sources, keyed by token: one function per data source.

Each answer is shaped like pulumi-aws's result type (the function's `Get...Result` class, camelCase field
names as the engine sends them); tests/test_preview_data_sources.py checks the names against the
installed pulumi_aws. A data source not in `DATA_SOURCES`, or answered None, has an unknown result.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from preview.aws_ids import ACCOUNT_ID, AMI_ID, fake_id, partition_of
from preview.zones import region_zones

DEFAULT_VPC_CIDR = "172.31.0.0/16"  # every region's default VPC (VPC User Guide, "Default VPCs")

# An answer of None: not known offline; the engine is told the result is wholly unknown.
Answer = Callable[[str, Mapping[str, Any]], dict[str, Any] | None]


def _filters(args: Mapping[str, Any]) -> dict[str, list[str]]:
    return {f["name"]: [str(v) for v in f.get("values") or []] for f in args.get("filters") or []}


def _default_vpc_id(region: str) -> str:
    return fake_id("aws:ec2/vpc:Vpc", f"default-{region}")


def _default_subnets(region: str) -> list[dict[str, Any]]:
    """The default VPC's subnets: one public /20 per zone (VPC User Guide, "Default subnets")."""
    vpc_id = _default_vpc_id(region)
    subnets = []
    for index, zone in enumerate(region_zones(region)):
        subnet_id = fake_id("aws:ec2/subnet:Subnet", f"default-{zone.name}")
        subnets.append(
            {
                "id": subnet_id,
                "arn": f"arn:{partition_of(region)}:ec2:{region}:{ACCOUNT_ID}:subnet/{subnet_id}",
                "vpcId": vpc_id,
                "cidrBlock": f"172.31.{index * 16}.0/20",
                "availabilityZone": zone.name,
                "availabilityZoneId": zone.zone_id,
                "availableIpAddressCount": 4091,
                "defaultForAz": True,
                "mapPublicIpOnLaunch": True,
                "assignIpv6AddressOnCreation": False,
                "ipv6Native": False,
                "ownerId": ACCOUNT_ID,
                "state": "available",
                "tags": {},
                "region": region,
            }
        )
    return subnets


_SUBNET_FILTERS = {
    "availability-zone": "availabilityZone",
    "availabilityZone": "availabilityZone",
    "availability-zone-id": "availabilityZoneId",
    "availabilityZoneId": "availabilityZoneId",
    "cidr-block": "cidrBlock",
    "cidrBlock": "cidrBlock",
    "default-for-az": "defaultForAz",
    "defaultForAz": "defaultForAz",
    "map-public-ip-on-launch": "mapPublicIpOnLaunch",
    "subnet-id": "id",
    "vpc-id": "vpcId",
    "state": "state",
}


def _matching_subnets(region: str, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The default subnets the arguments select; filters on tags or unknown names select none."""
    wanted = {_SUBNET_FILTERS.get(name, name): values for name, values in _filters(args).items()}
    for key in (
        "id",
        "vpcId",
        "availabilityZone",
        "availabilityZoneId",
        "cidrBlock",
        "defaultForAz",
        "state",
    ):
        if args.get(key) is not None:
            wanted[key] = [str(args[key])]
    if args.get("tags"):
        return []

    def matches(subnet: dict[str, Any]) -> bool:
        return all(
            json.dumps(subnet.get(key)).strip('"').lower() in [v.lower() for v in values]
            for key, values in wanted.items()
        )

    return [s for s in _default_subnets(region) if matches(s)]


def _get_vpc(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The default VPC when asked for it (or for no VPC in particular); else a VPC of the id asked for, or
    one named after the selectors, with the default VPC's layout as a stand-in."""
    selectors = {k: v for k, v in args.items() if k in ("id", "tags", "filters", "cidrBlock") and v}
    if args.get("default") or not selectors:
        vpc_id = _default_vpc_id(region)
    else:
        vpc_id = args.get("id") or fake_id("aws:ec2/vpc:Vpc", json.dumps(selectors, sort_keys=True))
    main_table = fake_id("aws:ec2/routeTable:RouteTable", f"default-{region}-main")
    return {
        "id": vpc_id,
        "arn": f"arn:{partition_of(region)}:ec2:{region}:{ACCOUNT_ID}:vpc/{vpc_id}",
        "cidrBlock": args.get("cidrBlock") or DEFAULT_VPC_CIDR,
        "cidrBlockAssociations": [
            {
                "associationId": fake_id(
                    "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation", vpc_id
                ),
                "cidrBlock": args.get("cidrBlock") or DEFAULT_VPC_CIDR,
                "state": "associated",
            }
        ],
        "default": vpc_id == _default_vpc_id(region),
        "dhcpOptionsId": fake_id("aws:ec2/vpcDhcpOptions:VpcDhcpOptions", region),
        "enableDnsHostnames": True,
        "enableDnsSupport": True,
        "enableNetworkAddressUsageMetrics": False,
        "instanceTenancy": "default",
        "ipv6AssociationId": "",
        "ipv6CidrBlock": "",
        "mainRouteTableId": main_table,
        "ownerId": ACCOUNT_ID,
        "state": "available",
        "tags": dict(args.get("tags") or {}),
        "region": region,
    }


def _get_subnets(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": region, "ids": [s["id"] for s in _matching_subnets(region, args)], "region": region}


def _get_subnet(region: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    # An id or filter that selects none of the default subnets: a subnet of yours, unknown offline.
    subnets = _matching_subnets(region, args)
    return subnets[0] if subnets else None


def _get_security_group(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    name = args.get("name") or "default"
    group_id = args.get("id") or fake_id("aws:ec2/securityGroup:SecurityGroup", f"{region}-{name}")
    return {
        "id": group_id,
        "arn": f"arn:{partition_of(region)}:ec2:{region}:{ACCOUNT_ID}:security-group/{group_id}",
        "name": name,
        "description": "default VPC security group" if name == "default" else "",
        "vpcId": args.get("vpcId") or _default_vpc_id(region),
        "tags": dict(args.get("tags") or {}),
        "region": region,
    }


def _get_route_table(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The default VPC's main route table: the local route and 0.0.0.0/0 to its internet gateway."""
    table_id = args.get("routeTableId") or fake_id("aws:ec2/routeTable:RouteTable", f"default-{region}-main")
    gateway = fake_id("aws:ec2/internetGateway:InternetGateway", f"default-{region}")
    return {
        "id": table_id,
        "routeTableId": table_id,
        "arn": f"arn:{partition_of(region)}:ec2:{region}:{ACCOUNT_ID}:route-table/{table_id}",
        "vpcId": args.get("vpcId") or _default_vpc_id(region),
        "subnetId": args.get("subnetId") or "",
        "gatewayId": args.get("gatewayId") or "",
        "ownerId": ACCOUNT_ID,
        "routes": [{"cidrBlock": "0.0.0.0/0", "gatewayId": gateway}],
        "associations": [
            {
                "main": True,
                "routeTableAssociationId": fake_id(
                    "aws:ec2/routeTableAssociation:RouteTableAssociation", table_id
                ),
                "routeTableId": table_id,
                "subnetId": "",
                "gatewayId": "",
            }
        ],
        "tags": dict(args.get("tags") or {}),
        "region": region,
    }


def _get_route_tables(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    table = _get_route_table(region, {})
    return {
        "id": region,
        "ids": [table["id"]],
        "vpcId": args.get("vpcId") or table["vpcId"],
        "region": region,
    }


def _get_ami(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """An Amazon Linux 2023 image, arm64 when the filters ask for it."""
    wanted = " ".join(v for values in _filters(args).values() for v in values) + str(
        args.get("nameRegex") or ""
    )
    architecture = "arm64" if "arm64" in wanted else "x86_64"
    name = f"al2023-ami-2023.6.20241212.0-kernel-6.1-{architecture}"
    return {
        "id": AMI_ID,
        "imageId": AMI_ID,
        "arn": f"arn:{partition_of(region)}:ec2:{region}::image/{AMI_ID}",
        "name": name,
        "description": f"Amazon Linux 2023 AMI 2023.6.20241212.0 {architecture} HVM kernel-6.1",
        "architecture": architecture,
        "creationDate": "2024-12-12T21:40:05.000Z",
        "ownerId": "137112412989",
        "imageOwnerAlias": "amazon",
        "imageLocation": f"amazon/{name}",
        "imageType": "machine",
        "hypervisor": "xen",
        "virtualizationType": "hvm",
        "rootDeviceName": "/dev/xvda",
        "rootDeviceType": "ebs",
        "enaSupport": True,
        "bootMode": "uefi-preferred",
        "imdsSupport": "v2.0",
        "platformDetails": "Linux/UNIX",
        "usageOperation": "RunInstances",
        "public": True,
        "state": "available",
        "mostRecent": bool(args.get("mostRecent")),
        "owners": list(args.get("owners") or []),
        "tags": {},
        "region": region,
    }


def _get_caller_identity(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": ACCOUNT_ID,
        "accountId": ACCOUNT_ID,
        "arn": f"arn:{partition_of(region)}:iam::{ACCOUNT_ID}:user/offline-preview",
        "userId": "AIDAOFFLINEPREVIEW0000",
    }


def _get_region(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    name = args.get("region") or args.get("name") or region
    suffix = "amazonaws.com.cn" if partition_of(name) == "aws-cn" else "amazonaws.com"
    return {"id": name, "name": name, "region": name, "endpoint": f"ec2.{name}.{suffix}"}


def _get_partition(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    partition = partition_of(region)
    china = partition == "aws-cn"
    return {
        "id": partition,
        "partition": partition,
        "dnsSuffix": "amazonaws.com.cn" if china else "amazonaws.com",
        "reverseDnsPrefix": "cn.com.amazonaws" if china else "com.amazonaws",
    }


_ZONE_FILTERS = {"zone-name": "name", "zone-id": "zone_id"}


def _get_availability_zones(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The region's zones from preview/zones.py; all of them are available availability zones (no Local
    or Wavelength Zones), so `state` other than "available" and a zone-type filter without
    "availability-zone" select none."""
    zones = list(region_zones(region))
    if args.get("state") not in (None, "available"):
        zones = []
    excluded_names = set(args.get("excludeNames") or [])
    excluded_ids = set(args.get("excludeZoneIds") or [])
    zones = [z for z in zones if z.name not in excluded_names and z.zone_id not in excluded_ids]
    constant = {
        "zone-type": "availability-zone",
        "state": "available",
        "region-name": region,
        "group-name": region,
        "opt-in-status": "opt-in-not-required",
    }
    for name, values in _filters(args).items():
        if name in _ZONE_FILTERS:
            zones = [z for z in zones if getattr(z, _ZONE_FILTERS[name]) in values]
        elif constant.get(name) not in values:
            zones = []
    return {
        "id": region,
        "names": [z.name for z in zones],
        "zoneIds": [z.zone_id for z in zones],
        "groupNames": [region] if zones else [],
        "state": args.get("state"),
        "allAvailabilityZones": args.get("allAvailabilityZones"),
        "excludeNames": sorted(excluded_names),
        "excludeZoneIds": sorted(excluded_ids),
        "region": region,
    }


def _policy_values(values: list[str]) -> str | list[str]:
    # The provider writes a one-element list as a plain string (terraform-provider-aws
    # iam_policy_model.go, policyDecodeConfigStringList).
    return values[0] if len(values) == 1 else values


def _principals(principals: list[Mapping[str, Any]]) -> str | dict[str, Any]:
    if len(principals) == 1 and principals[0].get("type") == "*":
        return "*"
    merged: dict[str, list[str]] = {}
    for principal in principals:
        merged.setdefault(principal["type"], []).extend(principal.get("identifiers") or [])
    return {kind: _policy_values(identifiers) for kind, identifiers in merged.items()}


def _get_policy_document(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The policy JSON as the provider renders it: Version first, then Id and Statement, each statement's
    keys in the order Sid, Effect, Action, NotAction, Resource, NotResource, Principal, NotPrincipal,
    Condition (terraform-provider-aws iam_policy_model.go, IAMPolicyStatement), two-space indent."""
    statements = []
    for statement in args.get("statements") or []:
        rendered: dict[str, Any] = {}
        if statement.get("sid"):
            rendered["Sid"] = statement["sid"]
        rendered["Effect"] = statement.get("effect") or "Allow"
        for key, name in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            if statement.get(key):
                rendered[name] = _policy_values(list(statement[key]))
        for key, name in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            if statement.get(key):
                rendered[name] = _principals(statement[key])
        if statement.get("conditions"):
            conditions: dict[str, dict[str, Any]] = {}
            for condition in statement["conditions"]:
                conditions.setdefault(condition["test"], {})[condition["variable"]] = _policy_values(
                    list(condition.get("values") or [])
                )
            rendered["Condition"] = conditions
        statements.append(rendered)
    document: dict[str, Any] = {"Version": args.get("version") or "2012-10-17"}
    if args.get("policyId"):
        document["Id"] = args["policyId"]
    document["Statement"] = statements
    text = json.dumps(document, indent=2)
    return {
        "id": str(int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)),
        "json": text,
        "minifiedJson": json.dumps(document, separators=(",", ":")),
        "statements": list(args.get("statements") or []),
        "version": document["Version"],
        "policyId": args.get("policyId"),
    }


# A few real types with DescribeInstanceTypes' SupportedArchitectures, and the zone letters that do not
# offer them (us-east-1e, the oldest zone, offers no Graviton).
_INSTANCE_TYPES: dict[str, tuple[list[str], str]] = {
    "t4g.nano": (["arm64"], "e"),
    "t4g.micro": (["arm64"], "e"),
    "a1.medium": (["arm64"], "e"),
    "t3.nano": (["x86_64"], ""),
    "t3.micro": (["x86_64"], ""),
    "t2.micro": (["i386", "x86_64"], ""),
    "mac1.metal": (["x86_64_mac"], "bcdef"),
}
# Other well-formed types stand in for the rest of EC2's catalogue (Graviton families carry a `g`).
_TYPE_PATTERN = re.compile(
    r"^[a-z]+\d+(?P<attributes>[a-z-]*)\.(nano|micro|small|medium|large|\d*xlarge|metal)$"
)


def _instance_type_facts(instance_type: str) -> tuple[list[str], str] | None:
    """Its architectures and the zone letters that do not offer it; None for a type EC2 does not know."""
    if instance_type in _INSTANCE_TYPES:
        return _INSTANCE_TYPES[instance_type]
    match = _TYPE_PATTERN.match(instance_type)
    if match is None:
        return None
    return (["arm64"], "e") if "g" in match["attributes"] else (["x86_64"], "")


def _get_instance_type_offerings(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The instance types the filters name, in the zones (or the region) asked about that offer them."""
    filters = _filters(args)
    location_type = args.get("locationType") or "region"
    zones = region_zones(region)
    locations = [(region, "")]
    if location_type == "availability-zone":
        locations = [(z.name, z.name[-1]) for z in zones]
    elif location_type == "availability-zone-id":
        locations = [(z.zone_id, z.name[-1]) for z in zones]
    locations = [(loc, letter) for loc, letter in locations if loc in filters.get("location", [loc])]
    pairs = []
    for instance_type in filters.get("instance-type", []):
        facts = _instance_type_facts(instance_type)
        if facts is not None:
            pairs += [
                (instance_type, loc) for loc, letter in locations if not letter or letter not in facts[1]
            ]
    return {
        "id": region,
        "instanceTypes": [t for t, _ in pairs],
        "locations": [loc for _, loc in pairs],
        "locationTypes": [location_type] * len(pairs),
        "locationType": location_type,
        "region": region,
    }


def _get_instance_type(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    instance_type = str(args.get("instanceType", ""))
    facts = _instance_type_facts(instance_type)
    if facts is None:
        # EC2's own error for a type it does not know (DescribeInstanceTypes).
        raise ValueError(
            f"InvalidInstanceType: The following supplied instance types do not exist: [{instance_type}]"
        )
    family = instance_type.split(".")[0]
    return {
        "id": instance_type,
        "instanceType": instance_type,
        "currentGeneration": True,
        "supportedArchitectures": facts[0],
        "burstablePerformanceSupported": family.startswith("t"),
        "region": region,
    }


def _get_vpc_endpoint_service(region: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """An AWS service's endpoint service, in every zone, taking endpoint policies."""
    name = str(args.get("serviceName", ""))
    digest = hashlib.sha256(name.encode()).hexdigest()[:17]
    return {
        "id": digest,
        "serviceName": name,
        "serviceId": f"vpce-svc-{digest}",
        "serviceType": args.get("serviceType", "Interface"),
        "owner": "amazon",
        "acceptanceRequired": False,
        "vpcEndpointPolicySupported": True,
        "availabilityZones": [z.name for z in region_zones(region)],
        "baseEndpointDnsNames": [f"{name.rsplit('.', 1)[-1]}.{region}.vpce.amazonaws.com"],
        "supportedIpAddressTypes": ["ipv4"],
        "region": region,
    }


def _get_parameter(region: str, args: Mapping[str, Any]) -> dict[str, Any] | None:
    """AWS's public AMI aliases name an image id; your own parameters are unknown offline."""
    name = str(args.get("name", ""))
    if not (name.startswith("/aws/service/") and "ami" in name):
        return None
    return {"id": name, "name": name, "value": AMI_ID, "type": "String", "insecureValue": AMI_ID}


def _unknown(region: str, args: Mapping[str, Any]) -> None:
    """Your secrets are not readable offline."""


DATA_SOURCES: dict[str, Answer] = {
    "aws:ec2/getVpc:getVpc": _get_vpc,
    "aws:ec2/getSubnets:getSubnets": _get_subnets,
    "aws:ec2/getSubnet:getSubnet": _get_subnet,
    "aws:ec2/getSecurityGroup:getSecurityGroup": _get_security_group,
    "aws:ec2/getRouteTable:getRouteTable": _get_route_table,
    "aws:ec2/getRouteTables:getRouteTables": _get_route_tables,
    "aws:ec2/getAmi:getAmi": _get_ami,
    "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": _get_instance_type_offerings,
    "aws:ec2/getInstanceType:getInstanceType": _get_instance_type,
    "aws:ec2/getVpcEndpointService:getVpcEndpointService": _get_vpc_endpoint_service,
    "aws:index/getCallerIdentity:getCallerIdentity": _get_caller_identity,
    "aws:index/getRegion:getRegion": _get_region,
    "aws:index/getPartition:getPartition": _get_partition,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _get_availability_zones,
    "aws:iam/getPolicyDocument:getPolicyDocument": _get_policy_document,
    "aws:secretsmanager/getSecret:getSecret": _unknown,
    "aws:secretsmanager/getSecretVersion:getSecretVersion": _unknown,
    "aws:ssm/getParameter:getParameter": _get_parameter,
}
