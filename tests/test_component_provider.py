"""The component provider, started as the Pulumi CLI starts a Python plugin (`python provider <engine>`, its
port on stdout) and driven over the ResourceProvider gRPC protocol against a resource monitor run here."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
from concurrent import futures
from dataclasses import replace
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from google.rpc import status_pb2
from pulumi.runtime import MockCallArgs, MockResourceArgs, rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from preview.engine import StackRun, run_stack, shipped_stacks
from preview.mocks import AwsMocks
from tests.access_helpers import (
    EXISTING_SUBNETS,
    PRIVATE_ROUTE_TABLE,
    PROJECT,
    REGION,
    run_program,
    run_rejected_program,
)
from zappa_vpc import (
    PATTERN_COMPONENTS,
    ExistingNetworkArgs,
    PublicPrivateVpc,
    ServiceAccess,
    ServiceAccessArgs,
    VpcArgs,
)
from zappa_vpc.components.lookups import available_zones, instance_type_offer
from zappa_vpc.plan.args import AccessArgs, field_name, stack_settings
from zappa_vpc.plan.options import Pattern
from zappa_vpc.plan.prices import camel_case as config_key
from zappa_vpc.plan.settings import CONFIG_SCHEMA

ROOT = pathlib.Path(__file__).resolve().parent.parent
ZONES = ["eu-west-1a", "eu-west-1b"]


class Monitor(resource_pb2_grpc.ResourceMonitorServicer, engine_pb2_grpc.EngineServicer):
    """Records registrations; answers them and data sources as the offline preview's mocks do."""

    def __init__(self) -> None:
        self.mocks = AwsMocks(region=REGION, preview=False)
        self.registered: list[tuple[str, str, dict[str, Any]]] = []

    def SupportsFeature(self, request, context):
        return resource_pb2.SupportsFeatureResponse(
            hasSupport=request.id in ("secrets", "resourceReferences")
        )

    def RegisterResource(self, request, context):
        inputs = json_format.MessageToDict(request.object)
        self.registered.append((request.type, request.name, inputs))
        resource_id, state = self.mocks.new_resource(
            MockResourceArgs(request.type, request.name, inputs, request.provider, "", request.custom)
        )
        result = struct_pb2.Struct()
        result.update(state)
        return resource_pb2.RegisterResourceResponse(
            urn=f"urn:pulumi:test::{PROJECT}::{request.type}::{request.name}", id=resource_id, object=result
        )

    def RegisterResourceOutputs(self, request, context):
        return empty_pb2.Empty()

    def Invoke(self, request, context):
        answer = self.mocks.call(MockCallArgs(request.tok, json_format.MessageToDict(request.args), ""))
        result = struct_pb2.Struct()
        result.update(answer)
        return provider_pb2.InvokeResponse(**{"return": result})

    def Log(self, request, context):
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):
        return engine_pb2.GetRootResourceResponse(urn="")

    def SetRootResource(self, request, context):
        return engine_pb2.SetRootResourceResponse()


