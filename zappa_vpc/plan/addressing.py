"""Address planning: carve the VPC CIDR into one subnet per availability zone per tier.

Pure integer arithmetic over `ipaddress` (no Pulumi import), so the settings module, the components, the
offline preview and the benchmarks share one plan and one set of refusals.

Why the layout is stable: every tier reserves `az_slots` equal, contiguous slots, and the tiers are laid out
from the start of the VPC, largest subnets first (ties by tier: public, private, data, then by name). The CIDR
of (tier, AZ index) therefore depends only on the VPC CIDR, the tiers' prefixes and `az_slots`, never on how
many AZs are in use, nor on the order the tiers are listed in: adding an AZ fills the next reserved slot
and moves nothing (a moved subnet is a replaced subnet). Largest first also means every block ends on a
boundary aligned for the next one, so no address is lost to alignment.
What does move subnets: changing `az_slots`, changing a tier's prefix, or adding a tier with larger subnets
than an existing one; settle those before the first deployment.

A tier given explicit CIDRs (to adopt an existing layout) keeps its place in the layout, so pinning a tier
never moves another one; its CIDRs may use that reserved block or any space no planned tier has reserved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError, summarize_address_range

# AWS accepts VPC and subnet CIDRs from /16 to /28.
LARGEST_PREFIX = 16
SMALLEST_PREFIX = 28
# AWS keeps the network address, the VPC router, DNS, one for future use and the broadcast address.
ADDRESSES_AWS_KEEPS = 5
# Room for four AZs per tier: more than most apps spread over, little enough that four /20 Lambda
# subnets take a quarter of a /16 VPC.
DEFAULT_AZ_SLOTS = 4
MIN_AZ_COUNT = 2

# Ranges that cannot carry a VPC's ordinary unicast traffic.
_UNUSABLE_RANGES = (
    (IPv4Network("0.0.0.0/8"), "'this network' range 0.0.0.0/8"),
    (IPv4Network("127.0.0.0/8"), "loopback range 127.0.0.0/8"),
    (
        IPv4Network("169.254.0.0/16"),
        "link-local range 169.254.0.0/16 (AWS serves instance metadata and DNS there)",
    ),
    (IPv4Network("224.0.0.0/4"), "multicast range 224.0.0.0/4"),
    (IPv4Network("240.0.0.0/4"), "reserved range 240.0.0.0/4"),
)
_PRIVATE_EXAMPLES = "a private range such as 10.0.0.0/16, 172.16.0.0/16 or 192.168.0.0/16"
# How many free ranges an overlap message suggests.
_FREE_RANGES_SHOWN = 3


@dataclass(frozen=True)
class TierSpec:
    """One subnet tier (e.g. `private` for Lambda, `public`, `data` for databases) and its subnets' prefix."""

    name: str
    prefix: int

    @classmethod
    def for_hosts(cls, name: str, hosts: int) -> TierSpec:
        """The tier sized to the smallest subnet whose usable addresses hold `hosts`."""
        return cls(name, prefix_for_hosts(hosts, subject=f"tier:{name}"))


@dataclass(frozen=True)
class PlannedSubnet:
    """The subnet of one tier in one AZ (by index into the stack's AZ list), with what it offers resources."""

    tier: str
    az_index: int
    cidr: str
    usable_addresses: int


@dataclass(frozen=True)
class PlanProblem:
    """One thing wrong with the input: which input (`subject`), the value given, what is wrong, what is valid.

    Subjects: `vpc_cidr`, `az_count`, `az_slots`, `tiers`, `hosts`, `tier:<name>`, and `tier:<name>[<i>]` for
    the i-th explicit CIDR of a tier.
    """

    subject: str
    value: object
    reason: str

    def __str__(self) -> str:
        return f"{self.subject} = {self.value!r}: {self.reason}"


class AddressPlanError(ValueError):
    """Every problem found in one planning call, reported together."""

    def __init__(self, problems: Sequence[PlanProblem]) -> None:
        self.problems = tuple(problems)
        count = f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        super().__init__("\n  ".join([f"the address plan has {count}:", *map(str, self.problems)]))


