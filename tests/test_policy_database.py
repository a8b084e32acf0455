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
    StackBuilder,
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
    builder.set("serverless", engine="mysql", engineMode="provisioned")
    assert [urn for urn, _ in findings("db-storage-encrypted", builder, IdMode.UNKNOWN)] == [
        builder.urn("serverless")
    ]


@pytest.mark.parametrize("mode", MODES)
def test_new_aurora_clusters_are_encrypted_by_aws_unless_told_otherwise(mode: IdMode) -> None:
    # Aurora encrypts every cluster created since 2026-02-18 (Aurora User Guide, Overview.Encryption);
    # Multi-AZ DB clusters (engine postgres or mysql) are not.
    builder = secure_stack()
    builder.add(
        aws.RDS_CLUSTER, "aurora", engine="aurora-postgresql", dbSubnetGroupName=Ref("app-db-subnets")
    )
    assert findings("db-storage-encrypted", builder, mode) == []
    builder.set("aurora", storageEncrypted=False)
    assert findings("db-storage-encrypted", builder, mode) == [
        (
            builder.urn("aurora"),
            "RDS cluster 'aurora': storageEncrypted is not true, so its storage, automated backups and "
            "snapshots are unencrypted. Fix: set storageEncrypted: true (with kmsKeyId for a "
            "customer-managed key); an existing database has to be restored from an encrypted copy of a "
            "snapshot.",
        )
    ]


@pytest.mark.parametrize("mode", MODES)
def test_replica_of_a_source_outside_the_stack_has_an_encryption_that_cannot_be_seen(mode: IdMode) -> None:
    builder = secure_stack()
    source = "arn:aws:rds:us-east-1:123456789012:db:orders"
    builder.add(
        aws.RDS_INSTANCE, "replica", replicateSourceDb=source, kmsKeyId="arn:aws:kms:us-east-1:1:key/k"
    )
    assert findings("db-storage-encrypted", builder, mode) == []
    builder.unset("replica", "kmsKeyId")
    found = run_stack_rule(RULES_BY_NAME["db-storage-encrypted"], builder, mode)
    assert [(f.urn, f.unverifiable, f.advisory, f.outside_stack) for f in found] == [
        (builder.urn("replica"), True, True, True)
    ]
    assert found[0].message.startswith(
        f"RDS instance 'replica': cannot be verified from this stack: it is a read replica of {source} and "
        "has that database's encryption"
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "restore",
    [
        {"snapshotIdentifier": "orders-final"},
        {"restoreToPointInTime": {"sourceDbInstanceIdentifier": "orders", "useLatestRestorableTime": True}},
    ],
)
def test_restored_database_is_a_doubt_until_it_asks_for_encryption(
    mode: IdMode, restore: dict[str, object]
) -> None:
    builder = secure_stack()
    builder.add(
        aws.RDS_INSTANCE,
        "restored",
        dbSubnetGroupName=Ref("app-db-subnets"),
        storageEncrypted=True,
        **restore,
    )
    assert findings("db-storage-encrypted", builder, mode) == []
    builder.unset("restored", "storageEncrypted")
    [(message, unverifiable)] = [
        (f.message, f.unverifiable)
        for f in run_stack_rule(RULES_BY_NAME["db-storage-encrypted"], builder, mode)
    ]
    assert unverifiable
    assert message.startswith(
        f"RDS instance 'restored': cannot be verified before apply: it is restored ({next(iter(restore))}) "
        "and takes the encryption of what it is restored from"
    )
    builder.set("restored", storageEncrypted=False)
    assert [urn for urn, _ in findings("db-storage-encrypted", builder, mode)] == [builder.urn("restored")]


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


# --- what makes a subnet public --------------------------------------------------------------------

