"""Mock AWS provider for the offline preview and the tests.

On a preview (`preview=True`) every new resource gets an unknown id and no computed outputs, exactly as
on a first `pulumi preview`. With `preview=False` it plays an update: ids and the computed outputs the
program reads are known, shaped like AWS's, so the same program and policy pack can be checked both ways.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pulumi

# Id prefixes AWS uses, so that "known id" runs look like the real thing to the policy pack.
_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/vpnGateway:VpnGateway": "vgw",
    "aws:ec2/customerGateway:CustomerGateway": "cgw",
    "aws:ec2/vpnConnection:VpnConnection": "vpn",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/instance:Instance": "i",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
}

_ACCOUNT_ID = "123456789012"
_AMI_ID = "ami-0123456789abcdef0"


def _fake_id(resource_type: str, name: str) -> str:
    digest = hashlib.sha256(f"{resource_type}/{name}".encode()).hexdigest()[:17]
    prefix = _ID_PREFIXES.get(resource_type)
    return f"{prefix}-{digest}" if prefix else f"{name}-id"


class AwsMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and the few data-source calls a network program makes."""

    def __init__(self, region: str, preview: bool) -> None:
        self.region = region
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        if self.preview or not args.custom:
            # First preview: the engine knows only what the program gave it. Components have no id.
            return "", dict(args.inputs)
        resource_id = _fake_id(args.typ, args.name)
        return resource_id, {**args.inputs, **self._computed_outputs(args, resource_id)}

    def _computed_outputs(self, args: pulumi.runtime.MockResourceArgs, resource_id: str) -> dict[str, Any]:
        arn_base = f"arn:aws:{args.typ.split(':')[1].split('/')[0]}:{self.region}:{_ACCOUNT_ID}"
        outputs: dict[str, Any] = {"arn": f"{arn_base}:{resource_id}"}
        if args.typ == "aws:rds/instance:Instance":
            secret_base = f"arn:aws:secretsmanager:{self.region}:{_ACCOUNT_ID}"
            host = f"{args.name}.c0ffee.{self.region}.rds.amazonaws.com"
            outputs |= {
                "identifier": args.inputs.get("identifier") or args.name,
                "address": host,
                "endpoint": f"{host}:{args.inputs.get('port', 5432)}",
                "masterUserSecrets": [{"secretArn": f"{secret_base}:secret:rds!{args.name}"}],
            }
        if args.typ == "aws:ec2/vpc:Vpc":
            # AWS creates a main route table and a default security group with every VPC.
            main_table = _fake_id("aws:ec2/routeTable:RouteTable", f"{args.name}-main")
            outputs |= {
                "defaultRouteTableId": main_table,
                "mainRouteTableId": main_table,
                "defaultSecurityGroupId": _fake_id(
                    "aws:ec2/securityGroup:SecurityGroup", f"{args.name}-default"
                ),
            }
        if (
            args.typ == "aws:ec2/vpcEndpoint:VpcEndpoint"
            and args.inputs.get("vpcEndpointType") == "Interface"
        ):
            service = args.inputs["serviceName"].rsplit(".", 1)[-1]
            outputs["dnsEntries"] = [
                {
                    "dnsName": f"{resource_id}.{service}.{self.region}.vpce.amazonaws.com",
                    "hostedZoneId": "Z7HUB22UULQXV",
                }
            ]
        if args.typ == "aws:ec2/instance:Instance":
            outputs["publicIp"] = "198.51.100.7"
        if args.typ == "aws:cloudwatch/logGroup:LogGroup":
            outputs["arn"] = f"arn:aws:logs:{self.region}:{_ACCOUNT_ID}:log-group:{resource_id}"
        if args.typ == "aws:ec2/vpnConnection:VpnConnection":
            # AWS's two tunnel endpoints, and the secret holding both keys (preshared_key_storage).
            secrets = arn_base.replace(":ec2:", ":secretsmanager:")
            outputs |= {
                "tunnel1Address": "198.51.100.21",
                "tunnel2Address": "198.51.100.22",
                "presharedKeyArn": f"{secrets}:secret:{resource_id}-psk",
            }
        if args.typ == "aws:rds/proxy:Proxy":
            outputs["endpoint"] = f"{args.name}.proxy-c0ffee.{self.region}.rds.amazonaws.com"
            outputs["name"] = args.inputs.get("name") or args.name
        if args.typ == "aws:ec2/securityGroup:SecurityGroup":
            outputs["name"] = args.inputs.get("name") or args.name
        if args.typ == "aws:rds/subnetGroup:SubnetGroup":
            outputs["name"] = args.inputs.get("name") or args.name
        return outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        token = args.token
        if token in _EC2_ANSWERS:
            return _EC2_ANSWERS[token](self.region, args.args)
        if token == "aws:index/getRegion:getRegion":
            return {"id": self.region, "name": self.region, "region": self.region}
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"id": _ACCOUNT_ID, "accountId": _ACCOUNT_ID, "arn": f"arn:aws:iam::{_ACCOUNT_ID}:root"}
        if token == "aws:index/getPartition:getPartition":
            partition = (
                "aws-cn"
                if self.region.startswith("cn-")
                else ("aws-us-gov" if self.region.startswith("us-gov-") else "aws")
            )
            return {"id": partition, "partition": partition, "dnsSuffix": "amazonaws.com"}
        if token == "aws:ec2/getAmi:getAmi":
            return {"id": _AMI_ID, "imageId": _AMI_ID, "architecture": "x86_64"}
        if token == "aws:ssm/getParameter:getParameter":
            return {"id": args.args.get("name", ""), "name": args.args.get("name", ""), "value": _AMI_ID}
        raise NotImplementedError(f"the offline preview has no answer for the data source {token}")