@dataclass(frozen=True)
class AddressPlan:
    """The subnets to create (`subnets`) and the slots kept for AZs not in use yet (`reserved`).

    Both are ordered by tier (in the order given) then AZ index. `reserved` shows where the next AZ will go;
    tiers given explicit CIDRs have no reserved slots.
    """

    vpc_cidr: str
    subnets: tuple[PlannedSubnet, ...]
    reserved: tuple[PlannedSubnet, ...]

    def tier(self, name: str) -> tuple[PlannedSubnet, ...]:
        """The tier's subnets in use, by AZ index."""
        found = tuple(subnet for subnet in self.subnets if subnet.tier == name)
        if not found:
            known = ", ".join(dict.fromkeys(subnet.tier for subnet in self.subnets))
            raise KeyError(f"no tier {name!r} in the address plan; its tiers are {known}")
        return found

    def table(self, az_names: Sequence[str] | None = None) -> str:
        """A short human table, one row per subnet, then where the VPC's addresses go.

        `az_names` (e.g. `["eu-west-1a", "eu-west-1b"]`) label the AZ column instead of the AZ index.
        """
        header = ("tier", "AZ", "CIDR", "usable")
        rows = [
            (
                subnet.tier,
                az_names[subnet.az_index] if az_names else str(subnet.az_index),
                subnet.cidr,
                str(subnet.usable_addresses),
            )
            for subnet in self.subnets
        ]
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
        lines = [
            "  ".join(
                [
                    *(cell.ljust(width) for cell, width in zip(row[:-1], widths[:-1], strict=True)),
                    row[-1].rjust(widths[-1]),
                ]
            )
            for row in [header, *rows]
        ]
        vpc_size = IPv4Network(self.vpc_cidr).num_addresses
        in_use = sum(IPv4Network(subnet.cidr).num_addresses for subnet in self.subnets)
        kept = sum(IPv4Network(slot.cidr).num_addresses for slot in self.reserved)
        lines.append(
            f"{self.vpc_cidr} ({vpc_size} addresses): {in_use} in {len(self.subnets)} subnets, "
            f"{kept} kept in {len(self.reserved)} slots for more AZs, {vpc_size - in_use - kept} unallocated"
        )
        return "\n".join(lines)


def usable_addresses(prefix: int) -> int:
    """Addresses a subnet of this prefix offers to resources, after the 5 AWS keeps."""
    if not LARGEST_PREFIX <= prefix <= SMALLEST_PREFIX:
        raise ValueError(f"AWS subnets are /{LARGEST_PREFIX} to /{SMALLEST_PREFIX}, not /{prefix}")
    return _size(prefix) - ADDRESSES_AWS_KEEPS


def prefix_for_hosts(hosts: int, subject: str = "hosts") -> int:
    """The largest prefix (smallest subnet) whose usable addresses hold `hosts`; /28 is the floor.

    `subject` names the input in the error, as in `PlanProblem`.
    """
    if not _is_whole_number(hosts) or hosts < 0:
        reason = "must be a whole number of addresses, 0 or more"
    else:
        # Smallest power of two holding the hosts plus the 5 addresses AWS keeps.
        prefix = min(SMALLEST_PREFIX, 32 - (hosts + ADDRESSES_AWS_KEEPS - 1).bit_length())
        if prefix >= LARGEST_PREFIX:
            return prefix
        reason = (
            f"no subnet holds that many: the largest, a /{LARGEST_PREFIX}, has "
            f"{usable_addresses(LARGEST_PREFIX)} usable addresses; spread the load over more subnets"
        )
    raise AddressPlanError([PlanProblem(subject, hosts, reason)])


