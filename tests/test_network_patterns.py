"""The shape of every shipped stack's network, as a first `pulumi preview` would register it."""

from __future__ import annotations

import ipaddress
import json

import pytest

from preview.engine import shipped_stacks
from preview.model import UNKNOWN
from tests.stack_queries import (
    ASSOCIATION,
    INGRESS_RULE,
    INTERNET_GATEWAY,
    NAT_GATEWAY,
    ROUTE,
    ROUTE_TABLE,
    SECURITY_GROUP,
    SUBNET,
    as_deployed,
    default_routes,
    referenced,
    route_table_of,
    the_one,
    tier_of,
)

STACKS = shipped_stacks()
EXPECTED_PATTERNS = {
    "dev": "public-private",
    "prod": "public-private",
    "hybrid": "hybrid",
    "internal": "internal",
    "single": "single",
    "isolated": "isolated",
}


def test_every_pattern_has_a_shipped_stack():
    assert sorted(STACKS) == sorted(EXPECTED_PATTERNS)


@pytest.mark.parametrize("stack", STACKS)
def test_stack_previews_with_its_pattern(stack_run, stack):
    run = stack_run(stack)
    assert run.error is None, run.error
    assert run.outputs["pattern"] == EXPECTED_PATTERNS[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_vpc_has_dns_and_an_emptied_default_security_group(stack_run, stack):
    run = stack_run(stack)
    vpc = the_one(run.of_type("aws:ec2/vpc:Vpc"), "VPC")
    assert vpc.properties["enableDnsSupport"] is True and vpc.properties["enableDnsHostnames"] is True, (
        vpc.urn
    )
    default_sg = the_one(run.of_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"), "default SG")
    assert default_sg.properties.get("ingress", []) == [] and default_sg.properties.get("egress", []) == [], (
        default_sg.urn
    )


@pytest.mark.parametrize("stack", STACKS)
def test_every_subnet_has_an_explicit_route_table_and_no_public_ip_by_default(stack_run, stack):
    run = stack_run(stack)
    for subnet in run.of_type(SUBNET):
        table = route_table_of(run, subnet)
        assert tier_of(table) == tier_of(subnet), f"{subnet.urn} is associated with {table.urn}"
        assert subnet.properties["mapPublicIpOnLaunch"] is False, subnet.urn


@pytest.mark.parametrize("stack", STACKS)
def test_subnets_follow_the_address_plan_inside_the_vpc(stack_run, stack):
    run = stack_run(stack)
    vpc = ipaddress.ip_network(the_one(run.of_type("aws:ec2/vpc:Vpc"), "VPC").properties["cidrBlock"])
    networks = [ipaddress.ip_network(s.properties["cidrBlock"]) for s in run.of_type(SUBNET)]
    assert all(n.subnet_of(vpc) for n in networks)
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])
    planned = {(p["tier"], p["availability_zone"]): p["cidr"] for p in run.outputs["address_plan"]}
    created = {
        (tier_of(s), s.properties["availabilityZone"]): s.properties["cidrBlock"] for s in run.of_type(SUBNET)
    }
    assert planned == created


@pytest.mark.parametrize("stack", STACKS)
def test_lambda_subnets_span_at_least_two_azs(stack_run, stack):
    run = stack_run(stack, as_deployed(stack), preview=False)
    config = run.outputs["zappa_vpc_config"]
    subnets = {s.id: s for s in run.of_type(SUBNET)}
    zones = {subnets[subnet_id].properties["availabilityZone"] for subnet_id in config["SubnetIds"]}
    assert len(config["SubnetIds"]) >= 2 and len(zones) >= 2, config
    lambda_tier = "public" if stack == "single" else "private"
    assert {tier_of(subnets[i]) for i in config["SubnetIds"]} == {lambda_tier}
    (group_id,) = config["SecurityGroupIds"]
    assert group_id == run.outputs["lambda_security_group_id"]


@pytest.mark.parametrize("stack", STACKS)
def test_lambda_security_group_admits_nothing(stack_run, stack):
    run = stack_run(stack)
    lambda_sg = the_one([g for g in run.of_type(SECURITY_GROUP) if "-lambda-" in g.name], "Lambda SG")
    assert lambda_sg.properties.get("ingress", []) == [], lambda_sg.urn
    rules = [
        r for r in run.of_type(INGRESS_RULE) if lambda_sg.urn in r.property_dependencies["securityGroupId"]
    ]
    assert rules == []


