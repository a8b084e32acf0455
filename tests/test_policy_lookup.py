"""AWS lookups: an app stack whose subnets come from a lookup (`aws.ec2.get_subnets(...)`), a
StackReference or config names ids it does not manage. Offline they are an advisory doubt; with AWS
credentials the pack reads them (here from moto, the AWS API emulator) and judges them like its own:
private subnets in 2 AZs pass, a public one or a single AZ is blocked."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from policies.network_guard import aws_lookup
from policies.network_guard import aws_types as aws
from preview.model import UNKNOWN
from preview.policy_client import PolicyPackClient
from tests.policy_helpers import RULES_BY_NAME, IdMode, Ref, StackBuilder, run_stack_rule

REGION = "us-east-1"
PLACEMENT_RULES = ("db-subnet-group-private", "db-subnet-group-multi-az", "lambda-vpc-multi-az")


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    aws_lookup.forget()


@pytest.fixture
def ec2(credentials: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)
    aws_lookup.forget()


def network(ec2: Any, zones: tuple[str, str] = ("us-east-1a", "us-east-1b")) -> dict[str, str]:
    """What a network stack made: a VPC, a public subnet routed to an internet gateway, and two
    private subnets on the main table (no internet route)."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ids = {"vpc": vpc}
    for name, cidr, zone in (
        ("private-a", "10.0.10.0/24", zones[0]),
        ("private-b", "10.0.11.0/24", zones[1]),
        ("public-b", "10.0.0.0/24", zones[1]),
    ):
        ids[name] = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    ec2.associate_route_table(RouteTableId=table, SubnetId=ids["public-b"])
    ids["public-rt"] = table
    return ids


def app_stack(vpc: str, subnets: list[str]) -> StackBuilder:
    """The app stack: a database and a Lambda in subnets it only knows by id (plain strings)."""
    builder = StackBuilder(project="app")
    database_group = builder.add(aws.SECURITY_GROUP, "db-sg", vpcId=vpc, description="Database")
    group = builder.add(aws.DB_SUBNET_GROUP, "db-subnets", subnetIds=list(subnets))
    builder.add(
        aws.RDS_INSTANCE,
        "db",
        engine="postgres",
        dbSubnetGroupName=group.attr("name"),
        vpcSecurityGroupIds=[database_group],
        storageEncrypted=True,
        publiclyAccessible=False,
    )
    builder.add(
        aws.LAMBDA_FUNCTION, "api", vpcConfig={"subnetIds": list(subnets), "securityGroupIds": [Ref("db-sg")]}
    )
    return builder


def placement(builder: StackBuilder, mode: IdMode, lookups: bool) -> dict[str, list[tuple[str, bool]]]:
    """Per rule: (message, advisory) of each finding."""
    return {
        name: [
            (finding.message, finding.advisory)
            for finding in run_stack_rule(RULES_BY_NAME[name], builder, mode, lookups=lookups)
        ]
        for name in PLACEMENT_RULES
    }


# --- offline: doubt is an advisory -----------------------------------------------------------------


def test_looked_up_subnets_are_an_advisory_offline_and_mandatory_when_failing_closed(
    credentials: None,
) -> None:
    builder = app_stack("vpc-0shared", ["subnet-0aaa", "subnet-0bbb"])
    found = placement(builder, IdMode.UNKNOWN, lookups=False)
    assert found["db-subnet-group-private"] == [
        (
            "DB subnet group 'db-subnets': cannot be verified from this stack: its subnets cannot all be "
            "seen: subnet-0aaa, subnet-0bbb are not managed by this stack. Fix: run the preview with AWS "
            "credentials (awsLookups) so the pack can read it from AWS, or set trustUnmanaged: true for this "
            "rule if the stack that manages it runs this pack.",
            True,
        )
    ]
    assert [advisory for name in PLACEMENT_RULES for _, advisory in found[name]] == [True, True, True]
    closed = run_stack_rule(
        RULES_BY_NAME["lambda-vpc-multi-az"], builder, IdMode.UNKNOWN, {"failOnUnverifiable": True}
    )
    assert [(finding.unverifiable, finding.advisory) for finding in closed] == [(True, False)]
    trusted = run_stack_rule(
        RULES_BY_NAME["lambda-vpc-multi-az"], builder, IdMode.UNKNOWN, {"trustUnmanaged": True}
    )
    assert trusted == []


