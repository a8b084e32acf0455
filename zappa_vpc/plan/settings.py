"""Stack config -> typed, validated settings, before anything is registered.

Pure Python: `parse_settings` takes config values as the Pulumi CLI hands them to a program (strings,
structured values as JSON). Every problem is collected and reported at once, each naming the config key,
the bad value and what would be valid.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from zappa_vpc.plan.addressing import (
    AddressPlan,
    AddressPlanError,
    TierSpec,
    plan_addresses,
    prefix_for_hosts,
)
from zappa_vpc.plan.options import (
    PATTERN_TRAITS,
    AppBucketOptions,
    BastionAccess,
    BastionOptions,
    DatabaseEngine,
    DatabaseOptions,
    EndpointOptions,
    FlowLogOptions,
    InstanceTypeOffer,
    NatStrategy,
    NetworkOptions,
    Pattern,
    Problem,
    ServiceAccessOptions,
    Tier,
    VpnOptions,
    WorkerOptions,
    bastion_placement,
    one_of,
    worker_architecture,
)

PROJECT = "zappa-vpc"
# `instance_type_offer(type, zones)`: what EC2 says of the bastion's type in `zones`; None if it said nothing.
InstanceTypeLookup = Callable[[str, Sequence[str]], InstanceTypeOffer | None]
AUTO = "auto"
# Each choice setting and every value it accepts (AUTO: the pattern decides); the component provider's enums.
SETTING_CHOICES: dict[str, tuple[str, ...]] = {
    "natStrategy": (AUTO, *(n.value for n in NatStrategy)),
    "bastion": (AUTO, "none", *(a.value for a in BastionAccess)),
    "database": (AUTO, "none", *(e.value for e in DatabaseEngine)),
}
# Stands in for a plan that failed, so the choice checks (which read no addresses) can still run.
_NO_PLAN = AddressPlan(vpc_cidr="", subnets=(), reserved=())

ConfigType = Literal["string", "integer", "boolean", "array"]


@dataclass(frozen=True)
class ConfigKey:
    """One declared config key; Pulumi.yaml declares exactly these (a test holds them equal)."""

    name: str
    type: ConfigType
    default: Any
    description: str
    items: Literal["string", "integer"] = "string"  # an array's item type


CONFIG_SCHEMA: tuple[ConfigKey, ...] = (
    ConfigKey(
        "pattern",
        "string",
        "public-private",
        "VPC design: isolated | single | public-private | hybrid | internal (see README).",
    ),
    ConfigKey(
        "vpcCidr",
        "string",
        "10.0.0.0/16",
        "The VPC's IPv4 range, /16 to /28; must not overlap networks it will be connected to.",
    ),
    ConfigKey(
        "azCount",
        "integer",
        2,
        "How many availability zones to use (at least 2), taken in order from the region's own zones (not"
        " Local or Wavelength Zones).",
    ),
    ConfigKey(
        "availabilityZones",
        "array",
        [],
        "Explicit zone names (e.g. [eu-west-1a, eu-west-1b]); empty to take azCount from the region.",
    ),
    ConfigKey(
        "azSlots",
        "integer",
        4,
        "Address room reserved per tier for this many AZs, so adding an AZ later moves no subnet.",
    ),
    ConfigKey("publicSubnetPrefix", "integer", 24, "Prefix length of each public subnet."),
    ConfigKey(
        "privateSubnetPrefix",
        "integer",
        20,
        "Prefix length of each private (Lambda) subnet; every concurrent Lambda ENI takes an address.",
    ),
    ConfigKey(
        "privateSubnetAddresses",
        "integer",
        0,
        "If set, the usable addresses each Lambda subnet must hold; sizes the private tier instead "
        "of privateSubnetPrefix.",
    ),
    ConfigKey("dataSubnetPrefix", "integer", 24, "Prefix length of each data (database) subnet."),
    ConfigKey(
        "publicSubnetCidrs",
        "array",
        [],
        "Explicit public subnet CIDRs, one per AZ, to adopt an existing layout; empty to plan them.",
    ),
    ConfigKey("privateSubnetCidrs", "array", [], "Explicit private subnet CIDRs, one per AZ; empty to plan."),
    ConfigKey("dataSubnetCidrs", "array", [], "Explicit data subnet CIDRs, one per AZ; empty to plan."),
    ConfigKey(
        "natStrategy",
        "string",
        AUTO,
        "none | single | one-per-az | auto (single where the pattern has private subnets behind a "
        "public tier, else none).",
    ),
    ConfigKey("flowLogs", "boolean", False, "Send VPC flow logs to CloudWatch Logs (turn on in prod)."),
    ConfigKey(
        "flowLogRetentionDays",
        "integer",
        90,
        "Days CloudWatch Logs keeps the flow logs and the database logs.",
    ),
    ConfigKey(
        "bastion",
        "string",
        AUTO,
        "none | ssm | ssh | auto (ssm in public-private and hybrid, else none). ssm opens no inbound port.",
    ),
    ConfigKey(
        "bastionSshAllowlist",
        "array",
        [],
        "CIDRs allowed to SSH to the bastion when bastion is ssh; never 0.0.0.0/0 or ::/0.",
    ),
    ConfigKey(
        "bastionInstanceType",
        "string",
        "t4g.nano",
        "Bastion EC2 instance type; the image follows its architecture, and the bastion goes to the first AZ"
        " that offers it.",
    ),
    ConfigKey(
        "vpnCustomerGatewayIp",
        "string",
        "",
        "Public IPv4 address of your VPN device (hybrid and internal patterns).",
    ),
    ConfigKey(
        "vpnOnPremisesCidrs",
        "array",
        [],
        "Corporate networks reached over the VPN; static routes unless vpnBgpAsn is set.",
    ),
    ConfigKey(
        "vpnBgpAsn", "integer", 0, "Your VPN device's BGP ASN for dynamic routing; 0 for static routes."
    ),
    ConfigKey("vpnAmazonSideAsn", "integer", 64512, "Private ASN of the AWS side of the VPN."),
    ConfigKey(
        "vpnPlaceholderGatewayIp",
        "boolean",
        False,
        "vpnCustomerGatewayIp is a stand-in (the sample stacks' 203.0.113.10): previews work, deployments are"
        " refused.",
    ),
    ConfigKey(
        "database",
        "string",
        AUTO,
        "none | postgres | mysql | auto (postgres where the pattern has a data tier, except "
        "isolated, else none).",
    ),
    ConfigKey(
        "databaseEngineVersion", "string", "", "Engine version; empty for the pinned major (16 / 8.0)."
    ),
    ConfigKey("databaseInstanceClass", "string", "db.t4g.micro", "RDS instance class."),
    ConfigKey("databaseName", "string", "app", "Name of the database Django connects to."),
    ConfigKey("databaseStorageGb", "integer", 20, "Allocated gp3 storage in GiB (20 to 65536)."),
    ConfigKey("databaseMaxStorageGb", "integer", 100, "Storage autoscaling ceiling in GiB."),
    ConfigKey("databaseMultiAz", "boolean", False, "Keep a standby in a second AZ (prod)."),
    ConfigKey("databaseDeletionProtection", "boolean", False, "Refuse to delete the database (prod)."),
    ConfigKey("databaseFinalSnapshot", "boolean", True, "Snapshot the database when it is deleted."),
    ConfigKey("databaseBackupRetentionDays", "integer", 7, "Days of automated backups (1 to 35)."),
    ConfigKey(
        "databaseAdminCidrs",
        "array",
        [],
        "Corporate networks admitted on the database port over the VPN (hybrid, internal), for admins.",
    ),
    ConfigKey(
        "databaseProxy",
        "boolean",
        False,
        "Put RDS Proxy in front of the database so many Lambdas share few connections.",
    ),
    ConfigKey("gatewayEndpoints", "array", ["s3", "dynamodb"], "Gateway endpoints (free): s3, dynamodb."),
    ConfigKey(
        "privateApiCidrs",
        "array",
        [],
        "Corporate networks that call the app through a private API Gateway over the VPN (hybrid, internal).",
    ),
    ConfigKey(
        "interfaceEndpoints",
        "array",
        [],
        "Interface endpoints in every AZ (e.g. sqs, sns, secretsmanager); about 7.3 USD a month per AZ each.",
    ),
    ConfigKey(
        "endpointPolicyAccounts",
        "array",
        [],
        "Other AWS account ids whose principals may use the endpoints and whose resources they may reach;"
        " the stack's own account only by default.",
    ),
    ConfigKey(
        "workers",
        "boolean",
        False,
        "EC2 workers for long-running processes in the Lambda's private subnets, reached by the Lambda only.",
    ),
    ConfigKey(
        "workerInstanceType", "string", "t4g.small", "Workers' EC2 instance type; every AZ must offer it."
    ),
    ConfigKey("workerMinSize", "integer", 1, "Fewest workers the Auto Scaling group keeps running."),
    ConfigKey("workerMaxSize", "integer", 2, "Most workers the Auto Scaling group runs (at least 1)."),
    ConfigKey(
        "workerPorts",
        "array",
        [8080],
        "TCP ports the Lambda reaches the workers on; nothing else reaches them (never 22 or 3389: use SSM).",
        items="integer",
    ),
    ConfigKey("workersReachDatabase", "boolean", False, "The database admits the workers too."),
    ConfigKey(
        "appBucket",
        "boolean",
        False,
        "A private S3 bucket for the app whose data is reached only through the VPC's S3 gateway endpoint.",
    ),
    ConfigKey(
        "appBucketAdminRoleArns",
        "array",
        [],
        "IAM role ARNs that may reach the app bucket's data from outside the VPC (deployers, admins).",
    ),
)
_SCHEMA = {key.name: key for key in CONFIG_SCHEMA}


class SettingsError(Exception):
    """The stack's config has problems; the message lists every one."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid stack configuration:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class Settings:
    """What a stack builds, validated."""

    project: str
    stack: str
    region: str
    network: NetworkOptions
    access: ServiceAccessOptions
    # Every setting as read (config key -> typed value), for the library's args (zappa_vpc/plan/args.py).
    values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def plan(self) -> AddressPlan:
        return self.network.plan