@pytest.fixture(scope="module")
def engine():
    monitor = Monitor()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(monitor, server)
    engine_pb2_grpc.add_EngineServicer_to_server(monitor, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    address = f"127.0.0.1:{port}"
    # As pulumi-language-python's RunPlugin: `python <plugin directory> <engine address>`.
    plugin = subprocess.Popen(
        [sys.executable, str(ROOT / "provider"), address], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert plugin.stdout is not None
    provider_port = int(plugin.stdout.readline())
    channel = grpc.insecure_channel(f"127.0.0.1:{provider_port}")
    yield monitor, address, provider_pb2_grpc.ResourceProviderStub(channel)
    channel.close()
    plugin.terminate()
    plugin.wait(timeout=30)
    server.stop(None)


@pytest.fixture(scope="module")
def schema(engine) -> dict[str, Any]:
    _, _, provider = engine
    return json.loads(provider.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema)


def construct(
    engine,
    component: str,
    inputs: dict[str, Any],
    dry_run: bool = False,
    *,
    name: str = "app",
    stack: str = "test",
    config: dict[str, str] | None = None,
    answers: dict[str, dict[str, Any]] | None = None,
):
    """Construct over gRPC, as the engine sends it: the stack's config (`aws:region` by default) with it."""
    monitor, address, provider = engine
    monitor.registered.clear()
    monitor.mocks = AwsMocks(region=REGION, preview=dry_run, answers=answers)
    struct = struct_pb2.Struct()
    struct.update(inputs)
    request = provider_pb2.ConstructRequest(
        project=PROJECT,
        stack=stack,
        dryRun=dry_run,
        parallel=1,
        monitorEndpoint=address,
        type=f"zappa-vpc:index:{component}",
        name=name,
        inputs=struct,
        config={"aws:region": REGION} if config is None else config,
    )
    return provider.Construct(request)


def children(registered: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str, Any]]:
    """(type, name, inputs) of every resource but the first (the component constructed), in a stable order."""
    return sorted(((t, n, _plain(i)) for t, n, i in registered[1:]), key=lambda r: (r[0], r[1]))


Registered = list[tuple[str, str, Any]]


def assert_same_children(over_grpc: Registered, in_python: Registered) -> None:
    assert [(t, n) for t, n, _ in over_grpc] == [(t, n) for t, n, _ in in_python]
    for (_, name, sent), (_, _, properties) in zip(over_grpc, in_python, strict=True):
        assert sent == properties, name


def test_schema_names_every_pattern_and_service_access_with_the_settings_users_see(schema):
    assert set(schema["resources"]) == {
        f"zappa-vpc:index:{name}"
        for name in (
            "IsolatedVpc",
            "SingleTierVpc",
            "PublicPrivateVpc",
            "HybridVpc",
            "InternalVpc",
            "ServiceAccess",
        )
    }
    inputs = schema["resources"]["zappa-vpc:index:PublicPrivateVpc"]["inputProperties"]
    # One property per stack config key but the pattern (the component is the pattern): VpcArgs's fields
    # and AccessArgs's, in the stack's camelCase, each with the Pulumi.yaml description.
    declared = {key.name: key for key in CONFIG_SCHEMA}
    assert set(inputs) == set(declared) - {"pattern"}
    assert set(inputs) == {*VpcArgs._keys().values(), *AccessArgs._keys().values()}
    for name, prop in inputs.items():
        assert prop["description"].startswith(declared[name].description)
    assert inputs["azCount"]["type"] == "integer"
    assert inputs["azCount"]["description"].endswith("Default: 2.")
    assert inputs["vpcCidr"]["type"] == "string"
    assert inputs["flowLogs"]["type"] == "boolean"
    assert inputs["availabilityZones"]["type"] == "array"
    assert inputs["availabilityZones"]["items"]["type"] == "string"
    assert inputs["workerPorts"]["items"]["type"] == "integer"
    # The choices are enums: every value the setting accepts but auto (omit the input for it).
    assert inputs["natStrategy"]["$ref"] == "#/types/zappa-vpc:index:NatStrategy"
    assert inputs["bastion"]["$ref"] == "#/types/zappa-vpc:index:BastionAccess"
    assert inputs["database"]["$ref"] == "#/types/zappa-vpc:index:DatabaseEngine"
    nat = schema["types"]["zappa-vpc:index:NatStrategy"]
    assert [member["value"] for member in nat["enum"]] == ["none", "single", "one-per-az"]
    assert nat["description"].startswith("How private subnets reach the Internet")
    bastion = schema["types"]["zappa-vpc:index:BastionAccess"]
    assert [member["value"] for member in bastion["enum"]] == ["none", "ssm", "ssh"]
    database = schema["types"]["zappa-vpc:index:DatabaseEngine"]
    assert [member["value"] for member in database["enum"]] == ["none", "postgres", "mysql"]
    assert database["description"] == "The database's RDS engine: PostgreSQL or MySQL."


def test_schema_service_access_takes_an_existing_networks_ids_and_the_access_settings(schema):
    resource = schema["resources"]["zappa-vpc:index:ServiceAccess"]
    inputs = resource["inputProperties"]
    declared = {key.name: key for key in CONFIG_SCHEMA}
    assert set(inputs) == {"network", "region", *AccessArgs._keys().values()}
    assert resource["requiredInputs"] == ["network"]
    for name in AccessArgs._keys().values():
        assert inputs[name]["description"].startswith(declared[name].description), name
    assert inputs["database"]["$ref"] == "#/types/zappa-vpc:index:DatabaseEngine"
    assert inputs["databaseStorageGb"]["description"].endswith("Default: 20.")
    assert "aws:region" in inputs["region"]["description"] and inputs["region"]["type"] == "string"
    # The network: an object type with ExistingNetworkArgs's fields, documented from its docstring.
    assert inputs["network"]["$ref"] == "#/types/zappa-vpc:index:ExistingNetwork"
    network = schema["types"]["zappa-vpc:index:ExistingNetwork"]
    assert network["type"] == "object"
    assert set(network["properties"]) == {config_key(f) for f in ExistingNetworkArgs.__dataclass_fields__}
    assert sorted(network["required"]) == ["lambdaSubnetIds", "vpcId"]
    ids = network["properties"]
    assert ids["vpcId"] == {"type": "string", "description": "The VPC."}
    assert ids["lambdaSubnetIds"]["type"] == "array" and ids["lambdaSubnetIds"]["items"]["type"] == "string"
    assert ids["routeTableIds"]["additionalProperties"]["type"] == "string"
    assert ids["internetAccess"]["type"] == "boolean"
    assert ids["databaseSubnetIds"]["description"].startswith("The subnets for the database, in at least 2")
    # Always there: the endpoints and the Zappa settings; the database's outputs only with a database.
    assert {"zappaSettings", "gatewayEndpointIds", "lambdaSecurityGroupId"} <= set(resource["required"])
    assert "databaseHost" in resource["properties"] and "databaseHost" not in resource["required"]


@pytest.mark.parametrize("stack", shipped_stacks())
def test_schema_outputs_are_what_the_stack_program_exports(schema, stack_run, stack):
    """A hosted pattern is the whole stack program: what each shipped stack exports, it outputs."""
    run = stack_run(stack)
    pattern = PATTERN_COMPONENTS[run.outputs["pattern"]].__name__
    properties = schema["resources"][f"zappa-vpc:index:{pattern}"]["properties"]
    assert {config_key(name) for name in run.outputs} - {"monthlyCostEstimate"} <= set(properties)
    assert properties["vpcId"]["type"] == "string"
    assert properties["subnetIds"]["additionalProperties"]["items"]["type"] == "string"
    assert properties["zappaSettings"]["additionalProperties"]["$ref"] == "pulumi.json#/Any"


def test_every_schema_output_of_the_patterns_is_exported_by_some_shipped_stack(schema, stack_run):
    """The outputs are declared by hand (NETWORK_OUTPUTS, ACCESS_OUTPUTS): a name the components no longer
    output would stay in the schema, always empty."""
    exported = {config_key(name) for stack in shipped_stacks() for name in stack_run(stack).outputs}
    declared = {
        name
        for component in PATTERN_COMPONENTS.values()
        for name in schema["resources"][f"zappa-vpc:index:{component.__name__}"]["properties"]
    }
    assert declared - exported == set()


def test_schema_outputs_of_service_access_are_what_the_python_component_outputs(schema):
    access, _ = run_program(
        lambda: ServiceAccess("app", ServiceAccessArgs(**ON_IDS_ARGS, workers=True, app_bucket=True)),
        preview=False,
        answers=PRIVATE_ROUTE_TABLE,
    )
    properties = schema["resources"]["zappa-vpc:index:ServiceAccess"]["properties"]
    assert {"database_host", "workers_security_group_id", "app_bucket_name"} <= set(access.outputs)
    assert {config_key(name) for name in access.outputs} <= set(properties)


# Component, inputs over gRPC, whether a first preview (every id unknown) or an update (ids known).
CONSTRUCTS = [
    ("PublicPrivateVpc", {"availabilityZones": ZONES, "natStrategy": "one-per-az"}, False),
    ("PublicPrivateVpc", {"availabilityZones": ZONES, "flowLogs": True, "database": "postgres"}, True),
    (
        "PublicPrivateVpc",
        {
            "availabilityZones": ZONES,
            "database": "mysql",
            "databaseProxy": True,
            "interfaceEndpoints": ["secretsmanager"],
        },
        False,
    ),
    ("SingleTierVpc", {"availabilityZones": ZONES, "bastion": "ssm"}, True),
    # An integer crosses gRPC as a float, in a list too.
    (
        "IsolatedVpc",
        {
            "azCount": 3,
            "privateSubnetPrefix": 22,
            "workers": True,
            "workerPorts": [8000],
            "interfaceEndpoints": ["ssm", "ssmmessages", "ec2messages"],
        },
        True,
    ),
    (
        "HybridVpc",
        {
            "availabilityZones": ZONES,
            "vpnCustomerGatewayIp": "203.0.113.10",
            "vpnPlaceholderGatewayIp": True,
            "vpnOnPremisesCidrs": ["192.168.0.0/16"],
            "database": "none",
        },
        True,
    ),
]


def stack_program(component: str, inputs: dict[str, Any], preview: bool) -> StackRun:
    """The stack program (__main__.py: parse_settings, the pattern, ServiceAccess) for the same settings:
    the `dev` stack with its own settings replaced by `inputs` (the stack's name names the resources)."""
    pattern = next(p for p, c in PATTERN_COMPONENTS.items() if c.__name__ == component)
    overrides = {key: None for key in yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]}
    overrides |= {"aws:region": REGION, f"{PROJECT}:pattern": pattern.value}
    overrides |= {f"{PROJECT}:{key}": value for key, value in inputs.items()}
    run = run_stack("dev", config_overrides=overrides, preview=preview)
    assert run.error is None, run.error
    return run


