"""The pattern components and ServiceAccess for every Pulumi language: a component provider (`provider/`
starts it).

The Python SDK's component provider infers the schema from each component's `__init__(self, name, args,
opts)` annotations: `args` must be a class with annotated fields (our `VpcArgs` is a dataclass with enum-or-
string unions, which it refuses), it is called with a plain dict, and descriptions come only from the
docstrings under each field in the class's source (pulumi/provider/experimental/analyzer.py,
`Analyzer.analyze_property` and `Analyzer.get_docstring`). So the hosted classes are rendered here as
source from `VpcArgs`, `AccessArgs`, `ExistingNetworkArgs` and CONFIG_SCHEMA (one source of truth: names,
types, descriptions and defaults) and compiled under a name `inspect` can read.

A hosted pattern is the whole stack program: it takes every setting, checks them all together as the stack
checks its config (`stack_settings`, parse_settings's checks) before anything registers, builds the
library's pattern from them and, on itself, its ServiceAccess. The host cannot type an input as "one of our
components" (no unions; resource references only to other packages' resources: analyzer.py,
`Analyzer.analyze_property` and `get_package_name`), so the hosted ServiceAccess takes an existing VPC's
ids only, as an object type. Both build the library's own classes, so the checks and their messages are
the Python path's.
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
from dataclasses import MISSING, fields
from typing import Any, Required, TypedDict

import pulumi
from pulumi.errors import InputPropertiesError, InputPropertyErrorDetails
from pulumi.provider.experimental.analyzer import PropertyDefinition, TypeDefinition
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.server import ComponentInitError

from zappa_vpc import __version__
from zappa_vpc.components import network, service_access
from zappa_vpc.components.existing_network import ExistingNetworkArgs
from zappa_vpc.components.lookups import available_zones, instance_type_offer
from zappa_vpc.plan.args import AccessArgs, VpcArgs, stack_settings
from zappa_vpc.plan.options import InvalidOptionsError
from zappa_vpc.plan.prices import camel_case as config_key
from zappa_vpc.plan.settings import AUTO, CONFIG_SCHEMA, SETTING_CHOICES, Settings

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


# What ServiceAccess outputs (ServiceAccess.outputs): name -> (annotation, description).
ACCESS_OUTPUTS: dict[str, tuple[str, str]] = {
    "gateway_endpoint_ids": (
        "pulumi.Output[dict[str, str]]",
        "Service -> gateway endpoint id (s3, dynamodb).",
    ),
    "interface_endpoint_ids": ("pulumi.Output[dict[str, str]]", "Service -> interface endpoint id."),
    "workers_security_group_id": (
        "pulumi.Output[str] | None",
        "The workers' security group id, with workers.",
    ),
    "workers_auto_scaling_group_name": (
        "pulumi.Output[str] | None",
        "The workers' Auto Scaling group name, with workers.",
    ),
    "private_api_endpoint_id": (
        "pulumi.Output[str] | None",
        "The execute-api interface endpoint id, with a private API.",
    ),
    "private_api_hostname": ("pulumi.Output[str] | None", "The private API endpoint's own hostname."),
    "zappa_apigateway_policy": (
        "pulumi.Output[dict[str, Any]] | None",
        "The private API's resource policy, for Zappa's `apigateway_policy` file.",
    ),
    "database_host": ("pulumi.Output[str] | None", "The database's host (the proxy's, with a proxy)."),
    "database_port": ("pulumi.Output[int] | None", "The database's port."),
    "database_secret_arn": (
        "pulumi.Output[str] | None",
        "The Secrets Manager ARN of the database's master credentials (managed by RDS).",
    ),
    "zappa_environment": (
        "pulumi.Output[dict[str, str]] | None",
        "The Lambda's environment for the database and the app bucket.",
    ),
    "database_tunnel_command": (
        "pulumi.Output[str] | None",
        "The command that opens a tunnel to the database through the bastion.",
    ),
    "database_client_command": ("pulumi.Output[str] | None", "The command that connects a database client."),
    "app_bucket_name": ("pulumi.Output[str] | None", "The app bucket's name, with an app bucket."),
    "app_bucket_arn": ("pulumi.Output[str] | None", "The app bucket's ARN."),
    "app_bucket_vpce_id": ("pulumi.Output[str] | None", "The S3 gateway endpoint the bucket admits."),
    "zappa_settings": (
        "pulumi.Output[dict[str, Any]]",
        "The keys of a Zappa stage this stack decides (`python -m zappa_vpc.zappa_settings` merges them).",
    ),
}
# What ServiceAccess outputs of the network it builds on an existing VPC's ids (ExistingNetwork.outputs).
EXISTING_NETWORK_OUTPUTS = {
    name: NETWORK_OUTPUTS[name] for name in ("vpc_id", "lambda_security_group_id", "zappa_vpc_config")
}

_HINTS = {**typing.get_type_hints(VpcArgs), **typing.get_type_hints(AccessArgs)}


def _choice(hint: Any) -> type[enum.Enum] | None:
    """The enum of a choice field (`NatStrategy | str`), else None."""
    options = [o for o in typing.get_args(hint) if isinstance(o, type) and issubclass(o, enum.Enum)]
    return options[0] if options else None


_CHOICE_FIELDS = {name: choice for name, hint in _HINTS.items() if (choice := _choice(hint)) is not None}
# The choices by the library's enum's name: the schema's enums; and the config key each is the value of.
CHOICES = {choice.__name__: choice for choice in _CHOICE_FIELDS.values()}
_CHOICE_KEYS = {choice.__name__: config_key(name) for name, choice in _CHOICE_FIELDS.items()}


def _annotation(hint: Any) -> str:
    """A settings field's type as the host reads it: a choice as its enum, a sequence as a list."""
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


