"""AWS type tokens as the Pulumi engine sends them (pulumi-aws 7), and how to name them in messages."""

from __future__ import annotations

VPC = "aws:ec2/vpc:Vpc"
DEFAULT_VPC = "aws:ec2/defaultVpc:DefaultVpc"
VPC_IPV4_CIDR_ASSOCIATION = "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"
SUBNET = "aws:ec2/subnet:Subnet"
DEFAULT_SUBNET = "aws:ec2/defaultSubnet:DefaultSubnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
DEFAULT_ROUTE_TABLE = "aws:ec2/defaultRouteTable:DefaultRouteTable"
ROUTE = "aws:ec2/route:Route"
ROUTE_TABLE_ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation"
MAIN_ROUTE_TABLE_ASSOCIATION = "aws:ec2/mainRouteTableAssociation:MainRouteTableAssociation"
INTERNET_GATEWAY = "aws:ec2/internetGateway:InternetGateway"
INTERNET_GATEWAY_ATTACHMENT = "aws:ec2/internetGatewayAttachment:InternetGatewayAttachment"
VPN_GATEWAY = "aws:ec2/vpnGateway:VpnGateway"
VPN_GATEWAY_ATTACHMENT = "aws:ec2/vpnGatewayAttachment:VpnGatewayAttachment"
CARRIER_GATEWAY = "aws:ec2/carrierGateway:CarrierGateway"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
EGRESS_ONLY_GATEWAY = "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway"
TRANSIT_GATEWAY = "aws:ec2transitgateway/transitGateway:TransitGateway"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
DEFAULT_SECURITY_GROUP = "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"
SECURITY_GROUP_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
SECURITY_GROUP_EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
MANAGED_PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
MANAGED_PREFIX_LIST_ENTRY = "aws:ec2/managedPrefixListEntry:ManagedPrefixListEntry"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
RDS_CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
LAMBDA_FUNCTION = "aws:lambda/function:Function"

# Where a route's `gatewayId` can point (an id, or an attachment's gateway id output): only the first
# two make a subnet public. An egress-only gateway carries IPv6 out, never in.
INTERNET_GATEWAY_TYPES = frozenset({INTERNET_GATEWAY, INTERNET_GATEWAY_ATTACHMENT})
GATEWAY_TYPES = INTERNET_GATEWAY_TYPES | {VPN_GATEWAY, VPN_GATEWAY_ATTACHMENT, EGRESS_ONLY_GATEWAY}
VPC_TYPES = frozenset({VPC, DEFAULT_VPC})
SUBNET_TYPES = frozenset({SUBNET, DEFAULT_SUBNET})
SECURITY_GROUP_TYPES = frozenset({SECURITY_GROUP, DEFAULT_SECURITY_GROUP})

_LABELS = {
    VPC: "VPC",
    DEFAULT_VPC: "default VPC",
    VPC_IPV4_CIDR_ASSOCIATION: "VPC CIDR block association",
    SUBNET: "subnet",
    DEFAULT_SUBNET: "default subnet",
    ROUTE_TABLE: "route table",
    DEFAULT_ROUTE_TABLE: "default route table",
    ROUTE: "route",
    ROUTE_TABLE_ASSOCIATION: "route table association",
    MAIN_ROUTE_TABLE_ASSOCIATION: "main route table association",
    INTERNET_GATEWAY: "internet gateway",
    INTERNET_GATEWAY_ATTACHMENT: "internet gateway attachment",
    VPN_GATEWAY: "virtual private gateway",
    VPN_GATEWAY_ATTACHMENT: "virtual private gateway attachment",
    CARRIER_GATEWAY: "carrier gateway",
    NAT_GATEWAY: "NAT gateway",
    EGRESS_ONLY_GATEWAY: "egress-only internet gateway",
    TRANSIT_GATEWAY: "transit gateway",
    SECURITY_GROUP: "security group",
    DEFAULT_SECURITY_GROUP: "default security group",
    SECURITY_GROUP_RULE: "security group rule",
    SECURITY_GROUP_INGRESS_RULE: "security group ingress rule",
    SECURITY_GROUP_EGRESS_RULE: "security group egress rule",
    MANAGED_PREFIX_LIST: "managed prefix list",
    MANAGED_PREFIX_LIST_ENTRY: "managed prefix list entry",
    FLOW_LOG: "flow log",
    RDS_INSTANCE: "RDS instance",
    RDS_CLUSTER: "RDS cluster",
    RDS_CLUSTER_INSTANCE: "RDS cluster instance",
    DB_SUBNET_GROUP: "DB subnet group",
    LAMBDA_FUNCTION: "Lambda function",
    LAUNCH_TEMPLATE: "launch template",
}

# Every type a rule reads: the rest of a stack never needs to be looked at.
KNOWN_TYPES = frozenset(_LABELS)


def label(resource_type: str, name: str) -> str:
    """How a message names a resource: `subnet 'app-private-a'`."""
    return f"{_LABELS.get(resource_type, resource_type)} '{name}'"
