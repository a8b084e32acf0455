"""AWS names for components' resources: `plan.names` rules, with the project and stack in the hash."""

from __future__ import annotations

import pulumi

from zappa_vpc.plan.names import NameRule, physical_name


def stack_scoped(name: str) -> str:
    """`project/stack/name`: what tells apart two stacks or projects deploying to one account."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"


def aws_name(readable: str, rule: NameRule) -> str:
    """A name `rule` accepts for the resource `readable`, distinct across the stacks of an account.

    Pulumi's own autonaming appends 7 random characters to the logical name and fails when that exceeds
    the provider's limit (an IAM role's 64: pulumi/pulumi sdk/go/common/resource/resource_id.go,
    NewUniqueName), so a long stack name breaks it; this does not.
    """
    return physical_name(readable, rule, unique=stack_scoped(readable))