@pytest.mark.parametrize(("component", "inputs", "dry_run"), CONSTRUCTS)
def test_construct_registers_what_the_stack_program_registers(engine, component, inputs, dry_run):
    result = construct(engine, component, inputs, dry_run=dry_run, name="dev", stack="dev")
    over_grpc = engine[0].registered
    assert over_grpc[0][:2] == (f"zappa-vpc:index:{component}", "dev")
    assert result.urn.endswith(f"zappa-vpc:index:{component}::dev")
    state = json_format.MessageToDict(result.state)
    assert {"vpcId", "subnetIds", "zappaVpcConfig", "zappaSettings", "gatewayEndpointIds"} <= set(state)

    run = stack_program(component, inputs, preview=dry_run)
    in_python = sorted((r.type, r.name, _plain(r.properties)) for r in run.resources)
    names = [(t, n) for t, n, _ in in_python]
    assert names.count((f"zappa-vpc:network:{component}", "dev")) == 1
    # The same resources with the same inputs; the access is the pattern's child here, its sibling there.
    assert ("zappa-vpc:service_access:ServiceAccess", "dev-access") in names
    network = names.index((f"zappa-vpc:network:{component}", "dev"))
    assert_same_children(children(over_grpc), in_python[:network] + in_python[network + 1 :])
    databases = [i for t, _, i in children(over_grpc) if t == "aws:rds/instance:Instance"]
    if inputs.get("database") in ("postgres", "mysql"):
        assert [d["engine"] for d in databases] == [inputs["database"]]
        assert {"databaseHost", "databaseSecretArn", "zappaEnvironment"} <= set(state)
    elif "database" in inputs:
        assert databases == [] and "databaseHost" not in state


