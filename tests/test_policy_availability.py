"""Multi-AZ rules: the secure network passes, then one change is caught, in every id mode."""

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


# --- db-subnet-group-multi-az ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_subnet_group_in_one_zone_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("db-subnet-group-multi-az", builder, mode) == []
    builder.set("app-private-b", availabilityZone="us-east-1a")
    assert findings("db-subnet-group-multi-az", builder, mode) == [
        (
            builder.urn("app-db-subnets"),
            "DB subnet group 'app-db-subnets': its subnetIds have 2 subnets in us-east-1a, so one AZ "
            "outage takes it down. Fix: use at least 2 subnets in at least 2 availability zones.",
        )
    ]


@pytest.mark.parametrize("mode", MODES)
def test_subnet_group_with_one_subnet_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set("app-db-subnets", subnetIds=[Ref("app-private-a")])
    assert findings("db-subnet-group-multi-az", builder, mode) == [
        (
            builder.urn("app-db-subnets"),
            "DB subnet group 'app-db-subnets': its subnetIds has 1 subnet in us-east-1a, so one AZ outage "
            "takes it down. Fix: use at least 2 subnets in at least 2 availability zones.",
        )
    ]


def test_thresholds_come_from_the_policy_config() -> None:
    builder = secure_stack()
    config = {"minSubnets": 3, "minAvailabilityZones": 3}
    assert findings("db-subnet-group-multi-az", builder, IdMode.UNKNOWN, config) == [
        (
            builder.urn("app-db-subnets"),
            "DB subnet group 'app-db-subnets': its subnetIds have 2 subnets in us-east-1a, us-east-1b, so "
            "one AZ outage takes it down. Fix: use at least 3 subnets in at least 3 availability zones.",
        )
    ]


def test_zone_only_known_after_apply_is_unverifiable() -> None:
    builder = secure_stack()
    builder.set("app-private-b", availabilityZone=UNKNOWN)
    [finding] = run_stack_rule(RULES_BY_NAME["db-subnet-group-multi-az"], builder, IdMode.UNKNOWN)
    assert (finding.urn, finding.unverifiable, finding.outside_stack) == (
        builder.urn("app-db-subnets"),
        True,
        False,
    )
    assert finding.message == (
        "DB subnet group 'app-db-subnets': cannot be verified before apply: its subnetIds may span fewer "
        "than 2 availability zones: the availabilityZone of subnet 'app-private-b' is only known after "
        "apply. Fix: give each subnet a literal availabilityZone."
    )


def test_zone_only_known_after_apply_does_not_matter_when_the_others_already_span_enough() -> None:
    builder = secure_stack(zones=("us-east-1a", "us-east-1b", "us-east-1c"))
    builder.set("app-private-c", availabilityZone=UNKNOWN)
    assert findings("db-subnet-group-multi-az", builder, IdMode.UNKNOWN) == []


def test_zone_names_and_zone_ids_are_not_counted_as_different_zones() -> None:
    builder = secure_stack()
    builder.unset("app-private-b", "availabilityZone")
    builder.set("app-private-b", availabilityZoneId="use1-az1")
    [finding] = run_stack_rule(RULES_BY_NAME["db-subnet-group-multi-az"], builder, IdMode.KNOWN)
    assert finding.unverifiable
    assert "mix availabilityZone and availabilityZoneId" in finding.message


# --- lambda-vpc-multi-az ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_lambda_in_one_subnet_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("lambda-vpc-multi-az", builder, mode) == []
    builder.set(
        "app-api", vpcConfig={"subnetIds": [Ref("app-private-a")], "securityGroupIds": [Ref("app-lambda-sg")]}
    )
    assert findings("lambda-vpc-multi-az", builder, mode) == [
        (
            builder.urn("app-api"),
            "Lambda function 'app-api': its vpcConfig.subnetIds has 1 subnet in us-east-1a, so one AZ "
            "outage takes it down. Fix: use at least 2 subnets in at least 2 availability zones.",
        )
    ]


def test_lambda_outside_a_vpc_is_not_concerned() -> None:
    builder = secure_stack()
    builder.set("app-api", vpcConfig={"subnetIds": [], "securityGroupIds": []})
    assert findings("lambda-vpc-multi-az", builder, IdMode.UNKNOWN) == []
    builder.unset("app-api", "vpcConfig")
    assert findings("lambda-vpc-multi-az", builder, IdMode.UNKNOWN) == []


# --- nat-gateway-per-az ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_private_subnet_using_another_zones_nat_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("nat-gateway-per-az", builder, mode) == []
    builder.set("app-private-b-default", natGatewayId=Ref("app-nat-a"))
    assert findings("nat-gateway-per-az", builder, mode) == [
        (
            builder.urn("app-private-b"),
            "subnet 'app-private-b': it is in us-east-1b but reaches the internet through NAT gateway "
            "'app-nat-a' in us-east-1a: an outage of that AZ cuts its egress, and its traffic pays for "
            "crossing AZs. Fix: give each AZ its own NAT gateway, in a public subnet of that AZ, and route "
            "each private subnet to the NAT gateway of its own AZ.",
        )
    ]


def test_regional_nat_gateway_serves_every_zone() -> None:
    builder = secure_stack()
    builder.set("app-private-b-default", natGatewayId=Ref("app-nat-a"))
    builder.set("app-nat-a", availabilityMode="regional")
    assert findings("nat-gateway-per-az", builder, IdMode.UNKNOWN) == []


# --- rds-multi-az ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_single_az_instance_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("rds-multi-az", builder, mode) == []
    builder.set("app-db", multiAz=False)
    assert findings("rds-multi-az", builder, mode) == [
        (
            builder.urn("app-db"),
            "RDS instance 'app-db': multiAz is not true, so it runs in one AZ and an outage or maintenance "
            "there stops the database. Fix: set multiAz: true (a standby in a second AZ with automatic "
            "failover).",
        )
    ]


@pytest.mark.parametrize("mode", MODES)
def test_aurora_cluster_with_one_instance_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    builder.add(
        aws.RDS_CLUSTER,
        "aurora",
        engine="aurora-postgresql",
        clusterIdentifier="aurora-main",
        dbSubnetGroupName=Ref("app-db-subnets").attr("name"),
        storageEncrypted=True,
    )
    for name in ("aurora-1", "aurora-2"):
        builder.add(
            aws.RDS_CLUSTER_INSTANCE,
            name,
            clusterIdentifier=Ref("aurora").attr("clusterIdentifier"),
            instanceClass="db.r6g.large",
            engine="aurora-postgresql",
        )
    assert findings("rds-multi-az", builder, mode) == []
    builder.remove("aurora-2")
    assert findings("rds-multi-az", builder, mode) == [
        (
            builder.urn("aurora"),
            "RDS cluster 'aurora': it has 1 cluster instance, fewer than 2: with no reader in another AZ, "
            "an AZ outage stops it. Fix: add cluster instances until there are 2; Aurora spreads them over "
            "the AZs of its DB subnet group.",
        )
    ]