def plan_addresses(
    vpc_cidr: str,
    tiers: Sequence[TierSpec],
    az_count: int,
    az_slots: int = DEFAULT_AZ_SLOTS,
    explicit: Mapping[str, Sequence[str]] | None = None,
) -> AddressPlan:
    """Plan one subnet per AZ in use for every tier, or raise `AddressPlanError` listing every problem.

    `tiers`: in any order (where a tier lands depends on its name and prefix only), each with the prefix of
    its subnets. `az_slots`: slots every tier reserves, the most AZs the plan can grow to without moving a
    subnet. `explicit`: for some tiers, the CIDRs to use instead of planning them, one per AZ in use in AZ
    order (e.g. to adopt existing subnets).
    """
    problems: list[PlanProblem] = []
    explicit = explicit or {}
    vpc = _parse_vpc(vpc_cidr, problems)
    counts_valid = _check_az_counts(az_count, az_slots, problems)
    tiers_valid = _check_tiers(tiers, vpc, explicit, problems)
    pinned = _parse_explicit(explicit, tiers, az_count if counts_valid else None, problems)

    slots: dict[str, tuple[_Block, ...]] = {}
    if vpc is not None and tiers_valid and _is_whole_number(az_slots) and az_slots >= MIN_AZ_COUNT:
        slots = _lay_out(vpc, tiers, az_slots)
        planned_slots = {name: tier_slots for name, tier_slots in slots.items() if name not in explicit}
        if _check_room(vpc, slots, list(planned_slots), az_slots, problems):
            _check_explicit_placement(vpc, pinned, planned_slots, problems)
    if problems:
        raise AddressPlanError(problems)

    def subnet(tier: str, az_index: int, block: _Block) -> PlannedSubnet:
        return PlannedSubnet(tier, az_index, str(block), usable_addresses(block.prefix))

    subnets: list[PlannedSubnet] = []
    reserved: list[PlannedSubnet] = []
    for tier in tiers:
        if tier.name in pinned:
            subnets += [subnet(tier.name, index, block) for index, block in enumerate(pinned[tier.name])]
        else:
            subnets += [
                subnet(tier.name, index, block) for index, block in enumerate(slots[tier.name][:az_count])
            ]
            reserved += [
                subnet(tier.name, index, block)
                for index, block in enumerate(slots[tier.name])
                if index >= az_count
            ]
    return AddressPlan(str(vpc), tuple(subnets), tuple(reserved))


@dataclass(frozen=True)
class _Block:
    """An aligned block of addresses as integers: cheap to compare, printed as a CIDR."""

    start: int
    prefix: int

    @property
    def end(self) -> int:
        return self.start + _size(self.prefix)

    def overlaps(self, other: _Block) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: _Block) -> bool:
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return f"{IPv4Address(self.start)}/{self.prefix}"


def _size(prefix: int) -> int:
    return 1 << (32 - prefix)