def test_construct_reads_the_region_from_the_stack_config_and_says_so_without_it(engine):
    with pytest.raises(grpc.RpcError) as failure:
        construct(engine, "PublicPrivateVpc", {"availabilityZones": ZONES}, config={})
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "aws:region is not set: set it in the stack file" in failure.value.details()
    assert engine[0].registered == []
    result = construct(engine, "PublicPrivateVpc", {"availabilityZones": ZONES}, dry_run=True)
    state = json_format.MessageToDict(result.state)
    assert state["zappaSettings"]["aws_region"] == REGION
    # ServiceAccess takes the stack's too, or its own `region`.
    with pytest.raises(grpc.RpcError) as failure:
        construct(engine, "ServiceAccess", ON_IDS, config={}, answers=PRIVATE_ROUTE_TABLE)
    assert failure.value.details() == (
        "ServiceAccess: invalid args:\n  - region = '': the endpoints' service names need the region; give "
        "the stack's aws:region"
    )
    assert engine[0].registered == []
    result = construct(engine, "ServiceAccess", ON_IDS, dry_run=True, answers=PRIVATE_ROUTE_TABLE)
    assert json_format.MessageToDict(result.state)["zappaSettings"]["aws_region"] == REGION
    result = construct(
        engine, "ServiceAccess", ON_IDS | {"region": REGION}, config={}, answers=PRIVATE_ROUTE_TABLE
    )
    assert json_format.MessageToDict(result.state)["zappaSettings"]["aws_region"] == REGION