PRIVATE_FIX = " Fix: list only private subnets (no route to an internet gateway) in its subnetIds."
PUBLIC_B = (
    "DB subnet group 'app-db-subnets': it holds subnet 'app-private-b', which is public: route table "
    "'app-private-b-rt' routes to {gateway}. Fix: list only private subnets (no route to an internet "
    "gateway) in its subnetIds."
)


def private_route(builder: StackBuilder, name: str, **target: object) -> None:
    builder.add(aws.ROUTE, name, routeTableId=Ref("app-private-b-rt"), **target)


def db_subnet_findings(builder: StackBuilder, mode: IdMode) -> list[tuple[str, bool]]:
    found = run_stack_rule(RULES_BY_NAME["db-subnet-group-private"], builder, mode)
    return [(finding.message, finding.unverifiable) for finding in found]


@pytest.mark.parametrize("mode", MODES)
def test_a_carrier_gateway_route_makes_a_subnet_public(mode: IdMode) -> None:
    builder = secure_stack()
    carrier = builder.add(aws.CARRIER_GATEWAY, "wavelength", vpcId=Ref("app-vpc"))
    assert db_subnet_findings(builder, mode) == []
    private_route(builder, "to-carrier", destinationCidrBlock="0.0.0.0/0", carrierGatewayId=carrier)
    assert db_subnet_findings(builder, mode) == [
        (
            PUBLIC_B.format(gateway="carrier gateway 'wavelength'"),
            False,
        )
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("gateway_type", "key", "extra"),
    [
        (aws.EGRESS_ONLY_GATEWAY, "egressOnlyGatewayId", {"destinationIpv6CidrBlock": "::/0"}),
        (aws.EGRESS_ONLY_GATEWAY, "gatewayId", {"destinationIpv6CidrBlock": "::/0"}),
        (aws.TRANSIT_GATEWAY, "transitGatewayId", {"destinationCidrBlock": "10.1.0.0/16"}),
        ("aws:ec2/vpcPeeringConnection:VpcPeeringConnection", "vpcPeeringConnectionId", {}),
        (aws.VPN_GATEWAY, "gatewayId", {"destinationCidrBlock": "192.168.0.0/16"}),
    ],
)
def test_routes_that_let_no_internet_in_keep_a_subnet_private(
    mode: IdMode, gateway_type: str, key: str, extra: dict[str, object]
) -> None:
    builder = secure_stack()
    gateway = builder.add(gateway_type, "other-gateway", vpcId=Ref("app-vpc"))
    private_route(builder, "to-other", **{key: gateway}, **extra)
    assert db_subnet_findings(builder, mode) == []
    builder.set("to-other", **{key: None})
    builder.set("to-other", gatewayId=Ref("app-igw"))
    assert db_subnet_findings(builder, mode) == [
        (PUBLIC_B.format(gateway="internet gateway 'app-igw'"), False)
    ]


def test_gateways_given_through_their_attachments_are_followed_on_a_first_preview() -> None:
    builder = secure_stack()
    builder.add(aws.VPN_GATEWAY, "vpn")
    builder.add(aws.VPN_GATEWAY_ATTACHMENT, "vpn-attach", vpcId=Ref("app-vpc"), vpnGatewayId=Ref("vpn"))
    private_route(
        builder, "to-vpn", destinationCidrBlock="192.168.0.0/16", gatewayId=Ref("vpn-attach", "vpnGatewayId")
    )
    assert db_subnet_findings(builder, IdMode.UNKNOWN) == []
    builder.add(aws.INTERNET_GATEWAY, "detached-igw")
    builder.add(
        aws.INTERNET_GATEWAY_ATTACHMENT,
        "igw-attach",
        vpcId=Ref("app-vpc"),
        internetGatewayId=Ref("detached-igw"),
    )
    builder.set("to-vpn", gatewayId=Ref("igw-attach", "internetGatewayId"))
    assert db_subnet_findings(builder, IdMode.UNKNOWN) == [
        (PUBLIC_B.format(gateway="internet gateway attachment 'igw-attach'"), False)
    ]


