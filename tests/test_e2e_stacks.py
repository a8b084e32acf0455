"""End to end: the real program under the mock engine, judged by the real policy pack over gRPC.

Every shipped stack must pass; each deliberately broken variant of our stacks must be blocked by the rule
that names its mistake. A variant is made the way a careless edit would make it: a stack transformation
changes the program's own resources (or adds the one a user would add), nothing is built by hand.
"""

from __future__ import annotations

import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from preview import __main__ as cli
from preview import engine
from preview.engine import StackRun, run_stack, shipped_stacks
from preview.judge import POLICY_PACK_DIR, judge
from preview.policy_client import PolicyDiagnostic, load_policy_config
from preview.verdict import EXIT_BLOCKED, EXIT_CLEAN, exit_code

TIER_TAG = "zappa-vpc:tier"
SUBNET = "aws:ec2/subnet:Subnet"
DB_INSTANCE = "aws:rds/instance:Instance"
DB_SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LAMBDA_SECURITY_GROUP = "zappa-vpc:lambda_network:LambdaNetwork"
SSH_FROM_OFFICE = {"zappa-vpc:bastion": "ssh", "zappa-vpc:bastionSshAllowlist": ["198.51.100.7/32"]}


def _diagnostics(run: StackRun, policy_config: Mapping[str, Any] | None = None) -> list[PolicyDiagnostic]:
    assert run.error is None, run.error
    return [d for pack in judge(run, policy_config) for d in pack.diagnostics]


def _described(diagnostics: list[PolicyDiagnostic]) -> list[str]:
    return [f"[{d.enforcement_level}] {d.policy_name} {d.urn}: {d.message}" for d in diagnostics]


@pytest.mark.parametrize("stack", shipped_stacks())
def test_every_shipped_stack_previews_clean(stack: str, stack_run: Callable[..., StackRun]) -> None:
    run = stack_run(stack)
    diagnostics = _diagnostics(run)

    blocking = [d for d in diagnostics if d.mandatory]
    assert blocking == [], _described(blocking)
    unjudged = [d for d in diagnostics if "during preview" in d.message]
    assert unjudged == [], f"policies that could not decide on a first preview: {_described(unjudged)}"


def test_prod_meets_the_production_policy_config_and_dev_does_not(stack_run: Callable[..., StackRun]) -> None:
    production = load_policy_config(POLICY_PACK_DIR / "prod-policy-config.json")

    prod = judge(stack_run("prod"), production)
    dev = judge(stack_run("dev"), production)

    assert exit_code(prod) == EXIT_CLEAN, _described([d for pack in prod for d in pack.diagnostics])
    assert exit_code(dev) == EXIT_BLOCKED
    assert {d.policy_name for pack in dev for d in pack.diagnostics if d.mandatory} == {
        "nat-gateway-per-az",
        "rds-multi-az",
        "vpc-flow-logs-enabled",
    }, "dev shares one NAT, runs a single-AZ database and keeps no flow logs: fine for dev, not for prod"


@dataclass
class Seen:
    """The resources the program constructed so far, by type: (name, inputs, resource)."""

    by_type: dict[str, list[tuple[str, dict[str, Any], pulumi.Resource]]] = field(default_factory=dict)

    def of(self, resource_type: str) -> list[tuple[str, dict[str, Any], pulumi.Resource]]:
        return self.by_type.get(resource_type, [])

    def subnet_ids(self, tier: str) -> list[pulumi.Output[str]]:
        return [resource.id for _, props, resource in self.of(SUBNET) if props["tags"][TIER_TAG] == tier]


# Edits one resource's inputs (snake_case, as the program wrote them), knowing what was built before it.
Edit = Callable[[dict[str, Any], Seen], None]


