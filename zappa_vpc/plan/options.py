"""Typed options for every component, with the checks that keep bad input from registering anything.

Pure Python (no Pulumi import): the stack settings build these objects from config, and each component
runs the same `problems()` before it registers a child, so a program that uses our components directly
gets the same protection as our stacks.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum

from zappa_vpc.plan.addressing import AddressPlan


class Pattern(StrEnum):
    """The VPC designs we ship; README has a table of when to pick which."""

    ISOLATED = "isolated"
    SINGLE = "single"
    PUBLIC_PRIVATE = "public-private"
    HYBRID = "hybrid"
    INTERNAL = "internal"


class NatStrategy(StrEnum):
    """How private subnets reach the Internet: not at all, through one NAT, or through a NAT per AZ."""

    NONE = "none"
    SINGLE = "single"
    ONE_PER_AZ = "one-per-az"


class BastionAccess(StrEnum):
    """SSM Session Manager needs no inbound rule at all; SSH opens port 22 to an explicit allowlist."""

    SSM = "ssm"
    SSH = "ssh"


class Tier(StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"
    DATA = "data"


@dataclass(frozen=True)
class PatternTraits:
    """What a pattern builds, so every rule about patterns reads one table."""

    tiers: tuple[Tier, ...]
    internet_gateway: bool
    vpn: bool
    lambda_tier: Tier
    description: str

    @property
    def has_public_tier(self) -> bool:
        return Tier.PUBLIC in self.tiers

    @property
    def has_data_tier(self) -> bool:
        return Tier.DATA in self.tiers

    @property
    def can_use_nat(self) -> bool:
        # A NAT lives in a public subnet and serves private ones.
        return self.has_public_tier and Tier.PRIVATE in self.tiers


PATTERN_TRAITS: dict[Pattern, PatternTraits] = {
    Pattern.ISOLATED: PatternTraits(
        (Tier.PRIVATE, Tier.DATA),
        internet_gateway=False,
        vpn=False,
        lambda_tier=Tier.PRIVATE,
        description="private subnets only, no route out; AWS services through VPC endpoints",
    ),
    Pattern.SINGLE: PatternTraits(
        (Tier.PUBLIC,),
        internet_gateway=True,
        vpn=False,
        lambda_tier=Tier.PUBLIC,
        description="one Internet-accessible tier, no NAT",
    ),
    Pattern.PUBLIC_PRIVATE: PatternTraits(
        (Tier.PUBLIC, Tier.PRIVATE, Tier.DATA),
        internet_gateway=True,
        vpn=False,
        lambda_tier=Tier.PRIVATE,
        description="public tier with Internet gateway and bastion, private tiers behind NAT",
    ),
    Pattern.HYBRID: PatternTraits(
        (Tier.PUBLIC, Tier.PRIVATE, Tier.DATA),
        internet_gateway=True,
        vpn=True,
        lambda_tier=Tier.PRIVATE,
        description="public-private plus a site-to-site VPN to the corporate network",
    ),
    Pattern.INTERNAL: PatternTraits(
        (Tier.PRIVATE, Tier.DATA),
        internet_gateway=False,
        vpn=True,
        lambda_tier=Tier.PRIVATE,
        description="private tiers only, reached from the corporate network over the VPN",
    ),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which field, the value given, what is wrong and what would do."""

    field: str
    value: object
    reason: str


def one_of(allowed: Sequence[str]) -> str:
    """The reason given for a choice outside `allowed`, by the stack config and the options alike."""
    return f"use one of: {', '.join(allowed)}"


def _accept_string(options: object, field_name: str, enum: type[StrEnum]) -> None:
    """Let a choice be given as its string value (`"ssh"` for BastionAccess.SSH); a string that is no value
    is kept, for `_choice_problems` to refuse."""
    value = getattr(options, field_name)
    if isinstance(value, str) and not isinstance(value, enum) and value in enum._value2member_map_:
        object.__setattr__(options, field_name, enum(value))


def _choice_problems(options: object, choices: dict[str, type[StrEnum]]) -> list[Problem]:
    return [
        Problem(name, getattr(options, name), one_of([member.value for member in enum]))
        for name, enum in choices.items()
        if not isinstance(getattr(options, name), enum)
    ]


def _network_problems(field_name: str, values: tuple[str, ...], what: str) -> list[Problem]:
    problems = []
    for index, value in enumerate(values):
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError as error:
            problems.append(Problem(f"{field_name}[{index}]", value, f"not a valid {what} CIDR ({error})"))
    return problems


@dataclass(frozen=True)
class BastionOptions:
    """A small instance in the public tier for admin access to private resources.

    access: `ssm` (default) gives shell and port forwarding through SSM Session Manager with no inbound
        rule at all; `ssh` opens port 22 to `ssh_allowlist` only.
    ssh_allowlist: CIDRs allowed to reach port 22 when access is `ssh`; never the whole Internet.
    instance_type: t4g.nano by default: admin tunnels need little, and Graviton is the cheapest.
    architecture: the image's, `arm64` or `x86_64`; must be one the instance type supports (t4g.nano:
        arm64). `bastion_placement` takes it from the instance type (EC2 DescribeInstanceTypes).
    availability_zone: one of the network's zones that offers the instance type; None for the first.
    """

    access: BastionAccess = BastionAccess.SSM
    ssh_allowlist: tuple[str, ...] = ()
    instance_type: str = "t4g.nano"
    architecture: str = "arm64"
    availability_zone: str | None = None

    def __post_init__(self) -> None:
        _accept_string(self, "access", BastionAccess)

    def problems(self) -> list[Problem]:
        if choice := _choice_problems(self, {"access": BastionAccess}):
            return choice
        problems = _client_network_problems(
            "ssh_allowlist",
            self.ssh_allowlist,
            "opens SSH to the whole Internet; list your office or VPN egress CIDRs, "
            "or reach the bastion through SSM Session Manager (bastion: ssm), which needs no inbound rule",
        )
        if self.access is BastionAccess.SSH and not self.ssh_allowlist:
            problems.append(
                Problem(
                    "ssh_allowlist",
                    [],
                    "SSH to the bastion needs at least one allowed CIDR: list yours, or use bastion: ssm",
                )
            )
        if self.architecture not in IMAGE_ARCHITECTURES:
            problems.append(
                Problem("architecture", self.architecture, f"use one of: {', '.join(IMAGE_ARCHITECTURES)}")
            )
        if self.access is BastionAccess.SSM and self.ssh_allowlist:
            problems.append(
                Problem(
                    "ssh_allowlist",
                    list(self.ssh_allowlist),
                    "is set but the bastion is reached through SSM (bastion: ssm), which opens no port; set "
                    "bastion: ssh to open SSH to these CIDRs, or remove the allowlist",
                )
            )
        return problems