# EC2 lookups the program makes for zones and the bastion, answered in DescribeAvailabilityZones' and
# DescribeInstanceType(Offering)s' shapes, with what makes them tricky on a real account.
_STANDARD_ZONE_LETTERS = "abcdef"
# Opted-in Local Zones are "available" too and sort before the region's own zones.
_LOCAL_ZONES = ("atl-2a", "bos-1a")
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
    if instance_type in _INSTANCE_TYPES:
        return _INSTANCE_TYPES[instance_type]
    match = _TYPE_PATTERN.match(instance_type)
    if match is None:
        return None
    return (["arm64"], "e") if "g" in match["attributes"] else (["x86_64"], "")


def _filter_values(args: dict[str, Any], name: str) -> list[str] | None:
    for entry in args.get("filters") or []:
        if entry.get("name") == name:
            return list(entry.get("values") or [])
    return None


def _availability_zones(region: str, args: dict[str, Any]) -> dict[str, Any]:
    zones = [(f"{region}{letter}", "availability-zone") for letter in _STANDARD_ZONE_LETTERS]
    zones += [(f"{region}-{local}", "local-zone") for local in _LOCAL_ZONES]
    wanted_types = _filter_values(args, "zone-type")
    names = sorted(name for name, kind in zones if wanted_types is None or kind in wanted_types)
    return {
        "id": region,
        "names": names,
        "zoneIds": [f"use1-az{index}" for index in range(1, len(names) + 1)],
        "state": args.get("state"),
    }


def _instance_type_offerings(region: str, args: dict[str, Any]) -> dict[str, Any]:
    offered = []
    for instance_type in _filter_values(args, "instance-type") or []:
        facts = _instance_type_facts(instance_type)
        if facts is not None:
            missing = facts[1]
            zones = _filter_values(args, "location") or [f"{region}{x}" for x in _STANDARD_ZONE_LETTERS]
            offered += [(instance_type, zone) for zone in zones if zone[-1] not in missing]
    return {
        "id": region,
        "instanceTypes": [instance_type for instance_type, _ in offered],
        "locations": [zone for _, zone in offered],
        "locationTypes": [args.get("locationType", "region")] * len(offered),
    }


def _instance_type(region: str, args: dict[str, Any]) -> dict[str, Any]:
    instance_type = args["instanceType"]
    facts = _instance_type_facts(instance_type)
    if facts is None:
        raise ValueError(
            f"InvalidInstanceType: The following supplied instance types do not exist: [{instance_type}]"
        )
    return {
        "id": instance_type,
        "instanceType": instance_type,
        "supportedArchitectures": facts[0],
    }


def _vpc_endpoint_service(region: str, args: dict[str, Any]) -> dict[str, Any]:
    name = args["serviceName"]
    digest = hashlib.sha256(name.encode()).hexdigest()[:17]
    return {
        "id": digest,
        "serviceName": name,
        "serviceId": f"vpce-svc-{digest}",
        "serviceType": args.get("serviceType", "Interface"),
        "owner": "amazon",
        "acceptanceRequired": False,
        "vpcEndpointPolicySupported": True,
        "availabilityZones": [f"{region}{letter}" for letter in _STANDARD_ZONE_LETTERS],
        "baseEndpointDnsNames": [f"{name.rsplit('.', 1)[-1]}.{region}.vpce.amazonaws.com"],
        "supportedIpAddressTypes": ["ipv4"],
    }


_EC2_ANSWERS = {
    "aws:ec2/getVpcEndpointService:getVpcEndpointService": _vpc_endpoint_service,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": _instance_type_offerings,
    "aws:ec2/getInstanceType:getInstanceType": _instance_type,
}
