"""Turn the pure `Rule`s into pulumi_policy policies.

The SDK hands rules their resources with properties wrapped in proxies that raise on any unknown
value; the rules must see unknowns instead. Stack rules read the plain properties and dependency URNs
that `one_pass` resources carry (or unwrap the proxies, if the SDK's own servicer runs), into one
`StackIndex` per AnalyzeStack request: with `one_pass` installed every stack policy receives the same
resource list, so the index the first one builds serves the others.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy import Severity as SdkSeverity
from pulumi_policy.proxy import _DictProxy, _ListProxy

from . import aws_lookup
from . import aws_types as aws
from .graph import Node, StackIndex
from .one_pass import LazyPolicyResource
from .rules import AWS_LOOKUPS, Finding, Level, Rule

_LEVELS = {Level.ADVISORY: EnforcementLevel.ADVISORY, Level.MANDATORY: EnforcementLevel.MANDATORY}
_SCALARS = frozenset({str, bool, int, float, type(None)})


def plain(value: Any) -> Any:
    """The value with the SDK's unknown-checking proxies removed, unknown markers kept. (Exact type
    checks: the proxies are ABC subclasses, whose isinstance checks cost more than the rest.)"""
    kind = type(value)
    if kind is _DictProxy or kind is _ListProxy:
        value = value["__target"]
        kind = type(value)
    if kind is dict:
        return {key: item if type(item) in _SCALARS else plain(item) for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _SCALARS else plain(item) for item in value]
    return value


def node_of(resource: PolicyResource) -> Node:
    if isinstance(resource, LazyPolicyResource):
        return Node(
            urn=resource.urn,
            type=resource.resource_type,
            name=resource.name,
            props=resource.plain_props,
            dependencies=resource.dependency_urns(),
            property_dependencies=resource.property_dependency_urns(),
            provider_region=resource.provider_region(),
        )
    return Node(
        urn=resource.urn,
        type=resource.resource_type,
        name=resource.name,
        props=plain(resource.props),
        dependencies=tuple([dependency.urn for dependency in resource.dependencies]),
        property_dependencies={
            key: tuple([dependency.urn for dependency in dependencies])
            for key, dependencies in resource.property_dependencies.items()
        },
        provider_region=_region(resource.provider.props) if resource.provider else "",
    )


def _region(props: Any) -> str:
    region = plain(props).get("region")
    return region if isinstance(region, str) else ""


class _IndexCache:
    """The index of the resource list being analyzed, shared by the stack policies of one request.

    The same list object means the same AnalyzeStack request. The list is not kept alive (lists take
    no weak references, so its first resource stands for it): once the request is answered and its
    resources are freed, the index goes with them instead of weighing on the next request.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[int, weakref.ref[PolicyResource]] | None = None
        self._nodes: list[Node] = []
        self._index: dict[bool, StackIndex] = {}

    def index_for(self, resources: Sequence[PolicyResource], lookups: bool = False) -> StackIndex:
        """The stack's index; with `lookups`, also holding what AWS shows of the ids it references but
        does not manage (the same index when there are none, or nothing could be read)."""
        with self._lock:
            if not resources:
                return StackIndex([])
            key = self._key
            if key is None or key[0] != id(resources) or key[1]() is not resources[0]:
                self._nodes = [node_of(r) for r in resources if r.resource_type in aws.KNOWN_TYPES]
                self._index = {False: StackIndex(self._nodes)}
                self._key = (id(resources), weakref.ref(resources[0], self._forget))
            if lookups not in self._index:
                self._index[True] = aws_lookup.looked_up_index(self._index[False], self._nodes)
            return self._index[lookups]

    def _forget(self, _dead: weakref.ref[PolicyResource]) -> None:
        self._key = None
        self._nodes = []
        self._index = {}


_INDEX_CACHE = _IndexCache()


def _report(findings: list[Finding], report_violation: ReportViolation, stack_level: bool) -> None:
    # Only one_pass's reporter takes a level per finding; the SDK's own reports doubts at the rule's level.
    per_finding = getattr(report_violation, "takes_advisory", False)
    for finding in findings:
        urn = (finding.urn or None) if stack_level else None
        if per_finding and finding.advisory:
            report_violation(finding.message, urn, advisory=True)  # type: ignore[call-arg]
        else:
            report_violation(finding.message, urn)


def to_policy(rule: Rule) -> Policy:
    common: dict[str, Any] = {
        "name": rule.name,
        "description": rule.description,
        "enforcement_level": _LEVELS[rule.level],
        "severity": SdkSeverity(rule.severity.value),
        "remediation_steps": rule.remediation,
        "config_schema": (
            PolicyConfigSchema({setting.name: setting.schema() for setting in rule.config_settings})
            if rule.config_settings
            else None
        ),
    }
    if rule.check_stack is not None:

        def validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
            config = _config(args.get_config())
            lookups = (
                AWS_LOOKUPS in rule.settings and config.get(AWS_LOOKUPS.name, AWS_LOOKUPS.default) is True
            )
            index = _INDEX_CACHE.index_for(args.resources, lookups)
            _report(rule.run_stack(index, config), report_violation, stack_level=True)

        return StackValidationPolicy(validate=validate_stack, **common)

    types = rule.resource_types

    def validate_resource(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in types:
            return
        node = Node(urn=args.urn, type=args.resource_type, name=args.name, props=plain(args.props))
        _report(rule.run_resource(node, _config(args.get_config())), report_violation, stack_level=False)

    return ResourceValidationPolicy(validate=validate_resource, **common)


def _config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    # The CLI may pass the level along with the settings; it is the SDK's business, not the rule's.
    return {key: value for key, value in (config or {}).items() if key != "enforcementLevel"}
