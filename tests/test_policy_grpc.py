"""The real pack, run the way the CLI runs it (`python -u -m pulumi.policy ADDR .` in policies/), over
gRPC: Analyze per resource and AnalyzeStack over whole stacks."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from policies.network_guard.catalog import PACK_NAME, RULES
from preview.engine import run_stack, shipped_stacks
from preview.model import ResourceRecord
from preview.policy_client import PolicyConfigError, PolicyDiagnostic, PolicyPackClient, PolicyPackError
from tests.policy_helpers import IdMode, Ref, StackBuilder, secure_network, secure_stack
from tests.stack_queries import as_deployed

PROD_CONFIG = Path(__file__).resolve().parent.parent / "policies" / "prod-policy-config.json"


@pytest.fixture(scope="module")
def pack() -> Iterator[PolicyPackClient]:
    with PolicyPackClient(python=sys.executable) as client:
        yield client


@pytest.fixture
def default_config(pack: PolicyPackClient) -> Iterator[PolicyPackClient]:
    """Tests that configure the pack put the defaults back afterwards."""
    yield pack
    pack.configure({})


def analyze_everything(pack: PolicyPackClient, records: list[ResourceRecord]) -> list[PolicyDiagnostic]:
    per_resource = [diagnostic for record in records for diagnostic in pack.analyze(record)]
    return per_resource + pack.analyze_stack(records)


def test_analyzer_info_lists_every_rule_with_level_severity_and_remediation(pack: PolicyPackClient) -> None:
    info = pack.analyzer_info()
    assert info.name == PACK_NAME
    by_name = {policy.name: policy for policy in info.policies}
    assert list(by_name) == [rule.name for rule in RULES]
    for rule in RULES:
        policy = by_name[rule.name]
        assert (policy.enforcement_level, policy.severity, policy.remediation_steps) == (
            rule.level.value,
            rule.severity.value,
            rule.remediation,
        )
        assert policy.kind == ("stack" if rule.check_stack else "resource")
        assert set(policy.config_schema) == {setting.name for setting in rule.config_settings}


@pytest.mark.parametrize("mode", list(IdMode))
def test_secure_stack_of_several_networks_has_no_diagnostic_at_all(
    pack: PolicyPackClient, mode: IdMode
) -> None:
    builder = StackBuilder()
    for prefix, zones in (
        ("shop", ("eu-west-1a", "eu-west-1b")),
        ("admin", ("eu-west-1a", "eu-west-1b", "eu-west-1c")),
    ):
        secure_network(builder, prefix, zones)
    assert analyze_everything(pack, builder.records(mode)) == []


@pytest.mark.parametrize("mode", list(IdMode))
def test_insecure_stack_is_blocked_with_the_rule_own_messages(pack: PolicyPackClient, mode: IdMode) -> None:
    builder = secure_stack()
    builder.set("app-db", publiclyAccessible=True)
    builder.set("app-db-subnets", subnetIds=[Ref("app-public-a"), Ref("app-public-b")])
    builder.add(
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "ssh",
        type="ingress",
        securityGroupId=Ref("app-db-sg"),
        protocol="tcp",
        fromPort=22,
        toPort=22,
        cidrBlocks=["0.0.0.0/0"],
    )
    builder.set("app-api", vpcConfig={"subnetIds": [Ref("app-private-a")], "securityGroupIds": []})
    builder.remove("app-flow-log")
    diagnostics = analyze_everything(pack, builder.records(mode))
    assert sorted((d.policy_name, d.enforcement_level, d.urn) for d in diagnostics) == sorted(
        [
            ("rds-no-public-access", "mandatory", builder.urn("app-db")),
            # one finding per public subnet
            ("db-subnet-group-private", "mandatory", builder.urn("app-db-subnets")),
            ("db-subnet-group-private", "mandatory", builder.urn("app-db-subnets")),
            ("db-security-group-no-internet-ingress", "mandatory", builder.urn("app-db")),
            ("lambda-vpc-multi-az", "mandatory", builder.urn("app-api")),
            ("no-ssh-rdp-from-internet", "mandatory", builder.urn("ssh")),
            ("vpc-flow-logs-enabled", "advisory", builder.urn("app-vpc")),
        ]
    )
    assert not [d for d in diagnostics if "during preview" in d.message]
    public = next(d for d in diagnostics if d.policy_name == "db-subnet-group-private")
    assert public.message == (
        "Databases must sit in private subnets: no DB subnet group may hold a subnet routed to an internet "
        "gateway, and no database may fall back to the default VPC.\nDB subnet group 'app-db-subnets': it "
        "holds subnet 'app-public-a', which is public: route table 'app-public-rt' routes to internet "
        "gateway 'app-igw'. Fix: list only private subnets (no route to an internet gateway) in its "
        "subnetIds."
    )
    assert (public.policy_pack, public.severity) == (PACK_NAME, "critical")


def test_prod_config_turns_advisories_mandatory(default_config: PolicyPackClient) -> None:
    builder = secure_stack()
    builder.remove("app-flow-log")
    records = builder.records(IdMode.UNKNOWN)
    assert [d.enforcement_level for d in default_config.analyze_stack(records)] == ["advisory"]
    default_config.configure_from_file(PROD_CONFIG)
    assert [(d.policy_name, d.enforcement_level) for d in default_config.analyze_stack(records)] == [
        ("vpc-flow-logs-enabled", "mandatory")
    ]


def test_thresholds_are_configured_through_the_policy_config(default_config: PolicyPackClient) -> None:
    records = secure_stack().records(IdMode.UNKNOWN)
    default_config.configure({"lambda-vpc-multi-az": {"minAvailabilityZones": 3}})
    assert [(d.policy_name, d.urn.rsplit("::", 1)[1]) for d in default_config.analyze_stack(records)] == [
        ("lambda-vpc-multi-az", "app-api")
    ]
    default_config.configure({"lambda-vpc-multi-az": {"minAvailabilityZones": "three"}})
    [problem] = default_config.analyze_stack(records)
    assert (problem.urn, problem.enforcement_level, problem.message.splitlines()[-1]) == (
        "",
        "mandatory",
        "policy config of lambda-vpc-multi-az: minAvailabilityZones = 'three': must be a whole "
        "number of at least 1 (default 2)",
    )


def test_config_naming_an_unknown_policy_or_level_is_refused(pack: PolicyPackClient) -> None:
    with pytest.raises(
        PolicyConfigError, match="names no-such-rule, which pack vpc-network-guard does not have"
    ):
        pack.configure({"no-such-rule": "mandatory"})
    with pytest.raises(
        PolicyConfigError, match="enforcementLevel 'blocking' is not one of advisory, mandatory"
    ):
        pack.configure({"rds-multi-az": "blocking"})


def test_pack_that_cannot_start_is_reported_with_its_error(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('the pack is broken')\n")
    with (
        pytest.raises(PolicyPackError, match="exited with code 1 before serving:\nthe pack is broken"),
        PolicyPackClient(tmp_path, python=sys.executable),
    ):
        pass
    with (
        pytest.raises(PolicyPackError, match=r"is not a policy pack: it has no PulumiPolicy\.yaml"),
        PolicyPackClient(tmp_path / "missing"),
    ):
        pass


@pytest.mark.parametrize("stack", shipped_stacks())
@pytest.mark.parametrize("preview", [True, False], ids=["first-preview", "update"])
def test_shipped_stack_passes_with_no_mandatory_violation(
    pack: PolicyPackClient, stack: str, preview: bool
) -> None:
    run = run_stack(stack, config_overrides=None if preview else as_deployed(stack), preview=preview)
    assert run.error is None, run.error
    diagnostics = analyze_everything(pack, run.records)
    assert [d.message for d in diagnostics if d.mandatory or "during preview" in d.message] == []
