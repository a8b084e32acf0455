"""Instances launched from a launch template (an Auto Scaling group's workers): no public address,
IMDSv2 only, and no security group open to the Internet (advisory)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import aws_types as aws
from .admission import ALL, admission
from .graph import Node, StackIndex, Truth, Unreadable, flag, is_unknown, shown
from .rules import Finding, Level, Rule, Severity, unverifiable, violation

_GROUP_TARGETS = aws.SECURITY_GROUP_TYPES | {aws.VPC}
_PUBLIC_FIX = (
    "set associatePublicIpAddress: false on its network interfaces and launch into private subnets; reach "
    "the instances through SSM Session Manager"
)
_IMDS_FIX = "set metadataOptions.httpTokens: required (IMDSv2 only)"


def check_launch_templates(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    rules = admission(index)
    for template in index.of_type(aws.LAUNCH_TEMPLATE):
        yield from _public_address(template)
        yield from _metadata(template)
        for group_key in _group_keys(index, template):
            for ingress in rules.ingress_of(group_key):
                if ingress.world.truth is Truth.YES:
                    yield violation(
                        template,
                        f"its instances' {index.security_group_title(group_key)} admits the whole Internet "
                        f"({_opened(ingress.protocol, ingress.ports)})",
                        "admit only the security groups that call the instances (the Lambda's), never "
                        "0.0.0.0/0 or ::/0",
                    )


def _opened(protocol: str | None, ports: tuple[int, int] | None) -> str:
    if protocol == ALL:
        return "every protocol and port"
    if ports is None or protocol is None:
        return "ports that cannot be told"
    return f"{protocol} {ports[0]}" + (f"-{ports[1]}" if ports[1] != ports[0] else "")


def _interfaces(template: Node) -> list[Any]:
    interfaces = template.props.get("networkInterfaces")
    return interfaces if isinstance(interfaces, list) else []


def _public_address(template: Node) -> Iterator[Finding]:
    for interface in _interfaces(template):
        if not isinstance(interface, Mapping):
            continue
        assigns = flag(interface.get("associatePublicIpAddress"))
        if assigns is True:
            yield violation(
                template, "it gives every instance launched from it a public IP address", _PUBLIC_FIX
            )
        elif is_unknown(assigns):
            yield unverifiable(
                template, "associatePublicIpAddress is only known after apply", "set it literally"
            )
        elif assigns is Unreadable.VALUE:
            shown_value = shown(interface["associatePublicIpAddress"])
            yield unverifiable(
                template, f"associatePublicIpAddress = {shown_value} is not true or false", _PUBLIC_FIX
            )


def _metadata(template: Node) -> Iterator[Finding]:
    options = template.props.get("metadataOptions")
    tokens = options.get("httpTokens") if isinstance(options, Mapping) else None
    if is_unknown(tokens):
        yield unverifiable(
            template, "metadataOptions.httpTokens is only known after apply", "set it literally"
        )
    elif tokens != "required":
        # Unset, the image's default applies, which is IMDSv1 as well for most images (EC2 user guide,
        # "Configure the instance metadata options for new instances").
        yield violation(
            template,
            f"metadataOptions.httpTokens is {shown(tokens) if tokens is not None else 'not set'}, so its "
            "instances answer IMDSv1, whose credentials a server-side request forgery can read",
            _IMDS_FIX,
        )


def _group_keys(index: StackIndex, template: Node) -> list[str]:
    keys: list[str] = []
    for interface in _interfaces(template):
        if isinstance(interface, Mapping):
            refs = index.refs(template, "networkInterfaces", interface.get("securityGroups"), _GROUP_TARGETS)
            keys += [index.security_group_key(target) for target in refs.nodes]
    refs = index.refs(
        template, "vpcSecurityGroupIds", template.props.get("vpcSecurityGroupIds"), _GROUP_TARGETS
    )
    keys += [index.security_group_key(target) for target in refs.nodes]
    return list(dict.fromkeys(keys))


RULES = (
    Rule(
        name="launch-template-private-imdsv2",
        description="Launch templates give no public IP, require IMDSv2, and use no security group open to "
        "the Internet.",
        level=Level.ADVISORY,
        severity=Severity.HIGH,
        remediation="Set networkInterfaces[].associatePublicIpAddress: false and metadataOptions.httpTokens: "
        "required; admit callers by security group, not 0.0.0.0/0 or ::/0; reach shells through SSM.",
        check_stack=check_launch_templates,
        checkov="CKV_AWS_79 (IMDSv2)",
        aws_config="ec2-launch-template-public-ip-disabled (Security Hub EC2.25), ec2-imdsv2-check",
    ),
)
