"""A pure index over one stack's resources, answering the questions the network rules ask.

No Pulumi import: it is built from plain `Node`s, so it can be tested and benchmarked alone.

What it knows that a flag check does not: what a property points at. A reference is followed by
the value when it is known (an id, a name, or a VPC's default route table / security group id) and
by the engine's `property_dependencies` when it is not, which is every id on a first preview. From
there it answers: is this subnet public (its explicit route table, else its VPC's main table, routed
to an internet gateway), in which AZ is it, which security groups a property names (`admission.py`
answers what they admit). Each answer is YES, NO or UNKNOWN with the reason, never a guess: an unknown
value is never read for a verdict, and a value of the wrong shape (an object where an id belongs, a
number where a list does) is a doubt, never a crash.

Everything is built once, in passes linear in the number of resources, and memoised per query.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cached_property
from typing import Any, TypeVar

from . import aws_types as aws

# The engine's markers for values not known until apply (pulumi_policy.proxy). The CLI sends the
# string one for every kind, but all of them mean the same here.
UNKNOWN_VALUES = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


class Unreadable(Enum):
    """A property value of a shape the rule cannot read (`flag` returns it)."""

    VALUE = "unreadable"


def flag(value: Any) -> bool | str | Unreadable | None:
    """A boolean property: True, False, None when unset, the unknown marker as is, or `Unreadable`.
    The exact strings "true" and "false" are the booleans they spell, as Terraform's type conversion
    (which the bridged provider applies) reads them (developer.hashicorp.com, function `tobool`)."""
    if value is None or isinstance(value, bool) or is_unknown(value):
        return value
    if value in ("true", "false"):
        return value == "true"
    return Unreadable.VALUE


def shown(value: Any) -> str:
    """A property value for a message, cut short."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """One resource as the engine shows it: camelCase properties with unknown markers, and the URNs
    each property's value came from."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any] = field(default_factory=dict)
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    provider_region: str = ""  # the region its provider is configured with, when the engine shows it

    @property
    def label(self) -> str:
        return aws.label(self.type, self.name)


class Truth(Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Answer:
    """A verdict and why. `outside_stack` marks an UNKNOWN caused by a resource this stack does not
    manage (rather than by a value only known after apply)."""

    truth: Truth
    because: str
    outside_stack: bool = False
    fix: str = ""  # for an UNKNOWN: what would make it decidable, when the rule's own fix does not fit


@dataclass(frozen=True, slots=True)
class Refs:
    """The resources a reference property points at.

    `nodes` are certain. When the dependencies name more resources of the wanted type than the
    property has unresolved values, `maybe` holds them and `maybe_count` says how many are used.
    `unmanaged` are known ids matching nothing in this stack; `unresolved` counts unknown values with
    no dependency to follow; `unreadable` are values that are no id at all (objects, numbers), shown.
    """

    nodes: tuple[Node, ...] = ()
    maybe: tuple[Node, ...] = ()
    maybe_count: int = 0
    unmanaged: tuple[str, ...] = ()
    unresolved: int = 0
    unreadable: tuple[str, ...] = ()

    @property
    def certain(self) -> bool:
        return not (self.maybe or self.unmanaged or self.unresolved or self.unreadable)

    @property
    def traced(self) -> bool:
        """Every target is known, in this stack or by an id outside it."""
        return not (self.maybe or self.unresolved or self.unreadable)

    @property
    def count(self) -> int:
        """How many values the property holds (its length, known even when its items are not)."""
        return (
            len(self.nodes) + self.maybe_count + len(self.unmanaged) + self.unresolved + len(self.unreadable)
        )

    def gap(self) -> str:
        """Why the targets are not all known, for a message (empty when they are)."""
        reasons = []
        if self.unmanaged:
            reasons.append(
                f"{', '.join(self.unmanaged)} {'is' if len(self.unmanaged) == 1 else 'are'} "
                "not managed by this stack"
            )
        if self.unresolved:
            reasons.append(
                f"{self.unresolved} value{'s' if self.unresolved > 1 else ''} only known after "
                "apply, from nothing this stack can follow"
            )
        if self.maybe:
            names = ", ".join(node.label for node in self.maybe)
            reasons.append(f"it uses {self.maybe_count} of {names}, and which cannot be told before apply")
        if self.unreadable:
            reasons.append(f"{', '.join(self.unreadable)} cannot be read as an id")
        return "; ".join(reasons)


NO_REFS = Refs()


@dataclass(frozen=True, slots=True)
class Zone:
    """A subnet's availability zone (`name` or `id` form), or why it is not known."""

    key: str | None
    why_unknown: str = ""


@dataclass
class _RouteTable:
    """What the stack shows of one route table: the answers of its routes and the NATs they use."""

    title: str
    internet: list[Answer] = field(default_factory=list)
    nat: list[Refs] = field(default_factory=list)


_IDENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    aws.VPC: ("id", "arn", "defaultRouteTableId", "mainRouteTableId", "defaultSecurityGroupId"),
    aws.DEFAULT_VPC: ("id", "arn", "defaultRouteTableId", "mainRouteTableId", "defaultSecurityGroupId"),
    aws.DB_SUBNET_GROUP: ("id", "arn", "name"),
    aws.RDS_CLUSTER: ("id", "arn", "clusterIdentifier"),
    aws.RDS_INSTANCE: ("id", "arn", "identifier"),
}
_DEFAULT_IDENTITY_FIELDS = ("id", "arn")