def _show(value: object) -> str:
    # As the stack file writes it: true, not True; lists as [a, b]; an empty string visibly empty.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list | dict) or value == "":
        return json.dumps(value)
    return str(value)


# Option fields and plan subjects that reasons may mention, as the stack file names them.
_REASON_NAMES = {
    "az_slots": f"{PROJECT}:azSlots",
    "az_count": f"{PROJECT}:azCount",
    "vpc_cidr": f"{PROJECT}:vpcCidr",
    "privateApiCidrs": f"{PROJECT}:privateApiCidrs",
    "vpnOnPremisesCidrs": f"{PROJECT}:vpnOnPremisesCidrs",
    "gatewayEndpoints": f"{PROJECT}:gatewayEndpoints",
}
_REASON_WORDS = re.compile(r"(?<![\w:-])(" + "|".join(_REASON_NAMES) + r")\b")


def _for_stack_file(reason: str) -> str:
    """A reason written for the option classes, naming settings as the stack file does."""
    return _REASON_WORDS.sub(lambda match: _REASON_NAMES[match.group(1)], reason)


class _Reader:
    """Typed reads of raw config strings, collecting one message per bad value."""

    def __init__(self, raw: Mapping[str, str | None]) -> None:
        self.raw = raw
        self.messages: list[str] = []
        self._parsed: dict[str, Any] = {}

    def fail(self, key: str, value: object, reason: str) -> None:
        message = f"{PROJECT}:{key} = {_show(value)}: {_for_stack_file(reason)}"
        # A key that feeds two options (flowLogRetentionDays: flow logs and database logs) reports once.
        if message not in self.messages:
            self.messages.append(message)

    def changed(self, *keys: str) -> list[str]:
        """Those of `keys` set to something other than their declared default (the CLI passes defaults, so
        a value equal to the default cannot be told from no value)."""
        return [key for key in keys if self.get(key) != _default(key)]

    def refuse_unused(self, keys: Sequence[str], reason: str) -> None:
        for key in self.changed(*keys):
            self.fail(key, self.get(key), reason)

    def get(self, key: str) -> Any:
        # Parsed once per key: a key read in several places reports its problem once.
        if key not in self._parsed:
            self._parsed[key] = self._parse(key)
        return self._parsed[key]

    def _parse(self, key: str) -> Any:
        spec = _SCHEMA[key]
        text = self.raw.get(key)
        if text is None:
            return _default(key)
        match spec.type:
            case "string":
                return text.strip()
            case "integer":
                try:
                    return int(text)
                except ValueError:
                    self.fail(key, text, "expected a whole number")
            case "boolean":
                if text.lower() in ("true", "false"):
                    return text.lower() == "true"
                self.fail(key, text, "expected true or false")
            case "array":
                try:
                    value = json.loads(text)
                except json.JSONDecodeError:
                    value = None
                if spec.items == "integer":
                    if isinstance(value, list) and all(_whole(item) for item in value):
                        return tuple(value)
                    self.fail(key, text, "expected a list of whole numbers, e.g. [8080] in the stack file")
                elif isinstance(value, list) and all(isinstance(item, str) for item in value):
                    return tuple(item.strip() for item in value)
                else:
                    self.fail(key, text, "expected a list of strings, e.g. [a, b] in the stack file")
        return spec.default if spec.type != "array" else tuple(spec.default)

    def choice(self, key: str, allowed: Sequence[str]) -> str | None:
        value = self.get(key)
        if value in allowed:
            return value
        self.fail(key, value, one_of(allowed))
        return None


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Which config key an options field came from, to name it in messages.
_FIELD_KEYS = {
    "availability_zones": "availabilityZones",
    "nat": "natStrategy",
    "bastion": "bastion",
    "bastion.ssh_allowlist": "bastionSshAllowlist",
    "bastion.instance_type": "bastionInstanceType",
    "vpn": "vpnCustomerGatewayIp",
    "vpn.customer_gateway_ip": "vpnCustomerGatewayIp",
    "vpn.on_premises_cidrs": "vpnOnPremisesCidrs",
    "vpn.bgp_asn": "vpnBgpAsn",
    "vpn.amazon_side_asn": "vpnAmazonSideAsn",
    "vpn.placeholder_gateway_ip": "vpnPlaceholderGatewayIp",
    "flow_logs.retention_days": "flowLogRetentionDays",
    "database.engine": "database",
    "database.engine_version": "databaseEngineVersion",
    "database.admin_cidrs": "databaseAdminCidrs",
    "database.storage_gb": "databaseStorageGb",
    "database.max_storage_gb": "databaseMaxStorageGb",
    "database.backup_retention_days": "databaseBackupRetentionDays",
    "database.log_retention_days": "flowLogRetentionDays",
    "database.instance_class": "databaseInstanceClass",
    "database.database_name": "databaseName",
    "endpoints.gateway": "gatewayEndpoints",
    "endpoints.interface": "interfaceEndpoints",
    "endpoints.private_api_cidrs": "privateApiCidrs",
    "endpoints.policy_accounts": "endpointPolicyAccounts",
    "workers.instance_type": "workerInstanceType",
    "workers.min_size": "workerMinSize",
    "workers.max_size": "workerMaxSize",
    "workers.ports": "workerPorts",
    "workers.reach_database": "workersReachDatabase",
    "app_bucket": "appBucket",
    "app_bucket.admin_role_arns": "appBucketAdminRoleArns",
}
_PLAN_SUBJECT_KEYS = {"vpc_cidr": "vpcCidr", "az_count": "azCount", "az_slots": "azSlots"}
_TIER_PREFIX_KEYS = {
    Tier.PUBLIC: "publicSubnetPrefix",
    Tier.PRIVATE: "privateSubnetPrefix",
    Tier.DATA: "dataSubnetPrefix",
}
_TIER_CIDR_KEYS = {
    Tier.PUBLIC: "publicSubnetCidrs",
    Tier.PRIVATE: "privateSubnetCidrs",
    Tier.DATA: "dataSubnetCidrs",
}


