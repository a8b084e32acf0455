"""Typed args for programs that use the components directly: the stack's settings as dataclass fields.

Pure Python (no Pulumi import). Each field is the stack config key of the same name in snake_case
(`natStrategy` -> `nat_strategy`) with the same default, taken from CONFIG_SCHEMA (which a test holds equal
to Pulumi.yaml), and the same checks: args are validated by `parse_settings` itself, so a mistake is refused
with the message the stack config gives, naming the field instead of the config key. Choices accept the
enum or its string value (`NatStrategy.ONE_PER_AZ` or `"one-per-az"`). There is no list of tiers to get in
the wrong order: each tier has its own fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from zappa_vpc.plan.options import (
    BastionAccess,
    DatabaseEngine,
    InvalidOptionsError,
    NatStrategy,
    NetworkOptions,
    Pattern,
    ServiceAccessOptions,
)
from zappa_vpc.plan.prices import camel_case as config_key
from zappa_vpc.plan.settings import (
    CONFIG_SCHEMA,
    PROJECT,
    InstanceTypeLookup,
    Settings,
    SettingsError,
    parse_settings,
)

_SCHEMA = {key.name: key for key in CONFIG_SCHEMA}


def _default(key: str) -> Any:
    default = _SCHEMA[key].default
    return tuple(default) if isinstance(default, list) else default


def field_name(config_key: str) -> str:
    """`natStrategy` -> `nat_strategy`."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", config_key).lower()


def _config_string(value: object) -> str:
    # As the Pulumi CLI hands config to a program: strings as they are, lists as JSON.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return json.dumps([str(item) if isinstance(item, str) else item for item in value])
    return str(value)


class _ConfigArgs:
    """Args whose fields mirror stack config keys; documented from the schema (the Pulumi.yaml text)."""

    def config(self) -> dict[str, str]:
        """The args as stack config: key -> the string the CLI would pass."""
        return {key: _config_string(getattr(self, name)) for name, key in self._keys().items()}

    @classmethod
    def _keys(cls) -> dict[str, str]:
        """Field -> config key, for the fields that are settings (not `network` or `region`)."""
        keys = {f.name: config_key(f.name) for f in fields(cls)}  # type: ignore[arg-type]
        return {name: key for name, key in keys.items() if key in _SCHEMA}

    @classmethod
    def _from_values(cls, values: Mapping[str, Any], **overrides: Any) -> Any:
        own = {name: values[key] for name, key in cls._keys().items()}
        return cls(**(own | overrides))


def _document(cls: type, summary: str) -> type:
    """Write each field's default and meaning (the Pulumi.yaml description) into the class docstring."""
    lines = [summary, "", "Fields (the stack config key in snake_case; default, then meaning):"]
    for f in fields(cls):
        key = config_key(f.name)
        if key in _SCHEMA:
            lines.append(f"    {f.name} = {_default(key)!r}: {_SCHEMA[key].description}")
    cls.__doc__ = "\n".join(lines)
    return cls


@dataclass(frozen=True, kw_only=True)
class VpcArgs(_ConfigArgs):
    vpc_cidr: str = _default("vpcCidr")
    az_count: int = _default("azCount")
    availability_zones: Sequence[str] = _default("availabilityZones")
    az_slots: int = _default("azSlots")
    public_subnet_prefix: int = _default("publicSubnetPrefix")
    private_subnet_prefix: int = _default("privateSubnetPrefix")
    private_subnet_addresses: int = _default("privateSubnetAddresses")
    data_subnet_prefix: int = _default("dataSubnetPrefix")
    public_subnet_cidrs: Sequence[str] = _default("publicSubnetCidrs")
    private_subnet_cidrs: Sequence[str] = _default("privateSubnetCidrs")
    data_subnet_cidrs: Sequence[str] = _default("dataSubnetCidrs")
    nat_strategy: NatStrategy | str = _default("natStrategy")  # noqa: RUF009 - a string, immutable
    flow_logs: bool = _default("flowLogs")
    flow_log_retention_days: int = _default("flowLogRetentionDays")
    bastion: BastionAccess | str = _default("bastion")  # noqa: RUF009 - a string, immutable
    bastion_ssh_allowlist: Sequence[str] = _default("bastionSshAllowlist")
    bastion_instance_type: str = _default("bastionInstanceType")
    vpn_customer_gateway_ip: str = _default("vpnCustomerGatewayIp")
    vpn_on_premises_cidrs: Sequence[str] = _default("vpnOnPremisesCidrs")
    vpn_bgp_asn: int = _default("vpnBgpAsn")
    vpn_amazon_side_asn: int = _default("vpnAmazonSideAsn")
    vpn_placeholder_gateway_ip: bool = _default("vpnPlaceholderGatewayIp")

    @classmethod
    def from_settings(cls, settings: Settings) -> VpcArgs:
        """The network half of parsed stack settings, with the zones they resolved."""
        return cls._from_values(settings.values, availability_zones=settings.network.availability_zones)


