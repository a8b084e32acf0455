"""The policy verdict of a preview, printed as `pulumi preview --policy-pack` prints its `Policies:` block.

A mandatory violation blocks the change (exit code 1), an advisory one is shown and lets it through,
as with the Pulumi CLI. The verdict also says what an offline preview cannot know.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from preview.policy_client import PolicyDiagnostic
from preview.tree import STACK_TYPE

ADVISORY = "advisory"
EXIT_CLEAN = 0
EXIT_BLOCKED = 1
_MESSAGE_WIDTH = 110

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
class PackVerdict:
    """What one policy pack said about the whole stack: every diagnostic of `Analyze` and `AnalyzeStack`."""

    pack_name: str
    pack_version: str
    local_path: str
    diagnostics: tuple[PolicyDiagnostic, ...] = field(default_factory=tuple)

    @property
    def blocking(self) -> int:
        return sum(1 for d in self.diagnostics if d.mandatory)

    @property
    def advisory(self) -> int:
        return sum(1 for d in self.diagnostics if d.enforcement_level == ADVISORY)


def exit_code(packs: Iterable[PackVerdict]) -> int:
    """1 when any pack reports a mandatory violation, as `pulumi preview` fails; else 0."""
    return EXIT_BLOCKED if any(pack.blocking for pack in packs) else EXIT_CLEAN


def _subject(urn: str, stack_resource_name: str) -> str:
    # `(type: name)` as the CLI prints it; a stack-wide diagnostic without a URN is about the stack.
    if not urn:
        return f"({STACK_TYPE}: {stack_resource_name})"
    qualified_type, name = urn.split("::")[2:4]
    return f"({qualified_type.split('$')[-1]}: {name})"


def _pack_mark(pack: PackVerdict) -> str:
    if pack.blocking:
        return "❌"
    return "⚠️" if pack.diagnostics else "✅"


def _version_label(version: str) -> str:
    return version if version.startswith("v") or not version else f"v{version}"


def _sorted(diagnostics: Iterable[PolicyDiagnostic]) -> list[PolicyDiagnostic]:
    return sorted(diagnostics, key=lambda d: (not d.mandatory, d.policy_name, d.urn))


def _indented(text: str) -> list[str]:
    # The SDK starts a message with the policy's description, as the CLI prints it; long lines are wrapped.
    indent = " " * 10
    return [
        wrapped
        for line in text.splitlines()
        for wrapped in textwrap.wrap(line, _MESSAGE_WIDTH, initial_indent=indent, subsequent_indent=indent)
    ]


def render_policies(packs: Sequence[PackVerdict], stack_resource_name: str) -> str:
    """The `Policies:` block, then one plain line with the verdict."""
    lines = ["Policies:"]
    for pack in packs:
        version = _version_label(pack.pack_version)
        lines.append(f"    {_pack_mark(pack)} {pack.pack_name}@{version} (local: {pack.local_path})")
        for diagnostic in _sorted(pack.diagnostics):
            subject = _subject(diagnostic.urn, stack_resource_name)
            lines.append(f"        - [{diagnostic.enforcement_level}]  {diagnostic.policy_name}  {subject}")
            lines += _indented(diagnostic.message or diagnostic.description)
    lines += ["", verdict_line(packs)]
    return "\n".join(lines)


def verdict_line(packs: Sequence[PackVerdict]) -> str:
    blocking = sum(pack.blocking for pack in packs)
    advisory = sum(pack.advisory for pack in packs)
    advisories = f"{advisory} advisory warning{'s' if advisory != 1 else ''}"
    if blocking:
        plural = "s" if blocking != 1 else ""
        return f"Verdict: BLOCKED by {blocking} mandatory policy violation{plural} ({advisories})"
    return f"Verdict: allowed by policy ({advisories})"


def policies_json(packs: Sequence[PackVerdict]) -> dict[str, Any]:
    return {
        "verdict": "blocked" if exit_code(packs) == EXIT_BLOCKED else "allowed",
        "mandatory": sum(pack.blocking for pack in packs),
        "advisory": sum(pack.advisory for pack in packs),
        "packs": [
            {
                "name": pack.pack_name,
                "version": pack.pack_version,
                "local": pack.local_path,
                "violations": [asdict(diagnostic) for diagnostic in _sorted(pack.diagnostics)],
            }
            for pack in packs
        ],
    }


def render_not_checked(items: Sequence[str] = NOT_CHECKED) -> str:
    lines = ["Not checked by this offline preview (`pulumi up` can still fail on these):"]
    for item in items:
        lines += textwrap.wrap(item, width=100, initial_indent="    - ", subsequent_indent="      ")
    return "\n".join(lines)
