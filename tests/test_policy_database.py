"""No public database: each rule passes the secure network, then catches one change, whether ids are
unknown (first preview), known (update) or passed as plain strings."""

from __future__ import annotations

import pytest

from policies.network_guard import aws_types as aws
from preview.model import UNKNOWN
from tests.policy_helpers import (
    RULES_BY_NAME,
    IdMode,
    Ref,
    findings,
    run_stack_rule,
    secure_stack,
)

MODES = list(IdMode)


# --- rds-no-public-access --------------------------------------------------------------------------


@pytest.mark.parametrize("resource_type", [aws.RDS_INSTANCE, aws.RDS_CLUSTER_INSTANCE, aws.RDS_CLUSTER])
def test_public_access_is_caught_on_every_database_kind(resource_type: str) -> None:
    builder = secure_stack()
    builder.add(resource_type, "reporting", engine="aurora-postgresql", publiclyAccessible=False)
    assert findings("rds-no-public-access", builder, IdMode.UNKNOWN) == []
    builder.set("reporting", publiclyAccessible=True)
    label = aws.label(resource_type, "reporting")
    assert findings("rds-no-public-access", builder, IdMode.UNKNOWN) == [
        (
            builder.urn("reporting"),
            f"{label}: publiclyAccessible is true, so RDS gives it a public DNS name that resolves to a "
            "public address. Fix: set publiclyAccessible: false and reach it from inside the VPC.",
        )
    ]


def test_public_access_that_is_unknown_is_reported_by_the_rule_not_the_sdk() -> None:
    builder = secure_stack()
    builder.set("app-db", publiclyAccessible=UNKNOWN)
    assert findings("rds-no-public-access", builder, IdMode.UNKNOWN) == [
        (
            builder.urn("app-db"),
            "RDS instance 'app-db': cannot be verified before apply: publiclyAccessible is only known "
            "after apply. Fix: set it to a literal false.",
        )
    ]


# --- db-storage-encrypted --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_unencrypted_storage_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("db-storage-encrypted", builder, mode) == []
    builder.unset("app-db", "storageEncrypted")
    assert findings("db-storage-encrypted", builder, mode) == [
        (
            builder.urn("app-db"),
            "RDS instance 'app-db': storageEncrypted is not true, so its storage, automated backups and "
            "snapshots are unencrypted. Fix: set storageEncrypted: true (with kmsKeyId for a "
            "customer-managed key); an existing database has to be restored from an encrypted copy of a "
            "snapshot.",
        )
    ]


def test_replicas_and_serverless_v1_are_not_asked_for_storage_encryption() -> None:
    builder = secure_stack()
    builder.add(aws.RDS_INSTANCE, "replica", replicateSourceDb=Ref("app-db"))
    builder.add(aws.RDS_CLUSTER, "serverless", engine="aurora-mysql", engineMode="serverless")
    assert findings("db-storage-encrypted", builder, IdMode.UNKNOWN) == []
    builder.set("serverless", engineMode="provisioned")
    assert [urn for urn, _ in findings("db-storage-encrypted", builder, IdMode.UNKNOWN)] == [
        builder.urn("serverless")
    ]


# --- db-subnet-group-private -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_subnet_group_with_a_public_subnet_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("db-subnet-group-private", builder, mode) == []
    builder.set("app-db-subnets", subnetIds=[Ref("app-private-a"), Ref("app-public-b")])
    assert findings("db-subnet-group-private", builder, mode) == [
        (
            builder.urn("app-db-subnets"),
            "DB subnet group 'app-db-subnets': it holds subnet 'app-public-b', which is public: route "
            "table 'app-public-rt' routes to internet gateway 'app-igw'. Fix: list only private subnets "
            "(no route to an internet gateway) in its subnetIds.",
        )
    ]


@pytest.mark.parametrize("mode", MODES)
def test_private_subnet_made_public_through_its_route_table_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set("app-private-b-default", natGatewayId=None, gatewayId=Ref("app-igw"))
    assert [urn for urn, _ in findings("db-subnet-group-private", builder, mode)] == [
        builder.urn("app-db-subnets")
    ]


@pytest.mark.parametrize("mode", MODES)
def test_database_without_a_subnet_group_lands_in_the_default_vpc(mode: IdMode) -> None:
    builder = secure_stack()
    builder.unset("app-db", "dbSubnetGroupName")
    assert findings("db-subnet-group-private", builder, mode) == [
        (
            builder.urn("app-db"),
            "RDS instance 'app-db': it names no dbSubnetGroupName, so RDS places it in the default VPC, "
            "whose subnets are public. Fix: set dbSubnetGroupName to a DB subnet group of private subnets.",
        )
    ]