def _settings_lines(args: type) -> list[str]:
    """One annotated, documented line pair per settings field of `args` (VpcArgs, AccessArgs)."""
    lines = []
    for f in fields(args):
        lines += [f"    {f.name}: {_annotation(_HINTS[f.name])}", f"    {_description(f.name)!r}"]
    return lines


def _enum_lines(name: str, choice: type[enum.Enum]) -> list[str]:
    """A choice as the schema's enum: every value its setting accepts but `auto` (omit the input for it),
    so `none` is there where the setting takes it (bastion, database) though the library's enum lacks it."""
    accepted = SETTING_CHOICES.get(_CHOICE_KEYS[name], tuple(str(m.value) for m in choice))
    lines = ["", "", f"class {name}(enum.StrEnum):", f"    {inspect.cleandoc(choice.__doc__ or name)!r}"]
    return lines + [
        f"    {value.upper().replace('-', '_')} = {value!r}" for value in accepted if value != AUTO
    ]


def _field_docs(cls: type) -> dict[str, str]:
    """`name: text` paragraphs of a dataclass docstring (ExistingNetworkArgs documents its fields so)."""
    names = {f.name for f in fields(cls)}
    docs: dict[str, str] = {}
    current = None
    for line in inspect.cleandoc(cls.__doc__ or "").splitlines():
        head = re.match(r"(\w+): (.*)", line)
        if head and head.group(1) in names:
            current = head.group(1)
            docs[current] = head.group(2)[:1].upper() + head.group(2)[1:]
        elif current and line.startswith(" "):
            docs[current] += " " + line.strip()
        else:
            current = None
    return docs


def _network_lines() -> list[str]:
    """ExistingNetworkArgs as the schema's object type `ExistingNetwork`: ids may be outputs (a
    StackReference's), the lists and the map themselves are plain so the checks can count them."""
    docs = _field_docs(ExistingNetworkArgs)
    summary = inspect.cleandoc(ExistingNetworkArgs.__doc__ or "").splitlines()[0]
    lines = ["", "", "class ExistingNetwork(TypedDict, total=False):", f"    {summary!r}"]
    for f in fields(ExistingNetworkArgs):
        # The declared annotation's text (Sequence -> list, Mapping -> dict, as the host reads them).
        annotation = str(f.type).replace("Sequence[", "list[").replace("Mapping[", "dict[")
        required = f.default is MISSING and f.default_factory is MISSING
        lines += [
            f"    {f.name}: {f'Required[{annotation}]' if required else annotation}",
            f"    {docs[f.name]!r}",
        ]
    return lines


def _outputs_lines(outputs: dict[str, tuple[str, str]]) -> list[str]:
    lines = []
    for output, (annotation, description) in outputs.items():
        lines += [f"    {output}: {annotation}", f"    {description!r}"]
    return lines


