"""The one-pass AnalyzeStack answers exactly what the SDK's own does, and converts the stack once."""

from __future__ import annotations

import json
from typing import Any

from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import serialize_properties

from policies.network_guard import aws_types as aws
from policies.network_guard.catalog import RULES
from policies.network_guard.one_pass import OnePassAnalyzerServicer, _SdkServicer
from policies.network_guard.sdk import to_policy
from preview.policy_client import stack_request
from tests.policy_helpers import IdMode, Ref, secure_stack


def _reads_unknown(args: StackValidationArgs, _report: ReportViolation) -> None:
    for resource in args.resources:
        if resource.resource_type == aws.SUBNET:
            resource.props["vpcId"]  # raises UnknownValueError on a first preview


def _not_applicable(args: StackValidationArgs, _report: ReportViolation) -> None:
    args.not_applicable("nothing to check")


def _describe_everything(args: StackValidationArgs, report: ReportViolation) -> None:
    """Every attribute of every resource, as a policy would read it: the one-pass resources build them
    lazily, so this is what proves they come out as the SDK builds them."""
    for resource in args.resources:
        opts = resource.opts
        provider = resource.provider
        report(
            json.dumps(
                {
                    "type": resource.resource_type,
                    "name": resource.name,
                    "props": serialize_properties(resource.props),
                    "opts": [
                        opts.protect,
                        list(opts.ignore_changes),
                        opts.delete_before_replace,
                        list(opts.aliases),
                        opts.custom_timeouts.create_seconds,
                        list(opts.additional_secret_outputs),
                        opts.parent,
                    ],
                    "provider": provider
                    and [
                        provider.resource_type,
                        provider.urn,
                        provider.name,
                        serialize_properties(provider.props),
                    ],
                    "parent": resource.parent and resource.parent.urn,
                    "dependencies": [dependency.urn for dependency in resource.dependencies],
                    "property_dependencies": {
                        key: [dependency.urn for dependency in dependencies]
                        for key, dependencies in resource.property_dependencies.items()
                    },
                },
                sort_keys=True,
            ),
            resource.urn,
        )


async def _reports_later(_args: StackValidationArgs, report: ReportViolation) -> None:
    report("found asynchronously", None)


def _policies(seen: list[int] | None = None) -> list[Policy]:
    def remember(args: StackValidationArgs, _report: ReportViolation) -> None:
        if seen is not None:
            seen.append(id(args.resources))

    probes = [
        StackValidationPolicy(name="reads-unknown", description="Reads an unknown.", validate=_reads_unknown),
        StackValidationPolicy(name="not-applicable", description="Not applicable.", validate=_not_applicable),
        StackValidationPolicy(name="reports-later", description="Async.", validate=_reports_later),
        StackValidationPolicy(
            name="describe-everything", description="Reads all.", validate=_describe_everything
        ),
        StackValidationPolicy(name="remember-1", description="Remember.", validate=remember),
        StackValidationPolicy(name="remember-2", description="Remember.", validate=remember),
    ]
    return [to_policy(rule) for rule in RULES] + probes


def _insecure_request() -> analyzer_pb2.AnalyzeStackRequest:
    builder = secure_stack()
    builder.set("app-db-subnets", subnetIds=[Ref("app-public-a"), Ref("app-private-b")])
    builder.remove("app-flow-log")
    request = stack_request(builder.records(IdMode.UNKNOWN))
    # Options and a provider too, so that every attribute the SDK builds is compared.
    database = next(item for item in request.resources if item.name == "app-db")
    database.options.protect = True
    database.options.ignoreChanges.append("tags")
    database.options.customTimeouts.create = 600
    database.provider.type = "pulumi:providers:aws"
    database.provider.urn = "urn:pulumi:dev::shop::pulumi:providers:aws::default"
    database.provider.name = "default"
    database.provider.properties.update({"region": "us-east-1"})
    return request


def _configured(servicer: Any) -> Any:
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    request.policyConfig["vpc-flow-logs-enabled"].enforcementLevel = analyzer_pb2.MANDATORY
    request.policyConfig["nat-gateway-per-az"].enforcementLevel = analyzer_pb2.DISABLED
    request.policyConfig["db-subnet-group-private"].enforcementLevel = analyzer_pb2.REMEDIATE
    servicer.Configure(request, None)
    return servicer


def test_one_pass_answers_exactly_like_the_sdk() -> None:
    args = ("vpc-network-guard", "0.1.0")
    stock = _configured(_SdkServicer(*args, _policies(), EnforcementLevel.ADVISORY))
    one_pass = _configured(OnePassAnalyzerServicer(*args, _policies(), EnforcementLevel.ADVISORY))
    request = _insecure_request()
    expected = stock.AnalyzeStack(request, None)
    assert one_pass.AnalyzeStack(request, None) == expected
    # The comparison covers every path: violations, the SDK's unknown message, not-applicable, async.
    messages = [diagnostic.message for diagnostic in expected.diagnostics]
    assert any("can't run policy 'reads-unknown'" in message for message in messages)
    assert [item.policy_name for item in expected.not_applicable] == ["not-applicable"]
    assert {diagnostic.policyName for diagnostic in expected.diagnostics} >= {
        "db-subnet-group-private",
        "vpc-flow-logs-enabled",
        "reports-later",
        "describe-everything",
    }


def test_one_pass_hands_every_stack_policy_the_same_resources() -> None:
    seen: list[int] = []
    servicer = OnePassAnalyzerServicer(
        "vpc-network-guard", "0.1.0", _policies(seen), EnforcementLevel.ADVISORY
    )
    servicer.AnalyzeStack(_insecure_request(), None)
    assert len(seen) == 2 and seen[0] == seen[1]
