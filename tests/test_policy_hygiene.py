"""Network hygiene rules: the secure network passes, then one change is caught, in every id mode."""

from __future__ import annotations

import pytest

from policies.network_guard import aws_types as aws
from preview.model import UNKNOWN
from tests.policy_helpers import (
    IdMode,
    Ref,
    StackBuilder,
    findings,
    secure_network,
    secure_stack,
)

MODES = list(IdMode)
SSH_FIX = (
    "Fix: remove it and reach hosts through SSM Session Manager, or admit only a known administration range "
    "(never 0.0.0.0/0 or ::/0)."
)


# --- no-ssh-rdp-from-internet ----------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("rule_type", "props", "opened"),
    [
        (
            aws.SECURITY_GROUP_RULE,
            {"type": "ingress", "protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["0.0.0.0/0"]},
            "SSH (port 22) to 0.0.0.0/0",
        ),
        (
            aws.SECURITY_GROUP_RULE,
            {"type": "ingress", "protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]},
            "SSH (port 22) and RDP (port 3389) to ::/0 through a rule for every protocol and port (protocol "
            "-1)",
        ),
        (
            aws.SECURITY_GROUP_INGRESS_RULE,
            {"ipProtocol": "tcp", "fromPort": 3000, "toPort": 4000, "cidrIpv4": "0.0.0.0/0"},
            "RDP (port 3389) to 0.0.0.0/0 through tcp ports 3000-4000",
        ),
        (
            aws.SECURITY_GROUP_INGRESS_RULE,
            {"ipProtocol": "udp", "fromPort": 3389, "toPort": 3389, "cidrIpv6": "::/0"},
            "RDP (port 3389) to ::/0",
        ),
    ],
)
def test_admin_port_open_to_the_internet_through_a_rule_resource_is_caught(
    mode: IdMode, rule_type: str, props: dict[str, object], opened: str
) -> None:
    builder = secure_stack()
    assert findings("no-ssh-rdp-from-internet", builder, mode) == []
    builder.add(rule_type, "admin", securityGroupId=Ref("app-lambda-sg"), **props)
    label = aws.label(rule_type, "admin")
    assert findings("no-ssh-rdp-from-internet", builder, mode) == [
        (builder.urn("admin"), f"{label}: it opens {opened}. {SSH_FIX}")
    ]


@pytest.mark.parametrize("mode", MODES)
def test_inline_ssh_from_the_internet_is_caught_but_from_the_vpc_is_not(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set(
        "app-lambda-sg",
        ingress=[{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/16"]}],
    )
    assert findings("no-ssh-rdp-from-internet", builder, mode) == []
    builder.set(
        "app-lambda-sg",
        ingress=[
            {"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["10.0.0.0/16", "0.0.0.0/0"]}
        ],
    )
    assert findings("no-ssh-rdp-from-internet", builder, mode) == [
        (
            builder.urn("app-lambda-sg"),
            f"security group 'app-lambda-sg': it opens SSH (port 22) to 0.0.0.0/0. {SSH_FIX}",
        )
    ]


def test_https_from_the_internet_is_not_an_admin_port() -> None:
    builder = secure_stack()
    builder.add(
        aws.SECURITY_GROUP_INGRESS_RULE,
        "https",
        securityGroupId=Ref("app-lambda-sg"),
        ipProtocol="tcp",
        fromPort=443,
        toPort=443,
        cidrIpv4="0.0.0.0/0",
    )
    assert findings("no-ssh-rdp-from-internet", builder, IdMode.UNKNOWN) == []


# --- default-security-group-closed -----------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_default_group_with_rules_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("default-security-group-closed", builder, mode) == []
    builder.set(
        "app-default-sg", egress=[{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}]
    )
    fix = (
        "Fix: leave the default security group without rules and give every resource a security group of its "
        "own."
    )
    assert findings("default-security-group-closed", builder, mode) == [
        (
            builder.urn("app-default-sg"),
            f"default security group 'app-default-sg': it has 1 egress rule. {fix}",
        )
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("prefix", ["app", "net#1"])  # '#' is no separator to the index (a KeyError once)
def test_rule_resource_on_the_default_group_is_caught(mode: IdMode, prefix: str) -> None:
    builder = StackBuilder()
    secure_network(builder, prefix)
    assert findings("default-security-group-closed", builder, mode) == []
    builder.add(
        aws.SECURITY_GROUP_EGRESS_RULE,
        "default-egress",
        securityGroupId=Ref(f"{prefix}-vpc").attr("defaultSecurityGroupId"),
        ipProtocol="-1",
        cidrIpv4="0.0.0.0/0",
    )
    assert [
        message.split(". Fix")[0] for _, message in findings("default-security-group-closed", builder, mode)
    ] == [
        "security group egress rule 'default-egress': it adds a rule to the default security group of VPC "
        f"'{prefix}-vpc'"
    ]


@pytest.mark.parametrize("mode", MODES)
def test_vpc_that_leaves_its_default_group_alone_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    builder.remove("app-default-sg")
    assert findings("default-security-group-closed", builder, mode) == [
        (
            builder.urn("app-vpc"),
            "VPC 'app-vpc': its default security group keeps AWS's rules (all traffic between members, all "
            "egress), and resources created without a security group join it. Fix: adopt it with "
            "aws.ec2.DefaultSecurityGroup(vpc_id=...) and no ingress or egress.",
        )
    ]


# --- vpc-flow-logs-enabled -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_vpc_without_flow_log_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("vpc-flow-logs-enabled", builder, mode) == []
    builder.remove("app-flow-log")
    assert findings("vpc-flow-logs-enabled", builder, mode) == [
        (
            builder.urn("app-vpc"),
            "VPC 'app-vpc': no flow log records its traffic, so rejected and accepted connections leave no "
            "trace for an investigation. Fix: add an aws.ec2.FlowLog with vpcId set to this VPC (traffic "
            "type ALL, to CloudWatch Logs or S3).",
        )
    ]


def test_subnet_flow_log_does_not_cover_the_vpc() -> None:
    builder = secure_stack()
    builder.set("app-flow-log", vpcId=None, subnetId=Ref("app-private-a"))
    assert [urn for urn, _ in findings("vpc-flow-logs-enabled", builder, IdMode.UNKNOWN)] == [
        builder.urn("app-vpc")
    ]


# --- private-subnet-no-auto-public-ip --------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_private_subnet_assigning_public_ips_is_caught(mode: IdMode) -> None:
    builder = secure_stack()
    assert findings("private-subnet-no-auto-public-ip", builder, mode) == []
    builder.set("app-private-a", mapPublicIpOnLaunch=True)
    assert findings("private-subnet-no-auto-public-ip", builder, mode) == [
        (
            builder.urn("app-private-a"),
            "subnet 'app-private-a': it gives every instance a public IP, yet it is not a public subnet "
            "(route table 'app-private-a-rt' has no route to an internet gateway). Fix: set "
            "mapPublicIpOnLaunch: false; only public subnets (routed to an internet gateway) should give "
            "instances public addresses.",
        )
    ]


def test_rule_resource_whose_group_cannot_be_traced_may_be_on_the_default_group() -> None:
    builder = secure_stack()
    builder.add(
        aws.SECURITY_GROUP_EGRESS_RULE,
        "egress",
        securityGroupId=Ref("app-lambda-sg"),
        ipProtocol="-1",
        cidrIpv4="0.0.0.0/0",
    )
    assert findings("default-security-group-closed", builder, IdMode.UNKNOWN) == []
    builder.set("egress", securityGroupId=UNKNOWN)
    assert findings("default-security-group-closed", builder, IdMode.PLAIN) == [
        (
            builder.urn("egress"),
            "security group egress rule 'egress': cannot be verified before apply: whether it adds a rule "
            "to a default security group cannot be told: 1 value only known after apply, from nothing this "
            "stack can follow. Fix: pass securityGroupId from the security group resource.",
        )
    ]