def _config_key(field_path: str) -> str:
    """`vpn.on_premises_cidrs[1]` -> `vpnOnPremisesCidrs[1]`."""
    base, bracket, index = field_path.partition("[")
    return _FIELD_KEYS.get(base, base) + (bracket + index if bracket else "")


def _plan_subject_key(subject: str, sized_by_addresses: bool) -> str:
    if subject.startswith("tier:"):
        tier_name, bracket, index = subject[len("tier:") :].partition("[")
        tier = Tier(tier_name)
        if bracket:
            return f"{_TIER_CIDR_KEYS[tier]}[{index}"
        if tier is Tier.PRIVATE and sized_by_addresses:
            return "privateSubnetAddresses"
        return _TIER_PREFIX_KEYS[tier]
    return _PLAN_SUBJECT_KEYS.get(subject, subject)


def parse_settings(
    raw: Mapping[str, str | None],
    *,
    stack: str,
    region: str | None,
    region_zones: Callable[[], Sequence[str]],
    instance_type_offer: InstanceTypeLookup | None = None,
    deploying: bool = False,
) -> Settings:
    """Validate the stack's config (`raw`: key without namespace -> the CLI's string) into Settings.

    `raw` holds every key of the project's namespace the CLI passed, declared or not (an undeclared one is
    refused with the closest setting as a suggestion). `region_zones` lists the region's available AZs
    (the `aws.get_availability_zones` data source), called once when the region is known.
    `instance_type_offer(type, zones)` says which of `zones` offer the bastion's instance type, and its
    architectures; it is called only when there is a bastion (without it, or when it answers None, the
    bastion goes to the first zone with an arm64 image, right for the default Graviton type).
    `deploying`: an update, not a preview (`pulumi up` after its preview), which some settings refuse.
    Raises SettingsError listing every problem.
    """
    read = _Reader(raw)
    for key in sorted(set(raw) - set(_SCHEMA)):
        read.fail(key, raw[key], _unknown_key_reason(key))
    if not region:
        read.messages.append("aws:region is not set: set it in the stack file, e.g. aws:region: us-east-1")

    pattern_name = read.choice("pattern", [p.value for p in Pattern])
    pattern = Pattern(pattern_name) if pattern_name else Pattern.PUBLIC_PRIVATE
    traits = PATTERN_TRAITS[pattern]

    nat_name = read.choice("natStrategy", SETTING_CHOICES["natStrategy"])
    if nat_name in (None, AUTO):
        nat = NatStrategy.SINGLE if traits.can_use_nat else NatStrategy.NONE
    else:
        nat = NatStrategy(nat_name)

    zones, az_count = _zones(read, region, region_zones)
    plan = _plan(read, traits.tiers, az_count)
    bastion = _bastion(read, traits.can_use_nat, tuple(zones or ()), instance_type_offer)
    vpn = _vpn(read, pattern)
    flow_logs = FlowLogOptions(read.get("flowLogRetentionDays")) if read.get("flowLogs") else None
    if flow_logs is None:
        read.refuse_unused(
            ["flowLogRetentionDays"],
            f"flow logs are off ({PROJECT}:flowLogs: false); set {PROJECT}:flowLogs: true, or remove it",
        )
    access = ServiceAccessOptions(
        database=_database(read, pattern),
        endpoints=EndpointOptions(
            gateway=read.get("gatewayEndpoints"),
            interface=read.get("interfaceEndpoints"),
            private_api_cidrs=read.get("privateApiCidrs"),
            policy_accounts=read.get("endpointPolicyAccounts"),
        ),
        workers=_workers(read, tuple(zones or ()), instance_type_offer),
        app_bucket=_app_bucket(read),
    )

    network = NetworkOptions(
        pattern=pattern,
        plan=plan or _NO_PLAN,
        availability_zones=tuple(zones or ()),
        nat=nat,
        flow_logs=flow_logs,
        bastion=bastion,
        vpn=vpn,
    )
    # Every cross-check depends on the pattern; the address checks also on a plan and the zones.
    if pattern_name is not None:
        problems: list[Problem] = network.choice_problems() + access.choice_problems(network)
        if deploying and vpn is not None:
            problems += [Problem(f"vpn.{p.field}", p.value, p.reason) for p in vpn.deployment_problems()]
        if plan is not None and zones:
            problems += network.address_problems() + access.address_problems(network)
        for problem in problems:
            read.fail(_config_key(problem.field), problem.value, problem.reason)
    values = {key: read.get(key) for key in _SCHEMA}
    if plan is None or read.messages:
        raise SettingsError(read.messages)
    return Settings(
        project=PROJECT, stack=stack, region=region or "", network=network, access=access, values=values
    )