@pytest.mark.parametrize(
    ("profile", "why"),
    [
        (None, "us-east-1: no AWS credentials"),
        (
            "missing-profile",
            "us-east-1: ProfileNotFound: The config profile (missing-profile) could not be found",
        ),
    ],
)
def test_lookups_without_credentials_leave_the_advisory_and_say_why(
    monkeypatch: pytest.MonkeyPatch, credentials: None, profile: str | None, why: str
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    if profile:
        monkeypatch.setenv("AWS_PROFILE", profile)
    builder = app_stack("vpc-0shared", ["subnet-0aaa", "subnet-0bbb"])
    note = f" AWS lookups could not read it ({why})."
    assert placement(builder, IdMode.PLAIN, lookups=True) == {
        name: [(message + note, advisory) for message, advisory in found]
        for name, found in placement(builder, IdMode.PLAIN, lookups=False).items()
    }


def test_an_unreachable_api_leaves_the_advisory_within_the_time_budget(
    monkeypatch: pytest.MonkeyPatch, credentials: None
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    builder = app_stack("vpc-0shared", ["subnet-0aaa", "subnet-0bbb"])
    started = time.monotonic()
    found = placement(builder, IdMode.PLAIN, lookups=True)
    assert time.monotonic() - started < aws_lookup.BUDGET_S
    assert [advisory for name in PLACEMENT_RULES for _, advisory in found[name]] == [True, True, True]
    why = "AWS lookups could not read it (us-east-1: Could not connect to the endpoint URL"
    assert all(why in message for name in PLACEMENT_RULES for message, _ in found[name])


# --- with AWS (moto) -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(IdMode))
def test_private_looked_up_subnets_in_two_zones_pass_and_a_public_one_is_blocked(
    ec2: Any, mode: IdMode
) -> None:
    ids = network(ec2)
    builder = app_stack(ids["vpc"], [ids["private-a"], ids["private-b"]])
    assert placement(builder, mode, lookups=True) == {name: [] for name in PLACEMENT_RULES}
    builder.set("db-subnets", subnetIds=[ids["private-a"], ids["public-b"]])
    assert placement(builder, mode, lookups=True)["db-subnet-group-private"] == [
        (
            f"DB subnet group 'db-subnets': it holds subnet '{ids['public-b']} (read from AWS)', which is "
            f"public: route table '{ids['public-rt']} (read from AWS)' routes to internet gateway "
            f"{_gateway(ec2, ids['public-rt'])}. Fix: list only private subnets (no route to an internet "
            "gateway) in its subnetIds.",
            False,
        )
    ]


def _gateway(ec2: Any, table: str) -> str:
    routes = ec2.describe_route_tables(RouteTableIds=[table])["RouteTables"][0]["Routes"]
    return next(route["GatewayId"] for route in routes if route["GatewayId"].startswith("igw-"))


def test_looked_up_subnets_in_one_zone_are_blocked(ec2: Any) -> None:
    ids = network(ec2, zones=("us-east-1a", "us-east-1a"))
    builder = app_stack(ids["vpc"], [ids["private-a"], ids["private-b"]])
    found = placement(builder, IdMode.PLAIN, lookups=True)
    assert found["db-subnet-group-private"] == []
    assert found["lambda-vpc-multi-az"] == [
        (
            "Lambda function 'api': its vpcConfig.subnetIds have 2 subnets in us-east-1a, so one AZ outage "
            "takes it down. Fix: use at least 2 subnets in at least 2 availability zones.",
            False,
        )
    ]
    assert [message.split(":")[0] for message, _ in found["db-subnet-group-multi-az"]] == [
        "DB subnet group 'db-subnets'"
    ]


def test_default_vpc_subnets_are_public_through_the_main_table(ec2: Any) -> None:
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    builder = app_stack(vpc, [subnet["SubnetId"] for subnet in subnets[:3]])
    assert placement(builder, IdMode.PLAIN, lookups=True)["db-subnet-group-multi-az"] == []
    # AWS gives the default VPC's main table a route to its internet gateway (Default VPCs, "Default VPC
    # components"); moto leaves it out, so add it as AWS has it.
    main = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"][0]["RouteTableId"]
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    aws_lookup.forget()
    found = placement(builder, IdMode.PLAIN, lookups=True)["db-subnet-group-private"]
    assert [(message.split(" (read")[0], advisory) for message, advisory in found] == [
        (f"DB subnet group 'db-subnets': it holds subnet '{subnet['SubnetId']}", False)
        for subnet in subnets[:3]
    ]
    assert all(f"routes to internet gateway {gateway}" in message for message, _ in found)


def test_security_groups_and_prefix_lists_are_read(ec2: Any) -> None:
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    prefix_list = ec2.create_managed_prefix_list(
        PrefixListName="offices", MaxEntries=2, AddressFamily="IPv4", Entries=[{"Cidr": "203.0.113.0/24"}]
    )["PrefixList"]["PrefixListId"]
    group = ec2.create_security_group(GroupName="shared-db", Description="db", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "PrefixListIds": [{"PrefixListId": prefix_list}],
            },
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        ],
    )
    builder = StackBuilder(project="app")
    builder.add(aws.RDS_INSTANCE, "db", engine="postgres", vpcSecurityGroupIds=[group])
    nodes = {node.type: node for node in aws_lookup.nodes_for_unmanaged(_index(builder), _nodes(builder))}
    assert ["0.0.0.0/0"] in [rule["cidrBlocks"] for rule in nodes[aws.SECURITY_GROUP].props["ingress"]]
    assert nodes[aws.MANAGED_PREFIX_LIST].props == {
        "id": prefix_list,
        "entries": [{"cidr": "203.0.113.0/24"}],
    }
    assert [
        message.split(". Fix")[0]
        for _, message in _findings("db-security-group-no-internet-ingress", builder)
    ] == [
        f"RDS instance 'db': security group '{group} (read from AWS)' admits 0.0.0.0/0 through security "
        f"group '{group} (read from AWS)'"
    ]


