"""Ids and account of the offline AWS: shaped as AWS's, deterministic, so runs compare run to run."""

from __future__ import annotations

import hashlib

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
    "aws:ec2/vpcDhcpOptions:VpcDhcpOptions": "dopt",
    "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation": "vpc-cidr-assoc",
}

ACCOUNT_ID = "123456789012"
AMI_ID = "ami-0123456789abcdef0"
DEFAULT_VPC_CIDR = "172.31.0.0/16"  # every region's default VPC (VPC User Guide, "Default VPCs")


def fake_id(resource_type: str, name: str) -> str:
    digest = hashlib.sha256(f"{resource_type}/{name}".encode()).hexdigest()[:17]
    prefix = _ID_PREFIXES.get(resource_type)
    return f"{prefix}-{digest}" if prefix else f"{name}-id"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"