def _default(key: str) -> Any:
    default = _SCHEMA[key].default
    return tuple(default) if isinstance(default, list) else default


def _unknown_key_reason(key: str) -> str:
    # The Pulumi CLI passes undeclared keys to the program without a word (since 3.45), so a typo would
    # silently leave the setting at its default.
    by_case = {name.lower(): name for name in _SCHEMA}
    close = [by_case[key.lower()]] if key.lower() in by_case else difflib.get_close_matches(key, _SCHEMA, n=1)
    if close:
        return f"not a setting of {PROJECT}; did you mean {PROJECT}:{close[0]}?"
    return f"not a setting of {PROJECT}; remove it (Pulumi.yaml lists every setting)"


def _zones(
    read: _Reader, region: str | None, region_zones: Callable[[], Sequence[str]]
) -> tuple[tuple[str, ...], Any]:
    """The zones in use and their count: explicit zones must be the region's and agree with azCount."""
    zones = read.get("availabilityZones")
    az_count = read.get("azCount")
    available = list(region_zones()) if region else None
    if zones:
        if read.changed("azCount") and az_count != len(zones):
            read.fail(
                "azCount",
                az_count,
                f"{PROJECT}:availabilityZones lists {len(zones)} zones; remove azCount (the listed zones "
                "decide the count), or list as many zones",
            )
        # No answer (no region, or mocks that answer nothing) cannot refute a zone: only a list can.
        for index, zone in enumerate(zones if available else ()):
            if zone not in available:
                read.fail(
                    f"availabilityZones[{index}]",
                    zone,
                    f"not an available zone of {region}; use some of: {', '.join(available)}",
                )
        return zones, len(zones)
    if available is None or not isinstance(az_count, int) or az_count < 2:
        return (), az_count
    if az_count > len(available):
        read.fail(
            "azCount",
            az_count,
            f"{region} has {len(available)} available zones ({', '.join(available)}); use at most "
            f"{len(available)}",
        )
    return tuple(available[:az_count]), az_count