# Amazon Linux 2023 images exist for these (AMI names `al2023-ami-2023.*-<architecture>`), in the order
# preferred when an instance type supports both.
IMAGE_ARCHITECTURES = ("arm64", "x86_64")


@dataclass(frozen=True)
class InstanceTypeOffer:
    """What EC2 says of an instance type: the zones (of those asked) that offer it, from
    DescribeInstanceTypeOfferings, and its supported architectures, from DescribeInstanceTypes."""

    zones: tuple[str, ...]
    architectures: tuple[str, ...]


def bastion_placement(
    instance_type: str, zones: tuple[str, ...], offer: InstanceTypeOffer
) -> tuple[str, str] | Problem:
    """The first of `zones` that offers `instance_type`, and the image architecture to run on it."""
    offered = [zone for zone in zones if zone in offer.zones]
    if not offered:
        return Problem(
            "instance_type",
            instance_type,
            f"no zone of this network ({', '.join(zones)}) offers it (or EC2 does not know it); "
            "choose a type they offer, such as t4g.nano or t3.nano",
        )
    architecture = image_architecture(instance_type, offer)
    return architecture if isinstance(architecture, Problem) else (offered[0], architecture)


def image_architecture(instance_type: str, offer: InstanceTypeOffer) -> str | Problem:
    """The Amazon Linux 2023 image architecture to run `instance_type` on, preferring Graviton."""
    architecture = next((a for a in IMAGE_ARCHITECTURES if a in offer.architectures), None)
    if architecture is None:
        return Problem(
            "instance_type",
            instance_type,
            f"supports {', '.join(offer.architectures) or 'no architecture'}, and Amazon Linux 2023 has "
            f"images for {' and '.join(IMAGE_ARCHITECTURES)} only; choose such a type, such as t4g.nano",
        )
    return architecture


def worker_architecture(
    instance_type: str, zones: tuple[str, ...], offer: InstanceTypeOffer
) -> str | Problem:
    """The image architecture for workers of `instance_type`, which every one of `zones` must offer: the
    Auto Scaling group spreads them over all the Lambda's zones."""
    missing = [zone for zone in zones if zone not in offer.zones]
    if missing:
        return Problem(
            "instance_type",
            instance_type,
            f"not offered in {', '.join(missing)} (or EC2 does not know it), and the workers run in "
            "every zone of the network; choose a type every zone offers, such as t4g.small or t3.small",
        )
    return image_architecture(instance_type, offer)


# Ports workers may not list: they are reached through SSM Session Manager, never by SSH or RDP.
WORKER_ADMIN_PORTS = {22: "SSH", 3389: "RDP"}


@dataclass(frozen=True)
class WorkerOptions:
    """EC2 instances for long-running processes the Lambda talks to, in the Lambda's private subnets.

    instance_type: t4g.small by default: Graviton (the cheapest per vCPU), 2 GiB for a Django worker.
    min_size / max_size: the Auto Scaling group's bounds; 1 and 2 by default (one running, room to replace).
    ports: TCP ports the Lambda reaches them on (8080 by default, an app server behind no proxy); the
        workers' security group admits the Lambda's group on these and nothing else. Never 22 or 3389:
        shells go through SSM Session Manager, which needs no inbound rule.
    reach_database: the database admits the workers' group too (off by default).
    architecture: the image's; from the instance type (EC2 DescribeInstanceTypes), as for the bastion.
    """

    instance_type: str = "t4g.small"
    min_size: int = 1
    max_size: int = 2
    ports: tuple[int, ...] = (8080,)
    reach_database: bool = False
    architecture: str = "arm64"

    def problems(self) -> list[Problem]:
        problems = []
        if self.min_size < 0:
            problems.append(Problem("min_size", self.min_size, "use 0 or more"))
        if self.max_size < 1:
            problems.append(Problem("max_size", self.max_size, "use 1 or more"))
        elif self.min_size > self.max_size:
            problems.append(
                Problem("min_size", self.min_size, f"is more than max_size ({self.max_size}); lower it")
            )
        if not self.ports:
            problems.append(
                Problem("ports", [], "list the ports the Lambda reaches the workers on, e.g. [8080]")
            )
        for index, port in enumerate(self.ports):
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                problems.append(Problem(f"ports[{index}]", port, "a TCP port is a whole number, 1 to 65535"))
            elif port in WORKER_ADMIN_PORTS:
                problems.append(
                    Problem(
                        f"ports[{index}]",
                        port,
                        f"opens {WORKER_ADMIN_PORTS[port]} to the Lambda; reach the workers' shell through "
                        "SSM Session Manager (aws ssm start-session), which needs no inbound port",
                    )
                )
        if len(set(self.ports)) != len(self.ports):
            problems.append(Problem("ports", list(self.ports), "lists a port twice"))
        if self.architecture not in IMAGE_ARCHITECTURES:
            problems.append(
                Problem("architecture", self.architecture, f"use one of: {', '.join(IMAGE_ARCHITECTURES)}")
            )
        return problems