def _is_whole_number(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_cidr(subject: str, text: object, problems: list[PlanProblem]) -> _Block | None:
    """The block `text` names, or None after recording why it is not an IPv4 network CIDR."""
    reason = None
    if not isinstance(text, str) or "/" not in text:
        reason = "must be an IPv4 CIDR with a prefix length, like 10.0.0.0/16"
    else:
        try:
            network = IPv4Network(text)
        except (AddressValueError, NetmaskValueError):
            reason = "is not an IPv4 CIDR; write it like 10.0.0.0/16"
        except ValueError:
            reason = f"has host bits set: did you mean {IPv4Network(text, strict=False)}?"
    if reason is not None:
        problems.append(PlanProblem(subject, text, reason))
        return None
    return _Block(int(network.network_address), network.prefixlen)


def _prefix_out_of_range(prefix: int, kind: str) -> str | None:
    if LARGEST_PREFIX <= prefix <= SMALLEST_PREFIX:
        return None
    return (
        f"is a /{prefix}: AWS {kind}s are /{LARGEST_PREFIX} ({_size(LARGEST_PREFIX)} addresses) "
        f"to /{SMALLEST_PREFIX} ({_size(SMALLEST_PREFIX)} addresses); use a prefix from {LARGEST_PREFIX} to "
        f"{SMALLEST_PREFIX}"
    )


def _parse_vpc(vpc_cidr: object, problems: list[PlanProblem]) -> _Block | None:
    vpc = _parse_cidr("vpc_cidr", vpc_cidr, problems)
    if vpc is None:
        return None
    reason = _prefix_out_of_range(vpc.prefix, "VPC")
    for unusable, description in _UNUSABLE_RANGES:
        if reason is None and vpc.overlaps(_Block(int(unusable.network_address), unusable.prefixlen)):
            reason = f"lies in the {description}, which a VPC cannot use; use {_PRIVATE_EXAMPLES}"
    if reason is not None:
        problems.append(PlanProblem("vpc_cidr", vpc_cidr, reason))
        return None
    return vpc


def _check_az_counts(az_count: object, az_slots: object, problems: list[PlanProblem]) -> bool:
    """Record what is wrong with the AZ count and slots; True if both are usable."""
    count_problems = len(problems)
    if not _is_whole_number(az_count) or az_count < MIN_AZ_COUNT:
        problems.append(
            PlanProblem(
                "az_count",
                az_count,
                f"needs at least {MIN_AZ_COUNT} availability zones: the database and the Lambda need two; "
                f"use {MIN_AZ_COUNT} or more",
            )
        )
    if not _is_whole_number(az_slots) or az_slots < MIN_AZ_COUNT:
        problems.append(
            PlanProblem(
                "az_slots",
                az_slots,
                f"must be a whole number, at least {MIN_AZ_COUNT} and at least az_count: every tier "
                f"reserves this many subnet slots so that adding an AZ moves nothing; {DEFAULT_AZ_SLOTS} "
                "leaves room to grow",
            )
        )
    elif _is_whole_number(az_count) and az_count > az_slots:
        problems.append(
            PlanProblem(
                "az_count",
                az_count,
                f"is more than the {az_slots} AZ slots each tier reserves (az_slots = {az_slots}): use at "
                f"most {az_slots} AZs, or raise az_slots before the first deployment (changing it moves "
                "subnets)",
            )
        )
    return len(problems) == count_problems


def _check_tiers(
    tiers: Sequence[TierSpec], vpc: _Block | None, explicit: Mapping[str, object], problems: list[PlanProblem]
) -> bool:
    """Record what is wrong with the tier specs; True if every tier can be laid out."""
    count_problems = len(problems)
    if not tiers:
        problems.append(PlanProblem("tiers", tiers, "plan at least one tier, e.g. private for the Lambda"))
    seen: set[str] = set()
    for tier in tiers:
        subject = f"tier:{tier.name}"
        if tier.name in seen:
            problems.append(PlanProblem(subject, tier.name, "is given twice; give each tier once"))
        seen.add(tier.name)
        if not _is_whole_number(tier.prefix):
            reason = f"the prefix must be a whole number from {LARGEST_PREFIX} to {SMALLEST_PREFIX}"
        else:
            reason = _prefix_out_of_range(tier.prefix, "subnet")
        # An explicit tier's prefix only sets the size of the block it keeps in the layout.
        if reason is None and vpc is not None and tier.prefix <= vpc.prefix and tier.name not in explicit:
            reason = (
                f"is a /{tier.prefix} but the VPC {vpc} is a /{vpc.prefix}: a tier's subnets must be smaller "
                f"than the VPC; use a prefix above {vpc.prefix}"
            )
        if reason is not None:
            problems.append(PlanProblem(subject, tier.prefix, reason))
    return len(problems) == count_problems


def _parse_explicit(
    explicit: Mapping[str, Sequence[str]],
    tiers: Sequence[TierSpec],
    az_count: int | None,
    problems: list[PlanProblem],
) -> dict[str, list[_Block]]:
    """The explicit CIDRs of every tier as blocks, recording each one that is malformed or the wrong size."""
    tier_names = [tier.name for tier in tiers]
    pinned: dict[str, list[_Block]] = {}
    for name, cidrs in explicit.items():
        subject = f"tier:{name}"
        if name not in tier_names:
            problems.append(
                PlanProblem(
                    subject,
                    cidrs,
                    f"explicit CIDRs for an unknown tier; the tiers are {', '.join(tier_names)}",
                )
            )
            continue
        if isinstance(cidrs, str):
            problems.append(
                PlanProblem(subject, cidrs, "give a list of CIDRs, one per AZ in use, not one string")
            )
            continue
        if az_count is not None and len(cidrs) != az_count:
            problems.append(
                PlanProblem(
                    subject,
                    cidrs,
                    f"gives {len(cidrs)} explicit CIDRs for {az_count} AZs: give exactly one per AZ in use, "
                    "in AZ order",
                )
            )
        blocks = []
        for index, cidr in enumerate(cidrs):
            block = _parse_cidr(f"{subject}[{index}]", cidr, problems)
            if block is not None and (reason := _prefix_out_of_range(block.prefix, "subnet")):
                problems.append(PlanProblem(f"{subject}[{index}]", cidr, reason))
            elif block is not None:
                blocks.append(block)
        if len(blocks) == len(cidrs):
            pinned[name] = blocks
    return pinned


# Ties between equal prefixes are broken by tier, never by the order of the list given, so reordering the
# tiers cannot swap CIDRs between them (a moved subnet is a replaced subnet).
_TIER_ORDER = ("public", "private", "data")


def _tier_rank(name: str) -> tuple[int, str]:
    return (_TIER_ORDER.index(name) if name in _TIER_ORDER else len(_TIER_ORDER), name)


def _lay_out(vpc: _Block, tiers: Sequence[TierSpec], az_slots: int) -> dict[str, tuple[_Block, ...]]:
    """Every tier's `az_slots` slots, largest subnets first, ties by tier (public, private, data, then by
    name)."""
    slots = {}
    start = vpc.start
    for tier in sorted(tiers, key=lambda tier: (tier.prefix, *_tier_rank(tier.name))):
        size = _size(tier.prefix)
        slots[tier.name] = tuple(_Block(start + index * size, tier.prefix) for index in range(az_slots))
        start += az_slots * size
    return slots


def _check_room(
    vpc: _Block,
    slots: Mapping[str, tuple[_Block, ...]],
    planned_names: Sequence[str],
    az_slots: int,
    problems: list[PlanProblem],
) -> bool:
    """Record a problem unless every planned tier's slots end inside the VPC; True if they do."""
    layout_end = max((slots[name][-1].end for name in planned_names), default=vpc.start)
    needed = layout_end - vpc.start
    if needed <= _size(vpc.prefix):
        return True
    # Explicit tiers laid out before the last planned one count too: they keep their place.
    layout = ", ".join(
        f"{name} {az_slots} x /{tier_slots[0].prefix}"
        + ("" if name in planned_names else " kept for its explicit CIDRs")
        for name, tier_slots in slots.items()
        if tier_slots[0].start < layout_end
    )
    smallest_vpc_prefix = 32 - (needed - 1).bit_length()
    fixes = ["smaller tier subnets (a larger prefix number)"]
    if smallest_vpc_prefix >= LARGEST_PREFIX:
        fixes.insert(0, f"a /{smallest_vpc_prefix} or larger VPC")
    if az_slots > MIN_AZ_COUNT:
        fixes.append("fewer AZ slots")
    no_vpc_fits = (
        ""
        if smallest_vpc_prefix >= LARGEST_PREFIX
        else f"no VPC is that large (AWS allows at most a /{LARGEST_PREFIX}); "
    )
    problems.append(
        PlanProblem(
            "vpc_cidr",
            str(vpc),
            f"too little room: the tiers need {needed} addresses for {az_slots} AZ slots ({layout}) but "
            f"{vpc} holds {_size(vpc.prefix)}; {no_vpc_fits}use {_one_of(fixes)}",
        )
    )
    return False


def _one_of(options: Sequence[str]) -> str:
    """`a`, `a or b`, `a, b or c`."""
    return " or ".join([", ".join(options[:-1]), options[-1]]) if len(options) > 1 else options[0]


def _check_explicit_placement(
    vpc: _Block,
    pinned: Mapping[str, list[_Block]],
    planned_slots: Mapping[str, tuple[_Block, ...]],
    problems: list[PlanProblem],
) -> None:
    """Record each explicit CIDR that is outside the VPC, overlaps another one, or overlaps a planned slot."""
    planned = [
        (block, f"{block}, the slot of the {name} subnet for AZ {index}")
        for name, tier_slots in planned_slots.items()
        for index, block in enumerate(tier_slots)
    ]
    explicit_inside = [block for blocks in pinned.values() for block in blocks if vpc.contains(block)]
    free = _free_ranges(vpc, [block for block, _ in planned] + explicit_inside)
    checked: list[tuple[_Block, str]] = []
    for name, blocks in pinned.items():
        for index, block in enumerate(blocks):
            subject = f"tier:{name}[{index}]"
            overlapped = next((about for other, about in [*planned, *checked] if other.overlaps(block)), None)
            if not vpc.contains(block):
                problems.append(
                    PlanProblem(subject, str(block), f"lies outside the VPC {vpc}; use a CIDR inside it")
                )
            elif overlapped is not None:
                problems.append(
                    PlanProblem(subject, str(block), f"overlaps {overlapped}; free ranges: {free}")
                )
            checked.append((block, f"{block}, given as {subject}"))


def _free_ranges(vpc: _Block, taken: Sequence[_Block]) -> str:
    """The first few CIDRs inside the VPC that no block in `taken` (all inside the VPC) touches."""
    gaps = []
    cursor = vpc.start
    for block in sorted(taken, key=lambda block: block.start):
        gaps.append((cursor, block.start))
        cursor = max(cursor, block.end)
    gaps.append((cursor, vpc.end))
    free = [
        str(network)
        for first, end in gaps
        if end > first
        for network in summarize_address_range(IPv4Address(first), IPv4Address(end - 1))
    ]
    if not free:
        return "none, the VPC is full"
    return ", ".join(free[:_FREE_RANGES_SHOWN]) + (", ..." if len(free) > _FREE_RANGES_SHOWN else "")