@dataclass
class Tamper:
    """A careless change to a stack: `edits` by resource type, then `add` registers what a user would add."""

    edits: Mapping[str, Edit] = field(default_factory=dict)
    add: Callable[[Seen], None] | None = None

    def run(
        self, monkeypatch: pytest.MonkeyPatch, stack: str, overrides: Mapping[str, Any] | None
    ) -> StackRun:
        seen = Seen()
        run_program = runpy.run_path

        def transformation(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult:
            props = dict(args.props)
            edit = self.edits.get(args.type_)
            if edit is not None:
                edit(props, seen)
            seen.by_type.setdefault(args.type_, []).append((args.name, props, args.resource))
            return pulumi.ResourceTransformationResult(props, args.opts)

        def tampered_program(path: str, run_name: str) -> dict[str, Any]:
            pulumi.runtime.register_stack_transformation(transformation)
            result = run_program(path, run_name=run_name)
            if self.add is not None:
                self.add(seen)
            return result

        monkeypatch.setattr(engine.runpy, "run_path", tampered_program)
        return run_stack(stack, config_overrides=overrides)


def _set(**changes: Any) -> Edit:
    return lambda props, _seen: props.update(changes)


def _open_ssh_to_the_world(props: dict[str, Any], _seen: Seen) -> None:
    if props.get("from_port") == 22:
        props["cidr_ipv4"] = "0.0.0.0/0"


def _open_database_to_the_world(seen: Seen) -> None:
    (_, database, _), *_ = seen.of(DB_INSTANCE)
    aws.vpc.SecurityGroupIngressRule(
        "dev-db-from-anywhere",
        security_group_id=database["vpc_security_group_ids"][0],
        cidr_ipv4="0.0.0.0/0",
        ip_protocol="tcp",
        from_port=5432,
        to_port=5432,
    )


def _deploy_lambda_into_one_subnet(seen: Seen) -> None:
    (_, _, lambda_group), *_ = [g for g in seen.of("aws:ec2/securityGroup:SecurityGroup") if "lambda" in g[0]]
    aws.lambda_.Function(
        "dev-app",
        role="arn:aws:iam::123456789012:role/zappa-dev",
        runtime="python3.12",
        handler="handler.lambda_handler",
        s3_bucket="zappa-dev-deployments",
        s3_key="app.zip",
        vpc_config={"subnet_ids": seen.subnet_ids("private")[:1], "security_group_ids": [lambda_group.id]},
    )


BROKEN_VARIANTS = {
    "public database": (Tamper({DB_INSTANCE: _set(publicly_accessible=True)}), None, "rds-no-public-access"),
    "database in public subnets": (
        Tamper({DB_SUBNET_GROUP: lambda props, seen: props.update(subnet_ids=seen.subnet_ids("public"))}),
        None,
        "db-subnet-group-private",
    ),
    "database open to the world": (
        Tamper(add=_open_database_to_the_world),
        None,
        "db-security-group-no-internet-ingress",
    ),
    "SSH open to the world": (
        Tamper({INGRESS_RULE: _open_ssh_to_the_world}),
        SSH_FROM_OFFICE,
        "no-ssh-rdp-from-internet",
    ),
    "single-AZ DB subnet group": (
        Tamper({DB_SUBNET_GROUP: lambda props, _seen: props.update(subnet_ids=props["subnet_ids"][:1])}),
        None,
        "db-subnet-group-multi-az",
    ),
    "single-subnet Lambda": (Tamper(add=_deploy_lambda_into_one_subnet), None, "lambda-vpc-multi-az"),
}


@pytest.mark.parametrize(
    ("tamper", "overrides", "rule"), BROKEN_VARIANTS.values(), ids=BROKEN_VARIANTS.keys()
)
def test_a_broken_variant_of_dev_is_blocked_by_the_rule_that_names_it(
    monkeypatch: pytest.MonkeyPatch, tamper: Tamper, overrides: Mapping[str, Any] | None, rule: str
) -> None:
    run = tamper.run(monkeypatch, "dev", overrides)
    diagnostics = _diagnostics(run)

    blocking = {d.policy_name for d in diagnostics if d.mandatory}
    assert blocking == {rule}, _described(diagnostics)


def test_the_main_command_exits_1_when_policy_blocks_and_2_on_an_unknown_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    production = str(POLICY_PACK_DIR / "prod-policy-config.json")
    unknown = tmp_path / "unknown-policy.json"
    unknown.write_text('{"no-such-policy": "mandatory"}')

    blocked = cli.main(["dev", "--policy-config", production, "--picture-dir", str(tmp_path)])
    out = capsys.readouterr().out
    refused = cli.main(["dev", "--policy-config", str(unknown), "--picture-dir", str(tmp_path)])
    err = capsys.readouterr().err

    assert blocked == EXIT_BLOCKED
    assert "- [mandatory]  vpc-flow-logs-enabled  (aws:ec2/vpc:Vpc: dev-vpc)" in out
    assert refused == 2
    assert "no-such-policy" in err and "its policies are:" in err