def test_a_subnet_in_a_secondary_cidr_block_uses_its_vpcs_main_table() -> None:
    builder = secure_stack()
    builder.add(aws.VPC_IPV4_CIDR_ASSOCIATION, "secondary", vpcId=Ref("app-vpc"), cidrBlock="10.100.0.0/16")
    builder.add(
        aws.SUBNET,
        "app-private-c",
        vpcId=Ref("secondary", "vpcId"),
        cidrBlock="10.100.0.0/24",
        availabilityZone="us-east-1c",
    )
    builder.set("app-db-subnets", subnetIds=[Ref("app-private-a"), Ref("app-private-c")])
    assert db_subnet_findings(builder, IdMode.UNKNOWN) == []
    # The main table, however it is set: here a DefaultRouteTable takes it over with a route to the internet.
    builder.add(
        aws.DEFAULT_ROUTE_TABLE,
        "main-rt",
        defaultRouteTableId=Ref("app-vpc").attr("defaultRouteTableId"),
        routes=[{"cidrBlock": "0.0.0.0/0", "gatewayId": Ref("app-igw")}],
    )
    assert db_subnet_findings(builder, IdMode.UNKNOWN) == [
        (
            "DB subnet group 'app-db-subnets': it holds subnet 'app-private-c', which is public: with no "
            "route table association it uses the main route table of VPC 'app-vpc'; default route table "
            "'main-rt' routes to internet gateway 'app-igw'." + PRIVATE_FIX,
            False,
        )
    ]


def default_vpc_stack() -> StackBuilder:
    builder = StackBuilder()
    vpc = builder.add(aws.DEFAULT_VPC, "default")
    subnets = [
        builder.add(
            aws.SUBNET, f"db-{zone}", vpcId=vpc, cidrBlock=f"172.31.{index}.0/24", availabilityZone=zone
        )
        for index, zone in enumerate(("us-east-1a", "us-east-1b"), start=100)
    ]
    builder.add(aws.DB_SUBNET_GROUP, "db-subnets", subnetIds=subnets)
    return builder


@pytest.mark.parametrize("mode", MODES)
def test_the_default_vpcs_main_table_is_public_until_a_default_route_table_takes_it(mode: IdMode) -> None:
    builder = default_vpc_stack()
    # Every public subnet is named, one finding each.
    assert [
        (message.split(". Fix")[0], unverifiable)
        for message, unverifiable in db_subnet_findings(builder, mode)
    ] == [
        (
            f"DB subnet group 'db-subnets': it holds subnet 'db-{zone}', which is public: with no route "
            "table association it uses the main route table of default VPC 'default'; the route table "
            "AWS created with default VPC 'default' routes to the internet gateway AWS gives default VPC "
            "'default'",
            False,
        )
        for zone in ("us-east-1a", "us-east-1b")
    ]
    builder.add(
        aws.DEFAULT_ROUTE_TABLE, "default-rt", defaultRouteTableId=Ref("default").attr("defaultRouteTableId")
    )
    assert db_subnet_findings(builder, mode) == []


@pytest.mark.parametrize("mode", MODES)
def test_default_subnets_are_public_by_aws_default(mode: IdMode) -> None:
    builder = secure_stack()
    builder.add(aws.DEFAULT_SUBNET, "default-a", availabilityZone="us-east-1a")
    assert db_subnet_findings(builder, mode) == []
    builder.set("app-db-subnets", subnetIds=[Ref("app-private-a"), Ref("default-a")])
    assert db_subnet_findings(builder, mode) == [
        (
            "DB subnet group 'app-db-subnets': it holds default subnet 'default-a', which is public: as a "
            "default subnet it uses the main route table of the default VPC; the main route table of the "
            "default VPC routes to the internet gateway AWS gives it." + PRIVATE_FIX,
            False,
        )
    ]


