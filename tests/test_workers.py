"""EC2 workers: reached by the Lambda only on the listed ports; private, IMDSv2-only, encrypted disks."""

from __future__ import annotations

import pytest

from preview.engine import run_stack
from preview.mocks import AwsMocks
from tests.stack_queries import INGRESS_RULE, SECURITY_GROUP, SUBNET, referenced, the_one, tier_of
from zappa_vpc.plan.options import InstanceTypeOffer, Problem, worker_architecture
from zappa_vpc.plan.settings import SettingsError, parse_settings

WORKERS = {"zappa-vpc:workers": True}
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GROUP = "aws:autoscaling/group:Group"
EGRESS_RULE = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def _group_named(run, suffix: str):
    return the_one([g for g in run.of_type(SECURITY_GROUP) if g.name.endswith(suffix)], suffix)


def _ingress(run, group) -> dict[str, tuple]:
    """Source group name -> (protocol, from, to) of every ingress rule of `group`; CIDR sources by CIDR."""
    admitted: dict[str, tuple] = {}
    for rule in run.of_type(INGRESS_RULE):
        if referenced(run, rule, "securityGroupId") != [group]:
            continue
        props = rule.properties
        sources = [g.name for g in referenced(run, rule, "referencedSecurityGroupId")]
        for source in sources or [
            props.get("cidrIpv4") or props.get("cidrIpv6") or props.get("prefixListId")
        ]:
            admitted.setdefault(source, []).append((props["ipProtocol"], props["fromPort"], props["toPort"]))
    return {source: tuple(sorted(rules)) for source, rules in admitted.items()}


def test_the_worker_group_admits_only_the_lambda_on_the_listed_ports(stack_run):
    run = stack_run("dev", {**WORKERS, "zappa-vpc:workerPorts": [8080, 9000]})
    assert run.error is None, run.error
    workers = _group_named(run, "-workers-security-group")
    assert "ingress" not in workers.properties, workers.urn
    assert _ingress(run, workers) == {"dev-lambda-sg": (("tcp", 8080, 8080), ("tcp", 9000, 9000))}
    # Outbound as the Lambda's: everything (NAT, endpoints, the database).
    (egress,) = [r for r in run.of_type(EGRESS_RULE) if referenced(run, r, "securityGroupId") == [workers]]
    assert (egress.properties["ipProtocol"], egress.properties["cidrIpv4"]) == ("-1", "0.0.0.0/0")


@pytest.mark.parametrize("reach", [False, True])
def test_the_database_admits_the_workers_only_when_asked(stack_run, reach):
    run = stack_run("dev", {**WORKERS, "zappa-vpc:workersReachDatabase": reach})
    assert run.error is None, run.error
    admitted = set(_ingress(run, _group_named(run, "-db-security-group")))
    expected = {"dev-lambda-sg", "dev-bastion-sg"} | (
        {"dev-access-workers-security-group"} if reach else set()
    )
    assert admitted == expected


def test_workers_have_no_public_address_require_imdsv2_and_encrypt_their_disks(stack_run):
    run = stack_run("dev", WORKERS)
    template = the_one(run.of_type(LAUNCH_TEMPLATE), "launch template").properties
    (interface,) = template["networkInterfaces"]
    assert interface["associatePublicIpAddress"] == "false"
    assert template["metadataOptions"]["httpTokens"] == "required"
    (root,) = template["blockDeviceMappings"]
    assert root["deviceName"] == "/dev/xvda"
    assert (root["ebs"]["encrypted"], root["ebs"]["volumeType"]) == ("true", "gp3")
    assert run.of_type("aws:ec2/instance:Instance") != [] and all(
        "workers" not in i.name for i in run.of_type("aws:ec2/instance:Instance")
    )


def test_the_group_spans_every_private_subnet_with_the_configured_size(stack_run):
    run = stack_run("dev", {**WORKERS, "zappa-vpc:azCount": 3, "zappa-vpc:workerMinSize": 0})
    group = the_one(run.of_type(GROUP), "auto scaling group")
    subnets = referenced(run, group, "vpcZoneIdentifiers")
    assert {tier_of(s) for s in subnets} == {"private"}
    assert len(subnets) == len([s for s in run.of_type(SUBNET) if tier_of(s) == "private"]) == 3
    assert (group.properties["minSize"], group.properties["maxSize"]) == (0, 2)


def test_the_workers_role_holds_the_ssm_policy_only(stack_run):
    run = stack_run("dev", WORKERS)
    attachments = [
        a
        for a in run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("dev-access-workers")
    ]
    assert [a.properties["policyArn"] for a in attachments] == [
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    ]
    assert not [p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if "workers" in p.name]


