"""The catalogue as a user sees it: names, levels, remediation, settings and their errors, the prod config."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from policies.network_guard.catalog import RULES
from policies.network_guard.graph import StackIndex
from policies.network_guard.rules import Finding, Level, Rule, Severity
from tests.policy_helpers import IdMode, run_stack_rule, secure_stack

PACK_DIR = Path(__file__).resolve().parent.parent / "policies"
RULE = {rule.name: rule for rule in RULES}
MANDATORY = {
    "rds-no-public-access",
    "db-subnet-group-private",
    "db-security-group-no-internet-ingress",
    "db-storage-encrypted",
    "db-subnet-group-multi-az",
    "lambda-vpc-multi-az",
    "no-ssh-rdp-from-internet",
}


def test_every_rule_is_named_described_and_has_a_remediation() -> None:
    assert len(RULE) == len(RULES)
    for rule in RULES:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", rule.name), rule.name
        assert rule.description.endswith(".") and rule.remediation.endswith("."), rule.name
        assert (rule.check_stack is None) != (rule.check_resource is None), rule.name


def test_default_levels_follow_the_issue() -> None:
    assert {rule.name for rule in RULES if rule.level is Level.MANDATORY} == MANDATORY


def test_prod_config_turns_every_advisory_rule_mandatory() -> None:
    config = json.loads((PACK_DIR / "prod-policy-config.json").read_text())
    advisory = {rule.name for rule in RULES if rule.level is Level.ADVISORY}
    assert config == dict.fromkeys(advisory, "mandatory")


def test_whole_numbers_arrive_as_json_floats_and_are_accepted() -> None:
    settings, problems = RULE["db-subnet-group-multi-az"].parse_settings({"minSubnets": 3.0})
    assert (settings["minSubnets"], settings["minAvailabilityZones"], problems) == (3, 2, [])


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"minAvailabilityZones": 0},
            "policy config of db-subnet-group-multi-az: minAvailabilityZones = 0: must be a whole number "
            "of at least 1 (default 2)",
        ),
        (
            {"minSubnets": "two"},
            "policy config of db-subnet-group-multi-az: minSubnets = 'two': must be a whole number of at "
            "least 1 (default 2)",
        ),
        (
            {"trustUnmanaged": "yes"},
            "policy config of db-subnet-group-multi-az: trustUnmanaged = 'yes': must be true or false "
            "(default false)",
        ),
        (
            {"minZones": 2},
            "policy config of db-subnet-group-multi-az: unknown setting 'minZones'; the settings are: "
            "minSubnets, minAvailabilityZones, trustUnmanaged, awsLookups, failOnUnverifiable",
        ),
    ],
)
def test_a_bad_setting_is_reported_on_the_stack_with_the_setting_the_value_and_the_fix(
    config: dict[str, object], message: str
) -> None:
    findings = run_stack_rule(RULE["db-subnet-group-multi-az"], secure_stack(), IdMode.UNKNOWN, config)
    assert [(finding.urn, finding.message) for finding in findings] == [("", message)]


def test_every_rule_accepts_an_empty_stack() -> None:
    empty = StackIndex([])
    assert [rule.name for rule in RULES if rule.check_stack and rule.run_stack(empty)] == []


def test_a_check_that_fails_is_one_doubt_not_a_failed_preview() -> None:
    def broken(_index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
        yield from ()
        raise TypeError("unhashable type: 'dict'")

    rule = Rule("broken", "-", Level.MANDATORY, Severity.HIGH, "-", check_stack=broken)
    [finding] = rule.run_stack(StackIndex([]))
    assert (finding.urn, finding.unverifiable) == ("", True)
    assert finding.message.startswith(
        "broken could not finish on this stack (TypeError: unhashable type: 'dict'), so its verdict "
        "is unknown."
    )
