"""The policy verdict of a preview, printed the way `pulumi preview --policy-pack` prints its `Policies:` block.

A mandatory violation blocks the change (exit code 1), an advisory one is shown and lets it through,
as with the Pulumi CLI. The verdict also says what an offline preview cannot know.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from preview.tree import STACK_TYPE

MANDATORY = "mandatory"
ADVISORY = "advisory"
EXIT_CLEAN = 0
EXIT_BLOCKED = 1

# What neither the mock engine nor the policy pack can see; `pulumi up` may still fail on these.
NOT_CHECKED = (
    "provider-side validation: AWS checks arguments only when it is called (an instance class not offered "
    "in the region, an engine version that does not exist, a CIDR already used by another VPC you peer with)",
    "AWS service quotas: VPCs, Elastic IPs, NAT gateways and interface endpoints per region or AZ",
    "values known only after deployment: ids, ARNs, endpoints and anything computed from them",
    "your account's existing resources and state: name collisions, drift, and what an update would replace",
    "permissions: whether your AWS credentials may create these resources",
)


@dataclass(frozen=True)
class Violation:
    """One policy diagnostic, as the Analyzer protocol reports it."""

    policy_name: str
    enforcement_level: str
    description: str
    message: str
    urn: str = ""
    severity: str = ""


@dataclass(frozen=True)
class PackVerdict:
    """What one policy pack said about the whole stack."""

    pack_name: str
    pack_version: str
    local_path: str
    violations: tuple[Violation, ...] = field(default_factory=tuple)

    def count(self, enforcement_level: str) -> int:
        return sum(1 for v in self.violations if v.enforcement_level == enforcement_level)


def exit_code(packs: Iterable[PackVerdict]) -> int:
    """1 when any pack reports a mandatory violation, as `pulumi preview` fails; else 0."""
    return EXIT_BLOCKED if any(pack.count(MANDATORY) for pack in packs) else EXIT_CLEAN


def _subject(urn: str, stack_resource_name: str) -> str:
    # `(type: name)` as the CLI prints it; a stack-wide diagnostic without a URN is about the stack.
    if not urn:
        return f"({STACK_TYPE}: {stack_resource_name})"
    qualified_type, name = urn.split("::")[2:4]
    return f"({qualified_type.split('$')[-1]}: {name})"


def _pack_mark(pack: PackVerdict) -> str:
    if pack.count(MANDATORY):
        return "❌"
    return "⚠️" if pack.violations else "✅"


def _version_label(version: str) -> str:
    return version if version.startswith("v") or not version else f"v{version}"


def _sorted(violations: Iterable[Violation]) -> list[Violation]:
    return sorted(violations, key=lambda v: (v.enforcement_level != MANDATORY, v.policy_name, v.urn))


def render_policies(packs: Sequence[PackVerdict], stack_resource_name: str) -> str:
    """The `Policies:` block, then one plain line with the verdict."""
    lines = ["Policies:"]
    for pack in packs:
        version = _version_label(pack.pack_version)
        lines.append(f"    {_pack_mark(pack)} {pack.pack_name}@{version} (local: {pack.local_path})")
        for violation in _sorted(pack.violations):
            subject = _subject(violation.urn, stack_resource_name)
            lines.append(f"        - [{violation.enforcement_level}]  {violation.policy_name}  {subject}")
            lines += [f"          {line}" for line in violation.description.splitlines()]
            lines += [f"          {line}" for line in violation.message.splitlines()]
    lines += ["", verdict_line(packs)]
    return "\n".join(lines)


def verdict_line(packs: Sequence[PackVerdict]) -> str:
    mandatory = sum(pack.count(MANDATORY) for pack in packs)
    advisory = sum(pack.count(ADVISORY) for pack in packs)
    advisories = f"{advisory} advisory warning{'s' if advisory != 1 else ''}"
    if mandatory:
        plural = "s" if mandatory != 1 else ""
        return f"Verdict: BLOCKED by {mandatory} mandatory policy violation{plural} ({advisories})"
    return f"Verdict: allowed by policy ({advisories})"


def policies_json(packs: Sequence[PackVerdict]) -> dict[str, Any]:
    return {
        "verdict": "blocked" if exit_code(packs) == EXIT_BLOCKED else "allowed",
        "mandatory": sum(pack.count(MANDATORY) for pack in packs),
        "advisory": sum(pack.count(ADVISORY) for pack in packs),
        "packs": [
            {
                "name": pack.pack_name,
                "version": pack.pack_version,
                "local": pack.local_path,
                "violations": [asdict(violation) for violation in _sorted(pack.violations)],
            }
            for pack in packs
        ],
    }


def render_not_checked() -> str:
    lines = ["Not checked by this offline preview (`pulumi up` can still fail on these):"]
    for item in NOT_CHECKED:
        lines += textwrap.wrap(item, width=100, initial_indent="    - ", subsequent_indent="      ")
    return "\n".join(lines)