def render_source() -> str:
    """The provider-facing args and component classes, as Python source the host can read docstrings from."""
    lines = ["import enum"]
    for name, choice in CHOICES.items():
        lines += _enum_lines(name, choice)
    lines += [
        "",
        "",
        "class PatternArgs(TypedDict, total=False):",
        '    """A VPC pattern\'s settings: the stack config keys, each optional with the same default."""',
        *_settings_lines(VpcArgs),
        *_settings_lines(AccessArgs),
    ]
    lines += _network_lines()
    lines += [
        "",
        "",
        "class ServiceAccessArgs(TypedDict, total=False):",
        '    """ServiceAccess on an existing VPC\'s ids: the access settings of the stack config."""',
        "    network: Required[ExistingNetwork]",
        "    'The existing VPC, by ids.'",
        "    region: str",
        "    \"The AWS region, for the endpoints' service names. Default: the stack's aws:region.\"",
        *_settings_lines(AccessArgs),
    ]
    for component in network.PATTERN_COMPONENTS.values():
        name = component.__name__
        doc = inspect.cleandoc(component.__doc__ or name) + ACCESS_NOTE
        lines += ["", "", f"class {name}(network.{name}):", f"    {doc!r}", '    TYPE_MODULE = "index"']
        lines += _outputs_lines(NETWORK_OUTPUTS | ACCESS_OUTPUTS)
        lines += [
            "",
            "    def __init__(",
            "        self, name: str, args: PatternArgs, opts: pulumi.ResourceOptions | None = None",
            "    ):",
            "        self.settings = stack_settings_of(type(self), args)",
            "        super().__init__(name, VpcArgs.from_settings(self.settings), opts)",
            "",
            "    def _complete(self, name: str) -> None:",
            "        add_access(self, name)",
            "        super()._complete(name)",
        ]
    doc = inspect.cleandoc(service_access.ServiceAccess.__doc__ or "ServiceAccess")
    lines += ["", "", "class ServiceAccess(service_access.ServiceAccess):", f"    {doc + ON_IDS_NOTE!r}"]
    lines += ['    TYPE_MODULE = "index"', *_outputs_lines(EXISTING_NETWORK_OUTPUTS | ACCESS_OUTPUTS)]
    lines += [
        "",
        "    def __init__(",
        "        self, name: str, args: ServiceAccessArgs, opts: pulumi.ResourceOptions | None = None",
        "    ):",
        "        super().__init__(name, service_access_args(args), opts)",
        "        publish_outputs(self)",
    ]
    return "\n".join(lines) + "\n"


ACCESS_NOTE = (
    "\n\nWith the access settings (database, endpoints, workers, app bucket) it also builds its "
    "ServiceAccess, `<name>-access`, as the stack program does: one component is the whole stack, every "
    "setting checked together before anything registers."
)
ON_IDS_NOTE = (
    "\n\nHere on an existing VPC's ids (`network`); it builds the network's Lambda security group as its "
    "child `<name>-network`. On one of our patterns, set the access settings on the pattern component."
)


def _holds_output(value: Any) -> bool:
    if isinstance(value, pulumi.Output):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    return isinstance(value, list) and any(_holds_output(item) for item in value)


def _plain(component: str, args: dict[str, Any]) -> dict[str, Any]:
    """The settings as plain values. Another resource's output (an ARN, an account id) is refused: every
    setting is checked before anything registers, and an output has no value then. (The network's ids may
    be outputs: they are only wired, and check_network says what it could not check.)"""
    outputs = [name for name, value in args.items() if name != "network" and _holds_output(value)]
    if outputs:
        raise InvalidOptionsError.listing(
            component,
            [
                f"{name} = 'an output': settings are checked before anything registers, so they must be "
                "plain values; give the value itself (from config or a literal), not another resource's "
                "output"
                for name in outputs
            ],
            "args",
        )

    # The host sends integers as floats and keeps the float (pulumi/provider/experimental/component.py,
    # ComponentProvider.map_input_properties assigns the int, then the float over it); whole ones are
    # integers, in lists too (workerPorts), anything else is left to the checks.
    def whole(value: Any, hint: Any) -> Any:
        if hint is int and isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, list) and typing.get_args(hint):
            return [whole(item, typing.get_args(hint)[0]) for item in value]
        return value

    return {k: whole(v, _HINTS.get(k)) for k, v in args.items()}


def _split(component: str, args: dict[str, Any]) -> tuple[VpcArgs, AccessArgs]:
    plain = _plain(component, args)
    network_names = {f.name for f in fields(VpcArgs)}
    return (
        VpcArgs(**{k: v for k, v in plain.items() if k in network_names}),
        AccessArgs(**{k: v for k, v in plain.items() if k not in network_names}),
    )


def _stack_region() -> str | None:
    """The stack's `aws:region`, read as the program reads it: the host sets the Construct request's config,
    the stack's whole config (pkg/resource/deploy/source_eval.go, ConstructInfo), as the program's
    (pulumi/provider/server.py, ProviderServicer._construct)."""
    return pulumi.Config("aws").get("region")


