"""Interface endpoint names, ports, clients and policies, as AWS checks them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from preview.mocks import AwsMocks
from tests.access_helpers import INGRESS_RULE, StandInNetwork, run_program, run_rejected_program
from tests.stack_queries import SECURITY_GROUP, the_one
from tests.test_endpoints import NAME, endpoints_args
from zappa_vpc.components.endpoints import VpcEndpoints
from zappa_vpc.plan.options import EndpointOptions, endpoint_service_name

ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"
ACCOUNT = "123456789012"  # the mock engine's caller identity


def build(options: EndpointOptions, **changes: Any):
    def program() -> VpcEndpoints:
        network = StandInNetwork.build()
        return VpcEndpoints(NAME, endpoints_args(network, options, **changes))

    return run_program(program)


def test_firehose_is_refused_by_name_and_kinesis_firehose_is_the_service():
    def program() -> None:
        VpcEndpoints(NAME, endpoints_args(StandInNetwork.build(), EndpointOptions(interface=("firehose",))))

    error, recorded = run_rejected_program(program)
    assert "interface[0] = 'firehose': not a known service" in str(error)
    assert recorded.names_outside() == []
    _, recorded = build(EndpointOptions(interface=("kinesis-firehose",)))
    endpoint = recorded.named(f"{NAME}-kinesis-firehose")
    assert endpoint.properties["serviceName"] == "com.amazonaws.eu-west-1.kinesis-firehose"


@pytest.mark.parametrize(
    ("region", "service", "gateway", "name"),
    [
        # AWS CDK InterfaceVpcEndpointAwsService: sqs and sts are cn.com.amazonaws in China, sns is not.
        ("cn-north-1", "sqs", False, "cn.com.amazonaws.cn-north-1.sqs"),
        ("cn-northwest-1", "sts", False, "cn.com.amazonaws.cn-northwest-1.sts"),
        ("cn-north-1", "sns", False, "com.amazonaws.cn-north-1.sns"),
        ("cn-north-1", "s3", True, "com.amazonaws.cn-north-1.s3"),
        ("cn-north-1", "execute-api", False, "cn.com.amazonaws.cn-north-1.execute-api"),
        ("us-gov-west-1", "sqs", False, "com.amazonaws.us-gov-west-1.sqs"),
    ],
)
def test_service_names_follow_the_partition(region, service, gateway, name):
    assert endpoint_service_name(region, service, gateway=gateway) == name


def test_china_endpoints_get_china_names():
    _, recorded = build(EndpointOptions(interface=("sqs", "sns")), region="cn-north-1")
    assert recorded.named(f"{NAME}-sqs").properties["serviceName"] == "cn.com.amazonaws.cn-north-1.sqs"
    assert recorded.named(f"{NAME}-sns").properties["serviceName"] == "com.amazonaws.cn-north-1.sns"
    assert recorded.named(f"{NAME}-s3").properties["serviceName"] == "com.amazonaws.cn-north-1.s3"


def _admitted(recorded, group: str) -> set[tuple[str, int, int]]:
    return {
        (
            next(iter(recorded.source_names(rule, "referencedSecurityGroupId"))),
            int(rule.properties["fromPort"]),
            int(rule.properties["toPort"]),
        )
        for rule in recorded.rules_of(group, INGRESS_RULE)
    }


def test_ses_smtp_gets_its_own_ports_and_never_443():
    _, recorded = build(EndpointOptions(interface=("sqs", "email-smtp")))
    smtp = recorded.named(f"{NAME}-email-smtp")
    (group,) = recorded.source_names(smtp, "securityGroupIds")
    smtp_ports = (25, 465, 587, 2465, 2587)
    assert _admitted(recorded, group) == {(c, p, p) for c in ("net-lambda", "net-admin") for p in smtp_ports}
    https = recorded.source_names(recorded.named(f"{NAME}-sqs"), "securityGroupIds")
    assert https == {f"{NAME}-security-group"} and group not in https


def _policy(record) -> dict:
    return json.loads(record.properties["policy"])


def _scoping(policy: dict) -> tuple[list[str], list[str]]:
    (statement,) = policy["Statement"]
    assert (statement["Effect"], statement["Principal"], statement["Action"]) == ("Allow", "*", "*")
    condition = statement["Condition"]
    return condition["StringEquals"]["aws:PrincipalAccount"], condition["StringEqualsIfExists"][
        "aws:ResourceAccount"
    ]


def test_endpoint_policies_admit_the_stacks_account_only_by_default():
    _, recorded = build(EndpointOptions(interface=("sqs", "secretsmanager")))
    for name in ("s3", "dynamodb", "sqs", "secretsmanager"):
        endpoint = recorded.named(f"{NAME}-{name}")
        assert _scoping(_policy(endpoint)) == ([ACCOUNT], [ACCOUNT]), endpoint.urn


def test_policy_accounts_widen_the_policies():
    other = "210987654321"
    _, recorded = build(EndpointOptions(interface=("sqs",), policy_accounts=(other,)))
    assert _scoping(_policy(recorded.named(f"{NAME}-sqs"))) == ([ACCOUNT, other], [ACCOUNT, other])
    assert _scoping(_policy(recorded.named(f"{NAME}-s3"))) == ([ACCOUNT, other], [ACCOUNT, other])


def test_a_bad_policy_account_is_refused():
    def program() -> None:
        options = EndpointOptions(policy_accounts=("12345",))
        VpcEndpoints(NAME, endpoints_args(StandInNetwork.build(), options))

    error, _ = run_rejected_program(program)
    assert "policy_accounts[0] = '12345': an AWS account id is 12 digits" in str(error)


def test_a_service_without_policy_support_gets_no_policy(monkeypatch):
    """EC2 says which services take endpoint policies; a policy on one that does not fails the create."""
    answer = AwsMocks.call

    def call(self, args):
        result = answer(self, args)
        if args.token == "aws:ec2/getVpcEndpointService:getVpcEndpointService":
            result["vpcEndpointPolicySupported"] = not args.args["serviceName"].endswith(".sns")
        return result

    monkeypatch.setattr(AwsMocks, "call", call)
    _, recorded = build(EndpointOptions(interface=("sqs", "sns")))
    assert "policy" not in recorded.named(f"{NAME}-sns").properties
    assert _scoping(_policy(recorded.named(f"{NAME}-sqs"))) == ([ACCOUNT], [ACCOUNT])


def test_the_private_api_endpoint_keeps_aws_default_policy():
    """Corporate callers of a private API carry no AWS credentials: an account condition would refuse them."""
    _, recorded = build(EndpointOptions(private_api_cidrs=("10.0.0.0/8",)))
    assert "policy" not in recorded.named(f"{NAME}-execute-api").properties


def test_the_bastion_reaches_the_ssm_endpoints(stack_run):
    """With ssm, ssmmessages and ec2messages listed, private DNS sends the bastion's SSM agent to them."""
    run = stack_run("dev", {"zappa-vpc:interfaceEndpoints": ["ssm", "ssmmessages", "ec2messages"]})
    assert run.error is None, run.error
    by_urn = run.by_urn()
    group = the_one(
        [g for g in run.of_type(SECURITY_GROUP) if g.name == "dev-access-endpoints-security-group"], ""
    )
    sources = {
        by_urn[urn].name
        for rule in run.of_type(INGRESS_RULE)
        if group.urn in rule.property_dependencies.get("securityGroupId", ())
        and int(rule.properties["fromPort"]) == 443
        for urn in rule.property_dependencies.get("referencedSecurityGroupId", ())
    }
    assert sources == {"dev-lambda-sg", "dev-bastion-sg"}, sources