_document(VpcArgs, "What a VPC pattern component builds; the pattern is the component's class.")


@dataclass(frozen=True, kw_only=True)
class AccessArgs(_ConfigArgs):
    database: DatabaseEngine | str = _default("database")  # noqa: RUF009 - a string, immutable
    database_engine_version: str = _default("databaseEngineVersion")
    database_instance_class: str = _default("databaseInstanceClass")
    database_name: str = _default("databaseName")
    database_storage_gb: int = _default("databaseStorageGb")
    database_max_storage_gb: int = _default("databaseMaxStorageGb")
    database_multi_az: bool = _default("databaseMultiAz")
    database_deletion_protection: bool = _default("databaseDeletionProtection")
    database_final_snapshot: bool = _default("databaseFinalSnapshot")
    database_backup_retention_days: int = _default("databaseBackupRetentionDays")
    database_admin_cidrs: Sequence[str] = _default("databaseAdminCidrs")
    database_proxy: bool = _default("databaseProxy")
    gateway_endpoints: Sequence[str] = _default("gatewayEndpoints")
    private_api_cidrs: Sequence[str] = _default("privateApiCidrs")
    interface_endpoints: Sequence[str] = _default("interfaceEndpoints")
    endpoint_policy_accounts: Sequence[str] = _default("endpointPolicyAccounts")
    workers: bool = _default("workers")
    worker_instance_type: str = _default("workerInstanceType")
    worker_min_size: int = _default("workerMinSize")
    worker_max_size: int = _default("workerMaxSize")
    worker_ports: Sequence[int] = _default("workerPorts")
    workers_reach_database: bool = _default("workersReachDatabase")
    app_bucket: bool = _default("appBucket")
    app_bucket_admin_role_arns: Sequence[str] = _default("appBucketAdminRoleArns")


_document(
    AccessArgs, "What the Lambda reaches privately on a network: the database, AWS endpoints and workers."
)

# Every config key but the pattern is a field of exactly one of the two args (a test holds this).
NETWORK_KEYS = tuple(VpcArgs._keys().values())
ACCESS_KEYS = tuple(AccessArgs._keys().values())
# Zone names, when the args give none, are not looked up again once the network resolved them.
_NO_ZONES_NEEDED: Callable[[], Sequence[str]] = tuple


def _validated(
    component: str,
    raw: Mapping[str, str],
    region: str | None,
    region_zones: Callable[[], Sequence[str]],
    instance_type_offer: InstanceTypeLookup | None = None,
    deploying: bool = False,
) -> Settings:
    try:
        return parse_settings(
            raw,
            stack=component,
            region=region,
            region_zones=region_zones,
            instance_type_offer=instance_type_offer,
            deploying=deploying,
        )
    except SettingsError as error:
        # The stack's own messages, naming the field as the program wrote it.
        lines = [
            re.sub(rf"^{PROJECT}:([A-Za-z]+)", lambda m: field_name(m.group(1)), problem)
            for problem in error.problems
        ]
        raise InvalidOptionsError.listing(component, lines, "args") from None


def network_options(
    component: str,
    pattern: Pattern,
    args: VpcArgs,
    region_zones: Callable[[], Sequence[str]],
    instance_type_offer: InstanceTypeLookup | None = None,
    deploying: bool = False,
) -> NetworkOptions:
    """The validated network of `args` in `pattern`, or InvalidOptionsError listing every problem.

    `region_zones` lists the region's available zones; `instance_type_offer` where the bastion's type is
    offered; `deploying`: an update, not a preview (as for `parse_settings`).
    """
    raw = {"pattern": pattern.value, **args.config(), "database": "none"}
    return _validated(component, raw, "the region", region_zones, instance_type_offer, deploying).network


def stack_settings(
    component: str,
    pattern: Pattern,
    network_args: VpcArgs,
    args: AccessArgs,
    region: str | None,
    region_zones: Callable[[], Sequence[str]],
    instance_type_offer: InstanceTypeLookup | None = None,
    deploying: bool = False,
) -> Settings:
    """A whole stack's settings (the network of `network_args` in `pattern` and the access of `args` on
    it), validated together as the stack program validates its config: InvalidOptionsError lists every
    problem of both halves, before anything registers. `region`: the stack's `aws:region`."""
    raw = {"pattern": pattern.value, **network_args.config(), **args.config()}
    return _validated(component, raw, region, region_zones, instance_type_offer, deploying)


def access_options(
    component: str,
    pattern: Pattern,
    zones: Sequence[str],
    network_args: VpcArgs,
    args: AccessArgs,
    instance_type_offer: InstanceTypeLookup | None = None,
) -> ServiceAccessOptions:
    """The validated access of `args` on the network of `network_args` in `zones`, checked against it;
    `instance_type_offer` says where the workers' type is offered and its architectures."""
    raw = {
        "pattern": pattern.value,
        **network_args.config(),
        "availabilityZones": _config_string(zones),
        **args.config(),
    }
    return _validated(component, raw, "the region", _NO_ZONES_NEEDED, instance_type_offer).access
