"""Convert the stack once per AnalyzeStack, not once per stack policy, and only as far as it is read.

pulumi-policy 1.x (`_PolicyAnalyzerServicer.AnalyzeStack`) rebuilds every PolicyResource (Struct to
dict, deserialization, unknown-checking proxies, options, provider, links to parent and dependencies)
inside its loop over policies: about 0.3 s per stack policy at 10k resources, so a pack of nine graph
rules would spend nine times what a one-rule pack spends. This subclass hands the same resources to
every stack policy (which also lets the rules share one graph index), and builds each attribute of a
resource with the SDK's own helpers the first time a policy reads it: the network rules read only the
plain properties and dependency URNs of the types they know, so the rest of the stack is never
converted. The cyclic garbage collector is paused for the request, whose objects form no cycles.
Responses are identical to the SDK's (the tests compare every attribute of every resource), except that
a rule may report a finding as an advisory below its policy's level (a doubt, `_create_report_violation`),
for Analyze and AnalyzeStack alike.

`install()` makes `PolicyPack` use it. If the SDK's private layout changes, the subclass steps aside
and the SDK's own AnalyzeStack runs: slower, never wrong.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs, StackValidationPolicy
from pulumi_policy import policy as sdk
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

_SdkServicer = sdk._PolicyAnalyzerServicer
_PRIVATE = "_PolicyAnalyzerServicer__"  # name-mangled attributes of the SDK servicer
_NOT_BUILT = object()


def _built_on_first_read(name: str, build: Callable[[LazyPolicyResource], Any]) -> Any:
    """An attribute that `build` computes when first read; a value assigned to it is kept as is."""
    slot = f"_{name}"

    def read(resource: LazyPolicyResource) -> Any:
        value = getattr(resource, slot)
        if value is _NOT_BUILT:
            value = build(resource)
            setattr(resource, slot, value)
        return value

    def write(resource: LazyPolicyResource, value: Any) -> None:
        setattr(resource, slot, value)

    return property(read, write)


class LazyPolicyResource(PolicyResource):
    """A PolicyResource of an AnalyzeStack request whose attributes are built on first read, each the
    way the SDK builds it. `plain_props` (the properties before the unknown-checking proxies) and the
    dependency URNs serve the network rules."""

    def __init__(self, item: Any, servicer: _SdkServicer, by_urn: dict[str, PolicyResource]) -> None:
        self._item = item
        self._servicer = servicer
        self._by_urn = by_urn
        self._plain_props: Any = _NOT_BUILT
        nothing = _NOT_BUILT
        super().__init__(item.type, nothing, item.urn, item.name, nothing, nothing, nothing, nothing, nothing)

    @property
    def plain_props(self) -> dict[str, Any]:
        if self._plain_props is _NOT_BUILT:
            self._plain_props = deserialize_properties(json_format.MessageToDict(self._item.properties))
        return self._plain_props

    def provider_region(self) -> str:
        """The `region` its provider is configured with (empty when it has none or it is not known)."""
        if not self._item.HasField("provider"):
            return ""
        region = self._item.provider.properties.fields.get("region")
        return region.string_value if region is not None else ""

    def dependency_urns(self) -> tuple[str, ...]:
        return tuple(self._item.dependencies)

    def property_dependency_urns(self) -> dict[str, tuple[str, ...]]:
        return {key: tuple(deps.urns) for key, deps in self._item.propertyDependencies.items()}

    props = _built_on_first_read("props", lambda r: unknown_checking_proxy(r.plain_props))
    opts = _built_on_first_read("opts", lambda r: r._servicer._get_resource_options(r._item))
    provider = _built_on_first_read("provider", lambda r: r._servicer._get_provider_resource(r._item))
    parent = _built_on_first_read("parent", lambda r: r._by_urn.get(r._item.parent))
    dependencies = _built_on_first_read(
        "dependencies", lambda r: [r._by_urn[urn] for urn in r._item.dependencies if urn in r._by_urn]
    )
    property_dependencies = _built_on_first_read(
        "property_dependencies",
        lambda r: {
            key: [r._by_urn[urn] for urn in deps.urns if urn in r._by_urn]
            for key, deps in r._item.propertyDependencies.items()
        },
    )


class OnePassAnalyzerServicer(_SdkServicer):
    def AnalyzeStack(self, request: Any, context: Any) -> Any:
        # The request's objects (resources, proxies, the rules' index) form no reference cycles and are
        # freed by reference counting once it is answered; the cyclic collector would only re-scan them,
        # again and again as they accumulate.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._analyze_stack(request, context)
        finally:
            if collecting:
                gc.enable()

    def _analyze_stack(self, request: Any, context: Any) -> Any:
        try:
            policies = getattr(self, _PRIVATE + "policies")
            pack_name = getattr(self, _PRIVATE + "policy_pack_name")
            pack_version = getattr(self, _PRIVATE + "policy_pack_version")
            stack_tags = getattr(self, _PRIVATE + "stack_tags")
        except AttributeError:
            return super().AnalyzeStack(request, context)

        self._configure_runtime_settings()
        response = proto.AnalyzeResponse()
        resources: list[PolicyResource] | None = None
        for policy in policies:
            enforcement_level = self._get_enforcement_level(policy)
            if enforcement_level == EnforcementLevel.DISABLED or not isinstance(
                policy, StackValidationPolicy
            ):
                continue
            if enforcement_level == EnforcementLevel.REMEDIATE:
                enforcement_level = EnforcementLevel.MANDATORY  # stack policies cannot remediate
            report_violation = self._create_report_violation(
                response, policy.name, policy.description, enforcement_level, policy.severity
            )
            if resources is None:
                resources = self._policy_resources(request)
            args = StackValidationArgs(resources, self._get_policy_config(policy.name), stack_tags)
            try:
                result = policy.validate(args, report_violation)
                if isawaitable(result):
                    loop = asyncio.new_event_loop()
                    loop.run_until_complete(asyncio.Task(result, loop=loop))
                    loop.close()
            except UnknownValueError as error:
                response.diagnostics.append(
                    proto.AnalyzeDiagnostic(
                        policyName=policy.name,
                        policyPackName=pack_name,
                        policyPackVersion=pack_version,
                        message=(
                            f"can't run policy '{policy.name}' from policy pack "
                            f"'{pack_name}@v{pack_version}' during preview: {error.message}"
                        ),
                        urn="",
                        description=policy.description,
                        enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
                    )
                )
            except sdk._NotApplicableError as error:
                response.not_applicable.append(
                    proto.PolicyNotApplicable(policy_name=policy.name, reason=error.reason or "")
                )
        return response

    def _create_report_violation(self, response: Any, name: str, description: str, level: Any, severity: Any):
        """The SDK's reporter, also taking `advisory=True` for a finding reported below its policy's level
        (the engine reads each diagnostic's own enforcementLevel): a rule's doubts are advisories."""
        report = super()._create_report_violation(response, name, description, level, severity)
        report_advisory = super()._create_report_violation(
            response, name, description, EnforcementLevel.ADVISORY, severity
        )

        def report_violation(message: str, urn: str | None = None, advisory: bool = False) -> None:
            (report_advisory if advisory else report)(message, urn)

        report_violation.takes_advisory = True  # type: ignore[attr-defined]
        return report_violation

    def _policy_resources(self, request: Any) -> list[PolicyResource]:
        """The request's resources, in order; a later one with the same URN wins links, as in the SDK."""
        by_urn: dict[str, PolicyResource] = {}
        resources: list[PolicyResource] = []
        for item in request.resources:
            resource = LazyPolicyResource(item, self, by_urn)
            resources.append(resource)
            by_urn[resource.urn] = resource
        return resources


def install() -> None:
    """Make every PolicyPack built after this call serve through OnePassAnalyzerServicer."""
    sdk._PolicyAnalyzerServicer = OnePassAnalyzerServicer