# Customer gateway ASNs AWS accepts, and the private ranges allowed on the Amazon side.
_CUSTOMER_ASN_RANGE = (1, 4_294_967_294)
_AMAZON_ASN_RANGES = ((64_512, 65_534), (4_200_000_000, 4_294_967_294))


def _routable(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # Python's is_global follows IANA's special-purpose registries: RFC 1918, RFC 6598 (100.64/10),
    # RFC 5737 documentation, benchmarking, loopback, link-local, reserved. Multicast is global there.
    return address.is_global and not address.is_multicast


# Values the provider accepts (terraform-provider-aws vpnsite_connection.go, vpnTunnelOptions*_Values).
_IKE_VERSIONS = ("ikev1", "ikev2")
_ENCRYPTIONS = ("AES128", "AES256", "AES128-GCM-16", "AES256-GCM-16")
_INTEGRITIES = ("SHA1", "SHA2-256", "SHA2-384", "SHA2-512")
# AWS's Site-to-Site VPN tunnel options: phase 1 takes 2 and 14-24, phase 2 also 5.
_DH_GROUPS = (2, 5, *range(14, 25))


@dataclass(frozen=True)
class TunnelCrypto:
    """The IKE and IPsec proposals both tunnels accept. AWS's defaults accept IKEv1, SHA-1 and DH group 2;
    these defaults are IKEv2 with AES-256 (CBC or GCM), SHA-2 and DH groups 14 to 21 (RFC 8247, section 2.4,
    advises against 22 to 24). Your device must offer at least one of each."""

    ike_versions: tuple[str, ...] = ("ikev2",)
    encryption_algorithms: tuple[str, ...] = ("AES256", "AES256-GCM-16")
    integrity_algorithms: tuple[str, ...] = ("SHA2-256", "SHA2-384", "SHA2-512")
    dh_group_numbers: tuple[int, ...] = tuple(range(14, 22))

    def problems(self) -> list[Problem]:
        problems = []
        for field_name, values, allowed in (
            ("ike_versions", self.ike_versions, _IKE_VERSIONS),
            ("encryption_algorithms", self.encryption_algorithms, _ENCRYPTIONS),
            ("integrity_algorithms", self.integrity_algorithms, _INTEGRITIES),
            ("dh_group_numbers", self.dh_group_numbers, _DH_GROUPS),
        ):
            if not values:
                problems.append(Problem(field_name, [], "give at least one"))
            for index, value in enumerate(values):
                if value not in allowed:
                    valid = ", ".join(map(str, allowed))
                    problems.append(Problem(f"{field_name}[{index}]", value, f"use one of: {valid}"))
        return problems


@dataclass(frozen=True)
class VpnOptions:
    """A site-to-site IPsec VPN from the VPC to the corporate network.

    customer_gateway_ip: the public IPv4 address of your VPN device.
    on_premises_cidrs: the corporate networks; routed statically, and checked not to overlap the VPC.
    bgp_asn: your device's BGP ASN for dynamic routing; None (default) for static routes.
    amazon_side_asn: the virtual private gateway's ASN; 64512, the first private ASN, by default.
    placeholder_gateway_ip: the address is a stand-in (a documentation address in a sample stack): it may
        then be non-routable, and previews work, but a deployment is refused. False by default.
    tunnel_crypto: what both tunnels accept; IKEv2, AES-256, SHA-2 and strong DH groups by default.
    """

    customer_gateway_ip: str
    on_premises_cidrs: tuple[str, ...] = ()
    bgp_asn: int | None = None
    amazon_side_asn: int = 64_512
    placeholder_gateway_ip: bool = False
    tunnel_crypto: TunnelCrypto = TunnelCrypto()

    @property
    def static_routing(self) -> bool:
        return self.bgp_asn is None

    def problems(self) -> list[Problem]:
        problems = []
        if not self.customer_gateway_ip:
            problems.append(
                Problem(
                    "customer_gateway_ip",
                    "",
                    "required: the public IPv4 address of your VPN device, such as 203.0.113.10",
                )
            )
        else:
            try:
                address = ipaddress.ip_address(self.customer_gateway_ip)
            except ValueError:
                address = None
            if address is None or address.version != 4:
                problems.append(
                    Problem(
                        "customer_gateway_ip",
                        self.customer_gateway_ip,
                        "must be the IPv4 address of your VPN device, such as 203.0.113.10",
                    )
                )
            elif not _routable(address) and not self.placeholder_gateway_ip:
                problems.append(
                    Problem(
                        "customer_gateway_ip",
                        self.customer_gateway_ip,
                        "is not a public Internet address (private, shared, documentation or another "
                        "special-purpose range); AWS reaches your VPN device over the Internet, so give its "
                        "public IPv4 address",
                    )
                )
            elif _routable(address) and self.placeholder_gateway_ip:
                problems.append(
                    Problem(
                        "placeholder_gateway_ip",
                        "true",
                        f"{self.customer_gateway_ip} is a public address, not a placeholder; remove the flag",
                    )
                )
        problems += _network_problems("on_premises_cidrs", self.on_premises_cidrs, "IPv4")
        if self.static_routing and not self.on_premises_cidrs:
            problems.append(
                Problem(
                    "on_premises_cidrs",
                    "[]",
                    "static routing needs the corporate networks to route to; list them, or set a BGP ASN",
                )
            )
        low, high = _CUSTOMER_ASN_RANGE
        if self.bgp_asn is not None and not low <= self.bgp_asn <= high:
            problems.append(Problem("bgp_asn", self.bgp_asn, f"a BGP ASN is a number from {low} to {high}"))
        if not any(low <= self.amazon_side_asn <= high for low, high in _AMAZON_ASN_RANGES):
            problems.append(
                Problem(
                    "amazon_side_asn",
                    self.amazon_side_asn,
                    "must be a private ASN: 64512 to 65534, or 4200000000 to 4294967294",
                )
            )
        problems += [_nested("tunnel_crypto", p) for p in self.tunnel_crypto.problems()]
        return problems

    def deployment_problems(self) -> list[Problem]:
        """What refuses a deployment (not a preview): a VPN to a placeholder address is billed by the hour
        and can never come up."""
        if not self.placeholder_gateway_ip:
            return []
        return [
            Problem(
                "placeholder_gateway_ip",
                "true",
                f"the customer gateway {self.customer_gateway_ip} is a placeholder, so this stack previews "
                "but does not deploy; set your VPN device's public IPv4 address and remove the flag",
            )
        ]


@dataclass(frozen=True)
class FlowLogOptions:
    """VPC flow logs to CloudWatch Logs: every accepted and rejected connection, for incident response.

    retention_days: how long CloudWatch keeps them; 90 days by default.
    """

    retention_days: int = 90

    # CloudWatch Logs accepts only these retention periods.
    ALLOWED_RETENTION = (
        1,
        3,
        5,
        7,
        14,
        30,
        60,
        90,
        120,
        150,
        180,
        365,
        400,
        545,
        731,
        1096,
        1827,
        2192,
        2557,
        2922,
        3288,
        3653,
    )

    def problems(self) -> list[Problem]:
        if self.retention_days in self.ALLOWED_RETENTION:
            return []
        allowed = ", ".join(str(days) for days in self.ALLOWED_RETENTION)
        return [
            Problem(
                "retention_days", self.retention_days, f"CloudWatch Logs keeps logs for one of: {allowed}"
            )
        ]


@dataclass(frozen=True)
class NetworkOptions:
    """Everything a VPC pattern component needs.

    plan: the address plan (see zappa_vpc/plan/addressing.py), holding every tier the pattern creates.
    availability_zones: one name per AZ in use, at least 2, in the order of the plan's az_index.
    nat: how private subnets reach the Internet; must be `none` where the pattern has no public tier.
    flow_logs: None turns them off (dev); on in prod.
    bastion: None for no bastion; needs a public tier.
    vpn: required by the hybrid and internal patterns, refused elsewhere.
    """

    pattern: Pattern
    plan: AddressPlan
    availability_zones: tuple[str, ...]
    nat: NatStrategy = NatStrategy.NONE
    flow_logs: FlowLogOptions | None = None
    bastion: BastionOptions | None = None
    vpn: VpnOptions | None = None

    @property
    def traits(self) -> PatternTraits:
        return PATTERN_TRAITS[self.pattern]

    def problems(self) -> list[Problem]:
        return self.choice_problems() + self.address_problems()

    def address_problems(self) -> list[Problem]:
        """Problems with the zones and addresses in use."""
        problems = []
        if len(self.availability_zones) < 2:
            problems.append(
                Problem(
                    "availability_zones",
                    list(self.availability_zones),
                    "the database and Lambda need subnets in at least 2 availability zones; use 2 or more",
                )
            )
        if len(set(self.availability_zones)) != len(self.availability_zones):
            problems.append(
                Problem(
                    "availability_zones", list(self.availability_zones), "lists an availability zone twice"
                )
            )
        if self.vpn is not None:
            problems += self._overlap_problems(self.vpn.on_premises_cidrs)
        return problems

    def choice_problems(self) -> list[Problem]:
        """Problems with the choices made for the pattern; reads neither the plan nor the zones, so settings
        can report these beside a failed address plan."""
        traits = self.traits
        problems = []
        if self.nat is not NatStrategy.NONE and not traits.can_use_nat:
            problems.append(
                Problem(
                    "nat",
                    self.nat.value,
                    f"the {self.pattern.value} pattern has no public tier with private subnets behind it "
                    "for a NAT gateway to serve; use 'none', or the public-private or hybrid pattern",
                )
            )
        if self.bastion is not None:
            if not traits.has_public_tier:
                problems.append(
                    Problem(
                        "bastion",
                        self.bastion.access.value,
                        f"the {self.pattern.value} pattern has no public tier for a bastion; use 'none' "
                        "(reach private resources over the VPN or SSM endpoints instead)",
                    )
                )
            problems += [_nested("bastion", p) for p in self.bastion.problems()]
            zone = self.bastion.availability_zone
            if zone is not None and self.availability_zones and zone not in self.availability_zones:
                problems.append(
                    Problem(
                        "bastion.availability_zone", zone, "is not one of the network's availability zones"
                    )
                )
        if traits.vpn and self.vpn is None:
            problems.append(
                Problem(
                    "vpn",
                    None,
                    f"the {self.pattern.value} pattern connects a corporate network: "
                    "give the VPN's customer gateway IP",
                )
            )
        if self.vpn is not None:
            if not traits.vpn:
                problems.append(
                    Problem(
                        "vpn",
                        self.vpn.customer_gateway_ip,
                        f"the {self.pattern.value} pattern has no VPN; use the hybrid or internal pattern",
                    )
                )
            problems += [_nested("vpn", p) for p in self.vpn.problems()]
        if self.flow_logs is not None:
            problems += [_nested("flow_logs", p) for p in self.flow_logs.problems()]
        return problems

    def _overlap_problems(self, on_premises: tuple[str, ...]) -> list[Problem]:
        vpc = ipaddress.ip_network(self.plan.vpc_cidr)
        problems = []
        for index, value in enumerate(on_premises):
            try:
                network = ipaddress.ip_network(value, strict=True)
            except ValueError:
                continue  # reported by VpnOptions
            if network.version == vpc.version and network.overlaps(vpc):
                problems.append(
                    Problem(
                        f"vpn.on_premises_cidrs[{index}]",
                        value,
                        f"overlaps the VPC {vpc}: traffic to it would never leave the VPC; "
                        "give the VPC a range the corporate network does not use",
                    )
                )
        return problems


def _nested(prefix: str, problem: Problem) -> Problem:
    return Problem(f"{prefix}.{problem.field}", problem.value, problem.reason)


def admits_every_address(values: tuple[str, ...]) -> list[str]:
    """The families ("0.0.0.0/0", "::/0") whose every address the union of `values` admits, however it is
    spelt: 0.0.0.0/0 itself, or 0.0.0.0/1 with 128.0.0.0/1, and so on. Malformed entries are skipped."""
    networks = [ipaddress.ip_network(value) for value in values if _is_network(value)]
    whole = []
    for version, world in ((4, "0.0.0.0/0"), (6, "::/0")):
        family = [network for network in networks if network.version == version]
        if ipaddress.ip_network(world) in ipaddress.collapse_addresses(family):
            whole.append(world)
    return whole


def _client_network_problems(field_name: str, values: tuple[str, ...], world_reason: str) -> list[Problem]:
    """Networks a rule admits: valid CIDRs, and never every address (0.0.0.0/0, ::/0, or a union of smaller
    networks that covers one of them), for `world_reason`."""
    problems = _network_problems(field_name, values, "IPv4 or IPv6")
    singles = set()
    for index, value in enumerate(values):
        if _is_network(value) and ipaddress.ip_network(value).prefixlen == 0:
            singles.add(ipaddress.ip_network(value).version)
            problems.append(Problem(f"{field_name}[{index}]", value, world_reason))
    for world in admits_every_address(values):
        if ipaddress.ip_network(world).version not in singles:
            problems.append(
                Problem(field_name, list(values), f"together these cover {world}, so this {world_reason}")
            )
    return problems


class DatabaseEngine(StrEnum):
    """The database's RDS engine: PostgreSQL or MySQL."""

    POSTGRES = "postgres"
    MYSQL = "mysql"


DATABASE_PORTS = {DatabaseEngine.POSTGRES: 5432, DatabaseEngine.MYSQL: 3306}
# Major versions pinned so a stack deploys the same engine every time; RDS picks the newest minor.
DEFAULT_ENGINE_VERSIONS = {DatabaseEngine.POSTGRES: "16", DatabaseEngine.MYSQL: "8.4"}
# Version parts naming an engine major, and so its parameter group family: 16 -> postgres16, 8.4 -> mysql8.4.
MAJOR_VERSION_PARTS = {DatabaseEngine.POSTGRES: 1, DatabaseEngine.MYSQL: 2}
# The last day of RDS standard support of each major; from the next day RDS enrols the instance in paid
# Extended Support. Sources: RDS User Guide "Supported MySQL major versions on Amazon RDS" and the RDS for
# PostgreSQL Release Notes "Release calendar"; MySQL 8.0's 2026-07-31 is also what AWS told users
# (github.com/buttonmen-dev/buttonmen/issues/3098). Majors not listed have no announced date yet.
STANDARD_SUPPORT_ENDS = {
    DatabaseEngine.MYSQL: {"5.7": date(2024, 2, 29), "8.0": date(2026, 7, 31), "8.4": date(2029, 7, 31)},
    DatabaseEngine.POSTGRES: {
        "11": date(2024, 2, 29),
        "12": date(2025, 2, 28),
        "13": date(2026, 2, 28),
        "14": date(2027, 2, 28),
        "15": date(2028, 2, 29),
        "16": date(2029, 2, 28),
        "17": date(2030, 2, 28),
    },
}


def major_version(engine: DatabaseEngine, version: str) -> str:
    """`16.4` -> `16` for PostgreSQL; `8.0.39` -> `8.0` for MySQL."""
    return ".".join(version.split(".")[: MAJOR_VERSION_PARTS[engine]])


def extended_support_year(engine: DatabaseEngine, version: str, on: date) -> int | None:
    """Which year of RDS Extended Support `version` is in `on` (1, 2, 3...), or None in standard support.

    Year 1 starts the day after the end of standard support; AWS prices years 1-2 alike and year 3 higher.
    """
    end = STANDARD_SUPPORT_ENDS[engine].get(major_version(engine, version))
    if end is None or on <= end:
        return None
    days_past = (on - end).days - 1
    return days_past // 365 + 1


def _engine_of_version(parts: list[str]) -> DatabaseEngine | None:
    """The engine whose majors a version names: MySQL's are 5.x and 8.x, PostgreSQL's 9.x and 10 onwards
    (RDS `describe-db-engine-versions`); None for anything else."""
    major = int(parts[0])
    if major in (5, 8):
        return DatabaseEngine.MYSQL
    return DatabaseEngine.POSTGRES if major >= 9 else None


@dataclass(frozen=True)
class DatabaseOptions:
    """A private RDS database in the data tier.

    engine: PostgreSQL by default (Django's best-supported database), or MySQL.
    engine_version: empty for the pinned major version of the engine (16 for PostgreSQL, 8.4 for MySQL; 8.0
        left RDS standard support on 2026-07-31, so a new 8.0 instance is billed for Extended Support).
    instance_class: db.t4g.micro by default, the smallest Graviton class; raise it for real traffic.
    storage_gb / max_storage_gb: gp3 storage, grown automatically up to the maximum.
    multi_az: a standby in a second AZ (prod). deletion_protection: refuse deletes (prod).
    final_snapshot: snapshot the database when it is deleted; on by default, off for throwaway stacks.
    backup_retention_days: automated backups kept 1..35 days (7 by default).
    proxy: RDS Proxy in front, so many concurrent Lambdas share a few connections.
    log_retention_days: days CloudWatch Logs keeps the exported database logs; the stacks use the flow-log
        retention (90 by default), so one setting says how long the stack keeps its logs.
    admin_cidrs: corporate networks admitted on the engine port over the VPN (hybrid and internal), for
        administrators where there is no bastion to tunnel through; none by default.
    """

    engine: DatabaseEngine = DatabaseEngine.POSTGRES
    engine_version: str = ""
    instance_class: str = "db.t4g.micro"
    storage_gb: int = 20
    max_storage_gb: int = 100
    database_name: str = "app"
    multi_az: bool = False
    deletion_protection: bool = False
    final_snapshot: bool = True
    backup_retention_days: int = 7
    proxy: bool = False
    log_retention_days: int = 90
    admin_cidrs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _accept_string(self, "engine", DatabaseEngine)

    @property
    def port(self) -> int:
        return DATABASE_PORTS[self.engine]

    @property
    def version(self) -> str:
        return self.engine_version or DEFAULT_ENGINE_VERSIONS[self.engine]

    def problems(self) -> list[Problem]:
        if choice := _choice_problems(self, {"engine": DatabaseEngine}):
            return choice
        problems = []
        if not 20 <= self.storage_gb <= 65_536:
            problems.append(Problem("storage_gb", self.storage_gb, "gp3 storage is 20 to 65536 GiB"))
        if self.max_storage_gb < self.storage_gb or self.max_storage_gb > 65_536:
            problems.append(
                Problem(
                    "max_storage_gb",
                    self.max_storage_gb,
                    f"must be at least the storage ({self.storage_gb}) and at most 65536 GiB",
                )
            )
        if not 1 <= self.backup_retention_days <= 35:
            problems.append(
                Problem(
                    "backup_retention_days",
                    self.backup_retention_days,
                    "RDS keeps automated backups 1 to 35 days; 0 would turn backups off",
                )
            )
        parts = self.version.split(".")
        example = "16 or 16.4" if self.engine is DatabaseEngine.POSTGRES else "8.4 or 8.4.3"
        if len(parts) < MAJOR_VERSION_PARTS[self.engine] or not all(part.isdigit() for part in parts):
            # Unquoted in YAML, 8.0 is the number 8 (the Pulumi CLI hands the program "8").
            quote = "; quote it ('8.0'): unquoted, YAML reads 8.0 as the number 8" if parts == ["8"] else ""
            problems.append(
                Problem(
                    "engine_version",
                    self.engine_version,
                    f"a {self.engine.value} version such as {example}, or empty for the pinned major{quote}",
                )
            )
        elif (other := _engine_of_version(parts)) not in (None, self.engine):
            problems.append(
                Problem(
                    "engine_version",
                    self.engine_version,
                    f"is a {other.value} version, but the engine is {self.engine.value}; give a "
                    f"{self.engine.value} version such as {example}, or change the engine",
                )
            )
        problems += _client_network_problems(
            "admin_cidrs", self.admin_cidrs, "would open the database to every network; list yours"
        )
        problems += [
            replace(problem, field="log_retention_days")
            for problem in FlowLogOptions(self.log_retention_days).problems()
        ]
        if not self.instance_class.startswith("db."):
            problems.append(
                Problem("instance_class", self.instance_class, "an RDS instance class, such as db.t4g.micro")
            )
        name_ok = self.database_name[:1].isalpha() and self.database_name.replace("_", "").isalnum()
        if not name_ok or len(self.database_name) > 63:
            problems.append(
                Problem(
                    "database_name",
                    self.database_name,
                    "letters, digits and underscores, starting with a letter, at most 63 characters",
                )
            )
        return problems


@dataclass(frozen=True)
class EndpointService:
    """What an interface endpoint service takes. ports: the TCP ports its clients use. china_prefix: in the
    China regions its name starts `cn.com.amazonaws` (the AWS CDK's InterfaceVpcEndpointAwsService
    getDefaultEndpointPrefix lists these, from `aws ec2 describe-vpc-endpoint-services`)."""

    ports: tuple[int, ...] = (443,)
    china_prefix: bool = False


# Interface endpoints a Django app on Lambda commonly needs; each costs money per AZ, so none by default.
# Names as in AWS's "AWS services that integrate with AWS PrivateLink" (Firehose is `kinesis-firehose`).
INTERFACE_ENDPOINT_SERVICES: dict[str, EndpointService] = {
    "sqs": EndpointService(china_prefix=True),
    "sns": EndpointService(),
    "secretsmanager": EndpointService(),
    "ssm": EndpointService(),
    "ssmmessages": EndpointService(),
    "ec2messages": EndpointService(),
    "kms": EndpointService(),
    "logs": EndpointService(),
    "monitoring": EndpointService(china_prefix=True),
    "sts": EndpointService(china_prefix=True),
    "lambda": EndpointService(china_prefix=True),
    "events": EndpointService(),
    "states": EndpointService(china_prefix=True),
    "ecr.api": EndpointService(china_prefix=True),
    "ecr.dkr": EndpointService(china_prefix=True),
    "rds": EndpointService(china_prefix=True),
    "elasticache": EndpointService(china_prefix=True),
    # SES SMTP: never 443 (SES developer guide, "Connecting to an Amazon SES SMTP endpoint").
    "email-smtp": EndpointService(ports=(25, 465, 587, 2465, 2587)),
    "kinesis-streams": EndpointService(china_prefix=True),
    "kinesis-firehose": EndpointService(),
    "xray": EndpointService(china_prefix=True),
    "athena": EndpointService(china_prefix=True),
    "glue": EndpointService(),
    "sagemaker.runtime": EndpointService(china_prefix=True),
    "bedrock-runtime": EndpointService(),
}
GATEWAY_ENDPOINT_SERVICES = frozenset({"s3", "dynamodb"})
# What the SSM agent calls (AWS Systems Manager user guide, "Use VPC endpoints for Systems Manager").
SSM_AGENT_ENDPOINTS = ("ssm", "ssmmessages", "ec2messages")
# API Gateway's endpoint service, for a private API: built from `private_api_cidrs`, never from the list.
PRIVATE_API_SERVICE = "execute-api"
_PRIVATE_API = EndpointService(china_prefix=True)


def endpoint_service_name(region: str, service: str, gateway: bool = False) -> str:
    """`us-east-1`, `sqs` -> `com.amazonaws.us-east-1.sqs`; `cn-north-1`, `sqs` -> `cn.com.amazonaws...`.

    Gateway endpoints keep `com.amazonaws` in China too (`com.amazonaws.cn-north-1.s3` is the Gateway one).
    """
    if gateway:
        return f"com.amazonaws.{region}.{service}"
    known = _PRIVATE_API if service == PRIVATE_API_SERVICE else INTERFACE_ENDPOINT_SERVICES[service]
    china = region.startswith("cn-") and known.china_prefix
    return f"{'cn.' if china else ''}com.amazonaws.{region}.{service}"


@dataclass(frozen=True)
class EndpointOptions:
    """Private access to AWS services without the Internet.

    gateway: S3 and DynamoDB gateway endpoints; free, so both by default.
    interface: services reached through an interface endpoint in every AZ (about 7.3 USD a month per AZ
        each); the isolated and internal patterns need one for every service the app calls.
    private_api_cidrs: corporate networks that call the app through a private API Gateway over the VPN;
        when set, an execute-api endpoint admits them (and only them) on 443. None by default: the API is
        public, as Zappa deploys it.
    policy_accounts: AWS account ids, besides the stack's own, whose principals may use the endpoints and
        whose resources (buckets, queues...) they may reach. The endpoint policies admit the stack's own
        account only by default, so a stolen or foreign credential cannot carry data out through them.
    """

    gateway: tuple[str, ...] = ("s3", "dynamodb")
    interface: tuple[str, ...] = ()
    private_api_cidrs: tuple[str, ...] = ()
    policy_accounts: tuple[str, ...] = ()

    def problems(self) -> list[Problem]:
        problems = _client_network_problems(
            "private_api_cidrs",
            self.private_api_cidrs,
            "would open the private API to every network; list yours",
        )
        for field_name, names, known in (
            ("gateway", self.gateway, GATEWAY_ENDPOINT_SERVICES),
            ("interface", self.interface, INTERFACE_ENDPOINT_SERVICES),
        ):
            for index, name in enumerate(names):
                if name == PRIVATE_API_SERVICE:
                    problems.append(
                        Problem(
                            f"{field_name}[{index}]",
                            name,
                            "with private DNS it would send every API Gateway call from the VPC, public "
                            "APIs included, to the endpoint; list the callers' networks in privateApiCidrs",
                        )
                    )
                elif name not in known:
                    valid = ", ".join(sorted(known))
                    problems.append(
                        Problem(f"{field_name}[{index}]", name, f"not a known service; use one of: {valid}")
                    )
            if len(set(names)) != len(names):
                problems.append(Problem(field_name, list(names), "lists a service twice"))
        for index, account in enumerate(self.policy_accounts):
            if not re.fullmatch(r"\d{12}", account):
                problems.append(
                    Problem(f"policy_accounts[{index}]", account, "an AWS account id is 12 digits")
                )
        return problems


_ROLE_ARN = re.compile(r"arn:aws(-[a-z]+)*:iam::\d{12}:role/[\w+=,.@/-]+")


@dataclass(frozen=True)
class AppBucketOptions:
    """A private S3 bucket for the app: public access blocked, SSE-S3, versioned, TLS only, and data access
    (get, put, delete, list) only through this VPC's S3 gateway endpoint.

    admin_role_arns: IAM roles exempt from the endpoint condition (not from TLS), so deployers and admins
        can still reach the data from outside the VPC; none by default. Bucket settings (policy,
        versioning, encryption) are never restricted, so whoever deploys the stack is never locked out.
    """

    admin_role_arns: tuple[str, ...] = ()

    def problems(self) -> list[Problem]:
        problems = [
            Problem(
                f"admin_role_arns[{index}]",
                arn,
                "not an IAM role ARN; use arn:aws:iam::<account id>:role/<name>",
            )
            for index, arn in enumerate(self.admin_role_arns)
            if not _ROLE_ARN.fullmatch(arn)
        ]
        if len(set(self.admin_role_arns)) != len(self.admin_role_arns):
            problems.append(Problem("admin_role_arns", list(self.admin_role_arns), "lists a role twice"))
        return problems


@dataclass(frozen=True)
class ServiceAccessOptions:
    """What the Lambda reaches privately: the database and AWS services. Checked against the network."""

    database: DatabaseOptions | None = None
    endpoints: EndpointOptions = field(default_factory=EndpointOptions)
    workers: WorkerOptions | None = None
    app_bucket: AppBucketOptions | None = None

    def problems(self, network: NetworkOptions) -> list[Problem]:
        return self.choice_problems(network) + self.address_problems(network)

    def choice_problems(self, network: NetworkOptions) -> list[Problem]:
        """Problems with the choices made, against the network's pattern; reads no addresses."""
        traits = network.traits
        problems = [_nested("endpoints", p) for p in self.endpoints.problems()]
        if self.database is not None:
            problems += [_nested("database", p) for p in self.database.problems()]
            if not traits.has_data_tier:
                problems.append(
                    Problem(
                        "database.engine",
                        self.database.engine.value,
                        f"the {network.pattern.value} pattern has no private data tier, and a database in "
                        "an Internet-accessible subnet is a public database; use the public-private pattern",
                    )
                )
        if self.database is not None and self.database.admin_cidrs and network.vpn is None:
            problems.append(
                Problem(
                    "database.admin_cidrs",
                    list(self.database.admin_cidrs),
                    f"the {network.pattern.value} pattern has no VPN to reach the database from; "
                    "administrators tunnel through the bastion instead (database_tunnel_command)",
                )
            )
        if self.endpoints.private_api_cidrs and network.vpn is None:
            problems.append(
                Problem(
                    "endpoints.private_api_cidrs",
                    list(self.endpoints.private_api_cidrs),
                    f"the {network.pattern.value} pattern has no VPN for corporate callers to come over; "
                    "use the hybrid or internal pattern, or keep the public API",
                )
            )
        reaches_internet = traits.internet_gateway and network.nat is not NatStrategy.NONE
        if self.workers is not None:
            problems += self._worker_problems(network, reaches_internet)
        if self.app_bucket is not None:
            problems += [_nested("app_bucket", p) for p in self.app_bucket.problems()]
            if "s3" not in self.endpoints.gateway:
                problems.append(
                    Problem(
                        "app_bucket",
                        True,
                        "its data is reached only through the VPC's S3 gateway endpoint; add 's3' to "
                        "gatewayEndpoints",
                    )
                )
        if self.database is not None and "secretsmanager" not in self.endpoints.interface:
            # RDS Proxy reads the secret through its own interfaces in the data subnets, which have no NAT
            # route: only the endpoint reaches Secrets Manager from there (components.database).
            if self.database.proxy:
                reason = "RDS Proxy reads the database secret from the data subnets, which have no route out"
            elif not reaches_internet:
                reason = "the Lambda has no route to the Internet here, so it cannot read the database secret"
            else:
                reason = ""
            if reason:
                problems.append(
                    Problem(
                        "endpoints.interface",
                        list(self.endpoints.interface),
                        f"{reason}; add 'secretsmanager'",
                    )
                )
        return problems

    def _worker_problems(self, network: NetworkOptions, reaches_internet: bool) -> list[Problem]:
        workers = self.workers
        assert workers is not None
        problems = [_nested("workers", p) for p in workers.problems()]
        if network.traits.lambda_tier is not Tier.PRIVATE:
            # No private tier: a worker there would sit in an Internet-routed subnet, and without a public
            # address it could not reach out (no NAT); with one it would be on the Internet.
            problems.append(
                Problem(
                    "workers",
                    True,
                    f"the {network.pattern.value} pattern has no private tier for workers (its Lambda "
                    "subnets are public); use the public-private pattern",
                )
            )
        if workers.reach_database and self.database is None:
            problems.append(
                Problem("workers.reach_database", True, "there is no database to reach; remove it")
            )
        missing = [service for service in SSM_AGENT_ENDPOINTS if service not in self.endpoints.interface]
        if not reaches_internet and missing and network.traits.lambda_tier is Tier.PRIVATE:
            # Without a route out the SSM agent (Session Manager, the workers' only shell) reaches AWS only
            # through these endpoints (AWS Systems Manager guide, "Use VPC endpoints for Systems Manager").
            problems.append(
                Problem(
                    "endpoints.interface",
                    list(self.endpoints.interface),
                    f"the workers have no route to the Internet here, so SSM Session Manager needs "
                    f"endpoints; add {', '.join(repr(service) for service in missing)}",
                )
            )
        return problems

    def address_problems(self, network: NetworkOptions) -> list[Problem]:
        """Corporate networks admitted over the VPN must come over it: not the VPC, and inside the routed
        corporate networks."""
        if network.vpn is None:
            return []
        vpc = ipaddress.ip_network(network.plan.vpc_cidr)
        routed = [ipaddress.ip_network(c) for c in network.vpn.on_premises_cidrs if _is_network(c)]
        admitted = {"endpoints.private_api_cidrs": self.endpoints.private_api_cidrs}
        if self.database is not None:
            admitted["database.admin_cidrs"] = self.database.admin_cidrs
        problems = []
        for field_name, values in admitted.items():
            for index, value in enumerate(values):
                if not _is_network(value):
                    continue  # reported with the option's own problems
                callers = ipaddress.ip_network(value)
                if callers.version == vpc.version and callers.overlaps(vpc):
                    reason = f"overlaps the VPC {vpc}; list the corporate network"
                elif network.vpn.static_routing and not any(
                    callers.version == r.version and callers.subnet_of(r) for r in routed
                ):
                    reason = "is not routed over the VPN; list a network inside vpnOnPremisesCidrs"
                else:
                    continue
                problems.append(Problem(f"{field_name}[{index}]", value, reason))
        return problems


def _is_network(value: str) -> bool:
    try:
        ipaddress.ip_network(value, strict=True)
    except ValueError:
        return False
    return True


class InvalidOptionsError(ValueError):
    """A component was given options it cannot build; raised before it registers anything.

    `problems`: each problem's line, so a component that checks several things can report them together.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)

    @classmethod
    def listing(cls, component: str, problems: Sequence[str], what: str = "options") -> InvalidOptionsError:
        """`<component>: invalid <what>:` then one `  - <problem>` line each."""
        lines = "\n".join(f"  - {problem}" for problem in problems)
        return cls(f"{component}: invalid {what}:\n{lines}", problems)


def problem_lines(problems: Sequence[Problem]) -> list[str]:
    """Each problem as a message line: `field = value: reason`."""
    return [f"{p.field} = {p.value!r}: {p.reason}" for p in problems]


def require_valid(component: str, problems: list[Problem]) -> None:
    """Raise InvalidOptionsError listing every problem, so a component registers nothing on bad input."""
    if problems:
        raise InvalidOptionsError.listing(component, problem_lines(problems))