@pytest.mark.parametrize("stack", ["internal", "isolated"])
def test_internal_and_isolated_have_no_way_to_the_internet(stack_run, stack):
    run = stack_run(stack)
    assert run.of_type(INTERNET_GATEWAY) == []
    assert run.of_type(NAT_GATEWAY) == []
    assert [
        r.urn for r in run.of_type(ROUTE) if r.properties.get("destinationCidrBlock") == "0.0.0.0/0"
    ] == []
    assert [t.urn for t in run.of_type(ROUTE_TABLE) if t.properties.get("routes")] == []


@pytest.mark.parametrize("stack", ["dev", "prod", "hybrid"])
def test_private_default_routes_go_to_the_nat_of_the_same_az(stack_run, stack):
    run = stack_run(stack)
    nats = run.of_type(NAT_GATEWAY)
    expected_nat_count = 3 if stack == "prod" else 1
    assert len(nats) == expected_nat_count
    for subnet in [s for s in run.of_type(SUBNET) if tier_of(s) == "private"]:
        route = the_one(default_routes(run, route_table_of(run, subnet)), f"default route of {subnet.urn}")
        nat = the_one(referenced(run, route, "natGatewayId"), f"NAT behind {route.urn}")
        nat_subnet = the_one(referenced(run, nat, "subnetId"), f"subnet of {nat.urn}")
        assert tier_of(nat_subnet) == "public", nat.urn
        if expected_nat_count > 1:
            assert nat_subnet.properties["availabilityZone"] == subnet.properties["availabilityZone"], (
                route.urn
            )


@pytest.mark.parametrize("stack", STACKS)
def test_only_public_route_tables_reach_the_internet_gateway(stack_run, stack):
    run = stack_run(stack)
    for route in run.of_type(ROUTE):
        if referenced(run, route, "gatewayId"):
            (table,) = referenced(run, route, "routeTableId")
            assert tier_of(table) == "public", route.urn
    for subnet in [s for s in run.of_type(SUBNET) if tier_of(s) == "data"]:
        assert default_routes(run, route_table_of(run, subnet)) == [], subnet.urn


@pytest.mark.parametrize("stack", ["hybrid", "internal"])
def test_vpn_routes_propagate_into_every_private_and_data_route_table(stack_run, stack):
    run = stack_run(stack)
    gateway = the_one(run.of_type("aws:ec2/vpnGateway:VpnGateway"), "VPN gateway")
    propagated = {
        referenced(run, p, "routeTableId")[0].urn
        for p in run.of_type("aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation")
        if referenced(run, p, "vpnGatewayId") == [gateway]
    }
    inner_tables = {t.urn for t in run.of_type(ROUTE_TABLE) if tier_of(t) in ("private", "data")}
    assert inner_tables and propagated == inner_tables
    connection = the_one(run.of_type("aws:ec2/vpnConnection:VpnConnection"), "VPN connection")
    assert connection.properties["staticRoutesOnly"] is (stack == "hybrid")
    assert connection.properties["presharedKeyStorage"] == "SecretsManager", connection.urn
    customer_gateway = the_one(run.of_type("aws:ec2/customerGateway:CustomerGateway"), "customer gateway")
    assert customer_gateway.properties["ipAddress"] == "203.0.113.10"


def test_hybrid_routes_the_corporate_network_statically(stack_run):
    run = stack_run("hybrid")
    routes = run.of_type("aws:ec2/vpnConnectionRoute:VpnConnectionRoute")
    assert [r.properties["destinationCidrBlock"] for r in routes] == ["172.16.0.0/12"]


def test_flow_logs_are_on_in_prod_only(stack_run):
    prod_logs = the_one(stack_run("prod").of_type("aws:ec2/flowLog:FlowLog"), "flow log")
    assert prod_logs.properties["trafficType"] == "ALL"
    assert stack_run("dev").of_type("aws:ec2/flowLog:FlowLog") == []


