"""Convert the stack once per AnalyzeStack, not once per stack policy.

pulumi-policy 1.x (`_PolicyAnalyzerServicer.AnalyzeStack`) rebuilds every PolicyResource (Struct to
dict, deserialization, unknown-checking proxies, options, provider) inside its loop over policies:
about 0.3 s per stack policy at 10k resources, so a pack of nine graph rules would spend nine times
what a one-rule pack spends. This subclass runs the same steps in the same order with the SDK's own
helpers, but converts the resources once and hands the same list to every stack policy (which also
lets the rules share one graph index). Responses are identical; the tests compare the two.

`install()` makes `PolicyPack` use it. If the SDK's private layout changes, the subclass steps aside
and the SDK's own AnalyzeStack runs: slower, never wrong.
"""

from __future__ import annotations

import asyncio
import gc
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


class OnePassAnalyzerServicer(_SdkServicer):
    def AnalyzeStack(self, request: Any, context: Any) -> Any:
        # The request's objects (proxies, PolicyResources, the rules' index) form no reference cycles and
        # are freed by reference counting once it is answered; the cyclic collector would only re-scan
        # them, again and again as they accumulate (a third of the time at 10k resources).
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

    def _policy_resources(self, request: Any) -> list[PolicyResource]:
        """The SDK's conversion of the request, with parents and dependencies linked."""
        resources: list[PolicyResource] = []
        links: list[tuple[PolicyResource, Any]] = []
        for item in request.resources:
            props = unknown_checking_proxy(deserialize_properties(json_format.MessageToDict(item.properties)))
            resource = PolicyResource(
                item.type,
                props,
                item.urn,
                item.name,
                self._get_resource_options(item),
                self._get_provider_resource(item),
                None,
                [],
                {},
            )
            resources.append(resource)
            links.append((resource, item))
        by_urn = {resource.urn: resource for resource in resources}
        for resource, item in links:
            if item.parent in by_urn:
                resource.parent = by_urn[item.parent]
            resource.dependencies.extend(by_urn[urn] for urn in item.dependencies if urn in by_urn)
            for key, dependencies in item.propertyDependencies.items():
                resource.property_dependencies[key] = [
                    by_urn[urn] for urn in dependencies.urns if urn in by_urn
                ]
        return resources


def install() -> None:
    """Make every PolicyPack built after this call serve through OnePassAnalyzerServicer."""
    sdk._PolicyAnalyzerServicer = OnePassAnalyzerServicer
