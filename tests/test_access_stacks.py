"""Private access in every shipped stack: the database and the endpoints each pattern is for."""

from __future__ import annotations

import json
import re

import pytest

from preview.engine import StackRun, shipped_stacks
from preview.model import ResourceRecord
from tests.access_helpers import walk
from tests.stack_queries import (
    ASSOCIATION,
    INGRESS_RULE,
    SECURITY_GROUP,
    SUBNET,
    as_deployed,
    referenced,
    the_one,
    tier_of,
)

STACKS = shipped_stacks()
INSTANCE = "aws:rds/instance:Instance"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
# Stacks whose pattern has a private data tier get a database; isolated is the minimal setup and has none,
# single has no private tier to put one in.
DATABASE_STACKS = ["dev", "hybrid", "internal", "prod"]


def pattern_of(run: StackRun) -> str:
    return run.outputs["pattern"]


def database_of(run: StackRun) -> ResourceRecord:
    return the_one(run.of_type(INSTANCE), f"database in {run.stack}")


def group_named(run: StackRun, suffix: str) -> ResourceRecord:
    return the_one([r for r in run.of_type(SECURITY_GROUP) if r.name.endswith(suffix)], f"group *{suffix}")


def ingress_sources(run: StackRun, group: ResourceRecord) -> dict[str, tuple[int, int]]:
    """Source (a group's name, or a CIDR) -> (from port, to port) of every rule on `group`."""
    sources = {}
    for rule in run.of_type(INGRESS_RULE):
        if referenced(run, rule, "securityGroupId") != [group]:
            continue
        cidr = rule.properties.get("cidrIpv4") or rule.properties.get("cidrIpv6")
        source = (
            cidr or the_one(referenced(run, rule, "referencedSecurityGroupId"), f"source of {rule.urn}").name
        )
        sources[source] = (int(rule.properties["fromPort"]), int(rule.properties["toPort"]))
    return sources


@pytest.mark.parametrize("stack", STACKS)
def test_each_stack_has_a_database_where_its_pattern_has_one(stack_run, stack):
    run = stack_run(stack)
    assert run.error is None, run.error
    expected = 1 if stack in DATABASE_STACKS else 0
    assert len(run.of_type(INSTANCE)) == expected, f"{stack}: {[r.urn for r in run.of_type(INSTANCE)]}"


@pytest.mark.parametrize("stack", DATABASE_STACKS)
def test_database_is_private_encrypted_with_a_managed_password(stack_run, stack):
    run = stack_run(stack)
    instance = database_of(run)
    props = instance.properties
    assert (props["publiclyAccessible"], props["storageEncrypted"], props["manageMasterUserPassword"]) == (
        False,
        True,
        True,
    ), instance.urn
    password_inputs = [
        (record.urn, path)
        for record in run.records
        for path, _ in walk(record.properties)
        if re.search("password", path, re.IGNORECASE) and path != "manageMasterUserPassword"
    ]
    assert password_inputs == []


@pytest.mark.parametrize("stack", DATABASE_STACKS)
def test_database_sits_in_data_subnets_of_at_least_two_azs(stack_run, stack):
    run = stack_run(stack)
    (subnet_group,) = referenced(run, database_of(run), "dbSubnetGroupName")
    subnets = referenced(run, subnet_group, "subnetIds")
    assert {tier_of(subnet) for subnet in subnets} == {"data"}, subnet_group.urn
    assert len({subnet.properties["availabilityZone"] for subnet in subnets}) >= 2, subnet_group.urn
    all_data_subnets = [s for s in run.of_type(SUBNET) if tier_of(s) == "data"]
    assert sorted(s.urn for s in subnets) == sorted(s.urn for s in all_data_subnets)


@pytest.mark.parametrize("stack", DATABASE_STACKS)
def test_database_admits_only_the_lambda_bastion_proxy_and_admin_networks(stack_run, stack):
    run = stack_run(stack)
    (group,) = referenced(run, database_of(run), "vpcSecurityGroupIds")
    lambda_group = group_named(run, "-lambda-sg")
    expected = {lambda_group.name: (5432, 5432)}
    if run.config.get("zappa-vpc:databaseProxy") == "true":
        expected[group_named(run, "-db-proxy-security-group").name] = (5432, 5432)
    bastions = [r for r in run.of_type(SECURITY_GROUP) if r.name.endswith("-bastion-sg")]
    for bastion in bastions:
        expected[bastion.name] = (5432, 5432)
    if run.config.get("zappa-vpc:workersReachDatabase") == "true":
        expected[group_named(run, "-workers-security-group").name] = (5432, 5432)
    for admin_network in json.loads(run.config.get("zappa-vpc:databaseAdminCidrs", "[]")):
        expected[admin_network] = (5432, 5432)
    assert ingress_sources(run, group) == expected, group.urn


def test_internal_admins_connect_straight_over_the_vpn(stack_run):
    run = stack_run("internal", as_deployed("internal"), preview=False)
    command = run.outputs["database_client_command"]
    assert "host=internal-access-db-instance." in command and "port=5432" in command, command
    assert "database_tunnel_command" not in run.outputs


def test_prod_proxy_is_reached_from_the_lambda_only(stack_run):
    run = stack_run("prod")
    proxy = the_one(run.of_type("aws:rds/proxy:Proxy"), "proxy")
    assert proxy.properties["requireTls"] is True, proxy.urn
    (group,) = referenced(run, proxy, "vpcSecurityGroupIds")
    assert ingress_sources(run, group) == {group_named(run, "-lambda-sg").name: (5432, 5432)}
    instance = database_of(run)
    assert (instance.properties["multiAz"], instance.properties["deletionProtection"]) == (True, True)
    assert instance.properties["skipFinalSnapshot"] is False, instance.urn