def test_ssm_bastion_opens_no_port(stack_run):
    run = stack_run("dev")
    bastion_sg = the_one([g for g in run.of_type(SECURITY_GROUP) if "-bastion-" in g.name], "bastion SG")
    assert bastion_sg.properties.get("ingress", []) == []
    assert [
        r for r in run.of_type(INGRESS_RULE) if bastion_sg.urn in r.property_dependencies["securityGroupId"]
    ] == []
    instance = the_one(run.of_type("aws:ec2/instance:Instance"), "bastion")
    assert instance.properties["metadataOptions"]["httpTokens"] == "required"
    assert instance.properties["rootBlockDevice"]["encrypted"] is True
    (subnet,) = referenced(run, instance, "subnetId")
    assert tier_of(subnet) == "public"


def test_ssh_bastion_admits_port_22_from_the_allowlist_only(stack_run):
    allowlist = ["198.51.100.0/24", "2001:db8::/32"]
    run = stack_run("dev", {"zappa-vpc:bastion": "ssh", "zappa-vpc:bastionSshAllowlist": allowlist})
    assert run.error is None, run.error
    bastions = [g for g in run.of_type(SECURITY_GROUP) if g.name.endswith("-bastion-sg")]
    bastion_group = the_one(bastions, "bastion security group")
    rules = [r for r in run.of_type(INGRESS_RULE) if referenced(run, r, "securityGroupId") == [bastion_group]]
    sources = sorted(r.properties.get("cidrIpv4") or r.properties.get("cidrIpv6") for r in rules)
    assert sources == sorted(allowlist)
    assert all((r.properties["fromPort"], r.properties["toPort"]) == (22, 22) for r in rules)


def test_adding_an_az_moves_no_subnet(stack_run):
    before = {s.name: s.properties["cidrBlock"] for s in stack_run("dev").of_type(SUBNET)}
    after = {
        s.name: s.properties["cidrBlock"] for s in stack_run("dev", {"zappa-vpc:azCount": 3}).of_type(SUBNET)
    }
    assert len(after) == len(before) + 3
    assert {name: after[name] for name in before} == before


def test_switching_isolated_to_public_private_keeps_the_lambda_subnets(stack_run):
    isolated = stack_run("isolated")
    upgraded = stack_run("isolated", {"zappa-vpc:pattern": "public-private"})

    def lambda_cidrs(run):
        return {s.name: s.properties["cidrBlock"] for s in run.of_type(SUBNET) if tier_of(s) == "private"}

    assert lambda_cidrs(upgraded) == lambda_cidrs(isolated)


@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_sits_under_one_of_the_stacks_two_components(stack_run, stack):
    run = stack_run(stack)
    by_urn = run.by_urn()
    tops = [r for r in run.resources if by_urn[r.parent].type == "pulumi:pulumi:Stack"]
    assert sorted(t.type.split(":")[1] for t in tops) == ["network", "service_access"]
    for record in run.resources:
        top = record
        while top not in tops:
            top = by_urn[top.parent]
        assert record.name.startswith(f"{stack}-") or record is top, record.urn


@pytest.mark.parametrize("stack", STACKS)
def test_first_preview_ids_are_unknown(stack_run, stack):
    run = stack_run(stack)
    assert run.outputs["vpc_id"] == UNKNOWN
    assert all(r.id == "" for r in run.resources)


def test_associations_and_routes_point_at_tables_of_this_vpc(stack_run):
    run = stack_run("prod")
    (vpc,) = run.of_type("aws:ec2/vpc:Vpc")
    for table in run.of_type(ROUTE_TABLE):
        assert referenced(run, table, "vpcId") == [vpc], table.urn
    assert len(run.of_type(ASSOCIATION)) == len(run.of_type(SUBNET))


# The proxy role trusts RDS exactly as AWS documents it, with no condition (tests/test_database.py).
@pytest.mark.parametrize("role_name", ["prod-flow-logs-role"])
def test_service_roles_trust_their_service_for_this_account_only(stack_run, role_name):
    run = stack_run("prod")
    role = the_one([r for r in run.of_type("aws:iam/role:Role") if r.name == role_name], role_name)
    (statement,) = json.loads(role.properties["assumeRolePolicy"])["Statement"]
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}, role.urn


@pytest.mark.parametrize(("region", "partition"), [("us-east-1", "aws"), ("cn-north-1", "aws-cn")])
def test_bastion_ssm_policy_arn_follows_the_partition(stack_run, region, partition):
    run = stack_run("dev", {"aws:region": region})
    attachment = the_one(run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"), "SSM policy")
    assert (
        attachment.properties["policyArn"] == f"arn:{partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
