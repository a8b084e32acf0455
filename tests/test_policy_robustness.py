"""No value a program can send crashes a rule: stacks with odd but possible values (objects where ids
belong, numbers where lists do, booleans spelled as strings, references to resources the stack does not
hold) over every resource type the pack reads, run the way AnalyzeStack runs the rules."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.network_guard import aws_types as aws
from policies.network_guard.catalog import RULES
from policies.network_guard.graph import StackIndex
from policies.network_guard.rules import Finding
from preview.model import UNKNOWN, ResourceRecord
from preview.policy_client import PolicyPackClient
from tests.policy_helpers import (
    IdMode,
    Ref,
    StackBuilder,
    findings,
    resource_node,
    secure_stack,
    stack_nodes,
)

# Every property a rule reads, on any type.
KEYS = (
    "id", "arn", "name", "vpcId", "subnetId", "subnetIds", "routeTableId", "gatewayId", "natGatewayId",
    "transitGatewayId", "routes", "ingress", "egress", "cidrBlocks", "ipv6CidrBlocks", "cidrIpv4", "cidrIpv6",
    "prefixListId", "prefixListIds", "protocol", "ipProtocol", "fromPort", "toPort", "type",
    "securityGroupId", "securityGroups", "self", "sourceSecurityGroupId", "referencedSecurityGroupId",
    "entries", "cidr",
    "availabilityZone", "availabilityZoneId", "mapPublicIpOnLaunch", "publiclyAccessible", "storageEncrypted",
    "multiAz", "engine", "engineMode", "replicateSourceDb", "dbSubnetGroupName", "vpcSecurityGroupIds",
    "vpcConfig", "clusterIdentifier", "identifier", "defaultRouteTableId", "defaultSecurityGroupId",
    "mainRouteTableId", "availabilityMode",
)  # fmt: skip
WORDS = (
    UNKNOWN, "", "true", "false", "-1", "all", "tcp", "6", "icmp", "ingress", "egress", "local",
    "0.0.0.0/0", "::/0", "0.0.0.0/1", "128.0.0.0/1", "not-a-cidr", "igw-1", "vgw-1", "sg-1", "pl-1",
    "subnet-1", "rtb-1", "vpc-1", "us-east-1a", "aurora-postgresql", "serverless", "regional",
)  # fmt: skip
GONE = "urn:pulumi:dev::shop::aws:ec2/routeTable:RouteTable::not-in-the-stack"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-70000, 70000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(WORDS),
    st.text(max_size=6),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=8,
)


def every_type_stack() -> StackBuilder:
    """The secure network plus one resource of each other type a rule reads."""
    b = secure_stack()
    b.add(
        aws.DEFAULT_ROUTE_TABLE, "default-rt", defaultRouteTableId=Ref("app-vpc").attr("defaultRouteTableId")
    )
    b.add(aws.MAIN_ROUTE_TABLE_ASSOCIATION, "main", vpcId=Ref("app-vpc"), routeTableId=Ref("app-public-rt"))
    b.add(
        aws.INTERNET_GATEWAY_ATTACHMENT, "igw-attach", vpcId=Ref("app-vpc"), internetGatewayId=Ref("app-igw")
    )
    b.add(aws.VPN_GATEWAY, "vgw", vpcId=Ref("app-vpc"))
    b.add(aws.EGRESS_ONLY_GATEWAY, "eigw", vpcId=Ref("app-vpc"))
    b.add(aws.TRANSIT_GATEWAY, "tgw")
    b.add(aws.VPN_GATEWAY_ATTACHMENT, "vgw-attach", vpcId=Ref("app-vpc"), vpnGatewayId=Ref("vgw"))
    b.add(aws.CARRIER_GATEWAY, "cagw", vpcId=Ref("app-vpc"))
    b.add(aws.VPC_IPV4_CIDR_ASSOCIATION, "secondary", vpcId=Ref("app-vpc"), cidrBlock="10.9.0.0/16")
    b.add(aws.DEFAULT_VPC, "default-vpc")
    b.add(aws.DEFAULT_SUBNET, "default-a", availabilityZone="us-east-1a")
    b.add(
        aws.MANAGED_PREFIX_LIST,
        "office",
        addressFamily="IPv4",
        maxEntries=2,
        entries=[{"cidr": "10.1.0.0/16"}],
    )
    b.add(aws.MANAGED_PREFIX_LIST_ENTRY, "office-entry", prefixListId=Ref("office"), cidr="10.2.0.0/16")
    b.add(
        aws.SECURITY_GROUP_RULE,
        "sg-rule",
        type="ingress",
        securityGroupId=Ref("app-db-sg"),
        protocol="tcp",
        fromPort=5432,
        toPort=5432,
        prefixListIds=[Ref("office")],
    )
    b.add(aws.SECURITY_GROUP_EGRESS_RULE, "egress", securityGroupId=Ref("app-db-sg"), ipProtocol="-1")
    b.add(
        aws.LAUNCH_TEMPLATE,
        "workers",
        networkInterfaces=[{"associatePublicIpAddress": "false", "securityGroups": [Ref("app-lambda-sg")]}],
        metadataOptions={"httpTokens": "required"},
    )
    b.add(aws.DB_SUBNET_GROUP, "aurora-subnets", subnetIds=[Ref("app-private-a"), Ref("app-private-b")])
    b.add(
        aws.RDS_CLUSTER,
        "aurora",
        engine="aurora-postgresql",
        dbSubnetGroupName=Ref("aurora-subnets").attr("name"),
        vpcSecurityGroupIds=[Ref("app-db-sg")],
        storageEncrypted=True,
    )
    b.add(aws.RDS_CLUSTER_INSTANCE, "aurora-1", clusterIdentifier=Ref("aurora"), instanceClass="db.r6g.large")
    b.add(aws.RDS_INSTANCE, "replica", replicateSourceDb=Ref("app-db"), instanceClass="db.t4g.micro")
    return b


_RECORDS = every_type_stack().records(IdMode.UNKNOWN)[1:]
NAMES = tuple(record.name for record in _RECORDS)
# Mostly the properties each resource has (the ones its rules read), sometimes any property at all.
PLACES = st.one_of(
    st.sampled_from([(record.name, key) for record in _RECORDS for key in record.properties]),
    st.tuples(st.sampled_from(NAMES), st.sampled_from(KEYS)),
)


def test_the_generated_stacks_hold_every_type_a_rule_reads() -> None:
    assert {record.type for record in every_type_stack().records(IdMode.UNKNOWN)} >= aws.KNOWN_TYPES


def odd_records(
    mode: IdMode, changes: list[tuple[str, str, Any]], dangling: list[str]
) -> list[ResourceRecord]:
    builder = every_type_stack()
    for name, key, value in changes:
        builder.set(name, **{key: value})
    records = builder.records(mode)
    by_name = {record.name: index for index, record in enumerate(records)}
    for name in dangling:  # a reference the stack does not hold, as a dependency of every property
        index = by_name[name]
        record = records[index]
        records[index] = replace(
            record,
            dependencies=(*record.dependencies, GONE),
            property_dependencies={key: (*urns, GONE) for key, urns in record.property_dependencies.items()},
        )
    return records


def run_every_rule(records: list[ResourceRecord]) -> list[Finding]:
    """Every rule as the pack runs it: stack rules over one shared index, resource rules per resource."""
    index = StackIndex(stack_nodes(records))
    found: list[Finding] = []
    for rule in RULES:
        if rule.check_stack:
            found.extend(rule.run_stack(index))
        else:
            found.extend(
                finding for record in records for finding in rule.run_resource(resource_node(record))
            )
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(list(IdMode)),
    changes=st.lists(st.tuples(PLACES, values).map(lambda pair: (*pair[0], pair[1])), max_size=10),
    dangling=st.lists(st.sampled_from(NAMES), max_size=3),
)
def test_no_value_crashes_a_rule(
    mode: IdMode, changes: list[tuple[str, str, Any]], dangling: list[str]
) -> None:
    for finding in run_every_rule(odd_records(mode, changes, dangling)):
        assert "could not finish" not in finding.message, finding.message


@pytest.mark.parametrize(
    ("name", "key", "value"),
    [
        ("app-private-a-rt", "routes", 5),  # 'float' object is not iterable (numbers arrive as floats)
        ("app-default-sg", "ingress", 3),
        ("app-public-default", "gatewayId", {"id": "igw-1"}),  # unhashable type: 'dict'
        ("app-db-sg", "ingress", [{"protocol": {"name": "tcp"}, "fromPort": [22], "cidrBlocks": 7}]),
        ("office", "entries", [5]),
    ],
)
def test_values_of_the_wrong_shape_are_doubts_not_crashes(name: str, key: str, value: Any) -> None:
    findings = run_every_rule(odd_records(IdMode.UNKNOWN, [(name, key, value)], ["app-private-a-rta"]))
    assert [f.message for f in findings if "could not finish" in f.message] == []
    assert any(f.unverifiable and "cannot be read" in f.message for f in findings), findings


# --- booleans spelled as strings, and values that must not silently pass -------------------------


@pytest.mark.parametrize("mode", list(IdMode))
def test_booleans_spelled_as_strings_mean_what_they_say(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set("app-db", publiclyAccessible="false", storageEncrypted="true", multiAz="true")
    builder.set("app-private-a", mapPublicIpOnLaunch="false")
    for rule in (
        "rds-no-public-access",
        "db-storage-encrypted",
        "rds-multi-az",
        "private-subnet-no-auto-public-ip",
    ):
        assert findings(rule, builder, mode) == [], rule
    builder.set("app-db", publiclyAccessible="true", storageEncrypted="false")
    builder.set("app-private-a", mapPublicIpOnLaunch="true")
    caught = {
        rule: [urn.rsplit("::", 1)[1] for urn, _message in findings(rule, builder, mode)]
        for rule in ("rds-no-public-access", "db-storage-encrypted", "private-subnet-no-auto-public-ip")
    }
    assert caught == {
        "rds-no-public-access": ["app-db"],
        "db-storage-encrypted": ["app-db"],
        "private-subnet-no-auto-public-ip": ["app-private-a"],
    }


@pytest.mark.parametrize("mode", list(IdMode))
def test_database_groups_that_cannot_be_read_are_a_doubt(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set("app-db", vpcSecurityGroupIds=[Ref("app-db-sg")])
    assert findings("db-security-group-no-internet-ingress", builder, mode) == []
    builder.set("app-db", vpcSecurityGroupIds=[Ref("app-db-sg"), {"id": "sg-1"}])
    assert findings("db-security-group-no-internet-ingress", builder, mode) == [
        (
            builder.urn("app-db"),
            "RDS instance 'app-db': cannot be verified before apply: its security groups cannot all be seen: "
            "{'id': 'sg-1'} cannot be read as an id. Fix: use literal CIDRs and security group references.",
        )
    ]


# --- over gRPC ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackClient]:
    with PolicyPackClient(python=sys.executable) as client:
        yield client


def test_the_pack_process_survives_odd_stacks(pack: PolicyPackClient) -> None:
    odd = [
        ("app-private-a-rt", "routes", 5),
        ("app-default-sg", "ingress", False),
        ("app-public-default", "gatewayId", {"id": "igw-1"}),
        ("app-db-sg", "ingress", [{"protocol": {"name": "tcp"}, "fromPort": [22], "cidrBlocks": 7}]),
        ("app-db", "vpcSecurityGroupIds", 5.5),
        ("app-private-a", "availabilityZone", ["us-east-1a"]),
        ("office", "entries", "10.0.0.0/8"),
    ]
    for mode in IdMode:
        records = odd_records(mode, odd, ["app-private-a-rta", "app-db"])
        diagnostics = pack.analyze_stack(records) + [d for record in records for d in pack.analyze(record)]
        assert [
            d.message for d in diagnostics if "could not finish" in d.message or "during preview" in d.message
        ] == []
        assert "db-security-group-no-internet-ingress" in {d.policy_name for d in diagnostics}
    assert pack.analyze_stack(secure_stack().records(IdMode.UNKNOWN)) == []