def test_an_internet_route_into_an_untraceable_table_is_a_doubt_not_a_pass() -> None:
    builder = secure_stack()
    builder.add(
        aws.ROUTE, "stray", routeTableId=UNKNOWN, destinationCidrBlock="0.0.0.0/0", gatewayId=Ref("app-igw")
    )
    assert db_subnet_findings(builder, IdMode.UNKNOWN) == [
        (
            "DB subnet group 'app-db-subnets': cannot be verified before apply: route 'stray' may lead to an "
            "internet gateway and its route table is only known after apply. Fix: give its subnets route "
            "tables this stack manages.",
            True,
        )
    ]


@pytest.mark.parametrize("mode", MODES)
def test_resources_of_unknown_types_cast_no_doubt_on_known_routes(mode: IdMode) -> None:
    builder = secure_stack()
    firewall = builder.add("acme:network:Firewall", "firewall", subnetId=Ref("app-private-b"))
    private_route(builder, "to-firewall", destinationCidrBlock="10.9.0.0/16", networkInterfaceId=firewall)
    assert db_subnet_findings(builder, mode) == []
    builder.set("to-firewall", gatewayId=Ref("app-igw"))
    assert [unverifiable for _, unverifiable in db_subnet_findings(builder, mode)] == [False]


# --- where RDS places replicas ----------------------------------------------------------------------

CROSS_REGION = (
    "RDS instance 'replica': it is a read replica of {source} in another region and names no "
    "dbSubnetGroupName: a cross-region replica does not take its source's DB subnet group, so RDS places "
    "it in the default VPC of its region, whose subnets are public. Fix: set dbSubnetGroupName to a DB "
    "subnet group of private subnets in the replica's region."
)


@pytest.mark.parametrize("mode", MODES)
def test_a_replica_in_its_sources_region_takes_its_subnet_group_and_one_in_another_does_not(
    mode: IdMode,
) -> None:
    builder = secure_stack()
    builder.set("app-db", region="us-east-1")
    builder.add(aws.RDS_INSTANCE, "replica", replicateSourceDb=Ref("app-db"), region="us-east-1")
    assert findings("db-subnet-group-private", builder, mode) == []
    builder.set("replica", region="eu-west-1")
    assert findings("db-subnet-group-private", builder, mode) == [
        (builder.urn("replica"), CROSS_REGION.format(source="RDS instance 'app-db'"))
    ]


def test_a_replica_of_an_arn_in_another_region_needs_its_own_subnet_group() -> None:
    builder = secure_stack()
    builder.add(aws.RDS_INSTANCE, "replica", replicateSourceDb="orders", region="us-east-1")
    assert findings("db-subnet-group-private", builder, IdMode.PLAIN) == []
    source = "arn:aws:rds:eu-west-1:123456789012:db:orders"
    builder.set("replica", replicateSourceDb=source)
    assert findings("db-subnet-group-private", builder, IdMode.PLAIN) == [
        (builder.urn("replica"), CROSS_REGION.format(source=source))
    ]
    builder.set("replica", dbSubnetGroupName=Ref("app-db-subnets"))
    assert findings("db-subnet-group-private", builder, IdMode.PLAIN) == []


def test_an_aurora_cluster_replicating_another_region_needs_its_own_subnet_group() -> None:
    builder = secure_stack()
    source = "arn:aws:rds:eu-west-1:123456789012:cluster:orders"
    builder.add(
        aws.RDS_CLUSTER,
        "replica",
        engine="aurora-postgresql",
        replicationSourceIdentifier=source,
        region="us-east-1",
        dbSubnetGroupName=Ref("app-db-subnets"),
    )
    assert findings("db-subnet-group-private", builder, IdMode.PLAIN) == []
    builder.unset("replica", "dbSubnetGroupName")
    assert findings("db-subnet-group-private", builder, IdMode.PLAIN) == [
        (builder.urn("replica"), CROSS_REGION.format(source=source).replace("RDS instance", "RDS cluster"))
    ]
