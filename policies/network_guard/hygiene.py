"""Network hygiene: no SSH or RDP from the internet (mandatory); a closed default security group, VPC
flow logs, and public IPs only in public subnets (advisory)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from . import aws_types as aws
from .admission import Admission, Ingress, admission, union
from .graph import Node, StackIndex, Truth, Unreadable, flag, is_unknown, shown
from .rules import TRUST_UNMANAGED, Finding, Level, Rule, Severity, unverifiable, violation

# (port, service, the protocols it listens on)
_ADMIN_SERVICES = ((22, "SSH", frozenset({"tcp"})), (3389, "RDP", frozenset({"tcp", "udp"})))
_INGRESS_HOLDERS = (
    aws.SECURITY_GROUP,
    aws.DEFAULT_SECURITY_GROUP,
    aws.SECURITY_GROUP_RULE,
    aws.SECURITY_GROUP_INGRESS_RULE,
)
_RULE_RESOURCES = (aws.SECURITY_GROUP_RULE, aws.SECURITY_GROUP_INGRESS_RULE, aws.SECURITY_GROUP_EGRESS_RULE)
_ADMIN_FIX = (
    "remove it and reach hosts through SSM Session Manager, or admit only a known administration range "
    "(never 0.0.0.0/0 or ::/0)"
)
_PORTS_FIX = "set the protocol, fromPort and toPort literally"

Service = tuple[int, str, frozenset[str]]


def _services(services: Sequence[Service]) -> str:
    return " and ".join(f"{service} (port {port})" for port, service, _protocols in services)


# --- no-ssh-rdp-from-internet ----------------------------------------------------------------------


def check_admin_ports(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    rules = admission(index)
    for resource_type in _INGRESS_HOLDERS:
        for holder in index.of_type(resource_type):
            yield from _admin_ports_of(holder, rules.declared_by(holder))
    yield from _admin_ports_together(index, rules)


def _admin_ports_of(holder: Node, declared: list[Ingress]) -> Iterator[Finding]:
    """One finding per rule that opens an admin port to the Internet, then one per rule that may (for the
    services no rule of the holder certainly opens)."""
    opened: set[str] = set()
    unsure: list[tuple[Ingress, list[Service]]] = []
    for ingress in declared:
        if ingress.world.truth is Truth.NO:
            continue
        certain: list[Service] = []
        maybe: list[Service] = []
        for service in _ADMIN_SERVICES:
            covers = ingress.covers(service[0], service[2])
            if covers is Truth.YES and ingress.world.truth is Truth.YES:
                certain.append(service)
            elif covers is not Truth.NO:
                maybe.append(service)
        if certain:
            opened.update(service[1] for service in certain)
            yield violation(
                holder, f"it opens {_services(certain)} to {ingress.world.because}{ingress.how()}", _ADMIN_FIX
            )
        if maybe:
            unsure.append((ingress, maybe))
    doubted: set[str] = set()
    for ingress, maybe in unsure:
        services = [service for service in maybe if service[1] not in opened | doubted]
        if not services:
            continue
        doubted.update(service[1] for service in services)
        world = ingress.world
        if world.truth is Truth.UNKNOWN:
            why, fix, outside = world.because, world.fix or _PORTS_FIX, world.outside_stack
        else:
            why, fix, outside = ingress.rule_doubt, _PORTS_FIX, False
        yield unverifiable(
            holder, f"it may open {_services(services)} to the internet: {why}", fix, outside_stack=outside
        )


def _admin_ports_together(index: StackIndex, rules: Admission) -> Iterator[Finding]:
    """Rules that each admit part of the Internet to an admin port, and together all of it."""
    for key, reaching in rules.groups():
        if len(reaching) < 2:
            continue
        certain: dict[str, list[Service]] = {}
        maybe: dict[str, list[Service]] = {}
        for service in _ADMIN_SERVICES:
            port, _name, protocols = service
            covering = [item for item in reaching if item.covers(port, protocols) is Truth.YES]
            if any(item.world.truth is not Truth.NO for item in covering):
                continue  # a rule that admits the Internet (or may) alone is reported on its own
            # Rules of unknown ports that may admit the Internet alone are reported on their own too.
            unsure = [
                item
                for item in reaching
                if item.covers(port, protocols) is Truth.UNKNOWN and item.world.truth is Truth.NO
            ]
            answer = union(covering, unsure)
            if answer is not None:
                (certain if answer.truth is Truth.YES else maybe).setdefault(answer.because, []).append(
                    service
                )
        if not (certain or maybe):
            continue
        reporter = index.by_urn.get(key) or reaching[0].holder
        title = index.security_group_title(key)
        for because, services in certain.items():
            yield violation(
                reporter,
                f"the ingress rules of {title} together open {_services(services)} to {because}",
                _ADMIN_FIX,
            )
        for because, services in maybe.items():
            yield unverifiable(
                reporter,
                f"the ingress rules of {title} together may open {_services(services)}: {because}",
                "set the type, protocol and ports of its rules literally",
            )


# --- default-security-group-closed -----------------------------------------------------------------


def check_default_security_groups(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    fix = "leave the default security group without rules and give every resource a security group of its own"
    adopted: set[str] = set()
    untraced: Node | None = None
    for group in index.of_type(aws.DEFAULT_SECURITY_GROUP):
        vpcs = index.vpcs_of(group)
        adopted.update(vpc.urn for vpc in vpcs.nodes)
        if not vpcs.certain:
            untraced = group
        for direction in ("ingress", "egress"):
            rules = group.props.get(direction)
            if is_unknown(rules):
                yield unverifiable(
                    group, f"its {direction} rules are only known after apply", "set them literally"
                )
            elif isinstance(rules, list) and rules:
                yield violation(
                    group, f"it has {len(rules)} {direction} rule{'s' if len(rules) > 1 else ''}", fix
                )
            elif not isinstance(rules, list) and rules is not None:
                yield unverifiable(
                    group, f"its {direction} rules cannot be read ({shown(rules)})", "set them as a list"
                )
    for resource_type in _RULE_RESOURCES:
        for rule in index.of_type(resource_type):
            keys, refs = index.security_group_keys(rule, "securityGroupId")
            default = next((key for key in keys if index.is_default_security_group_key(key)), None)
            if default is not None:
                yield violation(rule, f"it adds a rule to {index.security_group_title(default)}", fix)
            elif not refs.traced:
                yield unverifiable(
                    rule,
                    f"whether it adds a rule to a default security group cannot be told: {refs.gap()}",
                    "pass securityGroupId from the security group resource",
                )
    for vpc in index.of_type(aws.VPC):
        if vpc.urn in adopted:
            continue
        if untraced is not None:
            yield unverifiable(
                vpc,
                f"the VPC of {untraced.label} is only known after apply, so whether it "
                "empties this VPC's default security group cannot be told",
                "pass vpcId from the VPC resource",
            )
        else:
            yield violation(
                vpc,
                "its default security group keeps AWS's rules (all traffic between members, all "
                "egress), and resources created without a security group join it",
                "adopt it with aws.ec2.DefaultSecurityGroup(vpc_id=...) and no ingress or egress",
            )


# --- vpc-flow-logs-enabled -------------------------------------------------------------------------


def check_flow_logs(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    fix = "add an aws.ec2.FlowLog with vpcId set to this VPC (traffic type ALL, to CloudWatch Logs or S3)"
    for vpc in index.of_type(aws.VPC):
        answer = index.flow_logged(vpc)
        if answer.truth is Truth.NO:
            yield violation(
                vpc,
                "no flow log records its traffic, so rejected and accepted connections leave no "
                "trace for an investigation",
                fix,
            )
        elif answer.truth is Truth.UNKNOWN:
            yield unverifiable(vpc, answer.because, "pass vpcId from the VPC resource")


# --- private-subnet-no-auto-public-ip --------------------------------------------------------------


def check_public_ip_tier(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    fix = (
        "set mapPublicIpOnLaunch: false; only public subnets (routed to an internet gateway) should give "
        "instances public addresses"
    )
    for subnet in index.of_type(aws.SUBNET):
        assigns = flag(subnet.props.get("mapPublicIpOnLaunch"))
        if is_unknown(assigns):
            yield unverifiable(subnet, "mapPublicIpOnLaunch is only known after apply", "set it literally")
            continue
        if assigns is Unreadable.VALUE:
            yield unverifiable(
                subnet,
                f"mapPublicIpOnLaunch = {shown(subnet.props['mapPublicIpOnLaunch'])} is not true or false",
                "set it to true or false",
            )
            continue
        if assigns is not True:
            continue
        public = index.subnet_public(subnet)
        if public.truth is Truth.NO:
            yield violation(
                subnet,
                f"it gives every instance a public IP, yet it is not a public subnet ({public.because})",
                fix,
            )
        elif public.truth is Truth.UNKNOWN:
            yield unverifiable(
                subnet,
                f"it gives instances public IPs and whether it is public cannot be told: {public.because}",
                fix,
                outside_stack=public.outside_stack,
            )


RULES = (
    Rule(
        name="no-ssh-rdp-from-internet",
        description="No security group may admit SSH (22) or RDP (3389) from 0.0.0.0/0 or ::/0.",
        level=Level.MANDATORY,
        severity=Severity.CRITICAL,
        remediation="Remove ingress on ports 22 and 3389 (or all ports, protocol -1) from 0.0.0.0/0 and "
        "::/0, inline or through rule resources. Use SSM Session Manager, which needs no inbound port.",
        check_stack=check_admin_ports,
        checkov="CKV_AWS_24, CKV_AWS_25",
        aws_config="restricted-ssh, restricted-common-ports",
    ),
    Rule(
        name="default-security-group-closed",
        description="Each VPC's default security group must be adopted and left without rules.",
        level=Level.ADVISORY,
        severity=Severity.MEDIUM,
        remediation="Adopt the default security group with aws.ec2.DefaultSecurityGroup and no ingress or "
        "egress; attach no rule resources to it.",
        check_stack=check_default_security_groups,
        checkov="CKV2_AWS_12",
        aws_config="vpc-default-security-group-closed",
    ),
    Rule(
        name="vpc-flow-logs-enabled",
        description="Every VPC must have a flow log.",
        level=Level.ADVISORY,
        severity=Severity.MEDIUM,
        remediation="Add an aws.ec2.FlowLog for each VPC (vpcId, trafficType ALL) delivering to CloudWatch "
        "Logs or S3.",
        check_stack=check_flow_logs,
        checkov="CKV2_AWS_11",
        aws_config="vpc-flow-logs-enabled",
    ),
    Rule(
        name="private-subnet-no-auto-public-ip",
        description="Only public subnets (routed to an internet gateway) may assign public IPs on launch.",
        level=Level.ADVISORY,
        severity=Severity.MEDIUM,
        remediation="Set mapPublicIpOnLaunch: false on subnets that have no route to an internet gateway.",
        check_stack=check_public_ip_tier,
        settings=(TRUST_UNMANAGED,),
        checkov="CKV_AWS_130 (flags every subnet)",
        aws_config="subnet-auto-assign-public-ip-disabled (flags every subnet)",
    ),
)