def _plan(read: _Reader, tiers: Sequence[Tier], az_count: Any) -> AddressPlan | None:
    """Plan all three tiers, whatever the pattern, so switching pattern later moves no subnet."""
    addresses = read.get("privateSubnetAddresses")
    prefixes = {tier: read.get(key) for tier, key in _TIER_PREFIX_KEYS.items()}
    if read.changed("privateSubnetAddresses"):
        read.refuse_unused(
            ["privateSubnetPrefix"],
            f"{PROJECT}:privateSubnetAddresses sizes the private subnets too; set one of the two",
        )
    if isinstance(addresses, int) and addresses > 0:
        try:
            prefixes[Tier.PRIVATE] = prefix_for_hosts(addresses)
        except AddressPlanError as error:
            for problem in error.problems:
                read.fail("privateSubnetAddresses", addresses, problem.reason)
            return None
    explicit = {tier.value: read.get(key) for tier, key in _TIER_CIDR_KEYS.items() if read.get(key)}
    for tier_name in explicit:
        if Tier(tier_name) not in tiers:
            read.fail(
                _TIER_CIDR_KEYS[Tier(tier_name)],
                list(explicit[tier_name]),
                "this pattern has no such tier; remove the setting",
            )
    if not all(isinstance(value, int) for value in (*prefixes.values(), az_count, read.get("azSlots"))):
        return None
    try:
        return plan_addresses(
            read.get("vpcCidr"),
            [TierSpec(tier.value, prefix) for tier, prefix in prefixes.items()],
            az_count,
            az_slots=read.get("azSlots"),
            explicit=explicit or None,
        )
    except AddressPlanError as error:
        sized_by_addresses = isinstance(addresses, int) and addresses > 0
        for problem in error.problems:
            read.fail(_plan_subject_key(problem.subject, sized_by_addresses), problem.value, problem.reason)
        return None


