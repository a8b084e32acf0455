"""The component provider, started as the Pulumi CLI starts a Python plugin (`python provider <engine>`, its
port on stdout) and driven over the ResourceProvider gRPC protocol against a resource monitor run here."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys
from concurrent import futures
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from google.rpc import status_pb2
from pulumi.runtime import MockCallArgs, MockResourceArgs
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

import zappa_vpc
from preview.mocks import AwsMocks
from tests.access_helpers import PROJECT, REGION, run_program, run_rejected_program
from zappa_vpc import PublicPrivateVpc, VpcArgs
from zappa_vpc.plan.args import field_name
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


def construct(engine, component: str, inputs: dict[str, Any], dry_run: bool = False):
    monitor, address, provider = engine
    monitor.registered.clear()
    monitor.mocks = AwsMocks(region=REGION, preview=dry_run)
    struct = struct_pb2.Struct()
    struct.update(inputs)
    request = provider_pb2.ConstructRequest(
        project=PROJECT,
        stack="test",
        dryRun=dry_run,
        parallel=1,
        monitorEndpoint=address,
        type=f"zappa-vpc:index:{component}",
        name="app",
        inputs=struct,
        config={"aws:region": REGION},
    )
    return provider.Construct(request)


def test_schema_names_every_pattern_with_the_settings_users_see(schema):
    assert set(schema["resources"]) == {
        f"zappa-vpc:index:{name}"
        for name in ("IsolatedVpc", "SingleTierVpc", "PublicPrivateVpc", "HybridVpc", "InternalVpc")
    }
    inputs = schema["resources"]["zappa-vpc:index:PublicPrivateVpc"]["inputProperties"]
    # One property per VpcArgs field, in the stack's camelCase, each with the Pulumi.yaml description.
    declared = {key.name: key for key in CONFIG_SCHEMA}
    assert set(inputs) == set(VpcArgs._keys().values())
    for name, prop in inputs.items():
        assert prop["description"].startswith(declared[name].description)
    assert inputs["azCount"]["type"] == "integer"
    assert inputs["azCount"]["description"].endswith("Default: 2.")
    assert inputs["vpcCidr"]["type"] == "string"
    assert inputs["flowLogs"]["type"] == "boolean"
    assert inputs["availabilityZones"]["type"] == "array"
    assert inputs["availabilityZones"]["items"]["type"] == "string"
    # The choices are enums.
    assert inputs["natStrategy"]["$ref"] == "#/types/zappa-vpc:index:NatStrategy"
    assert inputs["bastion"]["$ref"] == "#/types/zappa-vpc:index:BastionAccess"
    nat = schema["types"]["zappa-vpc:index:NatStrategy"]
    assert [member["value"] for member in nat["enum"]] == ["none", "single", "one-per-az"]
    assert nat["description"].startswith("How private subnets reach the Internet")


def test_schema_outputs_are_what_the_python_component_outputs(schema):
    network, _ = run_program(
        lambda: PublicPrivateVpc("app", VpcArgs(availability_zones=ZONES, bastion="ssm")), preview=False
    )
    properties = schema["resources"]["zappa-vpc:index:PublicPrivateVpc"]["properties"]
    assert {config_key(name) for name in network.outputs} <= set(properties)
    assert properties["vpcId"]["type"] == "string"
    assert properties["subnetIds"]["additionalProperties"]["items"]["type"] == "string"


# Component, inputs over gRPC, whether a first preview (every id unknown) or an update (ids known).
CONSTRUCTS = [
    ("PublicPrivateVpc", {"availabilityZones": ZONES, "natStrategy": "one-per-az"}, False),
    ("PublicPrivateVpc", {"availabilityZones": ZONES, "flowLogs": True}, True),
    ("SingleTierVpc", {"availabilityZones": ZONES, "bastion": "ssm"}, True),
    # An integer crosses gRPC as a float.
    ("IsolatedVpc", {"azCount": 3, "privateSubnetPrefix": 22}, True),
]


@pytest.mark.parametrize(("component", "inputs", "dry_run"), CONSTRUCTS)
def test_construct_registers_what_the_python_component_registers(engine, component, inputs, dry_run):
    result = construct(engine, component, inputs, dry_run=dry_run)
    over_grpc = engine[0].registered
    assert over_grpc[0][:2] == (f"zappa-vpc:index:{component}", "app")
    assert result.urn.endswith(f"zappa-vpc:index:{component}::app")
    state = json_format.MessageToDict(result.state)
    assert {"vpcId", "subnetIds", "zappaVpcConfig"} <= set(state)

    python_args = VpcArgs(**{field_name(key): value for key, value in inputs.items()})
    _, recorded = run_program(lambda: getattr(zappa_vpc, component)("app", python_args), preview=dry_run)
    in_python = [(r.type, r.name, r.properties) for r in recorded.records if r.type != "pulumi:pulumi:Stack"]
    assert in_python[0][:2] == (f"zappa-vpc:network:{component}", "app")
    children = sorted(over_grpc[1:], key=lambda r: (r[0], r[1]))
    assert [(t, n) for t, n, _ in children] == sorted((t, n) for t, n, _ in in_python[1:])
    assert len(children) > 10
    for (_, name, inputs_sent), (_, _, properties) in zip(
        children, sorted(in_python[1:], key=lambda r: (r[0], r[1])), strict=True
    ):
        assert _plain(inputs_sent) == _plain(properties), name


def _plain(value: Any) -> Any:
    # Numbers cross gRPC as floats; the offline engine's records drop unset keys as the engine does.
    return json.loads(json.dumps(value), parse_float=lambda text: int(float(text)))


def test_a_bad_input_fails_construct_with_the_python_message_and_registers_nothing(engine):
    with pytest.raises(grpc.RpcError) as failure:
        construct(
            engine, "PublicPrivateVpc", {"availabilityZones": ZONES, "vpcCidr": "10.0.0.0/8", "azSlots": 1}
        )
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    error, _ = run_rejected_program(
        lambda: PublicPrivateVpc("app", VpcArgs(availability_zones=ZONES, vpc_cidr="10.0.0.0/8", az_slots=1))
    )
    assert failure.value.details() == str(error)
    assert "vpc_cidr" in str(error) and "Traceback" not in failure.value.details()
    assert engine[0].registered == []
    # Each problem on the property it names, as the CLI shows invalid inputs.
    metadata = dict(failure.value.trailing_metadata())
    status = status_pb2.Status.FromString(metadata["grpc-status-details-bin"])
    details = errors_pb2.InputPropertiesError()
    status.details[0].Unpack(details)
    assert {e.property_path for e in details.errors} == {"vpcCidr", "azSlots"}
    assert all(e.reason in str(error) for e in details.errors)


def test_the_yaml_example_sets_only_properties_of_the_schema_with_their_types(schema):
    program = yaml.safe_load((ROOT / "examples/provider-yaml/Pulumi.yaml").read_text())
    kinds = {"string": str, "integer": int, "boolean": bool, "array": list}
    used = [r for r in program["resources"].values() if r["type"].startswith("zappa-vpc:")]
    assert used
    for resource in used:
        inputs = schema["resources"][resource["type"]]["inputProperties"]
        for name, value in resource.get("properties", {}).items():
            prop = inputs[name]  # a KeyError names a property the schema does not have
            if "$ref" in prop:
                enum = schema["types"][prop["$ref"].removeprefix("#/types/")]["enum"]
                assert value in [member["value"] for member in enum], name
            else:
                assert isinstance(value, kinds[prop["type"]]), name
                if prop["type"] == "array":
                    assert all(isinstance(item, kinds[prop["items"]["type"]]) for item in value), name


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
    created = re.findall(r"new zappa\.(\w+)\(\"\w+\", \{(.*?)\}\);", source, re.DOTALL)
    assert created
    for component, body in created:
        resource = schema["resources"][f"zappa-vpc:index:{component}"]
        assert set(re.findall(r"^\s+(\w+):", body, re.MULTILINE)) <= set(resource["inputProperties"])
        assert set(re.findall(r"vpc\.(\w+)", source)) <= set(resource["properties"])
