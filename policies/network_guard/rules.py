"""What a rule is, independent of the policy SDK: metadata, settings, and a pure check function.

Rule modules declare `Rule`s; `sdk.py` turns them into pulumi_policy policies. Keeping this layer
free of pulumi_policy lets the tests and the benchmark call the checks directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

from .graph import Node, StackIndex


class Level(Enum):
    ADVISORY = "advisory"
    MANDATORY = "mandatory"


class Severity(Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to report. `urn` empty means the stack as a whole (a bad policy setting).

    `unverifiable` findings are the rule saying it cannot decide (instead of the SDK giving up).
    Doubt is not a violation: they are reported as advisories (`advisory`), unless the rule's
    `failOnUnverifiable` setting asks to fail closed. `outside_stack` ones come from resources
    another stack manages: `trustUnmanaged` drops them.
    """

    urn: str
    message: str
    unverifiable: bool = False
    outside_stack: bool = False
    advisory: bool = False


def violation(node: Node, problem: str, fix: str) -> Finding:
    return Finding(node.urn, f"{node.label}: {problem}. Fix: {fix}.")


def unverifiable(node: Node, problem: str, fix: str, outside_stack: bool = False) -> Finding:
    """The one way a rule says it cannot decide: `problem` names what could not be checked and why
    (an unknown value, an id from another stack, config or a lookup, a value it cannot read)."""
    if outside_stack:
        return Finding(
            node.urn,
            f"{node.label}: cannot be verified from this stack: {problem}. Fix: {fix}, or set "
            "trustUnmanaged: true for this rule if the stack that manages it runs this pack.",
            unverifiable=True,
            outside_stack=True,
        )
    return Finding(node.urn, f"{node.label}: cannot be verified before apply: {problem}. Fix: {fix}.", True)


@dataclass(frozen=True, slots=True)
class Setting:
    """One policy config property: a whole number with a minimum, or a boolean (no minimum)."""

    name: str
    description: str
    default: int | bool
    minimum: int | None = None

    def schema(self) -> dict[str, Any]:
        if isinstance(self.default, bool):
            return {"type": "boolean", "default": self.default, "description": self.description}
        return {
            "type": "integer",
            "minimum": self.minimum,
            "default": self.default,
            "description": self.description,
        }

    def parse(self, raw: Any) -> int | bool:
        """The configured value; raises ValueError with a message naming the setting and the fix."""
        if isinstance(self.default, bool):
            if isinstance(raw, bool):
                return raw
            raise ValueError(
                f"{self.name} = {raw!r}: must be true or false (default {str(self.default).lower()})"
            )
        # Policy config arrives as JSON, so whole numbers may come as 2.0.
        if isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw == int(raw):
            value = int(raw)
            if self.minimum is None or value >= self.minimum:
                return value
        raise ValueError(
            f"{self.name} = {raw!r}: must be a whole number of at least {self.minimum} "
            f"(default {self.default})"
        )


TRUST_UNMANAGED = Setting(
    "trustUnmanaged",
    "Do not report references to resources this stack does not manage (ids exported by another stack, from "
    "config or a lookup) that could not be checked, not even as advisories. Use it on application stacks "
    "whose network stack runs this pack. A resource the AWS lookups show to be insecure is still reported.",
    False,
)
FAIL_ON_UNVERIFIABLE = Setting(
    "failOnUnverifiable",
    "Report what this rule cannot verify (an id it cannot follow, a value only known after apply) at the "
    "rule's own level instead of as an advisory: set it on a mandatory rule to fail closed.",
    False,
)
AWS_LOOKUPS = Setting(
    "awsLookups",
    "With AWS credentials, read subnets, route tables, security groups and prefix lists this stack does not "
    "manage with read-only describe calls, and judge them instead of reporting them as unverifiable.",
    True,
)
COMMON_SETTINGS = (FAIL_ON_UNVERIFIABLE,)
# The fix for an id another stack, config or a lookup supplies: there is nothing to change in this stack.
LOOKUP_FIX = "run the preview with AWS credentials (awsLookups) so the pack can read it from AWS"

StackCheck = Callable[[StackIndex, Mapping[str, Any]], Iterable[Finding]]
ResourceCheck = Callable[[Node, Mapping[str, Any]], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A policy: exactly one of `check_stack` (graph rules) or `check_resource` (one resource at a
    time, for `resource_types` only) is set."""

    name: str
    description: str
    level: Level
    severity: Severity
    remediation: str
    check_stack: StackCheck | None = None
    check_resource: ResourceCheck | None = None
    resource_types: frozenset[str] = frozenset()
    settings: tuple[Setting, ...] = ()
    checkov: str = "-"
    aws_config: str = "-"

    @property
    def config_settings(self) -> tuple[Setting, ...]:
        """Its own settings, then those every rule has."""
        return self.settings + COMMON_SETTINGS

    def parse_settings(self, config: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[Finding]]:
        """Defaults overlaid with the policy config, and a finding per bad entry."""
        values: dict[str, Any] = {setting.name: setting.default for setting in self.config_settings}
        problems: list[Finding] = []
        known = {setting.name: setting for setting in self.config_settings}
        for key, raw in (config or {}).items():
            setting = known.get(key)
            if setting is None:
                names = ", ".join(known) or "none"
                problems.append(
                    Finding(
                        "",
                        f"policy config of {self.name}: unknown setting {key!r}; the settings are: {names}",
                    )
                )
                continue
            try:
                values[key] = setting.parse(raw)
            except ValueError as error:
                problems.append(Finding("", f"policy config of {self.name}: {error}"))
        return values, problems

    def run_stack(self, index: StackIndex, config: Mapping[str, Any] | None = None) -> list[Finding]:
        assert self.check_stack is not None, f"{self.name} is not a stack rule"
        settings, problems = self.parse_settings(config)
        if problems:
            return problems
        findings = self._checked(lambda: self.check_stack(index, settings))
        if settings.get(TRUST_UNMANAGED.name):
            findings = [finding for finding in findings if not finding.outside_stack]
        if index.lookup_note:
            # Say why the AWS lookups did not settle a doubt about what another stack manages.
            note = f" AWS lookups could not read it ({index.lookup_note})."
            findings = [
                replace(finding, message=finding.message + note) if finding.outside_stack else finding
                for finding in findings
            ]
        return _levelled(findings, settings)

    def run_resource(self, node: Node, config: Mapping[str, Any] | None = None) -> list[Finding]:
        assert self.check_resource is not None, f"{self.name} is not a resource rule"
        if node.type not in self.resource_types:
            return []
        settings, problems = self.parse_settings(config)
        return problems or _levelled(self._checked(lambda: self.check_resource(node, settings)), settings)

    def _checked(self, check: Callable[[], Iterable[Finding]]) -> list[Finding]:
        """The check's findings; should it fail on a value nobody foresaw, one doubt instead of a failed
        preview (the rules read every value defensively: tests/test_policy_robustness.py)."""
        try:
            return list(check())
        except Exception as error:  # a defect must not take the whole preview down
            return [
                Finding(
                    "",
                    f"{self.name} could not finish on this stack ({type(error).__name__}: {error}), so its "
                    "verdict is unknown. This is a defect of the pack: please report it with the resource "
                    "that caused it.",
                    unverifiable=True,
                )
            ]


def _levelled(findings: Iterable[Finding], settings: Mapping[str, Any]) -> list[Finding]:
    """Doubts become advisories unless the rule is configured to fail closed."""
    if settings[FAIL_ON_UNVERIFIABLE.name]:
        return list(findings)
    return [replace(finding, advisory=True) if finding.unverifiable else finding for finding in findings]