def _bastion(
    read: _Reader,
    has_private_tiers_behind_public: bool,
    zones: tuple[str, ...],
    instance_type_offer: InstanceTypeLookup | None,
) -> BastionOptions | None:
    mode = read.choice("bastion", SETTING_CHOICES["bastion"])
    if mode == AUTO:
        mode = BastionAccess.SSM.value if has_private_tiers_behind_public else "none"
    allowlist = read.get("bastionSshAllowlist")
    if mode == "none":
        no_bastion = "there is no bastion" + (
            "" if read.changed("bastion") else " in this pattern by default"
        )
        read.refuse_unused(["bastionSshAllowlist"], f"{no_bastion}; set {PROJECT}:bastion: ssh, or remove it")
        read.refuse_unused(["bastionInstanceType"], f"{no_bastion}; set {PROJECT}:bastion: ssm, or remove it")
    if mode in (None, "none"):
        return None
    options = BastionOptions(
        access=BastionAccess(mode), ssh_allowlist=allowlist, instance_type=read.get("bastionInstanceType")
    )
    offer = instance_type_offer(options.instance_type, zones) if zones and instance_type_offer else None
    if offer is None:  # no lookup, or one that answered nothing (mocks answering only the inputs)
        return options
    placement = bastion_placement(options.instance_type, zones, offer)
    if isinstance(placement, Problem):
        read.fail("bastionInstanceType", placement.value, placement.reason)
        return options
    zone, architecture = placement
    return replace(options, availability_zone=zone, architecture=architecture)


