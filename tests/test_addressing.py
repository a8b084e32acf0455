"""Address planning: the layout users deploy, every refusal with its subject, and property tests.

The oracles here are `ipaddress` itself and plain sums, never the planner's own helpers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from ipaddress import IPv4Network
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from zappa_vpc.plan.addressing import (
    AddressPlan,
    AddressPlanError,
    PlannedSubnet,
    TierSpec,
    plan_addresses,
    prefix_for_hosts,
    usable_addresses,
)

THREE_TIERS = (TierSpec("private", 20), TierSpec("public", 24), TierSpec("data", 24))
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cidrs(subnets: Sequence[PlannedSubnet]) -> list[str]:
    return [subnet.cidr for subnet in subnets]


def problems_of(**plan_args: Any) -> dict[str, str]:
    """subject -> reason for every problem the plan reports (it must report some)."""
    arguments = {"vpc_cidr": "10.0.0.0/16", "tiers": THREE_TIERS, "az_count": 2, **plan_args}
    with pytest.raises(AddressPlanError) as raised:
        plan_addresses(**arguments)
    subjects = [problem.subject for problem in raised.value.problems]
    assert len(subjects) == len(set(subjects)), f"a subject reported twice: {subjects}"
    return {problem.subject: problem.reason for problem in raised.value.problems}


# --- The layout users deploy -----------------------------------------------------------------------


def test_default_layout_is_pinned() -> None:
    """A change to these CIDRs replaces every deployed subnet: change the layout only on purpose."""
    plan = plan_addresses("10.0.0.0/16", THREE_TIERS, az_count=3)

    assert cidrs(plan.tier("private")) == ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]
    assert cidrs(plan.tier("public")) == ["10.0.64.0/24", "10.0.65.0/24", "10.0.66.0/24"]
    assert cidrs(plan.tier("data")) == ["10.0.68.0/24", "10.0.69.0/24", "10.0.70.0/24"]
    assert cidrs(plan.reserved) == ["10.0.48.0/20", "10.0.67.0/24", "10.0.71.0/24"]


def test_subnets_follow_the_given_tier_order_but_the_layout_puts_large_subnets_first() -> None:
    plan = plan_addresses("10.0.0.0/16", [TierSpec("public", 24), TierSpec("private", 20)], az_count=2)

    assert [(subnet.tier, subnet.az_index) for subnet in plan.subnets] == [
        ("public", 0),
        ("public", 1),
        ("private", 0),
        ("private", 1),
    ]
    assert cidrs(plan.tier("private")) == ["10.0.0.0/20", "10.0.16.0/20"]
    assert cidrs(plan.tier("public")) == ["10.0.64.0/24", "10.0.65.0/24"]


def test_tiers_of_equal_size_are_laid_out_by_tier_whatever_the_order() -> None:
    for tiers in (
        [TierSpec("data", 24), TierSpec("public", 24)],
        [TierSpec("public", 24), TierSpec("data", 24)],
    ):
        plan = plan_addresses("10.0.0.0/16", tiers, az_count=2, az_slots=2)

        assert [s.cidr for s in plan.tier("public")] == ["10.0.0.0/24", "10.0.1.0/24"]
        assert [s.cidr for s in plan.tier("data")] == ["10.0.2.0/24", "10.0.3.0/24"]


def test_usable_addresses_are_reported_per_subnet() -> None:
    plan = plan_addresses("10.0.0.0/16", THREE_TIERS, az_count=2)

    assert {subnet.tier: subnet.usable_addresses for subnet in plan.subnets} == {
        "private": 4091,
        "public": 251,
        "data": 251,
    }


def test_unknown_tier_lookup_names_the_tiers_there_are() -> None:
    plan = plan_addresses("10.0.0.0/16", THREE_TIERS, az_count=2)

    with pytest.raises(KeyError, match="its tiers are private, public, data"):
        plan.tier("isolated")


def test_table_shows_each_subnet_and_where_the_addresses_go() -> None:
    plan = plan_addresses("10.0.0.0/16", THREE_TIERS, az_count=2)

    assert plan.table(az_names=["eu-west-1a", "eu-west-1b"]).splitlines() == [
        "tier     AZ          CIDR          usable",
        "private  eu-west-1a  10.0.0.0/20     4091",
        "private  eu-west-1b  10.0.16.0/20    4091",
        "public   eu-west-1a  10.0.64.0/24     251",
        "public   eu-west-1b  10.0.65.0/24     251",
        "data     eu-west-1a  10.0.68.0/24     251",
        "data     eu-west-1b  10.0.69.0/24     251",
        "10.0.0.0/16 (65536 addresses): 9216 in 6 subnets, 9216 kept in 6 slots for more AZs, "
        "47104 unallocated",
    ]


# --- Explicit CIDRs --------------------------------------------------------------------------------


def test_explicit_cidrs_replace_a_tier_and_the_other_tiers_stay_put() -> None:
    explicit = {"data": ["10.0.200.0/24", "10.0.201.0/28"]}
    plan = plan_addresses("10.0.0.0/16", THREE_TIERS, az_count=2, explicit=explicit)
    planned = plan_addresses("10.0.0.0/16", THREE_TIERS, az_count=2)

    assert cidrs(plan.tier("data")) == ["10.0.200.0/24", "10.0.201.0/28"]
    assert [subnet.usable_addresses for subnet in plan.tier("data")] == [251, 11]
    assert plan.tier("private") == planned.tier("private")
    assert plan.tier("public") == planned.tier("public")
    assert {subnet.tier for subnet in plan.reserved} == {"private", "public"}


def test_explicit_cidrs_may_use_the_block_their_own_tier_keeps() -> None:
    plan = plan_addresses(
        "10.0.0.0/16", THREE_TIERS, az_count=2, explicit={"data": ["10.0.68.0/25", "10.0.71.0/24"]}
    )

    assert cidrs(plan.tier("data")) == ["10.0.68.0/25", "10.0.71.0/24"]


def test_a_small_vpc_can_be_adopted_whole_whatever_the_tier_prefixes() -> None:
    every_tier = {
        "private": ["10.0.0.0/28", "10.0.0.16/28"],
        "public": ["10.0.0.32/28", "10.0.0.48/28"],
        "data": ["10.0.0.64/28", "10.0.0.80/28"],
    }
    plan = plan_addresses("10.0.0.0/24", THREE_TIERS, az_count=2, explicit=every_tier)

    assert cidrs(plan.subnets) == [cidr for tier_cidrs in every_tier.values() for cidr in tier_cidrs]
    assert plan.reserved == ()


# --- Refusals: each with its exact subject and a reason that says what would be valid --------------

REFUSALS = [
    pytest.param({"vpc_cidr": "10.0.0/16"}, "vpc_cidr", "is not an IPv4 CIDR", id="malformed-vpc"),
    pytest.param(
        {"vpc_cidr": "10.0.0.0"}, "vpc_cidr", "with a prefix length, like 10.0.0.0/16", id="no-prefix"
    ),
    pytest.param({"vpc_cidr": "fd00::/56"}, "vpc_cidr", "is not an IPv4 CIDR", id="ipv6-vpc"),
    pytest.param({"vpc_cidr": None}, "vpc_cidr", "must be an IPv4 CIDR", id="missing-vpc"),
    pytest.param({"vpc_cidr": "10.0.0.1/16"}, "vpc_cidr", "did you mean 10.0.0.0/16?", id="host-bits"),
    pytest.param({"vpc_cidr": "10.0.0.0/8"}, "vpc_cidr", "is a /8: AWS VPCs are /16", id="vpc-too-large"),
    pytest.param({"vpc_cidr": "10.0.0.0/29"}, "vpc_cidr", "is a /29: AWS VPCs are /16", id="vpc-too-small"),
    pytest.param({"vpc_cidr": "127.0.0.0/16"}, "vpc_cidr", "loopback range", id="loopback-vpc"),
    pytest.param({"vpc_cidr": "169.254.0.0/16"}, "vpc_cidr", "instance metadata", id="link-local-vpc"),
    pytest.param({"vpc_cidr": "10.0.0.0/19"}, "vpc_cidr", "use a /17 or larger VPC", id="too-little-room"),
    pytest.param({"az_count": 1}, "az_count", "the database and the Lambda need two", id="one-az"),
    pytest.param({"az_count": "3"}, "az_count", "use 2 or more", id="az-count-not-a-number"),
    pytest.param({"az_count": 5}, "az_count", "use at most 4 AZs", id="more-azs-than-slots"),
    pytest.param({"az_slots": 1}, "az_slots", "at least 2", id="one-slot"),
    pytest.param({"tiers": []}, "tiers", "plan at least one tier", id="no-tiers"),
    pytest.param(
        {"tiers": [TierSpec("private", 15)]},
        "tier:private",
        "AWS subnets are /16",
        id="tier-prefix-too-large",
    ),
    pytest.param(
        {"tiers": [TierSpec("data", 29)]}, "tier:data", "AWS subnets are /16", id="tier-prefix-too-small"
    ),
    pytest.param(
        {"tiers": [TierSpec("data", 24.0)]}, "tier:data", "a whole number", id="tier-prefix-not-int"
    ),
    pytest.param(
        {"vpc_cidr": "10.0.0.0/24", "tiers": [TierSpec("data", 24)]},
        "tier:data",
        "must be smaller than the VPC; use a prefix above 24",
        id="tier-as-large-as-vpc",
    ),
    pytest.param(
        {"tiers": [TierSpec("data", 24), TierSpec("data", 26)]},
        "tier:data",
        "is given twice",
        id="duplicate-tier",
    ),
    pytest.param(
        {"explicit": {"isolated": ["10.0.200.0/24", "10.0.201.0/24"]}},
        "tier:isolated",
        "the tiers are private, public, data",
        id="explicit-unknown-tier",
    ),
    pytest.param(
        {"explicit": {"data": "10.0.200.0/24"}}, "tier:data", "give a list of CIDRs", id="explicit-one-string"
    ),
    pytest.param(
        {"explicit": {"data": ["10.0.200.0/24"]}},
        "tier:data",
        "gives 1 explicit CIDRs for 2 AZs: give exactly one per AZ in use",
        id="explicit-too-few",
    ),
    pytest.param(
        {"explicit": {"data": ["10.0.200.0/24", "10.0.201.9/24"]}},
        "tier:data[1]",
        "did you mean 10.0.201.0/24?",
        id="explicit-host-bits",
    ),
    pytest.param(
        {"explicit": {"data": ["10.0.200.0/24", "10.0.201.0/29"]}},
        "tier:data[1]",
        "is a /29: AWS subnets are /16",
        id="explicit-too-small",
    ),
    pytest.param(
        {"explicit": {"data": ["10.1.0.0/24", "10.0.201.0/24"]}},
        "tier:data[0]",
        "lies outside the VPC 10.0.0.0/16",
        id="explicit-outside-vpc",
    ),
    pytest.param(
        {"explicit": {"data": ["10.0.200.0/24", "10.0.200.128/25"]}},
        "tier:data[1]",
        "overlaps 10.0.200.0/24, given as tier:data[0]",
        id="explicit-overlaps-explicit",
    ),
    pytest.param(
        {"explicit": {"data": ["10.0.200.0/24", "10.0.16.0/24"]}},
        "tier:data[1]",
        "overlaps 10.0.16.0/20, the slot of the private subnet for AZ 1; "
        "free ranges: 10.0.68.0/22, 10.0.72.0/21",
        id="explicit-overlaps-planned",
    ),
    pytest.param(
        {"explicit": {"data": ["10.0.200.0/24", "10.0.48.0/24"]}},
        "tier:data[1]",
        "the slot of the private subnet for AZ 3",
        id="explicit-overlaps-a-slot-kept-for-a-later-az",
    ),
]


@pytest.mark.parametrize(("plan_args", "subject", "reason"), REFUSALS)
def test_refusal_names_the_input_and_the_fix(plan_args: dict[str, Any], subject: str, reason: str) -> None:
    problems = problems_of(**plan_args)

    assert list(problems) == [subject]
    assert reason in problems[subject]


def test_every_problem_is_reported_at_once() -> None:
    problems = problems_of(
        vpc_cidr="10.0.0.1/16",
        tiers=[TierSpec("private", 20), TierSpec("public", 30)],
        az_count=1,
        explicit={"data": ["10.0.200.0/24", "10.0.201.0/24"]},
    )

    assert sorted(problems) == ["az_count", "tier:data", "tier:public", "vpc_cidr"]


def test_error_message_lists_subject_value_and_reason() -> None:
    with pytest.raises(AddressPlanError) as raised:
        plan_addresses("10.0.0.1/16", THREE_TIERS, az_count=1)

    assert str(raised.value).splitlines() == [
        "the address plan has 2 problems:",
        "  vpc_cidr = '10.0.0.1/16': has host bits set: did you mean 10.0.0.0/16?",
        "  az_count = 1: needs at least 2 availability zones: the database and the Lambda need two; "
        "use 2 or more",
    ]


def test_room_message_counts_what_the_tiers_need() -> None:
    reason = problems_of(vpc_cidr="10.0.0.0/19")["vpc_cidr"]

    assert reason == (
        "too little room: the tiers need 18432 addresses for 4 AZ slots (private 4 x /20, public 4 x /24, "
        "data 4 x /24) but 10.0.0.0/19 holds 8192; use a /17 or larger VPC, smaller tier subnets "
        "(a larger prefix number) or fewer AZ slots"
    )


def test_room_message_says_when_no_vpc_is_large_enough() -> None:
    reason = problems_of(tiers=[TierSpec("private", 17)], az_slots=3)["vpc_cidr"]

    assert "no VPC is that large (AWS allows at most a /16); use smaller tier subnets" in reason


# --- Sizing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hosts", "prefix"), [(0, 28), (11, 28), (12, 27), (251, 24), (252, 23), (4091, 20), (65531, 16)]
)
def test_prefix_for_hosts_picks_the_smallest_subnet_that_holds_them(hosts: int, prefix: int) -> None:
    assert prefix_for_hosts(hosts) == prefix


@pytest.mark.parametrize(
    ("hosts", "reason"),
    [
        (65532, "the largest, a /16, has 65531 usable addresses"),
        (-1, "a whole number"),
        (True, "a whole number"),
    ],
)
def test_prefix_for_hosts_refuses_what_no_subnet_holds(hosts: object, reason: str) -> None:
    with pytest.raises(AddressPlanError) as raised:
        prefix_for_hosts(hosts, subject="tier:private")  # type: ignore[arg-type]

    [problem] = raised.value.problems
    assert (problem.subject, problem.value) == ("tier:private", hosts)
    assert reason in problem.reason


def test_tier_sized_for_hosts_reports_the_tier_as_subject() -> None:
    assert TierSpec.for_hosts("private", 4000) == TierSpec("private", 20)
    with pytest.raises(AddressPlanError) as raised:
        TierSpec.for_hosts("private", 100_000)
    assert [problem.subject for problem in raised.value.problems] == ["tier:private"]


@pytest.mark.parametrize("prefix", [15, 29])
def test_usable_addresses_refuses_prefixes_aws_does_not_allow(prefix: int) -> None:
    with pytest.raises(ValueError, match=f"not /{prefix}"):
        usable_addresses(prefix)


# --- Properties ------------------------------------------------------------------------------------

PRIVATE_RANGES = [IPv4Network("10.0.0.0/8"), IPv4Network("172.16.0.0/12"), IPv4Network("192.168.0.0/16")]


def addresses_needed(prefixes: Sequence[int], az_slots: int) -> int:
    return sum(az_slots * 2 ** (32 - prefix) for prefix in prefixes)


@st.composite
def blocks_within(draw: st.DrawFn, parent: IPv4Network, prefix: int) -> IPv4Network:
    """Any aligned block of this prefix inside `parent`."""
    size = 2 ** (32 - prefix)
    index = draw(st.integers(0, parent.num_addresses // size - 1))
    return IPv4Network((int(parent.network_address) + index * size, prefix))


@st.composite
def vpcs(draw: st.DrawFn, prefix: int) -> str:
    """A VPC CIDR of this prefix somewhere in the private ranges."""
    return str(draw(blocks_within(draw(st.sampled_from(PRIVATE_RANGES)), prefix)))


@st.composite
def plan_inputs(draw: st.DrawFn) -> dict[str, Any]:
    """Inputs that fit: 1-4 tiers, 2-6 slots, a VPC from the smallest that holds the layout up to a /16."""
    az_slots = draw(st.integers(2, 6))
    prefixes = draw(st.lists(st.integers(20, 28), min_size=1, max_size=4))
    needed = addresses_needed(prefixes, az_slots)
    smallest_vpc_prefix = next(prefix for prefix in range(28, 0, -1) if 2 ** (32 - prefix) >= needed)
    assume(smallest_vpc_prefix >= 16)
    return {
        "vpc_cidr": draw(vpcs(draw(st.integers(16, smallest_vpc_prefix)))),
        "tiers": [TierSpec(f"tier{index}", prefix) for index, prefix in enumerate(prefixes)],
        "az_count": draw(st.integers(2, az_slots)),
        "az_slots": az_slots,
    }


def assert_disjoint_and_inside(plan: AddressPlan) -> None:
    vpc = IPv4Network(plan.vpc_cidr)
    networks = [IPv4Network(subnet.cidr) for subnet in (*plan.subnets, *plan.reserved)]
    for index, network in enumerate(networks):
        assert network.subnet_of(vpc), f"{network} is outside {vpc}"
        overlapping = [other for other in networks[index + 1 :] if other.overlaps(network)]
        assert not overlapping, f"{network} overlaps {overlapping}"


@PROPERTY_SETTINGS
@given(plan_inputs())
def test_planned_subnets_are_disjoint_inside_the_vpc_and_the_tiers_size(inputs: dict[str, Any]) -> None:
    plan = plan_addresses(**inputs)

    assert_disjoint_and_inside(plan)
    for tier in inputs["tiers"]:
        assert [IPv4Network(subnet.cidr).prefixlen for subnet in plan.tier(tier.name)] == [
            tier.prefix
        ] * inputs["az_count"]
        assert [subnet.az_index for subnet in plan.tier(tier.name)] == list(range(inputs["az_count"]))


@PROPERTY_SETTINGS
@given(plan_inputs())
def test_planning_is_deterministic(inputs: dict[str, Any]) -> None:
    assert plan_addresses(**inputs) == plan_addresses(**inputs)


@PROPERTY_SETTINGS
@given(plan_inputs())
def test_adding_an_az_moves_no_subnet_and_fills_the_slot_kept_for_it(inputs: dict[str, Any]) -> None:
    assume(inputs["az_count"] < inputs["az_slots"])
    az_count = inputs["az_count"]
    before = plan_addresses(**inputs)
    after = plan_addresses(**{**inputs, "az_count": az_count + 1})

    for tier in inputs["tiers"]:
        assert after.tier(tier.name)[:az_count] == before.tier(tier.name)
        kept_for_next_az = [
            slot for slot in before.reserved if (slot.tier, slot.az_index) == (tier.name, az_count)
        ]
        assert [after.tier(tier.name)[az_count]] == kept_for_next_az


@PROPERTY_SETTINGS
@given(plan_inputs())
def test_usable_addresses_are_the_subnet_size_less_the_five_aws_keeps(inputs: dict[str, Any]) -> None:
    for subnet in plan_addresses(**inputs).subnets:
        assert subnet.usable_addresses == IPv4Network(subnet.cidr).num_addresses - 5


@PROPERTY_SETTINGS
@given(plan_inputs(), st.data())
def test_pinning_a_tier_to_its_planned_cidrs_changes_nothing(
    inputs: dict[str, Any], data: st.DataObject
) -> None:
    plan = plan_addresses(**inputs)
    tier = data.draw(st.sampled_from(inputs["tiers"]))

    pinned = plan_addresses(**inputs, explicit={tier.name: cidrs(plan.tier(tier.name))})

    assert pinned.subnets == plan.subnets


@PROPERTY_SETTINGS
@given(plan_inputs(), st.data())
def test_accepted_explicit_cidrs_never_overlap_anything(inputs: dict[str, Any], data: st.DataObject) -> None:
    vpc = IPv4Network(inputs["vpc_cidr"])
    tier = data.draw(st.sampled_from(inputs["tiers"]))
    explicit_prefix = data.draw(st.integers(vpc.prefixlen + 1, 28))
    az_count = inputs["az_count"]
    chosen = data.draw(st.lists(blocks_within(vpc, explicit_prefix), min_size=az_count, max_size=az_count))

    try:
        plan = plan_addresses(**inputs, explicit={tier.name: [str(network) for network in chosen]})
    except AddressPlanError as error:
        assert {problem.subject for problem in error.problems} <= {
            f"tier:{tier.name}[{index}]" for index in range(len(chosen))
        }
        assert all("overlaps" in problem.reason for problem in error.problems)
        return
    assert_disjoint_and_inside(plan)


@st.composite
def crowded_inputs(draw: st.DrawFn) -> dict[str, Any]:
    """Any VPC and tier sizes the prefix checks accept, whether or not the layout fits."""
    vpc_prefix = draw(st.integers(16, 26))
    az_slots = draw(st.integers(2, 6))
    return {
        "vpc_cidr": draw(vpcs(vpc_prefix)),
        "tiers": [
            TierSpec(f"tier{index}", prefix)
            for index, prefix in enumerate(
                draw(st.lists(st.integers(vpc_prefix + 1, 28), min_size=1, max_size=4))
            )
        ],
        "az_count": 2,
        "az_slots": az_slots,
    }


@PROPERTY_SETTINGS
@given(crowded_inputs())
def test_a_plan_fails_exactly_when_the_vpc_is_too_small_and_the_suggested_size_fits(
    inputs: dict[str, Any],
) -> None:
    needed = addresses_needed([tier.prefix for tier in inputs["tiers"]], inputs["az_slots"])
    vpc = IPv4Network(inputs["vpc_cidr"])
    if needed <= vpc.num_addresses:
        assert_disjoint_and_inside(plan_addresses(**inputs))
        return

    problems = problems_of(**inputs)
    assert list(problems) == ["vpc_cidr"]
    assert f"too little room: the tiers need {needed} addresses" in problems["vpc_cidr"]
    suggested = re.search(r"use a /(\d+) or larger VPC", problems["vpc_cidr"])
    if suggested is None:
        assert needed > 2**16
        return
    just_big_enough = int(suggested.group(1))
    assert_disjoint_and_inside(plan_addresses(**{**inputs, "vpc_cidr": f"10.0.0.0/{just_big_enough}"}))
    with pytest.raises(AddressPlanError):
        plan_addresses(**{**inputs, "vpc_cidr": f"10.0.0.0/{just_big_enough + 1}"})


@PROPERTY_SETTINGS
@given(st.integers(0, 65531))
def test_prefix_for_hosts_is_the_smallest_subnet_that_holds_them(hosts: int) -> None:
    prefix = prefix_for_hosts(hosts)

    assert usable_addresses(prefix) >= hosts
    assert prefix == 28 or usable_addresses(prefix + 1) < hosts