SUBNETS = EXISTING_SUBNETS
ON_IDS_ARGS = {
    "network": ExistingNetworkArgs(
        vpc_id="vpc-shared",
        lambda_subnet_ids=SUBNETS[:2],
        database_subnet_ids=SUBNETS[1:3],
        route_table_ids={"private": "rtb-private"},
    ),
    "region": REGION,
}
ON_IDS = {
    "network": {
        "vpcId": "vpc-shared",
        "lambdaSubnetIds": SUBNETS[:2],
        "databaseSubnetIds": SUBNETS[1:3],
        "routeTableIds": {"private": "rtb-private"},
    }
}
ON_IDS_CONSTRUCTS = [
    ({}, False),
    ({"database": "mysql", "databaseProxy": True, "interfaceEndpoints": ["secretsmanager"]}, True),
    ({"database": "none", "gatewayEndpoints": ["s3"], "appBucket": True, "workers": True}, False),
]


@pytest.mark.parametrize(("settings", "dry_run"), ON_IDS_CONSTRUCTS)
def test_construct_service_access_on_ids_registers_what_the_python_component_registers(
    engine, settings, dry_run
):
    result = construct(
        engine, "ServiceAccess", ON_IDS | settings, dry_run=dry_run, answers=PRIVATE_ROUTE_TABLE
    )
    over_grpc = engine[0].registered
    assert over_grpc[0][:2] == ("zappa-vpc:index:ServiceAccess", "app")
    assert result.urn.endswith("zappa-vpc:index:ServiceAccess::app")
    state = json_format.MessageToDict(result.state)
    assert {"zappaSettings", "lambdaSecurityGroupId", "zappaVpcConfig", "vpcId"} <= set(state)
    assert state["vpcId"] == "vpc-shared" and state["zappaSettings"]["aws_region"] == REGION

    python_args = ServiceAccessArgs(**ON_IDS_ARGS, **{field_name(k): v for k, v in settings.items()})
    _, recorded = run_program(
        lambda: ServiceAccess("app", python_args), preview=dry_run, answers=PRIVATE_ROUTE_TABLE
    )
    in_python = sorted(
        (r.type, r.name, _plain(r.properties)) for r in recorded.records if r.type != "pulumi:pulumi:Stack"
    )
    access = [(t, n) for t, n, _ in in_python].index(("zappa-vpc:service_access:ServiceAccess", "app"))
    assert_same_children(children(over_grpc), in_python[:access] + in_python[access + 1 :])
    # The network it built on the ids: the Lambda's group only, nothing else in the VPC.
    names = [n for _, n, _ in children(over_grpc)]
    assert {"app-network", "app-network-lambda", "app-network-lambda-sg"} <= set(names)
    assert not {t for t, _, _ in children(over_grpc)} & {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet"}
    # `auto` on ids: a database where there are database subnets (here, postgres).
    engines = [i["engine"] for t, _, i in children(over_grpc) if t == "aws:rds/instance:Instance"]
    wanted = settings.get("database", "postgres")
    assert engines == ([] if wanted == "none" else [wanted])


def _output_value(value: Any | None = None, dependencies: tuple[str, ...] = ()) -> dict[str, Any]:
    """A value as the engine sends an output to a provider that accepts outputs (pulumi/runtime/rpc.py,
    `_special_output_value_sig`); without `value`, one unknown on a preview."""
    encoded: dict[str, Any] = {rpc._special_sig_key: rpc._special_output_value_sig}
    if value is not None:
        encoded["value"] = value
    return encoded | ({"dependencies": list(dependencies)} if dependencies else {})


def test_construct_service_access_takes_ids_that_are_outputs_of_other_resources(engine):
    upstream = f"urn:pulumi:test::{PROJECT}::aws:ec2/vpc:Vpc::shared"
    network = ON_IDS["network"] | {
        "vpcId": _output_value("vpc-shared", (upstream,)),
        "lambdaSubnetIds": [SUBNETS[0], _output_value(SUBNETS[1], (upstream,))],
    }
    result = construct(engine, "ServiceAccess", {"network": network}, answers=PRIVATE_ROUTE_TABLE)
    state = json_format.MessageToDict(result.state)
    assert state["vpcId"] == "vpc-shared"
    group = next(i for t, n, i in engine[0].registered if n == "app-network-lambda-sg")
    assert group["vpcId"] == "vpc-shared"
    # On a first preview the ids are unknown: nothing can be looked up, and it says so instead of failing.
    network["lambdaSubnetIds"] = [_output_value(), _output_value()]
    result = construct(
        engine, "ServiceAccess", {"network": network}, dry_run=True, answers=PRIVATE_ROUTE_TABLE
    )
    assert "zappaSettings" in json_format.MessageToDict(result.state)


def test_construct_service_access_refuses_a_whole_list_of_ids_known_only_at_deploy_time(engine):
    network = ON_IDS["network"] | {
        "lambdaSubnetIds": _output_value(SUBNETS[:2]),
        "databaseSubnetIds": _output_value(SUBNETS[2:]),
    }
    with pytest.raises(grpc.RpcError) as failure:
        construct(
            engine, "ServiceAccess", {"network": network, "database": "mariadb"}, answers=PRIVATE_ROUTE_TABLE
        )
    problems = failure.value.details().splitlines()
    assert problems[:3] == [
        "ServiceAccess: invalid args:",
        "  - network.lambdaSubnetIds = 'an output': give a list of ids (each id may be an output), to be "
        "checked first",
        "  - network.databaseSubnetIds = 'an output': give a list of ids (each id may be an output), to be "
        "checked first",
    ]
    # The other settings are checked all the same: every problem in one refusal.
    assert problems[3:] == ["  - database = mariadb: use one of: auto, none, postgres, mysql"]
    assert engine[0].registered == []


@pytest.mark.parametrize(
    ("component", "inputs", "written"),
    [
        # What a TypeScript program passes from another resource: a role's ARN, an account id, a name.
        (
            "ServiceAccess",
            {**ON_IDS, "appBucket": True, "appBucketAdminRoleArns": [_output_value("arn:aws:iam::1:role/a")]},
            ["appBucketAdminRoleArns"],
        ),
        (
            "PublicPrivateVpc",
            {
                "availabilityZones": ZONES,
                "endpointPolicyAccounts": [_output_value("123456789012")],
                "databaseName": _output_value(),
            },
            ["databaseName", "endpointPolicyAccounts"],
        ),
    ],
)
def test_a_setting_given_as_another_resources_output_is_refused_by_name_and_registers_nothing(
    engine, component, inputs, written
):
    with pytest.raises(grpc.RpcError) as failure:
        construct(engine, component, inputs, answers=PRIVATE_ROUTE_TABLE)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    lines = failure.value.details().splitlines()
    assert lines[0] == f"{component}: invalid args:" and "Traceback" not in failure.value.details()
    assert sorted(line.removeprefix("  - ").split(" = ")[0] for line in lines[1:]) == written
    assert all("must be plain values" in line for line in lines[1:])
    assert engine[0].registered == []


def _plain(value: Any) -> Any:
    # Numbers cross gRPC as floats; the offline engine's records drop unset keys as the engine does.
    return json.loads(json.dumps(value), parse_float=lambda text: int(float(text)))


def _on_ids(**changes: Any) -> ServiceAccessArgs:
    network = replace(ON_IDS_ARGS["network"], **changes.pop("network", {}))
    return ServiceAccessArgs(network=network, region=REGION, **changes)


def _stack_settings(network: dict[str, Any], access: dict[str, Any]) -> None:
    stack_settings(
        "PublicPrivateVpc",
        Pattern.PUBLIC_PRIVATE,
        VpcArgs(availability_zones=ZONES, **network),
        AccessArgs(**access),
        REGION,
        available_zones,
        instance_type_offer,
    )


# Component, inputs over gRPC, the same mistake in Python, the properties the problems are on.
BAD_INPUTS = [
    (
        "PublicPrivateVpc",
        {"availabilityZones": ZONES, "vpcCidr": "10.0.0.0/8", "azSlots": 1},
        lambda: PublicPrivateVpc("app", VpcArgs(availability_zones=ZONES, vpc_cidr="10.0.0.0/8", az_slots=1)),
        {"vpcCidr", "azSlots"},
    ),
    # The network's and the access's mistakes together, before the network registers.
    (
        "PublicPrivateVpc",
        {"availabilityZones": ZONES, "vpcCidr": "10.0.0.0/8", "azSlots": 1, "database": "mariadb"},
        lambda: _stack_settings({"vpc_cidr": "10.0.0.0/8", "az_slots": 1}, {"database": "mariadb"}),
        {"vpcCidr", "azSlots", "database"},
    ),
    (
        "PublicPrivateVpc",
        {"availabilityZones": ZONES, "workers": True, "workerPorts": [22], "databaseStorageGb": 5},
        lambda: _stack_settings({}, {"workers": True, "worker_ports": [22], "database_storage_gb": 5}),
        {"workerPorts[0]", "databaseStorageGb"},
    ),
    # On ids: the network's own problems (two subnets) and the access's (a database needs subnets) together.
    (
        "ServiceAccess",
        {"network": {"vpcId": "vpc-shared", "lambdaSubnetIds": SUBNETS[:1]}, "database": "postgres"},
        lambda: ServiceAccess(
            "app",
            _on_ids(
                network={"lambda_subnet_ids": SUBNETS[:1], "database_subnet_ids": (), "route_table_ids": {}},
                database="postgres",
            ),
        ),
        {"network.lambdaSubnetIds", "network.databaseSubnetIds", "network.routeTableIds"},
    ),
    (
        "ServiceAccess",
        {**ON_IDS, "database": "mariadb", "databaseStorageGb": 5},
        lambda: ServiceAccess("app", _on_ids(database="mariadb", database_storage_gb=5)),
        {"database"},
    ),
]


@pytest.mark.parametrize(("component", "inputs", "in_python", "paths"), BAD_INPUTS)
def test_a_bad_input_fails_construct_with_the_python_problems_named_as_written_and_registers_nothing(
    engine, component, inputs, in_python, paths
):
    with pytest.raises(grpc.RpcError) as failure:
        construct(engine, component, inputs, answers=PRIVATE_ROUTE_TABLE)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error, recorded = run_rejected_program(in_python, answers=PRIVATE_ROUTE_TABLE)
    # The Python component's run registers nothing (rows calling the pure stack_settings cannot); the
    # provider's, checked below on the engine's side, is the point.
    assert recorded.records == [] or [r.type for r in recorded.records] == ["pulumi:pulumi:Stack"]
    assert f"{component}: invalid args:" in str(error) and "Traceback" not in failure.value.details()
    assert engine[0].registered == []
    # Each problem on the property it names, as the CLI shows invalid inputs.
    metadata = dict(failure.value.trailing_metadata())
    status = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    details = errors_pb2.InputPropertiesError()
    status.details[0].Unpack(details)
    assert {e.property_path for e in details.errors} == paths
    # The Python path's problems, each naming its setting as the program wrote it: the schema's property.
    assert len(details.errors) == len(error.problems)
    for detail, problem in zip(details.errors, error.problems, strict=True):
        written, said = detail.reason.split(" = ", 1)
        assert written == detail.property_path and said == problem.split(" = ", 1)[1], (detail, problem)
    header = str(error).splitlines()[0]
    assert failure.value.details() == "\n".join([header, *(f"  - {e.reason}" for e in details.errors)])


YAML_EXAMPLE = ROOT / "examples/provider-yaml/Pulumi.yaml"
KINDS = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
INTERPOLATION = re.compile(r"\$\{(\w+)\}")


def _check_yaml_value(schema, program, prop: dict[str, Any], value: Any, where: str) -> None:
    """`value` as the YAML program sets it, against the schema's `prop`: an enum's value, an object type's
    properties, a plain value of its type, or `${key}` of a config key declared with that type."""
    whole = INTERPOLATION.fullmatch(value) if isinstance(value, str) else None
    if whole is not None:
        declared = program["config"][whole.group(1)]  # a KeyError names an undeclared config key
        assert declared["type"] == prop.get("type", "string"), where
        if declared["type"] == "array":
            assert declared["items"]["type"] == prop["items"]["type"], where
        return
    if "$ref" in prop:
        kind = schema["types"][prop["$ref"].removeprefix("#/types/")]
        if "enum" in kind:
            assert value in [member["value"] for member in kind["enum"]], where
            return
        assert set(kind.get("required", [])) <= set(value), where
        for name, item in value.items():
            _check_yaml_value(schema, program, kind["properties"][name], item, f"{where}.{name}")
        return
    assert isinstance(value, KINDS[prop["type"]]), where
    if prop["type"] == "array":
        for index, item in enumerate(value):
            _check_yaml_value(schema, program, prop["items"], item, f"{where}[{index}]")
    if prop["type"] == "object":
        for key, item in value.items():
            _check_yaml_value(schema, program, prop["additionalProperties"], item, f"{where}.{key}")


def test_the_yaml_example_sets_only_properties_of_the_schema_with_their_types(schema):
    program = yaml.safe_load(YAML_EXAMPLE.read_text())
    used = {name: r for name, r in program["resources"].items() if r["type"].startswith("zappa-vpc:")}
    # The whole stack through a pattern (with a database), and ServiceAccess on an existing VPC's ids.
    assert {r["type"] for r in used.values()} == {
        "zappa-vpc:index:PublicPrivateVpc",
        "zappa-vpc:index:ServiceAccess",
    }
    assert used["app"]["properties"]["database"] == "postgres"
    for name, resource in used.items():
        inputs = schema["resources"][resource["type"]]["inputProperties"]
        assert set(schema["resources"][resource["type"]].get("requiredInputs", [])) <= set(
            resource["properties"]
        )
        for key, value in resource["properties"].items():
            _check_yaml_value(schema, program, inputs[key], value, f"{name}.{key}")  # KeyError: not in schema
    for name, value in program["outputs"].items():
        resource, output = re.fullmatch(r"\$\{(\w+)\.(\w+)\}", value).groups()
        assert output in schema["resources"][used[resource]["type"]]["properties"], name


def test_the_yaml_examples_components_construct(engine):
    """Each component as the YAML example sets it, its config given ids of the offline default VPC."""
    program = yaml.safe_load(YAML_EXAMPLE.read_text())
    config = {
        "sharedVpcId": "vpc-shared",
        "sharedLambdaSubnetIds": SUBNETS[:2],
        "sharedDatabaseSubnetIds": SUBNETS[1:3],
        "sharedPrivateRouteTableId": "rtb-private",
    }
    assert set(config) == set(program["config"])

    def substituted(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: substituted(item) for key, item in value.items()}
        whole = INTERPOLATION.fullmatch(value) if isinstance(value, str) else None
        return config[whole.group(1)] if whole else value

    for name, resource in program["resources"].items():
        component = resource["type"].removeprefix("zappa-vpc:index:")
        result = construct(
            engine, component, substituted(resource["properties"]), name=name, answers=PRIVATE_ROUTE_TABLE
        )
        assert "zappaSettings" in json_format.MessageToDict(result.state), name
        assert any(t == "aws:rds/instance:Instance" for t, _, _ in engine[0].registered), name


def test_the_plugin_directory_is_one_the_cli_loads_as_a_python_plugin():
    plugin = yaml.safe_load((ROOT / "provider/PulumiPlugin.yaml").read_text())
    assert plugin["runtime"] == {"name": "python", "options": {"virtualenv": "venv"}}
    # A Pulumi.yaml beside it is refused (sdk/go/common/workspace/loaders.go: "detected both ..."); ours is
    # one level up, and the CLI loads the innermost.
    assert not (ROOT / "provider/Pulumi.yaml").exists() and (ROOT / "Pulumi.yaml").exists()
    # The plugin's virtualenv gets the program's own requirements (pulumi, pulumi-aws).
    assert (ROOT / "provider/requirements.txt").read_text().split() == ["-r", "../requirements.txt"]


def test_the_typescript_example_uses_only_inputs_and_outputs_of_the_schema(schema):
    source = (ROOT / "examples/provider-typescript/index.ts").read_text()
    created = re.findall(r"const (\w+) = new zappa\.(\w+)\(\"\w+\", \{\n(.*?)\n\}\);", source, re.DOTALL)
    assert {component for _, component, _ in created} == {"PublicPrivateVpc", "ServiceAccess"}
    for variable, component, body in created:
        resource = schema["resources"][f"zappa-vpc:index:{component}"]
        inputs = resource["inputProperties"]
        # The component's own inputs, four spaces in; an object type's, eight spaces in under its input.
        top = re.findall(r"^ {4}(\w+): (.*?),?(?: //.*)?$", body, re.MULTILINE)
        assert {name for name, _ in top} <= set(inputs)
        assert set(resource.get("requiredInputs", [])) <= {name for name, _ in top}
        for name, value in top:
            if "$ref" in inputs[name]:
                kind = schema["types"][inputs[name]["$ref"].removeprefix("#/types/")]
                if "enum" in kind:
                    assert json.loads(value) in [m["value"] for m in kind["enum"]], name
                else:
                    nested = re.search(
                        rf"^ {{4}}{name}: \{{\n(.*?)^ {{4}}\}}", body, re.MULTILINE | re.DOTALL
                    )
                    keys = set(re.findall(r"^ {8}(\w+):", nested.group(1), re.MULTILINE))
                    assert set(kind["required"]) <= keys <= set(kind["properties"]), name
        used = set(re.findall(rf"\b{variable}\.(\w+)", source))
        assert used and used <= set(resource["properties"]), variable
    assert 'database: "postgres"' in created[0][2]