def test_subnet_outside_the_stack_is_unverifiable_unless_trusted() -> None:
    builder = secure_stack()
    builder.set("app-db-subnets", subnetIds=[Ref("app-private-a"), "subnet-0shared"])
    findings = run_stack_rule(RULES_BY_NAME["db-subnet-group-private"], builder, IdMode.UNKNOWN)
    assert [(f.urn, f.unverifiable, f.outside_stack) for f in findings] == [
        (builder.urn("app-db-subnets"), True, True)
    ]
    assert findings[0].message == (
        "DB subnet group 'app-db-subnets': cannot be verified from this stack: its subnets cannot all be "
        "seen: subnet-0shared is not managed by this stack. Fix: run the preview with AWS credentials "
        "(awsLookups) so the pack can read it from AWS, or set trustUnmanaged: true for this rule if the "
        "stack that manages it runs this pack."
    )
    assert (
        run_stack_rule(
            RULES_BY_NAME["db-subnet-group-private"], builder, IdMode.UNKNOWN, {"trustUnmanaged": True}
        )
        == []
    )


# --- db-security-group-no-internet-ingress ---------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("rule_type", "rule_props"),
    [
        (
            aws.SECURITY_GROUP_RULE,
            {
                "type": "ingress",
                "protocol": "tcp",
                "fromPort": 5432,
                "toPort": 5432,
                "cidrBlocks": ["0.0.0.0/0"],
            },
        ),
        (
            aws.SECURITY_GROUP_INGRESS_RULE,
            {"ipProtocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrIpv6": "::/0"},
        ),
    ],
)
def test_database_group_open_to_the_internet_through_a_rule_resource_is_caught(
    mode: IdMode, rule_type: str, rule_props: dict[str, object]
) -> None:
    builder = secure_stack()
    assert findings("db-security-group-no-internet-ingress", builder, mode) == []
    builder.add(rule_type, "open", securityGroupId=Ref("app-db-sg"), **rule_props)
    world = rule_props.get("cidrIpv6", "0.0.0.0/0")
    label = aws.label(rule_type, "open")
    assert findings("db-security-group-no-internet-ingress", builder, mode) == [
        (
            builder.urn("app-db"),
            f"RDS instance 'app-db': security group 'app-db-sg' admits {world} through {label}. Fix: admit "
            "only the security groups of its clients (for example the Lambda's), or VPC ranges; never "
            "0.0.0.0/0 or ::/0.",
        )
    ]


@pytest.mark.parametrize("mode", MODES)
def test_database_group_open_inline_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set(
        "app-db-sg",
        ingress=[
            {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["10.0.0.0/16", "0.0.0.0/0"]}
        ],
    )
    assert [
        message.split(". Fix")[0]
        for _, message in findings("db-security-group-no-internet-ingress", builder, mode)
    ] == ["RDS instance 'app-db': security group 'app-db-sg' admits 0.0.0.0/0"]


@pytest.mark.parametrize("mode", MODES)
def test_database_without_groups_is_judged_by_its_vpcs_default_group(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set("app-db", vpcSecurityGroupIds=[])
    assert findings("db-security-group-no-internet-ingress", builder, mode) == []
    builder.add(
        aws.SECURITY_GROUP_RULE,
        "default-open",
        type="ingress",
        securityGroupId=Ref("app-vpc").attr("defaultSecurityGroupId"),
        protocol="-1",
        fromPort=0,
        toPort=0,
        cidrBlocks=["0.0.0.0/0"],
    )
    assert [
        message.split(". Fix")[0]
        for _, message in findings("db-security-group-no-internet-ingress", builder, mode)
    ] == [
        "RDS instance 'app-db': the default security group of VPC 'app-vpc' admits 0.0.0.0/0 through "
        "security group rule 'default-open'"
    ]


def test_rule_resource_whose_group_cannot_be_traced_makes_the_verdict_unverifiable() -> None:
    builder = secure_stack()
    builder.add(
        aws.SECURITY_GROUP_RULE,
        "stray",
        type="ingress",
        securityGroupId=UNKNOWN,
        protocol="tcp",
        fromPort=5432,
        toPort=5432,
        cidrBlocks=["0.0.0.0/0"],
    )
    findings = run_stack_rule(RULES_BY_NAME["db-security-group-no-internet-ingress"], builder, IdMode.UNKNOWN)
    assert [(f.urn, f.unverifiable) for f in findings] == [(builder.urn("app-db"), True)]
