"""AWS-limited names: every name derived from any stack Pulumi allows passes the provider's validators.

The validators below are written from the sources, not from our sanitiser, so a sanitiser bug shows here:
terraform-provider-aws internal/service/rds/validate.go (validIdentifier, validParamGroupName,
validSubnetGroupName), aws_db_instance's final_snapshot_identifier check, and the AWS API limits
(DBInstanceIdentifier 1-63, RoleName 1-64 of [\\w+=,.@-], GroupName 1-255 not starting with `sg-`,
log group names 1-512 of [.-_/#A-Za-z0-9]).
"""

from __future__ import annotations

import hashlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.access_helpers import StandInNetwork, run_program
from zappa_vpc.components.flow_logs import FlowLogs, FlowLogsArgs
from zappa_vpc.plan.names import (
    DB_INSTANCE_IDENTIFIER,
    SECURITY_GROUP_NAME,
    DatabaseNames,
    database_names,
    physical_name,
)
from zappa_vpc.plan.options import FlowLogOptions

SUFFIX = "0123abcd"  # a RandomId's hex: 4 bytes


def valid_identifier(value: str, max_length: int) -> bool:
    """validIdentifier, with AWS's length limit for the kind of identifier."""
    return (
        re.fullmatch(r"[0-9a-z-]+", value) is not None
        and re.match(r"[a-z]", value) is not None
        and "--" not in value
        and not value.endswith("-")
        and len(value) <= max_length
    )


def valid_parameter_group_name(value: str) -> bool:
    return (
        re.fullmatch(r"[0-9a-z.-]+", value) is not None
        and re.match(r"[a-z]", value) is not None
        and "--" not in value
        and not value.endswith("-")
        and len(value) <= 255
    )


def valid_subnet_group_name(value: str) -> bool:
    return (
        re.fullmatch(r"[0-9a-z_ .-]+", value) is not None and len(value) <= 255 and value.lower() != "default"
    )


def valid_final_snapshot_identifier(value: str) -> bool:
    return (
        re.match(r"[A-Za-z]", value) is not None
        and re.fullmatch(r"[0-9A-Za-z-]+", value) is not None
        and "--" not in value
        and not value.endswith("-")
        and 1 <= len(value) <= 255
    )


def valid_role_name(value: str) -> bool:
    return re.fullmatch(r"[\w+=,.@-]{1,64}", value) is not None


def valid_security_group_name(value: str) -> bool:
    return 1 <= len(value) <= 255 and not value.startswith("sg-")


def valid_log_group_name(value: str) -> bool:
    return re.fullmatch(r"[.\-_/#A-Za-z0-9]{1,512}", value) is not None


def problems(names: DatabaseNames) -> list[str]:
    checks = {
        "identifier": valid_identifier(names.identifier, 63),
        "proxy": valid_identifier(names.proxy, 60),
        "subnet_group": valid_subnet_group_name(names.subnet_group),
        "parameter_group": valid_parameter_group_name(names.parameter_group),
        "final_snapshot": valid_final_snapshot_identifier(names.final_snapshot(SUFFIX)),
        "proxy_role": valid_role_name(names.proxy_role),
        "security_group": valid_security_group_name(names.security_group),
        "proxy_security_group": valid_security_group_name(names.proxy_security_group),
        "log_group": all(valid_log_group_name(names.log_group(log)) for log in ("postgresql", "slowquery")),
    }
    return [kind for kind, ok in checks.items() if not ok]


# Every stack name Pulumi accepts: pulumi/pulumi sdk/go/common/tokens/stack_name.go, ParseStackName.
stack_names = st.from_regex(r"[A-Za-z0-9_.-]{1,100}", fullmatch=True)
families = st.sampled_from(["postgres16", "postgres17", "mysql8.4", "mysql8.0"])


def stack_database_names(stack: str, family: str) -> DatabaseNames:
    """The names the shipped program derives: the database component is `<stack>-access-db`."""
    component = f"{stack}-access-db"
    return database_names(component, family, unique=f"zappa-vpc/{stack}/{component}")


@settings(max_examples=300, deadline=None)
@given(stack=stack_names, family=families)
def test_every_name_of_every_stack_passes_the_providers_rules(stack: str, family: str):
    names = stack_database_names(stack, family)
    assert problems(names) == [], names


@settings(max_examples=300, deadline=None)
@given(component=st.text(max_size=300), family=families)
def test_any_component_name_gives_valid_names(component: str, family: str):
    assert problems(database_names(component, family, unique=component)) == []


@settings(max_examples=300, deadline=None)
@given(stacks=st.lists(stack_names, min_size=2, max_size=2, unique=True), family=families)
def test_distinct_stacks_never_share_a_name(stacks: list[str], family: str):
    first, second = (stack_database_names(stack, family) for stack in stacks)
    for kind in ("identifier", "proxy", "subnet_group", "parameter_group", "proxy_role"):
        assert getattr(first, kind) != getattr(second, kind), (kind, stacks)


@pytest.mark.parametrize(
    "stack",
    [
        # Each breaks a rule when used as is: upper case, `_`, `.`, a leading digit, `--`, length, `sg-`.
        "Prod",
        "my_stack",
        "v1.2",
        "2024",
        "a--b",
        "x" * 100,
        "sg-prod",
        "...",
    ],
)
def test_stack_names_that_break_the_rules_as_they_are_still_give_valid_names(stack: str):
    assert problems(stack_database_names(stack, "postgres16")) == []


def test_stacks_that_clean_to_the_same_text_get_distinct_names():
    first, second = (stack_database_names(stack, "postgres16") for stack in ("My_Stack", "my-stack"))
    assert first.identifier != second.identifier
    assert first.identifier.startswith("my-stack-access-db-instance-")


def test_parameter_group_name_changes_with_the_family():
    """A major upgrade needs a group of the new family: a new name, so Pulumi creates it beside the old."""
    old, new = (stack_database_names("dev", family).parameter_group for family in ("mysql8.0", "mysql8.4"))
    assert old != new


def test_names_are_stable_across_runs():
    assert physical_name("dev-access-db-instance", DB_INSTANCE_IDENTIFIER) == (
        "dev-access-db-instance-" + hashlib.sha256(b"dev-access-db-instance").hexdigest()[:8]
    )


def test_security_group_name_never_starts_with_sg():
    assert not physical_name("sg-prod-access-db", SECURITY_GROUP_NAME).startswith("sg-")


def test_a_long_stack_name_still_gives_a_flow_log_role_iam_accepts():
    """Autonamed, `<100-character stack>-flow-logs-role` plus 7 random characters exceeds IAM's 64 and the
    provider refuses it (pulumi/pulumi sdk/go/common/resource/resource_id.go NewUniqueName)."""
    name = f"{'Long_Stack.' * 9}x-flow-logs"

    def program() -> None:
        network = StandInNetwork.build()
        FlowLogs(name, FlowLogsArgs(FlowLogOptions(), network.vpc.id))

    _, recorded = run_program(program)
    role = recorded.named(f"{name}-role").properties["name"]
    assert valid_role_name(role), role