def lambda_route_tables(run: StackRun) -> set[str]:
    """Route tables of the subnets the Lambda and the database use (everything but a public tier that the
    Lambda does not use)."""
    lambda_tier = "public" if pattern_of(run) == "single" else "private"
    tables = set()
    for association in run.of_type(ASSOCIATION):
        (subnet,) = referenced(run, association, "subnetId")
        if tier_of(subnet) in {lambda_tier, "data"}:
            tables |= {table.urn for table in referenced(run, association, "routeTableId")}
    return tables


@pytest.mark.parametrize("stack", STACKS)
def test_gateway_endpoints_attach_to_every_private_route_table(stack_run, stack):
    run = stack_run(stack)
    gateways = [e for e in run.of_type(ENDPOINT) if e.properties["vpcEndpointType"] == "Gateway"]
    assert {e.properties["serviceName"] for e in gateways} == {
        "com.amazonaws.us-east-1.s3",
        "com.amazonaws.us-east-1.dynamodb",
    }
    expected = lambda_route_tables(run)
    for endpoint in gateways:
        assert {t.urn for t in referenced(run, endpoint, "routeTableIds")} == expected, endpoint.urn


@pytest.mark.parametrize("stack", STACKS)
def test_interface_endpoints_serve_every_lambda_subnet_from_the_lambda(stack_run, stack):
    run = stack_run(stack)
    lambda_tier = "public" if pattern_of(run) == "single" else "private"
    lambda_subnets = {s.urn for s in run.of_type(SUBNET) if tier_of(s) == lambda_tier}
    for endpoint in run.of_type(ENDPOINT):
        if endpoint.properties["vpcEndpointType"] != "Interface" or endpoint is private_api_of(run):
            continue
        assert endpoint.properties["privateDnsEnabled"] is True, endpoint.urn
        assert {s.urn for s in referenced(run, endpoint, "subnetIds")} == lambda_subnets, endpoint.urn
        (group,) = referenced(run, endpoint, "securityGroupIds")
        sources = ingress_sources(run, group)
        assert group_named(run, "-lambda-sg").name in sources, group.urn
        assert set(sources.values()) == {(443, 443)}, group.urn


def private_api_of(run: StackRun) -> ResourceRecord | None:
    endpoints = [e for e in run.of_type(ENDPOINT) if e.properties["serviceName"].endswith(".execute-api")]
    return the_one(endpoints, "private API endpoint") if endpoints else None


def test_only_the_internal_stack_has_a_private_api(stack_run):
    assert [stack for stack in STACKS if private_api_of(stack_run(stack))] == ["internal"]


def test_private_api_admits_the_corporate_network_only_without_private_dns(stack_run):
    run = stack_run("internal")
    endpoint = private_api_of(run)
    # Private DNS would capture the VPC's calls to every public API Gateway API.
    assert endpoint.properties["privateDnsEnabled"] is False, endpoint.urn
    lambda_subnets = {s.urn for s in run.of_type(SUBNET) if tier_of(s) == "private"}
    assert {s.urn for s in referenced(run, endpoint, "subnetIds")} == lambda_subnets
    (group,) = referenced(run, endpoint, "securityGroupIds")
    assert ingress_sources(run, group) == {"10.0.0.0/8": (443, 443)}, group.urn


def test_private_api_policy_lets_only_that_endpoint_invoke_the_api(stack_run):
    run = stack_run("internal", as_deployed("internal"), preview=False)
    endpoint_id = private_api_of(run).id
    deny, allow = run.outputs["zappa_apigateway_policy"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "StringNotEquals": {"aws:SourceVpce": endpoint_id}
    }
    assert allow["Effect"] == "Allow" and "Condition" not in allow
    assert run.outputs["private_api_hostname"].startswith(f"{endpoint_id}.execute-api.")


@pytest.mark.parametrize("stack", ["isolated", "internal"])
def test_patterns_without_egress_reach_s3_sqs_and_the_secret_privately(stack_run, stack):
    run = stack_run(stack)
    services = {e.properties["serviceName"].rsplit(".", 1)[-1] for e in run.of_type(ENDPOINT)}
    needed = {"s3", "sqs"} | ({"secretsmanager"} if run.of_type(INSTANCE) else set())
    assert needed <= services, f"{stack} reaches only {sorted(services)}"


@pytest.mark.parametrize(
    ("stack", "overrides", "message"),
    [
        ("dev", {"zappa-vpc:databaseBackupRetentionDays": 0}, "zappa-vpc:databaseBackupRetentionDays = 0"),
        ("dev", {"zappa-vpc:databaseStorageGb": 10}, "zappa-vpc:databaseStorageGb = 10"),
        ("isolated", {"zappa-vpc:interfaceEndpoints": ["sqs", "s3"]}, "zappa-vpc:interfaceEndpoints[1] = s3"),
        ("internal", {"zappa-vpc:interfaceEndpoints": ["sqs"]}, "add 'secretsmanager'"),
        ("single", {"zappa-vpc:database": "postgres"}, "has no private data tier"),
    ],
    ids=["no-backups", "tiny-storage", "s3-as-interface", "internal-without-secret", "public-database"],
)
def test_bad_access_settings_are_reported_with_nothing_registered(stack_run, stack, overrides, message):
    run = stack_run(stack, overrides)
    assert run.error is not None and message in run.error, run.error
    assert run.resources == []
