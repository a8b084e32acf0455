"""The pattern components for every Pulumi language: a component provider (`provider/` starts it).

The Python SDK's component provider infers the schema from each component's `__init__(self, name, args,
opts)` annotations: `args` must be a class with annotated fields (our `VpcArgs` is a dataclass with enum-or-
string unions, which it refuses), it is called with a plain dict, and descriptions come only from the
docstrings under each field in the class's source (pulumi/provider/experimental/analyzer.py,
`Analyzer.analyze_property` and `Analyzer.get_docstring`). So the hosted classes are rendered here as
source from `VpcArgs` and CONFIG_SCHEMA (one source of truth: names, types, descriptions and defaults) and
compiled under a name `inspect` can read. Each one subclasses the library's pattern component and builds
it from `VpcArgs(**args)`, so the checks and their messages are the Python path's own.
"""

import enum
import inspect
import json
import linecache
import re
import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import fields
from typing import Any, TypedDict

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyErrorDetails
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from zappa_vpc import __version__
from zappa_vpc.components import network
from zappa_vpc.plan.args import VpcArgs
from zappa_vpc.plan.options import InvalidOptionsError
from zappa_vpc.plan.prices import camel_case as config_key
from zappa_vpc.plan.settings import CONFIG_SCHEMA

PACKAGE = "zappa-vpc"
_SCHEMA = {key.name: key for key in CONFIG_SCHEMA}

# What the pattern components output (VpcNetwork.outputs): name -> (annotation, description).
NETWORK_OUTPUTS: dict[str, tuple[str, str]] = {
    "pattern": ("str", "The pattern built: isolated, single, public-private, hybrid or internal."),
    "vpc_id": ("pulumi.Output[str]", "The VPC's id."),
    "subnet_ids": ("pulumi.Output[dict[str, list[str]]]", "Tier -> the tier's subnet ids, in AZ order."),
    "route_table_ids": (
        "pulumi.Output[dict[str, dict[str, str]]]",
        "Tier -> label (the AZ for private tables, else the tier) -> route table id.",
    ),
    "lambda_security_group_id": ("pulumi.Output[str]", "The Lambda's security group id."),
    "zappa_vpc_config": (
        "pulumi.Output[dict[str, list[str]]]",
        "The Lambda's `vpc_config` for zappa_settings.json (SubnetIds, SecurityGroupIds).",
    ),
    "address_plan": (
        "pulumi.Output[list[dict[str, Any]]]",
        "Every subnet created: tier, availability_zone, cidr, usable_addresses (known before deploy).",
    ),
    "nat_gateway_ids": ("pulumi.Output[dict[str, str]] | None", "AZ -> NAT gateway id, with NAT."),
    "bastion_instance_id": ("pulumi.Output[str] | None", "The bastion's instance id, with a bastion."),
    "vpn_connection_id": ("pulumi.Output[str] | None", "The VPN connection's id, with a VPN."),
    "vpn_tunnel_addresses": ("pulumi.Output[list[str]] | None", "The VPN tunnels' AWS-side addresses."),
    "vpn_preshared_key_secret_arn": (
        "pulumi.Output[str] | None",
        "The Secrets Manager ARN of the VPN tunnels' pre-shared keys.",
    ),
}


_HINTS = typing.get_type_hints(VpcArgs)
# The choices (`NatStrategy | str` fields): the schema's enums.
CHOICES = {
    option.__name__: option
    for hint in _HINTS.values()
    for option in typing.get_args(hint)
    if isinstance(option, type) and issubclass(option, enum.Enum)
}


def _annotation(hint: Any) -> str:
    """A VpcArgs field's type as the host reads it: a choice as its enum, a sequence as a list."""
    options = typing.get_args(hint)
    choice = [o.__name__ for o in options if o.__name__ in CHOICES]
    if choice:
        return choice[0]
    if typing.get_origin(hint) is Sequence:
        return f"list[{options[0].__name__}]"
    return hint.__name__


def _description(field: str) -> str:
    key = _SCHEMA[config_key(field)]
    if key.default in ("", [], ()):
        return key.description
    return f"{key.description} Default: {json.dumps(key.default)}."


