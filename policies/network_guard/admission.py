"""What security group rules admit, for every rule that asks "does this admit the Internet".

Each ingress rule (inline in a group, `ec2.SecurityGroupRule`, `vpc.SecurityGroupIngressRule`) becomes
an `Ingress`: the protocol and port range it opens, in every spelling the provider takes, and the
addresses it admits from every source form: CIDR lists and strings (IPv4 and IPv6), managed prefix
lists (their inline entries and entry resources when this stack manages them; a list from elsewhere
cannot be told), referenced security groups and `self` (a group's members are never the Internet).
`internet` decides whether rules together admit the Internet: their CIDRs are merged per address
family, so 0.0.0.0/1 plus 128.0.0.0/1 admits the Internet as surely as 0.0.0.0/0 does.

A source, protocol, port or direction that is only known after apply (and comes from nothing inside
the network), or that cannot be read, is a doubt carried with the answer: never a pass, never a crash.
Built once per stack index (`admission(index)`), linear in the number of rules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any

from . import aws_types as aws
from .graph import Answer, Node, StackIndex, Truth, as_list, is_unknown, shown

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALL = "all"
ALL_PORTS = (0, 65535)
# terraform-provider-aws internal/service/ec2/vpc_security_group.go (ProtocolForValue): the protocol is
# lower-cased, "-1" and "all" mean every protocol, and the numbers of the named protocols mean those.
_PROTOCOLS = {
    "-1": ALL,
    "all": ALL,
    "tcp": "tcp",
    "6": "tcp",
    "udp": "udp",
    "17": "udp",
    "icmp": "icmp",
    "1": "icmp",
    "icmpv6": "icmpv6",
    "58": "icmpv6",
}
# Ports mean something only for these; for ICMP they are types and codes, and for any other protocol
# number AWS admits every port whatever the range says (EC2 API reference, IpPermission.IpProtocol).
_PORT_PROTOCOLS = frozenset({"tcp", "udp"})

# Not the Internet: the blocks the IANA special-purpose address registries (RFC 6890) mark not globally
# reachable, and multicast, which is never a source. In IPv6 only 2000::/3 is global unicast.
_NOT_INTERNET_V4 = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
)
_NOT_INTERNET_V6 = ("2001:db8::/32",)

# An unknown CIDR computed from these is an address range inside the network, never the Internet.
_INTERNAL_CIDR_SOURCES = frozenset({aws.VPC, aws.SUBNET}) | aws.SECURITY_GROUP_TYPES
_PREFIX_LIST_ONLY = frozenset({aws.MANAGED_PREFIX_LIST})
_LITERAL_FIX = "admit literal CIDRs or security groups"


def _complement(whole: str, holes: Iterable[str]) -> tuple[Network, ...]:
    blocks = [ipaddress.ip_network(whole)]
    for hole in map(ipaddress.ip_network, holes):
        blocks = [
            part
            for block in blocks
            for part in (block.address_exclude(hole) if hole.subnet_of(block) else [block])  # type: ignore[arg-type]
        ]
    return tuple(ipaddress.collapse_addresses(blocks))  # type: ignore[arg-type]


INTERNET: dict[int, tuple[Network, ...]] = {
    4: _complement("0.0.0.0/0", _NOT_INTERNET_V4),
    6: _complement("2000::/3", _NOT_INTERNET_V6),
}
_INTERNET_SIZE = {
    version: sum(block.num_addresses for block in blocks) for version, blocks in INTERNET.items()
}


@lru_cache(maxsize=8192)
def network_of(text: str) -> Network | None:
    """The network a CIDR string names (host bits allowed, as AWS normalises them), or None."""
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def is_world_cidr(cidr: str) -> bool:
    """0.0.0.0/0 or ::/0, in whatever spelling."""
    network = network_of(cidr)
    return network is not None and network.prefixlen == 0


def public(network: Network) -> bool:
    """Does the network hold any Internet address?"""
    return any(network.overlaps(block) for block in INTERNET[network.version])  # type: ignore[arg-type]


def spans_internet(networks: Sequence[Network]) -> bool:
    """Do these networks (of one family) together hold every Internet address of that family?"""
    if any(network.prefixlen == 0 for network in networks):
        return True
    merged = list(ipaddress.collapse_addresses(networks))  # type: ignore[arg-type]
    version = networks[0].version
    if sum(network.num_addresses for network in merged) < _INTERNET_SIZE[version]:
        return False
    return all(any(block.subnet_of(network) for network in merged) for block in INTERNET[version])  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Source:
    """One CIDR a rule admits, as written, with where it came from (for messages)."""

    network: Network
    text: str
    holder: Node


@dataclass(frozen=True, slots=True)
class Ingress:
    """One ingress rule: what it opens (protocol, ports) to which addresses.

    `protocol` is `all`, `tcp`, `udp`, `icmp`, `icmpv6` or another protocol number; None when it
    cannot be told, and `ports` (inclusive) None when they cannot, both with the reason in
    `rule_doubt`. `doubts` are sources that cannot be told; `direction_doubt` says why the rule may
    not be an ingress rule at all (an unknown `type`). `world`: does this rule alone admit the Internet?
    """

    holder: Node
    protocol: str | None
    ports: tuple[int, int] | None
    sources: tuple[Source, ...] = ()
    doubts: tuple[Answer, ...] = ()
    rule_doubt: str = ""
    direction_doubt: str = ""
    world: Answer = field(default=Answer(Truth.NO, "no Internet source"))

    def covers(self, port: int, protocols: frozenset[str]) -> Truth:
        if self.protocol is None:
            return Truth.UNKNOWN
        if self.protocol == ALL:
            return Truth.YES
        if self.protocol not in protocols:
            return Truth.NO
        if self.ports is None:
            return Truth.UNKNOWN
        low, high = self.ports
        return Truth.YES if low <= port <= high else Truth.NO

    def how(self) -> str:
        """How wide the rule is, for a message about one port it opens: empty for a rule of that port."""
        if self.protocol == ALL:
            return " through a rule for every protocol and port (protocol -1)"
        if self.ports == ALL_PORTS:
            return f" through a rule for every {self.protocol} port"
        if self.ports is not None and self.ports[0] != self.ports[1]:
            return f" through {self.protocol} ports {self.ports[0]}-{self.ports[1]}"
        return ""


def _describe(sources: Sequence[Source]) -> str:
    world = next((source for source in sources if source.network.prefixlen == 0), None)
    several = len({source.holder.urn for source in sources}) > 1
    if world is not None:
        return world.text + (f" through {world.holder.label}" if several else "")
    shown_sources = [
        source.text + (f" through {source.holder.label}" if several else "")
        for source in sources
        if public(source.network)
    ]
    return f"{', '.join(dict.fromkeys(shown_sources))} (together every Internet address)"


def _spanning(items: Sequence[Ingress]) -> str:
    """What makes `items` together admit the Internet (empty if they do not)."""
    for version in (4, 6):
        sources = [source for item in items for source in item.sources if source.network.version == version]
        if sources and spans_internet([source.network for source in sources]):
            return _describe(sources)
    return ""


def union(items: Sequence[Ingress], maybe: Sequence[Ingress] = ()) -> Answer | None:
    """Do the rules `items` together admit the Internet (in IPv4 or in IPv6)? YES, or UNKNOWN when only
    the rules in `maybe` (whose ports are not known) or rules that may not be ingress complete it; None
    when the known CIDRs, all taken, do not."""
    certain = [item for item in items if not item.direction_doubt]
    unsure = [*maybe, *(item for item in items if item.direction_doubt)]
    found = _spanning(certain)
    if found:
        return Answer(Truth.YES, found)
    if unsure and (found := _spanning(certain + unsure)):
        reasons = "; ".join(dict.fromkeys(item.direction_doubt or item.rule_doubt for item in unsure))
        return Answer(
            Truth.UNKNOWN, f"it may admit {found}: {reasons}", fix="set type, protocol and ports literally"
        )
    return None


def internet(items: Sequence[Ingress]) -> Answer:
    """Do the rules together admit the Internet? UNKNOWN when a source of theirs cannot be told."""
    return union(items) or next(
        (doubt for item in items for doubt in item.doubts), Answer(Truth.NO, "no Internet source")
    )


@dataclass(frozen=True, slots=True)
class _Form:
    """Where a rule form keeps its sources and protocol."""

    cidr_keys: tuple[str, ...]
    prefix_list_key: str
    protocol_key: str


# pulumi-aws: `ingress` of ec2.SecurityGroup and ec2.SecurityGroupRule (cidrBlocks, ipv6CidrBlocks,
# prefixListIds, securityGroups/sourceSecurityGroupId, self); vpc.SecurityGroupIngressRule (cidrIpv4,
# cidrIpv6, prefixListId, referencedSecurityGroupId). Referenced groups admit their members only.
_CLASSIC = _Form(("cidrBlocks", "ipv6CidrBlocks"), "prefixListIds", "protocol")
_VPC_RULE = _Form(("cidrIpv4", "cidrIpv6"), "prefixListId", "ipProtocol")


def _protocol(holder: Node, value: Any) -> tuple[str | None, str]:
    if is_unknown(value):
        return None, f"the protocol of {holder.label} is only known after apply"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str):
        token = value.strip().lower()
        if token in _PROTOCOLS:
            return _PROTOCOLS[token], ""
        if token.isdigit() and int(token) <= 255:
            return str(int(token)), ""
    return None, f"the protocol of {holder.label} cannot be read ({shown(value)})"


def _port(holder: Node, key: str, value: Any) -> tuple[int | None, str]:
    if is_unknown(value):
        return None, f"the {key} of {holder.label} is only known after apply"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value, ""
    return None, f"the {key} of {holder.label} cannot be read ({shown(value)})"


def _ports(holder: Node, rule: Mapping[str, Any]) -> tuple[tuple[int, int] | None, str]:
    low, why_low = _port(holder, "fromPort", rule.get("fromPort"))
    high, why_high = _port(holder, "toPort", rule.get("toPort"))
    if low is None or high is None:
        return None, why_low or why_high
    if low < 0 or high < 0:
        return ALL_PORTS, ""  # -1 is AWS's "every type" for ICMP; for tcp/udp read it as widely
    low, high = sorted((low, high))
    return (low, min(high, ALL_PORTS[1])), ""


class Admission:
    """Every ingress rule of one stack, by holder and by the security group it reaches."""

    def __init__(self, index: StackIndex) -> None:
        self.index = index
        self._declared: dict[str, list[Ingress]] = {}

    # --- one rule -----------------------------------------------------------------------------

    def declared_by(self, node: Node) -> list[Ingress]:
        """The ingress a resource itself declares: inline rules of a group, or one rule resource."""
        declared = self._declared.get(node.urn)
        if declared is None:
            declared = self._declared[node.urn] = self._declare(node)
        return declared

    def _declare(self, node: Node) -> list[Ingress]:
        props = node.props
        if node.type in aws.SECURITY_GROUP_TYPES:
            rules = props.get("ingress")
            if rules is None:
                return []
            if is_unknown(rules):
                return [
                    self._doubt(node, f"the inline ingress rules of {node.label} are only known after apply")
                ]
            if not isinstance(rules, list):
                return [
                    self._doubt(
                        node, f"the inline ingress rules of {node.label} cannot be read ({shown(rules)})"
                    )
                ]
            return [
                self._rule(node, rule, "ingress", _CLASSIC, "")
                if isinstance(rule, Mapping)
                else self._doubt(
                    node,
                    f"an inline ingress rule of {node.label} is only known after apply"
                    if is_unknown(rule)
                    else f"an inline ingress rule of {node.label} cannot be read ({shown(rule)})",
                )
                for rule in rules
            ]
        if node.type == aws.SECURITY_GROUP_RULE:
            direction = props.get("type")
            if direction == "egress":
                return []
            doubt = ""
            if is_unknown(direction):
                doubt = f"the type of {node.label} is only known after apply, so it may be an ingress rule"
            elif direction != "ingress":
                doubt = f"the type of {node.label} cannot be read ({shown(direction)})"
            return [self._rule(node, props, None, _CLASSIC, doubt)]
        if node.type == aws.SECURITY_GROUP_INGRESS_RULE:
            return [self._rule(node, props, None, _VPC_RULE, "")]
        return []

    @staticmethod
    def _doubt(holder: Node, why: str) -> Ingress:
        doubt = Answer(Truth.UNKNOWN, why, fix="set the ingress rules literally")
        return Ingress(holder, None, None, doubts=(doubt,), rule_doubt=why, world=doubt)

    def _rule(
        self, holder: Node, rule: Mapping[str, Any], shared_key: str | None, form: _Form, direction_doubt: str
    ) -> Ingress:
        protocol, rule_doubt = _protocol(holder, rule.get(form.protocol_key))
        ports: tuple[int, int] | None = ALL_PORTS if protocol == ALL else None
        if protocol in _PORT_PROTOCOLS:
            ports, rule_doubt = _ports(holder, rule)
        sources: list[Source] = []
        doubts: list[Answer] = []
        for key in form.cidr_keys:
            self._read_cidrs(holder, shared_key or key, key, rule.get(key), "", sources, doubts)
        prefix_key = form.prefix_list_key
        self._read_prefix_lists(
            holder, shared_key or prefix_key, prefix_key, rule.get(prefix_key), sources, doubts
        )
        ingress = Ingress(
            holder, protocol, ports, tuple(sources), tuple(dict.fromkeys(doubts)), rule_doubt, direction_doubt
        )
        return replace(ingress, world=internet([ingress]))

    def _read_cidrs(
        self,
        holder: Node,
        dependency_key: str,
        key: str,
        value: Any,
        origin: str,
        sources: list[Source],
        doubts: list[Answer],
    ) -> None:
        for cidr in [value] if is_unknown(value) else as_list(value):
            if cidr is None or cidr == "":
                continue
            if is_unknown(cidr):
                origins = self.index.dependencies_of(holder, dependency_key)
                if not origins or any(source.type not in _INTERNAL_CIDR_SOURCES for source in origins):
                    doubts.append(
                        Answer(
                            Truth.UNKNOWN,
                            f"a {key} value of {holder.label} is only known after apply and does not come "
                            "from a VPC or subnet range",
                            fix=_LITERAL_FIX,
                        )
                    )
                continue
            network = network_of(cidr) if isinstance(cidr, str) else None
            if network is None:
                doubts.append(
                    Answer(
                        Truth.UNKNOWN,
                        f"{key} of {holder.label} holds {shown(cidr)}, which cannot be read as a CIDR",
                        fix=_LITERAL_FIX,
                    )
                )
            else:
                sources.append(Source(network, cidr.strip() + origin, holder))

    def _read_prefix_lists(
        self,
        holder: Node,
        dependency_key: str,
        key: str,
        value: Any,
        sources: list[Source],
        doubts: list[Answer],
    ) -> None:
        refs = self.index.refs(holder, dependency_key, value, _PREFIX_LIST_ONLY)
        for prefix_list in refs.nodes:
            listed_sources, listed_doubts = self._prefix_lists[prefix_list.urn]
            sources.extend(listed_sources)
            doubts.extend(listed_doubts)
        risky = [
            node
            for node in refs.maybe
            if any(map(public, self._networks_of(node))) or self._prefix_lists[node.urn][1]
        ]
        if risky:
            doubts.append(
                Answer(
                    Truth.UNKNOWN,
                    f"the prefix lists of {holder.label} cannot be told: {refs.gap()}",
                    fix=_LITERAL_FIX,
                )
            )
        if refs.unmanaged:
            ids = ", ".join(refs.unmanaged)
            doubts.append(
                Answer(
                    Truth.UNKNOWN,
                    f"prefix list {ids} of {holder.label} {'is' if len(refs.unmanaged) == 1 else 'are'} not "
                    "managed by this stack, so the addresses it admits cannot be told",
                    outside_stack=True,
                    fix="manage the prefix list in this stack, or admit its CIDRs directly",
                )
            )
        if refs.unresolved or refs.unreadable:
            doubts.append(
                Answer(
                    Truth.UNKNOWN,
                    f"the {key} of {holder.label} cannot be traced: {refs.gap()}",
                    fix=_LITERAL_FIX,
                )
            )

    def _networks_of(self, prefix_list: Node) -> list[Network]:
        return [source.network for source in self._prefix_lists[prefix_list.urn][0]]

    @cached_property
    def _prefix_lists(self) -> dict[str, tuple[list[Source], list[Answer]]]:
        """Managed prefix list URN -> the CIDRs its entries admit (inline and entry resources), and doubts."""
        listed: dict[str, tuple[list[Source], list[Answer]]] = {}
        for prefix_list in self.index.of_type(aws.MANAGED_PREFIX_LIST):
            sources, doubts = listed.setdefault(prefix_list.urn, ([], []))
            entries = prefix_list.props.get("entries")
            origin = f" (an entry of {prefix_list.label})"
            if is_unknown(entries):
                doubts.append(
                    Answer(
                        Truth.UNKNOWN,
                        f"the entries of {prefix_list.label} are only known after apply",
                        fix=_LITERAL_FIX,
                    )
                )
                continue
            for entry in as_list(entries):
                if isinstance(entry, Mapping):
                    self._read_cidrs(
                        prefix_list, "entries", "cidr", entry.get("cidr"), origin, sources, doubts
                    )
                else:
                    doubts.append(
                        Answer(
                            Truth.UNKNOWN,
                            f"an entry of {prefix_list.label} cannot be read ({shown(entry)})",
                            fix=_LITERAL_FIX,
                        )
                    )
        for entry in self.index.of_type(aws.MANAGED_PREFIX_LIST_ENTRY):
            refs = self.index.refs(entry, "prefixListId", entry.props.get("prefixListId"), _PREFIX_LIST_ONLY)
            sources, doubts = [], []
            self._read_cidrs(
                entry, "cidr", "cidr", entry.props.get("cidr"), f" ({entry.label})", sources, doubts
            )
            for prefix_list in refs.nodes:
                listed[prefix_list.urn][0].extend(sources)
                listed[prefix_list.urn][1].extend(doubts)
            if doubts or any(public(source.network) for source in sources):
                for prefix_list in refs.maybe:
                    listed[prefix_list.urn][1].append(
                        Answer(
                            Truth.UNKNOWN, f"{entry.label} may belong to it: {refs.gap()}", fix=_LITERAL_FIX
                        )
                    )
        return listed

    # --- by security group --------------------------------------------------------------------

    @cached_property
    def _by_group(self) -> tuple[dict[str, list[Ingress]], list[Ingress]]:
        index = self.index
        by_group: dict[str, list[Ingress]] = {}
        stray: list[Ingress] = []
        for resource_type in (aws.SECURITY_GROUP, aws.DEFAULT_SECURITY_GROUP):
            for group in index.of_type(resource_type):
                by_group.setdefault(index.security_group_key(group), []).extend(self.declared_by(group))
        for resource_type in (aws.SECURITY_GROUP_RULE, aws.SECURITY_GROUP_INGRESS_RULE):
            for rule in index.of_type(resource_type):
                ingress = self.declared_by(rule)
                if not ingress:
                    continue
                keys, refs = index.security_group_keys(rule, "securityGroupId")
                for key in keys:
                    by_group.setdefault(key, []).extend(ingress)
                if not refs.traced:
                    stray.extend(ingress)
        return by_group, stray

    def groups(self) -> Iterable[tuple[str, list[Ingress]]]:
        """Every security group key with the ingress reaching it."""
        return self._by_group[0].items()

    def ingress_of(self, key: str) -> list[Ingress]:
        """Every ingress reaching the group, inline or from rule resources."""
        return self._by_group[0].get(key, [])

    @property
    def untraced(self) -> list[Ingress]:
        """Ingress rule resources whose security group is only known after apply (or cannot be read)."""
        return self._by_group[1]


def admission(index: StackIndex) -> Admission:
    """The admission tables of the index, built once and shared by every rule."""
    return index.memo("admission", Admission)