def test_the_image_follows_the_worker_instance_types_architecture(monkeypatch):
    asked: list[list[str]] = []
    answer = AwsMocks.call

    def recording_call(self, args):
        if args.token == "aws:ec2/getAmi:getAmi":
            asked.append([v for f in args.args["filters"] for v in f["values"]])
        return answer(self, args)

    monkeypatch.setattr(AwsMocks, "call", recording_call)
    run = run_stack("dev", config_overrides={**WORKERS, "zappa-vpc:workerInstanceType": "t3.small"})
    assert run.error is None, run.error
    # The bastion's t4g.nano, then the workers' t3.small.
    assert asked == [["al2023-ami-2023.*-arm64"], ["al2023-ami-2023.*-x86_64"]]


def test_every_zone_must_offer_the_workers_type():
    zones = ("us-east-1e", "us-east-1f")
    partly = worker_architecture("t4g.small", zones, InstanceTypeOffer(("us-east-1f",), ("arm64",)))
    assert isinstance(partly, Problem) and "not offered in us-east-1e" in partly.reason
    assert worker_architecture("t3.small", zones, InstanceTypeOffer(zones, ("i386", "x86_64"))) == "x86_64"


def _problems(changes: dict[str, object]) -> list[str]:
    raw = {key: v if isinstance(v, str) else _cli(v) for key, v in changes.items()}
    with pytest.raises(SettingsError) as caught:
        parse_settings(raw, stack="x", region="us-east-1", region_zones=lambda: ["us-east-1a", "us-east-1b"])
    return caught.value.problems


def _cli(value: object) -> str:
    import json

    return json.dumps(value) if not isinstance(value, bool) else str(value).lower()


BAD_WORKER_SETTINGS = [
    (
        {"workerMaxSize": 3},
        "zappa-vpc:workerMaxSize = 3: there are no workers (zappa-vpc:workers: false); set "
        "zappa-vpc:workers: true, or remove it",
    ),
    ({"workersReachDatabase": True}, "zappa-vpc:workersReachDatabase = true: there are no workers"),
    ({"workers": True, "workerMaxSize": 0}, "zappa-vpc:workerMaxSize = 0: use 1 or more"),
    ({"workers": True, "workerMinSize": -1}, "zappa-vpc:workerMinSize = -1: use 0 or more"),
    (
        {"workers": True, "workerMinSize": 3},
        "zappa-vpc:workerMinSize = 3: is more than max_size (2); lower it",
    ),
    ({"workers": True, "workerPorts": [0]}, "zappa-vpc:workerPorts[0] = 0: a TCP port is a whole number"),
    ({"workers": True, "workerPorts": [65536]}, "zappa-vpc:workerPorts[0] = 65536: a TCP port"),
    (
        {"workers": True, "workerPorts": ["8080"]},
        'zappa-vpc:workerPorts = ["8080"]: expected a list of whole',
    ),
    ({"workers": True, "workerPorts": [8080, 22]}, "zappa-vpc:workerPorts[1] = 22: opens SSH to the Lambda"),
    ({"workers": True, "workerPorts": [3389]}, "zappa-vpc:workerPorts[0] = 3389: opens RDP to the Lambda"),
    (
        {"workers": True, "workerPorts": [8080, 8080]},
        "zappa-vpc:workerPorts = [8080, 8080]: lists a port twice",
    ),
    ({"workers": True, "workerPorts": []}, "zappa-vpc:workerPorts = []: list the ports"),
    ({"workers": "yes"}, "zappa-vpc:workers = yes: expected true or false"),
    (
        {"workers": True, "pattern": "single"},
        "zappa-vpc:workers = true: the single pattern has no private tier for workers",
    ),
    (
        {"workers": True, "workersReachDatabase": True, "database": "none"},
        "zappa-vpc:workersReachDatabase = true: there is no database to reach; remove it",
    ),
    (
        {"workers": True, "pattern": "isolated", "interfaceEndpoints": ["ssm"]},
        'zappa-vpc:interfaceEndpoints = ["ssm"]: the workers have no route to the Internet here, so SSM '
        "Session Manager needs endpoints; add 'ssmmessages', 'ec2messages'",
    ),
]


@pytest.mark.parametrize(
    ("changes", "message"), BAD_WORKER_SETTINGS, ids=[m[10:50] for _, m in BAD_WORKER_SETTINGS]
)
def test_a_worker_setting_mistake_is_named_with_its_fix(changes, message):
    problems = _problems(changes)
    assert any(message in problem for problem in problems), problems


def test_a_refused_worker_setting_registers_nothing(stack_run):
    run = stack_run("dev", {"zappa-vpc:workerPorts": [22]})
    assert run.error is not None and "zappa-vpc:workerPorts = [22]: there are no workers" in run.error
    assert run.resources == []


def test_isolated_workers_with_the_ssm_endpoints_are_built(stack_run):
    endpoints = ["secretsmanager", "ssm", "ssmmessages", "ec2messages"]
    run = stack_run("isolated", {**WORKERS, "zappa-vpc:interfaceEndpoints": endpoints})
    assert run.error is None, run.error
    assert len(run.of_type(GROUP)) == 1