def render_source() -> str:
    """The provider-facing args and component classes, as Python source the host can read docstrings from."""
    lines = [
        "class PatternArgs(TypedDict, total=False):",
        '    """A VPC pattern\'s settings: the stack config keys, each optional with the same default."""',
    ]
    for f in fields(VpcArgs):
        lines += [f"    {f.name}: {_annotation(_HINTS[f.name])}", f"    {_description(f.name)!r}"]
    for component in network.PATTERN_COMPONENTS.values():
        name = component.__name__
        doc = inspect.cleandoc(component.__doc__ or name)
        lines += ["", "", f"class {name}(network.{name}):", f"    {doc!r}", '    TYPE_MODULE = "index"']
        for output, (annotation, description) in NETWORK_OUTPUTS.items():
            lines += [f"    {output}: {annotation}", f"    {description!r}"]
        lines += [
            "",
            "    def __init__(",
            "        self, name: str, args: PatternArgs, opts: pulumi.ResourceOptions | None = None",
            "    ):",
            "        super().__init__(name, vpc_args(args), opts)",
            "        publish_outputs(self)",
        ]
    return "\n".join(lines) + "\n"


def vpc_args(args: dict[str, Any]) -> VpcArgs:
    # The host sends integers as floats and keeps the float (pulumi/provider/experimental/component.py,
    # ComponentProvider.map_input_properties); whole ones are integers, anything else is left to the checks.
    integers = {name for name, hint in _HINTS.items() if hint is int}
    return VpcArgs(
        **{
            k: int(v) if k in integers and isinstance(v, float) and v.is_integer() else v
            for k, v in args.items()
        }
    )


def publish_outputs(component: network.VpcNetwork) -> None:
    """Set each output as the attribute the host reads (ComponentProvider.get_state), unless it is one."""
    for name, value in component.outputs.items():
        if not hasattr(type(component), name):
            setattr(component, name, value)


def _compile() -> types.ModuleType:
    module = types.ModuleType(f"{__name__}_types")
    module.__file__ = f"<{PACKAGE} provider types>"
    source = render_source()
    # Registered as linecache does for generated code, so inspect.getsource (the host's docstrings) finds it.
    linecache.cache[module.__file__] = (len(source), None, source.splitlines(True), module.__file__)
    namespace = {
        "TypedDict": TypedDict,
        "Any": Any,
        "pulumi": pulumi,
        "network": network,
        "vpc_args": vpc_args,
        "publish_outputs": publish_outputs,
    }
    module.__dict__.update(namespace | CHOICES)
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


_types = _compile()
COMPONENTS: list[type[network.VpcNetwork]] = [
    getattr(_types, component.__name__) for component in network.PATTERN_COMPONENTS.values()
]


class ZappaVpcProvider(ComponentProvider):
    """The SDK's component provider, answering a settings mistake as the Python path words it: the
    InvalidOptionsError's message as an invalid-inputs error, rather than the host's message plus the
    component's traceback (pulumi/provider/server.py, ProviderServicer.Construct)."""

    def __init__(self) -> None:
        super().__init__(COMPONENTS, PACKAGE, version=__version__)

    def construct(self, name: str, resource_type: str, inputs: Any, options: Any = None) -> Any:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as error:
            if isinstance(error.inner, InvalidOptionsError):
                raise InputPropertiesError(str(error.inner), _property_errors(str(error.inner))) from None
            raise


def _property_errors(message: str) -> list[InputPropertyErrorDetails]:
    """Each problem of the message, on the property it names. The host needs the list: without one its
    status lacks `trailing_metadata` and gRPC fails (pulumi/provider/server.py, create_grpc_invalid_...)."""
    names = {f.name for f in fields(VpcArgs)}
    problems = [line.removeprefix("  - ") for line in message.splitlines()[1:]]
    return [
        {"property_path": config_key(head) if head in names else "", "reason": problem}
        for problem in problems
        for head in [re.split(r"[ :=]", problem, maxsplit=1)[0]]
    ]
