"""VPC endpoints: gateway endpoints on every route table given, interface endpoints in every AZ, 443 from
the clients only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.access_helpers import (
    EGRESS_RULE,
    INGRESS_RULE,
    REGION,
    Recorded,
    StandInNetwork,
    run_program,
    run_rejected_program,
)
from zappa_vpc.components.endpoints import VpcEndpoints, VpcEndpointsArgs
from zappa_vpc.plan.options import EndpointOptions

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
NAME = "app-endpoints"


def endpoints_args(network: StandInNetwork, options: EndpointOptions, **changes: Any) -> VpcEndpointsArgs:
    fields: dict[str, Any] = {
        "options": options,
        "region": REGION,
        "vpc_id": network.vpc.id,
        "route_table_ids": {label: table.id for label, table in network.route_tables.items()},
        "subnet_ids": [subnet.id for subnet in network.private_subnets],
        "client_security_groups": network.sg_ids("lambda", "admin"),
    }
    return VpcEndpointsArgs(**(fields | changes))


def build(options: EndpointOptions, zones: int = 2) -> tuple[VpcEndpoints, Recorded]:
    def program() -> VpcEndpoints:
        network = StandInNetwork.build(zones=("eu-west-1a", "eu-west-1b", "eu-west-1c")[:zones])
        return VpcEndpoints(NAME, endpoints_args(network, options))

    return run_program(program)


@pytest.fixture(scope="module")
def full() -> tuple[VpcEndpoints, Recorded]:
    return build(EndpointOptions(interface=("sqs", "secretsmanager", "ecr.api")), zones=3)


def test_gateway_endpoints_attach_to_every_route_table_given(full):
    component, recorded = full
    assert sorted(component.gateway) == ["dynamodb", "s3"]
    for service in ("s3", "dynamodb"):
        endpoint = recorded.named(f"{NAME}-{service}")
        assert endpoint.properties["serviceName"] == f"com.amazonaws.{REGION}.{service}", endpoint.urn
        assert endpoint.properties["vpcEndpointType"] == "Gateway", endpoint.urn
        assert recorded.source_names(endpoint, "routeTableIds") == {
            "net-rt-private-a",
            "net-rt-private-b",
            "net-rt-data",
        }, endpoint.urn
        assert recorded.source_names(endpoint, "vpcId") == {"net-vpc"}, endpoint.urn


def test_interface_endpoints_sit_in_every_subnet_with_private_dns(full):
    component, recorded = full
    assert sorted(component.interface) == ["ecr.api", "secretsmanager", "sqs"]
    for service, name in (("sqs", "sqs"), ("secretsmanager", "secretsmanager"), ("ecr.api", "ecr-api")):
        endpoint = recorded.named(f"{NAME}-{name}")
        props = endpoint.properties
        assert props["serviceName"] == f"com.amazonaws.{REGION}.{service}", endpoint.urn
        assert props["vpcEndpointType"] == "Interface", endpoint.urn
        assert props["privateDnsEnabled"] is True, endpoint.urn
        assert recorded.source_names(endpoint, "subnetIds") == {
            "net-private-a",
            "net-private-b",
            "net-private-c",
        }, endpoint.urn
        assert recorded.source_names(endpoint, "securityGroupIds") == {f"{NAME}-security-group"}, endpoint.urn


def test_interface_endpoints_admit_https_from_the_clients_only(full):
    _, recorded = full
    rules = recorded.rules_of(f"{NAME}-security-group", INGRESS_RULE)
    admitted = {
        frozenset(recorded.source_names(rule, "referencedSecurityGroupId")): (
            rule.properties["ipProtocol"],
            int(rule.properties["fromPort"]),
            int(rule.properties["toPort"]),
            rule.properties.get("cidrIpv4"),
        )
        for rule in rules
    }
    assert admitted == {
        frozenset({"net-lambda"}): ("tcp", 443, 443, None),
        frozenset({"net-admin"}): ("tcp", 443, 443, None),
    }
    assert recorded.rules_of(f"{NAME}-security-group", EGRESS_RULE) == []


def test_gateway_only_registers_no_security_group():
    component, recorded = build(EndpointOptions())
    assert component.interface == {} and component.security_group is None
    groups = {record.name for record in recorded.of_type("aws:ec2/securityGroup:SecurityGroup")}
    assert groups == {"net-lambda", "net-bastion", "net-admin"}
    assert {record.name for record in recorded.of_type(ENDPOINT)} == {f"{NAME}-s3", f"{NAME}-dynamodb"}


Changes = Callable[[StandInNetwork], dict[str, Any]]


def no_change(network: StandInNetwork) -> dict[str, Any]:
    return {}


@pytest.mark.parametrize(
    ("options", "changes", "message"),
    [
        (
            EndpointOptions(interface=("sqs", "sqs")),
            no_change,
            "interface = ['sqs', 'sqs']: lists a service twice",
        ),
        (EndpointOptions(gateway=("s3", "sqs")), no_change, "gateway[1] = 'sqs': not a known service"),
        (
            EndpointOptions(),
            lambda network: {"route_table_ids": {}},
            "route_table_ids = {}: gateway endpoints work through route tables",
        ),
        (
            EndpointOptions(interface=("sqs",)),
            lambda network: {"subnet_ids": [network.private_subnets[0].id]},
            "subnet_ids = '1 subnet(s)': interface endpoints need a subnet in at least 2 availability zones",
        ),
        (
            EndpointOptions(interface=("sqs",)),
            lambda network: {"client_security_groups": {}},
            "client_security_groups = {}: give at least one client security group",
        ),
        (
            EndpointOptions(),
            lambda network: {"region": "Ireland"},
            "region = 'Ireland': an AWS region name, such as us-east-1",
        ),
    ],
    ids=["duplicate", "unknown-gateway", "no-route-tables", "one-subnet", "no-clients", "bad-region"],
)
def test_bad_input_names_the_problem_and_registers_nothing(
    options: EndpointOptions, changes: Changes, message: str
):
    def program() -> None:
        network = StandInNetwork.build()
        VpcEndpoints(NAME, endpoints_args(network, options, **changes(network)))

    error, recorded = run_rejected_program(program)
    assert message in str(error)
    assert recorded.names_outside() == []
