"""Security groups that admit one TCP port from named client security groups and from nothing else.

The database, its proxy and the interface endpoints all follow this shape, so it is written once. Rules are
separate `aws.vpc.SecurityGroupIngressRule` resources (one per client role) rather than inline blocks: each
rule has its own URN, so adding a client changes one resource, and a policy or reviewer sees every source.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from zappa_vpc.plan.options import Problem

HTTPS_PORT = 443
# Roles become part of child resource names, so they must be safe there.
_ROLE_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")


def client_role_problems(
    field: str, clients: Mapping[str, object], reserved: frozenset[str] = frozenset()
) -> list[Problem]:
    """Problems with a `role -> security group` mapping: empty, bad role names, or roles we add ourselves."""
    if not clients:
        return [Problem(field, {}, "give at least one client security group, such as {'lambda': <sg id>}")]
    problems = []
    for role in clients:
        if not _ROLE_PATTERN.match(role):
            problems.append(
                Problem(
                    f"{field}[{role!r}]",
                    role,
                    "a role is lower-case letters, digits and dashes, a letter first, such as 'lambda'",
                )
            )
        if role in reserved:
            problems.append(
                Problem(f"{field}[{role!r}]", role, "is a role this component adds itself; use another name")
            )
    return problems


def client_only_security_group(
    name: str,
    *,
    vpc_id: pulumi.Input[str],
    port: int | tuple[int, ...],
    clients: Mapping[str, pulumi.Input[str]],
    service: str,
    parent: pulumi.Resource,
    group_name: str | None = None,
) -> aws.ec2.SecurityGroup:
    """A security group `{name}-security-group` admitting TCP `port` (or each of several) from `clients` only.

    group_name: its AWS name (see zappa_vpc.plan.names); Pulumi names it from `name` when not given.

    It has no egress rule: the provider removes AWS's default allow-all egress, and these services only
    answer connections (security groups are stateful, so replies need no rule).
    """
    ports = (port,) if isinstance(port, int) else port
    security_group = aws.ec2.SecurityGroup(
        f"{name}-security-group",
        name=group_name,
        vpc_id=vpc_id,
        # Fixed text: a changed description replaces the group, so it must not list the clients.
        description=f"{service}: TCP {', '.join(map(str, ports))} from its clients only",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    # One rule per role (and port, when several), each its own resource named `{name}-ingress-{role}`.
    for role, client in clients.items():
        for each in ports:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-ingress-{role}" + (f"-{each}" if len(ports) > 1 else ""),
                security_group_id=security_group.id,
                referenced_security_group_id=client,
                ip_protocol="tcp",
                from_port=each,
                to_port=each,
                description=f"{service} from {role}",
                opts=pulumi.ResourceOptions(parent=parent),
            )
    return security_group


def cidr_ingress_rule(
    name: str,
    *,
    security_group_id: pulumi.Input[str],
    cidr: str,
    port: int,
    description: str,
    parent: pulumi.Resource,
) -> aws.vpc.SecurityGroupIngressRule:
    """One TCP `port` rule admitting the IPv4 or IPv6 network `cidr`."""
    family = {"cidr_ipv6": cidr} if ":" in cidr else {"cidr_ipv4": cidr}
    return aws.vpc.SecurityGroupIngressRule(
        name,
        security_group_id=security_group_id,
        ip_protocol="tcp",
        from_port=port,
        to_port=port,
        description=description,
        **family,
        opts=pulumi.ResourceOptions(parent=parent),
    )