_VPC_ONLY = aws.VPC_TYPES
# A subnet's vpcId may be a CIDR block association's output (a subnet in a secondary range).
_VPC_TARGETS = aws.VPC_TYPES | {aws.VPC_IPV4_CIDR_ASSOCIATION}
_SUBNET_ONLY = aws.SUBNET_TYPES
_NAT_ONLY = frozenset({aws.NAT_GATEWAY})
_CARRIER_ONLY = frozenset({aws.CARRIER_GATEWAY})
_ROUTE_TABLE_TARGETS = frozenset({aws.ROUTE_TABLE, aws.DEFAULT_ROUTE_TABLE}) | aws.VPC_TYPES
_SECURITY_GROUP_TARGETS = aws.SECURITY_GROUP_TYPES | aws.VPC_TYPES
# The main table of a default VPC the stack does not show: AWS routes it to an internet gateway.
_DEFAULT_VPC_TABLE = "default-vpc#route-table"
_ID_PREFIX_GATEWAYS = {"igw-": Truth.YES, "vgw-": Truth.NO, "eigw-": Truth.NO}
_DEFAULT_GROUP_SUFFIX = "#default-security-group"
_VPC_TABLE_SUFFIX = "#route-table"
_T = TypeVar("_T")


def declared_region(node: Node) -> str:
    """The region a resource says it is in: its own `region` (pulumi-aws 7), else its provider's; empty
    when neither is known."""
    for region in (node.props.get("region"), node.provider_region):
        if isinstance(region, str) and region and not is_unknown(region):
            return region
    return ""


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class StackIndex:
    """Every query the rules make of one stack. Build it once per analysis and share it."""

    def __init__(self, nodes: Iterable[Node]) -> None:
        self.by_urn: dict[str, Node] = {}
        self._of_type: dict[str, list[Node]] = {}
        self._identity: dict[str, list[Node]] = {}
        for node in nodes:
            self.by_urn[node.urn] = node
            self._of_type.setdefault(node.type, []).append(node)
            props = node.props
            for name in _IDENTITY_FIELDS.get(node.type, _DEFAULT_IDENTITY_FIELDS):
                value = props.get(name)
                if isinstance(value, str) and value and value not in UNKNOWN_VALUES:
                    self._identity.setdefault(value, []).append(node)
        self._public: dict[str, Answer] = {}
        self._table_internet: dict[str, Answer] = {}
        self._memo: dict[str, Any] = {}
        self._stray_internet: list[Node] = []  # routes to the internet whose route table cannot be traced
        self.lookup_note = ""  # why AWS could not be read for the ids this stack does not manage

    def memo(self, key: str, build: Callable[[StackIndex], _T]) -> _T:
        """What `build(self)` returns, built once per index: the other concern modules (admission)
        keep their own tables on the shared index this way."""
        if key not in self._memo:
            self._memo[key] = build(self)
        return self._memo[key]

    def of_type(self, resource_type: str) -> list[Node]:
        return self._of_type.get(resource_type, [])

    # --- references ---------------------------------------------------------------------------

    def dependencies_of(self, node: Node, key: str) -> list[Node]:
        """What the value of `key` came from: its property dependencies, else (for records that do not
        carry them) the resource's dependencies."""
        urns = node.property_dependencies.get(key)
        if urns is None:
            urns = node.dependencies
        by_urn = self.by_urn
        return [by_urn[urn] for urn in urns if urn in by_urn]

    def find(self, identity: Any, types: frozenset[str]) -> Node | None:
        if not isinstance(identity, str):
            return None
        for node in self._identity.get(identity, ()):
            if node.type in types:
                return node
        return None

    def find_any(self, identity: str) -> bool:
        """Does a resource of the stack have this id (or name)?"""
        return identity in self._identity

    def refs(self, node: Node, key: str, value: Any, types: frozenset[str]) -> Refs:
        """Resolve the reference `value` (one id or a list) held under property `key` of `node`.

        Known values are matched by id (or name); values that match nothing, and unknown ones, are
        filled from the dependencies of `key` that have a wanted type. A wholly unknown list is taken
        to hold exactly those dependencies.
        """
        if value is None or value == "" or value == []:
            return NO_REFS
        if is_unknown(value):
            candidates = self._candidates(node, key, types, ())
            return Refs(nodes=tuple(candidates)) if candidates else Refs(unresolved=1)
        found: list[Node] = []
        unmatched: list[str] = []
        unreadable: list[str] = []
        unknown = 0
        for item in as_list(value):
            if is_unknown(item):
                unknown += 1
            elif isinstance(item, str):
                target = self.find(item, types) if item else None
                if target is None:
                    if item:
                        unmatched.append(item)
                elif target not in found:
                    found.append(target)
            elif item is not None:
                unreadable.append(shown(item))
        open_slots = unknown + len(unmatched)
        bad = tuple(unreadable)
        if not open_slots:
            return Refs(nodes=tuple(found), unreadable=bad)
        candidates = self._candidates(node, key, types, found)
        if len(candidates) > open_slots:
            return Refs(nodes=tuple(found), maybe=tuple(candidates), maybe_count=open_slots, unreadable=bad)
        # Dependencies explain the unknown values first; known ids left over point outside the stack.
        left_unknown = max(unknown - len(candidates), 0)
        left_known = open_slots - len(candidates) - left_unknown
        return Refs(
            nodes=tuple(found + candidates),
            unmanaged=tuple(unmatched[len(unmatched) - left_known :]) if left_known else (),
            unresolved=left_unknown,
            unreadable=bad,
        )

    def _candidates(self, node: Node, key: str, types: frozenset[str], exclude: Iterable[Node]) -> list[Node]:
        taken = set(exclude)
        candidates: list[Node] = []
        for dependency in self.dependencies_of(node, key):
            if dependency.type in types and dependency not in taken:
                taken.add(dependency)
                candidates.append(dependency)
        return candidates

    def vpcs_of(self, node: Node) -> Refs:
        refs = self.refs(node, "vpcId", node.props.get("vpcId"), _VPC_TARGETS)
        if all(target.type in aws.VPC_TYPES for target in refs.nodes):
            return refs
        vpcs: list[Node] = []
        for target in refs.nodes:
            if target.type == aws.VPC_IPV4_CIDR_ASSOCIATION:
                vpcs.extend(self.refs(target, "vpcId", target.props.get("vpcId"), _VPC_ONLY).nodes)
            else:
                vpcs.append(target)
        return replace(refs, nodes=tuple(dict.fromkeys(vpcs)))

    # --- routing --------------------------------------------------------------------------------

    @staticmethod
    def _vpc_table_key(vpc: Node) -> str:
        # The table AWS creates with the VPC: its main table until a MainRouteTableAssociation says otherwise.
        return vpc.urn + _VPC_TABLE_SUFFIX

    def _table_keys(self, holder: Node, key: str) -> list[str]:
        refs = self.refs(holder, key, holder.props.get(key), _ROUTE_TABLE_TARGETS)
        keys = []
        for target in refs.nodes:
            if target.type == aws.ROUTE_TABLE:
                keys.append(target.urn)
            elif target.type in aws.VPC_TYPES:
                keys.append(self._vpc_table_key(target))
            else:
                keys.extend(self._default_route_table_keys[target.urn])
        keys.extend(f"id:{identity}" for identity in refs.unmanaged)
        if refs.maybe or refs.unresolved:
            keys.append(f"?{holder.urn}#{key}")
        return keys

    @cached_property
    def _default_route_table_keys(self) -> dict[str, list[str]]:
        keys: dict[str, list[str]] = {}
        for table in self.of_type(aws.DEFAULT_ROUTE_TABLE):
            vpcs = self.refs(table, "defaultRouteTableId", table.props.get("defaultRouteTableId"), _VPC_ONLY)
            keys[table.urn] = [self._vpc_table_key(vpc) for vpc in vpcs.nodes] or [table.urn]
        return keys

    @cached_property
    def _route_tables(self) -> dict[str, _RouteTable]:
        tables: dict[str, _RouteTable] = {}
        for table in self.of_type(aws.ROUTE_TABLE):
            tables[table.urn] = _RouteTable(title=table.label)
            self._add_inline_routes(tables[table.urn], table)
        for table in self.of_type(aws.DEFAULT_ROUTE_TABLE):
            for key in self._default_route_table_keys[table.urn]:
                entry = tables.setdefault(key, _RouteTable(title=table.label))
                entry.title = table.label
                self._add_inline_routes(entry, table)
        for vpc in self.of_type(aws.DEFAULT_VPC):
            key = self._vpc_table_key(vpc)
            if key not in tables:
                # Adopting a default VPC keeps what AWS made: a main table routing 0.0.0.0/0 to an internet
                # gateway (Amazon VPC User Guide, "Default VPC components"). A DefaultRouteTable replaces
                # those routes with its own (terraform aws_default_route_table: it removes all routes first).
                tables[key] = _RouteTable(
                    title=self._table_title(key),
                    internet=[Answer(Truth.YES, f"the internet gateway AWS gives {vpc.label}")],
                )
        for route in self.of_type(aws.ROUTE):
            internet = self._route_answer(route, "gatewayId", route.props)
            nat = self.refs(route, "natGatewayId", route.props.get("natGatewayId"), _NAT_ONLY)
            for key in self._table_keys(route, "routeTableId"):
                entry = tables.setdefault(key, _RouteTable(title=self._table_title(key)))
                entry.internet.append(internet)
                entry.nat.append(nat)
                if key.startswith("?") and internet.truth is not Truth.NO:
                    self._stray_internet.append(route)
        return tables

    def _route_answer(self, holder: Node, key: str, *routes: Mapping[str, Any]) -> Answer:
        """Does any of these routes make its table public? Only two targets let the internet in: an internet
        gateway (`gatewayId`) and a carrier gateway (Wavelength, reached from the carrier network). NAT,
        egress-only, transit and VPN gateways, peering, endpoints, interfaces and local gateways do not."""
        carrier = next((route["carrierGatewayId"] for route in routes if route.get("carrierGatewayId")), None)
        if carrier is not None:
            targets = self.refs(
                holder, "routes" if key == "routes" else "carrierGatewayId", carrier, _CARRIER_ONLY
            )
            named = targets.nodes[0].label if targets.nodes else f"carrier gateway {carrier}"
            return Answer(
                Truth.YES, "a carrier gateway" if is_unknown(carrier) and not targets.nodes else named
            )
        gateways = [route.get("gatewayId") for route in routes if route.get("gatewayId") is not None]
        return self._gateway_answer(holder, key, gateways)

    def _add_inline_routes(self, table: _RouteTable, holder: Node) -> None:
        routes = holder.props.get("routes")
        if routes is None:
            return
        if is_unknown(routes):
            table.internet.append(
                Answer(Truth.UNKNOWN, f"the inline routes of {holder.label} are only known after apply")
            )
            return
        if not isinstance(routes, list) or not all(isinstance(route, Mapping) for route in routes):
            table.internet.append(
                Answer(Truth.UNKNOWN, f"the inline routes of {holder.label} cannot be read ({shown(routes)})")
            )
            return
        # Inline routes share one dependency list ("routes"), so their gateways are resolved together.
        table.internet.append(self._route_answer(holder, "routes", *routes))
        nats = [route.get("natGatewayId") for route in routes if route.get("natGatewayId") is not None]
        table.nat.append(self.refs(holder, "routes", nats, _NAT_ONLY))

    def _gateway_answer(self, holder: Node, key: str, gateways: list[Any]) -> Answer:
        """Does any of these `gatewayId` values lead to an internet gateway (not a VPN gateway)?"""
        unknown: list[Any] = []
        doubt: Answer | None = None
        for gateway in gateways:
            if is_unknown(gateway):
                unknown.append(gateway)
                continue
            if not isinstance(gateway, str):
                doubt = Answer(
                    Truth.UNKNOWN, f"a gatewayId of {holder.label} cannot be read ({shown(gateway)})"
                )
                continue
            if gateway in ("", "local"):
                continue
            target = self.find(gateway, aws.GATEWAY_TYPES)
            if target is not None:
                if target.type in aws.INTERNET_GATEWAY_TYPES:
                    return Answer(Truth.YES, target.label)
                continue
            by_prefix = next((t for p, t in _ID_PREFIX_GATEWAYS.items() if gateway.startswith(p)), None)
            if by_prefix is Truth.YES:
                return Answer(Truth.YES, f"internet gateway {gateway}")
            if by_prefix is None:
                doubt = Answer(
                    Truth.UNKNOWN,
                    f"gateway {gateway} of {holder.label} is not managed by this "
                    "stack, so whether it is an internet gateway cannot be told",
                    outside_stack=True,
                )
        if unknown:
            refs = self.refs(holder, key, unknown, aws.GATEWAY_TYPES)
            internet = [node for node in refs.nodes if node.type in aws.INTERNET_GATEWAY_TYPES]
            if internet:
                return Answer(Truth.YES, internet[0].label)
            maybe_internet = [node for node in refs.maybe if node.type in aws.INTERNET_GATEWAY_TYPES]
            if maybe_internet and refs.maybe_count > len(refs.maybe) - len(maybe_internet):
                return Answer(Truth.YES, maybe_internet[0].label)
            if maybe_internet or refs.unresolved:
                return Answer(
                    Truth.UNKNOWN,
                    f"a gateway of {holder.label} is only known after apply and "
                    f"cannot be traced ({refs.gap()})",
                )
        return doubt or Answer(Truth.NO, "no internet gateway")

    def _table_title(self, key: str) -> str:
        if key.startswith("id:"):
            return f"route table {key[3:]}"
        if key == _DEFAULT_VPC_TABLE:
            return "the main route table of the default VPC"
        if key.endswith(_VPC_TABLE_SUFFIX):
            vpc = self.by_urn.get(key[: -len(_VPC_TABLE_SUFFIX)])
            return f"the route table AWS created with {vpc.label if vpc else 'its VPC'}"
        return "a route table only known after apply"

    @cached_property
    def _explicit_tables(self) -> dict[str, list[str]]:
        """Subnet URN -> the tables its explicit associations name."""
        explicit: dict[str, list[str]] = {}
        for association in self.of_type(aws.ROUTE_TABLE_ASSOCIATION):
            subnet_id = association.props.get("subnetId")
            if subnet_id is None:
                continue  # an edge association (gatewayId): it routes no subnet
            subnets = self.refs(association, "subnetId", subnet_id, _SUBNET_ONLY)
            keys = self._table_keys(association, "routeTableId")
            for subnet in subnets.nodes:
                explicit.setdefault(subnet.urn, []).extend(keys)
            for subnet in subnets.maybe:
                explicit.setdefault(subnet.urn, []).append(f"?{association.urn}#subnetId")
        return explicit

    @cached_property
    def _main_tables(self) -> dict[str, list[str]]:
        """VPC URN -> its main table when a MainRouteTableAssociation replaces the one AWS created."""
        main: dict[str, list[str]] = {}
        for association in self.of_type(aws.MAIN_ROUTE_TABLE_ASSOCIATION):
            keys = self._table_keys(association, "routeTableId")
            for vpc in self.vpcs_of(association).nodes:
                main.setdefault(vpc.urn, []).extend(keys)
        return main

    def subnet_public(self, subnet: Node) -> Answer:
        """Is the subnet routed to an internet gateway, through its explicit route table or else its
        VPC's main route table?"""
        answer = self._public.get(subnet.urn)
        if answer is None:
            answer = self._subnet_public(subnet)
            self._public[subnet.urn] = answer
        return answer

    def _route_tables_of(self, subnet: Node) -> tuple[list[str], str, Refs]:
        """The tables routing the subnet (its explicit association, else its VPC's main table), how it
        got them (for messages), and its VPC reference when the main table is used."""
        keys = self._explicit_tables.get(subnet.urn)
        if keys:
            return keys, "", NO_REFS
        vpcs = self.vpcs_of(subnet)
        if subnet.type == aws.DEFAULT_SUBNET and not vpcs.count:
            # A default subnet is in its region's default VPC, which the stack may adopt or not show at all.
            defaults = self.of_type(aws.DEFAULT_VPC)
            vpcs = Refs(nodes=tuple(defaults))
            if not defaults:
                return (
                    [_DEFAULT_VPC_TABLE],
                    "as a default subnet it uses the main route table of the default VPC; ",
                    vpcs,
                )
        keys = [
            key for vpc in vpcs.nodes for key in self._main_tables.get(vpc.urn, [self._vpc_table_key(vpc)])
        ]
        via = ""
        if vpcs.nodes:
            via = f"with no route table association it uses the main route table of {vpcs.nodes[0].label}; "
        return keys, via, vpcs

    def _subnet_public(self, subnet: Node) -> Answer:
        keys, via, vpcs = self._route_tables_of(subnet)
        if not vpcs.certain or not keys:
            return Answer(
                Truth.UNKNOWN,
                f"{subnet.label} has no route table association and its VPC cannot be seen "
                f"({vpcs.gap() or 'it sets no vpcId'})",
                outside_stack=bool(vpcs.unmanaged),
            )
        answers = [self._internet_via_table(key) for key in keys]
        answer = next((a for a in answers if a.truth is Truth.YES), None) or next(
            (a for a in answers if a.truth is Truth.UNKNOWN), answers[0]
        )
        return Answer(answer.truth, via + answer.because, answer.outside_stack)

    def _internet_via_table(self, key: str) -> Answer:
        answer = self._table_internet.get(key)
        if answer is None:
            answer = self._table_answer(key)
            self._table_internet[key] = answer
        return answer

    def _table_answer(self, key: str) -> Answer:
        if key.startswith("?"):
            holder = self.by_urn.get(key[1:].rsplit("#", 1)[0])
            return Answer(
                Truth.UNKNOWN,
                f"the route table of {holder.label if holder else 'a route'} is only known after apply and "
                "cannot be traced",
            )
        table = self._route_tables.get(key) or _RouteTable(title=self._table_title(key))
        for answer in table.internet:
            if answer.truth is Truth.YES:
                return Answer(Truth.YES, f"{table.title} routes to {answer.because}")
        for answer in table.internet:
            if answer.truth is Truth.UNKNOWN:
                return answer
        if key == _DEFAULT_VPC_TABLE:
            return Answer(Truth.YES, f"{table.title} routes to the internet gateway AWS gives it")
        if key.startswith("id:"):
            return Answer(
                Truth.UNKNOWN,
                f"{table.title} is not managed by this stack, so its routes cannot be seen",
                outside_stack=True,
            )
        if self._stray_internet:
            return Answer(
                Truth.UNKNOWN,
                f"{self._stray_internet[0].label} may lead to an internet gateway and its route table is "
                "only known after apply",
            )
        return Answer(Truth.NO, f"{table.title} has no route to an internet gateway")

    def nat_gateways_of(self, subnet: Node) -> list[Refs]:
        """The NAT gateways the subnet's route table sends traffic to (explicit table, else the main one)."""
        tables = self._route_tables
        return [
            nat
            for key in self._route_tables_of(subnet)[0]
            if key in tables
            for nat in tables[key].nat
            if nat.count
        ]

    # --- placement ------------------------------------------------------------------------------

    @staticmethod
    def zone_of(subnet: Node) -> Zone:
        for name in ("availabilityZone", "availabilityZoneId"):
            value = subnet.props.get(name)
            if is_unknown(value):
                return Zone(None, f"the {name} of {subnet.label} is only known after apply")
            if isinstance(value, str) and value:
                return Zone(f"{name}={value}")
            if value not in (None, ""):
                return Zone(None, f"the {name} of {subnet.label} cannot be read ({shown(value)})")
        return Zone(None, f"{subnet.label} sets no availabilityZone, so AWS picks one when it creates it")

    # --- security groups ------------------------------------------------------------------------

    def security_group_keys(self, holder: Node, key: str) -> tuple[list[str], Refs]:
        """The security groups a property names: a SecurityGroup, or a VPC's default group."""
        refs = self.refs(holder, key, holder.props.get(key), _SECURITY_GROUP_TARGETS)
        keys = [self.security_group_key(target) for target in refs.nodes]
        keys.extend(f"id:{identity}" for identity in refs.unmanaged)
        return keys, refs

    def security_group_key(self, target: Node) -> str:
        """The key `ingress_of` files a group's rules under: its URN, or its VPC's default group."""
        if target.type == aws.SECURITY_GROUP:
            return target.urn
        if target.type in aws.VPC_TYPES:
            return self.default_security_group_key(target)
        vpcs = self.vpcs_of(target).nodes
        return self.default_security_group_key(vpcs[0]) if vpcs else target.urn

    @staticmethod
    def default_security_group_key(vpc: Node) -> str:
        return vpc.urn + _DEFAULT_GROUP_SUFFIX

    @staticmethod
    def is_default_security_group_key(key: str) -> bool:
        return key.endswith(_DEFAULT_GROUP_SUFFIX)

    def security_group_title(self, key: str) -> str:
        if key.startswith("id:"):
            return f"security group {key[3:]}"
        if key.endswith(_DEFAULT_GROUP_SUFFIX):
            vpc = self.by_urn.get(key[: -len(_DEFAULT_GROUP_SUFFIX)])
            return f"the default security group of {vpc.label if vpc else 'its VPC'}"
        node = self.by_urn.get(key)
        return node.label if node else f"security group {key}"

    # --- other relations ------------------------------------------------------------------------

    @cached_property
    def _flow_logs(self) -> tuple[set[str], list[Node]]:
        covered: set[str] = set()
        untraced: list[Node] = []
        for flow_log in self.of_type(aws.FLOW_LOG):
            if flow_log.props.get("vpcId") is None:
                continue  # a subnet, ENI or transit gateway flow log
            vpcs = self.vpcs_of(flow_log)
            covered.update(vpc.urn for vpc in vpcs.nodes)
            if not vpcs.traced:
                untraced.append(flow_log)
        return covered, untraced

    def flow_logged(self, vpc: Node) -> Answer:
        covered, untraced = self._flow_logs
        if vpc.urn in covered:
            return Answer(Truth.YES, "a VPC flow log names it")
        if untraced:
            return Answer(Truth.UNKNOWN, f"the VPC of {untraced[0].label} is only known after apply")
        return Answer(Truth.NO, "no flow log names it")

    @cached_property
    def _cluster_members(self) -> dict[str, list[Node]]:
        members: dict[str, list[Node]] = {}
        for instance in self.of_type(aws.RDS_CLUSTER_INSTANCE):
            clusters = self.refs(
                instance,
                "clusterIdentifier",
                instance.props.get("clusterIdentifier"),
                frozenset({aws.RDS_CLUSTER}),
            )
            for cluster in clusters.nodes:
                members.setdefault(cluster.urn, []).append(instance)
        return members

    def cluster_members(self, cluster: Node) -> list[Node]:
        return self._cluster_members.get(cluster.urn, [])