def _workers(
    read: _Reader, zones: tuple[str, ...], instance_type_offer: InstanceTypeLookup | None
) -> WorkerOptions | None:
    if not read.get("workers"):
        read.refuse_unused(
            [key.name for key in CONFIG_SCHEMA if key.name.startswith("worker") and key.name != "workers"],
            f"there are no workers ({PROJECT}:workers: false); set {PROJECT}:workers: true, or remove it",
        )
        return None
    options = WorkerOptions(
        instance_type=read.get("workerInstanceType"),
        min_size=read.get("workerMinSize"),
        max_size=read.get("workerMaxSize"),
        ports=read.get("workerPorts"),
        reach_database=read.get("workersReachDatabase"),
    )
    offer = instance_type_offer(options.instance_type, zones) if zones and instance_type_offer else None
    if offer is None:  # as for the bastion: no answer, the default Graviton image
        return options
    architecture = worker_architecture(options.instance_type, zones, offer)
    if isinstance(architecture, Problem):
        read.fail("workerInstanceType", architecture.value, architecture.reason)
        return options
    return replace(options, architecture=architecture)


def _app_bucket(read: _Reader) -> AppBucketOptions | None:
    if not read.get("appBucket"):
        read.refuse_unused(
            ["appBucketAdminRoleArns"],
            f"there is no app bucket ({PROJECT}:appBucket: false); set {PROJECT}:appBucket: true, or "
            "remove it",
        )
        return None
    return AppBucketOptions(admin_role_arns=read.get("appBucketAdminRoleArns"))


def _vpn(read: _Reader, pattern: Pattern) -> VpnOptions | None:
    ip = read.get("vpnCustomerGatewayIp")
    if not PATTERN_TRAITS[pattern].vpn and not ip:
        read.refuse_unused(
            ["vpnOnPremisesCidrs", "vpnBgpAsn", "vpnAmazonSideAsn", "vpnPlaceholderGatewayIp"],
            f"the {pattern.value} pattern has no VPN; remove it, or use the hybrid or internal pattern",
        )
        return None
    bgp_asn = read.get("vpnBgpAsn")
    return VpnOptions(
        customer_gateway_ip=ip,
        on_premises_cidrs=read.get("vpnOnPremisesCidrs"),
        bgp_asn=bgp_asn if isinstance(bgp_asn, int) and bgp_asn != 0 else None,
        amazon_side_asn=read.get("vpnAmazonSideAsn"),
        placeholder_gateway_ip=read.get("vpnPlaceholderGatewayIp"),
    )


def _database(read: _Reader, pattern: Pattern) -> DatabaseOptions | None:
    engine = read.choice("database", SETTING_CHOICES["database"])
    if engine == AUTO:
        wants_database = PATTERN_TRAITS[pattern].has_data_tier and pattern is not Pattern.ISOLATED
        engine = DatabaseEngine.POSTGRES.value if wants_database else "none"
    if engine == "none":
        why = (
            "there is no database"
            if read.changed("database")
            else f"the {pattern.value} pattern has no database by default"
        )
        read.refuse_unused(
            [key.name for key in CONFIG_SCHEMA if key.name.startswith("database") and key.name != "database"],
            f"{why} ({PROJECT}:database: {read.get('database')}); set {PROJECT}:database: postgres or mysql, "
            "or remove it",
        )
    if engine in (None, "none"):
        return None
    return DatabaseOptions(
        engine=DatabaseEngine(engine),
        engine_version=read.get("databaseEngineVersion"),
        instance_class=read.get("databaseInstanceClass"),
        database_name=read.get("databaseName"),
        storage_gb=read.get("databaseStorageGb"),
        max_storage_gb=read.get("databaseMaxStorageGb"),
        multi_az=read.get("databaseMultiAz"),
        deletion_protection=read.get("databaseDeletionProtection"),
        final_snapshot=read.get("databaseFinalSnapshot"),
        backup_retention_days=read.get("databaseBackupRetentionDays"),
        proxy=read.get("databaseProxy"),
        # One retention for every log the stack keeps.
        log_retention_days=read.get("flowLogRetentionDays"),
        admin_cidrs=read.get("databaseAdminCidrs"),
    )