def stack_settings_of(component: type[network.VpcNetwork], args: dict[str, Any]) -> Settings:
    """A hosted pattern's settings, network and access, checked together as the stack program checks its
    config (parse_settings), before anything registers, in the stack's region."""
    network_args, access_args = _split(component.__name__, args)
    return stack_settings(
        component.__name__,
        component.PATTERN,
        network_args,
        access_args,
        _stack_region(),
        available_zones,
        instance_type_offer,
        deploying=not pulumi.runtime.is_dry_run(),
    )


def add_access(component: network.VpcNetwork, name: str) -> None:
    """A hosted pattern's ServiceAccess, on itself as the stack program builds it on its network (always:
    the defaults already ask for the gateway endpoints), and its outputs beside the network's."""
    settings: Settings = component.settings  # type: ignore[attr-defined]
    access = service_access.ServiceAccess(
        f"{name}-access",
        service_access.ServiceAccessArgs.from_settings(settings, component),
        pulumi.ResourceOptions(parent=component),
    )
    component.access = access  # type: ignore[attr-defined]
    component.outputs |= access.outputs
    publish_outputs(component)


def service_access_args(args: dict[str, Any]) -> service_access.ServiceAccessArgs:
    """A hosted ServiceAccess's args: the existing network's ids, the region (the stack's by default) and
    the access settings."""
    plain = _plain("ServiceAccess", args)
    ids = dict(plain.pop("network"))
    region = plain.pop("region", None) or _stack_region() or ""
    return service_access.ServiceAccessArgs(network=ExistingNetworkArgs(**ids), region=region, **plain)


def publish_outputs(component: pulumi.ComponentResource) -> None:
    """Set each output as the attribute the host reads (ComponentProvider.get_state), unless it is one."""
    for name, value in component.outputs.items():  # type: ignore[attr-defined]
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
        "Required": Required,
        "Any": Any,
        "pulumi": pulumi,
        "network": network,
        "service_access": service_access,
        "VpcArgs": VpcArgs,
        "stack_settings_of": stack_settings_of,
        "add_access": add_access,
        "service_access_args": service_access_args,
        "publish_outputs": publish_outputs,
    }
    module.__dict__.update(namespace)
    sys.modules[module.__name__] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


_types = _compile()
COMPONENTS: list[type[pulumi.ComponentResource]] = [
    *(getattr(_types, component.__name__) for component in network.PATTERN_COMPONENTS.values()),
    _types.ServiceAccess,
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
                header = str(error.inner).splitlines()[0]
                problems = [_as_written(problem) for problem in error.inner.problems]
                details: list[InputPropertyErrorDetails] = [
                    {"property_path": path, "reason": problem} for problem, path in problems
                ]
                message = "\n".join([header, *(f"  - {problem}" for problem, _ in problems)])
                raise InputPropertiesError(message, details) from None
            raise

    def get_type_definition(self, prop: PropertyDefinition) -> TypeDefinition | None:
        """No type definition for our enums: a choice reaches the component as the string sent, and the
        settings refuse a wrong one with the stack's message. The host would refuse it first, in its own
        words, naming no valid value (ComponentProvider.map_input_properties, `enum_type(input_val)`); our
        enums are never outputs, the other caller of this (ComponentProvider.get_state)."""
        type_def = super().get_type_definition(prop)
        return None if type_def is not None and type_def.enum else type_def


# ExistingNetworkArgs's fields are inside the hosted ServiceAccess's `network` input.
_NETWORK_FIELDS = {f.name for f in fields(ExistingNetworkArgs)}
_SETTINGS_FIELDS = {f.name for f in (*fields(VpcArgs), *fields(AccessArgs))} | {"region"}


def _as_written(problem: str) -> tuple[str, str]:
    """A problem line of the Python path with the setting it names as the program wrote it, the schema's
    property (`database_subnet_ids[1] = ...` -> `network.databaseSubnetIds[1] = ...`), and that property's
    path. Each problem goes on its property because the host needs the list: without one its status lacks
    `trailing_metadata` and gRPC fails (pulumi/provider/server.py, create_grpc_invalid_properties_status)."""
    head = re.match(r"(\w+)(\[\d+\])?(?= =)", problem)
    if head is None:
        return problem, ""
    name, index = head.group(1), head.group(2) or ""
    if name in _NETWORK_FIELDS:
        path = f"network.{config_key(name)}{index}"
    elif name in _SETTINGS_FIELDS:
        path = f"{config_key(name)}{index}"
    else:
        return problem, ""
    return path + problem[head.end() :], path