def _nodes(builder: StackBuilder) -> list[Any]:
    from tests.policy_helpers import stack_nodes

    return stack_nodes(builder.records(IdMode.PLAIN))


def _index(builder: StackBuilder) -> Any:
    from policies.network_guard.graph import StackIndex

    return StackIndex(_nodes(builder))


def _findings(name: str, builder: StackBuilder) -> list[tuple[str, str]]:
    return [
        (finding.urn, finding.message)
        for finding in run_stack_rule(RULES_BY_NAME[name], builder, IdMode.PLAIN, lookups=True)
    ]


# --- the pack process, over gRPC, against moto's server ---------------------------------------------


@pytest.fixture
def moto_server(credentials: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    yield boto3.client("ec2", region_name=REGION, endpoint_url=endpoint)
    server.stop()


def test_pack_reads_looked_up_subnets_over_grpc(moto_server: Any) -> None:
    ids = network(moto_server)
    passing = app_stack(ids["vpc"], [ids["private-a"], ids["private-b"]])
    public = app_stack(ids["vpc"], [ids["private-a"], ids["public-b"]])
    unknown_ids = app_stack("vpc-0shared", ["subnet-0aaa", "subnet-0bbb"])
    with PolicyPackClient(python=sys.executable) as pack:
        assert [
            d for d in pack.analyze_stack(passing.records(IdMode.UNKNOWN)) if d.policy_name in PLACEMENT_RULES
        ] == []
        blocked = [
            (d.policy_name, d.enforcement_level, d.urn)
            for d in pack.analyze_stack(public.records(IdMode.UNKNOWN))
            if d.policy_name in PLACEMENT_RULES
        ]
        assert blocked == [("db-subnet-group-private", "mandatory", public.urn("db-subnets"))]
        doubts = [
            (d.policy_name, d.enforcement_level)
            for d in pack.analyze_stack(unknown_ids.records(IdMode.UNKNOWN))
            if d.policy_name in PLACEMENT_RULES
        ]
        assert doubts == [(name, "advisory") for name in PLACEMENT_RULES]
        pack.configure({name: {"failOnUnverifiable": True} for name in PLACEMENT_RULES})
        doubts = [
            (d.policy_name, d.enforcement_level)
            for d in pack.analyze_stack(unknown_ids.records(IdMode.UNKNOWN))
            if d.policy_name in PLACEMENT_RULES
        ]
        assert doubts == [(name, "mandatory") for name in PLACEMENT_RULES]
        # Resource rules too: an unknown publiclyAccessible is an advisory unless the rule fails closed.
        unknown_ids.set("db", publiclyAccessible=UNKNOWN)
        [record] = [r for r in unknown_ids.records(IdMode.UNKNOWN) if r.name == "db"]
        levels = [(d.policy_name, d.enforcement_level) for d in pack.analyze(record)]
        assert ("rds-no-public-access", "advisory") in levels
        pack.configure({"rds-no-public-access": {"failOnUnverifiable": True}})
        levels = [(d.policy_name, d.enforcement_level) for d in pack.analyze(record)]
        assert ("rds-no-public-access", "mandatory") in levels


def test_ids_are_read_in_the_region_of_the_resource_that_names_them(credentials: None) -> None:
    from policies.network_guard.graph import Node, StackIndex

    group = Node("urn:a", aws.DB_SUBNET_GROUP, "a", {"subnetIds": ["subnet-0a"]}, provider_region="eu-west-1")
    own = Node(
        "urn:b",
        aws.DB_SUBNET_GROUP,
        "b",
        {"subnetIds": ["subnet-0b"], "region": "us-west-2"},
        provider_region="eu-west-1",
    )
    neither = Node("urn:c", aws.DB_SUBNET_GROUP, "c", {"subnetIds": ["subnet-0c"]})
    nodes = [group, own, neither]
    assert aws_lookup.referenced_ids(nodes, StackIndex(nodes)) == {
        "eu-west-1": {"subnet-0a"},
        "us-west-2": {"subnet-0b"},
        REGION: {"subnet-0c"},
    }


def test_subnets_in_another_region_are_read_there(ec2: Any) -> None:
    west = boto3.client("ec2", region_name="us-west-2")
    ids = network(west, zones=("us-west-2a", "us-west-2b"))
    builder = app_stack(ids["vpc"], [ids["private-a"], ids["public-b"]])
    builder.set("db-subnets", region="us-west-2")
    found = placement(builder, IdMode.PLAIN, lookups=True)["db-subnet-group-private"]
    assert [(message.split(" (read")[0], advisory) for message, advisory in found] == [
        (f"DB subnet group 'db-subnets': it holds subnet '{ids['public-b']}", False)
    ]


def test_the_offline_preview_pack_makes_no_aws_call_even_with_credentials(moto_server: Any) -> None:
    ids = network(moto_server)
    public = app_stack(ids["vpc"], [ids["private-a"], ids["public-b"]])
    with PolicyPackClient(python=sys.executable, offline=True) as pack:
        found = [
            (d.policy_name, d.enforcement_level)
            for d in pack.analyze_stack(public.records(IdMode.UNKNOWN))
            if d.policy_name in PLACEMENT_RULES
        ]
    # Online, the public subnet is found and blocks (test above); offline it stays a doubt.
    assert found == [(name, "advisory") for name in PLACEMENT_RULES]
