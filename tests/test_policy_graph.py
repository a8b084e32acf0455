"""The pure stack index: references followed by id or by dependency, and the routing verdicts built on
them. Every routing case runs on a first preview (ids unknown), an update (ids known) and plain id
strings (no dependencies)."""

from __future__ import annotations

import pytest

from policies.network_guard import aws_types as aws
from policies.network_guard.graph import Node, StackIndex, Truth
from preview.model import UNKNOWN
from tests.policy_helpers import IdMode, Ref, StackBuilder, secure_stack, stack_nodes

MODES = list(IdMode)


def index_of(builder: StackBuilder, mode: IdMode) -> StackIndex:
    return StackIndex(stack_nodes(builder.records(mode)))


def subnet(index: StackIndex, builder: StackBuilder, name: str) -> Node:
    return index.by_urn[builder.urn(name)]


def public(builder: StackBuilder, mode: IdMode, name: str) -> Truth:
    index = index_of(builder, mode)
    return index.subnet_public(subnet(index, builder, name)).truth


# --- references ------------------------------------------------------------------------------------


def _node(name: str, resource_type: str = aws.SUBNET, **props: object) -> Node:
    return Node(urn=f"urn:{name}", type=resource_type, name=name, props=props)


def test_refs_match_known_ids_and_report_the_rest_as_unmanaged() -> None:
    first = _node("a", id="subnet-1")
    group = _node("g", aws.DB_SUBNET_GROUP, subnetIds=["subnet-1", "subnet-external"])
    refs = StackIndex([first, group]).refs(
        group, "subnetIds", group.props["subnetIds"], frozenset({aws.SUBNET})
    )
    assert (refs.nodes, refs.unmanaged, refs.unresolved) == ((first,), ("subnet-external",), 0)


def test_refs_follow_property_dependencies_for_unknown_values() -> None:
    first, second = _node("a"), _node("b")
    group = Node(
        "urn:g",
        aws.DB_SUBNET_GROUP,
        "g",
        {"subnetIds": [UNKNOWN, UNKNOWN]},
        property_dependencies={"subnetIds": ("urn:a", "urn:b")},
    )
    refs = StackIndex([first, second, group]).refs(
        group, "subnetIds", [UNKNOWN, UNKNOWN], frozenset({aws.SUBNET})
    )
    assert (refs.nodes, refs.certain, refs.count) == ((first, second), True, 2)


def test_refs_take_a_wholly_unknown_list_as_its_dependencies() -> None:
    first, second = _node("a"), _node("b")
    group = Node(
        "urn:g",
        aws.DB_SUBNET_GROUP,
        "g",
        {"subnetIds": UNKNOWN},
        property_dependencies={"subnetIds": ("urn:a", "urn:b")},
    )
    refs = StackIndex([first, second, group]).refs(group, "subnetIds", UNKNOWN, frozenset({aws.SUBNET}))
    assert (refs.nodes, refs.certain) == ((first, second), True)


def test_refs_say_which_candidates_are_ambiguous() -> None:
    first, second = _node("a"), _node("b")
    group = Node(
        "urn:g",
        aws.DB_SUBNET_GROUP,
        "g",
        {"subnetIds": [UNKNOWN]},
        property_dependencies={"subnetIds": ("urn:a", "urn:b")},
    )
    refs = StackIndex([first, second, group]).refs(group, "subnetIds", [UNKNOWN], frozenset({aws.SUBNET}))
    assert (refs.nodes, refs.maybe, refs.maybe_count, refs.certain) == ((), (first, second), 1, False)


def test_refs_count_unknown_values_with_nothing_to_follow() -> None:
    group = _node("g", aws.DB_SUBNET_GROUP, subnetIds=[UNKNOWN])
    refs = StackIndex([group]).refs(group, "subnetIds", [UNKNOWN], frozenset({aws.SUBNET}))
    assert (refs.unresolved, refs.certain) == (1, False)


def test_refs_fall_back_on_dependencies_when_a_record_has_no_property_dependencies() -> None:
    vpc = _node("v", aws.VPC)
    child = Node("urn:s", aws.SUBNET, "s", {"vpcId": UNKNOWN}, dependencies=("urn:v",))
    assert StackIndex([vpc, child]).vpcs_of(child).nodes == (vpc,)


# --- public subnets ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_secure_network_has_public_and_private_subnets(mode: IdMode) -> None:
    builder = secure_stack()
    verdicts = {
        name: public(builder, mode, name) for name in ("app-public-a", "app-private-a", "app-private-b")
    }
    assert verdicts == {"app-public-a": Truth.YES, "app-private-a": Truth.NO, "app-private-b": Truth.NO}


@pytest.mark.parametrize("mode", MODES)
def test_unassociated_subnet_uses_the_main_table_aws_created(mode: IdMode) -> None:
    builder = secure_stack()
    builder.remove("app-private-a-rta")
    assert public(builder, mode, "app-private-a") is Truth.NO
    builder.add(
        aws.ROUTE,
        "main-to-igw",
        routeTableId=Ref("app-vpc").attr("mainRouteTableId"),
        destinationCidrBlock="0.0.0.0/0",
        gatewayId=Ref("app-igw"),
    )
    assert public(builder, mode, "app-private-a") is Truth.YES


@pytest.mark.parametrize("mode", MODES)
def test_main_route_table_association_replaces_the_main_table(mode: IdMode) -> None:
    builder = secure_stack()
    builder.remove("app-private-a-rta")
    builder.add(
        aws.MAIN_ROUTE_TABLE_ASSOCIATION, "main", vpcId=Ref("app-vpc"), routeTableId=Ref("app-public-rt")
    )
    index = index_of(builder, mode)
    answer = index.subnet_public(subnet(index, builder, "app-private-a"))
    assert answer.truth is Truth.YES
    assert answer.because == (
        "with no route table association it uses the main route table of VPC 'app-vpc'; "
        "route table 'app-public-rt' routes to internet gateway 'app-igw'"
    )


@pytest.mark.parametrize("mode", MODES)
def test_default_route_table_inline_route_to_igw_makes_unassociated_subnets_public(mode: IdMode) -> None:
    builder = secure_stack()
    builder.remove("app-private-a-rta")
    builder.add(
        aws.DEFAULT_ROUTE_TABLE,
        "default-rt",
        defaultRouteTableId=Ref("app-vpc").attr("defaultRouteTableId"),
        routes=[],
    )
    assert public(builder, mode, "app-private-a") is Truth.NO
    builder.set("default-rt", routes=[{"cidrBlock": "0.0.0.0/0", "gatewayId": Ref("app-igw")}])
    assert public(builder, mode, "app-private-a") is Truth.YES


@pytest.mark.parametrize("mode", MODES)
def test_inline_route_to_igw_makes_a_subnet_public(mode: IdMode) -> None:
    builder = secure_stack()
    builder.set("app-private-a-rt", routes=[{"cidrBlock": "10.9.0.0/16", "transitGatewayId": "tgw-1"}])
    assert public(builder, mode, "app-private-a") is Truth.NO
    builder.set("app-private-a-rt", routes=[{"cidrBlock": "0.0.0.0/0", "gatewayId": Ref("app-igw")}])
    assert public(builder, mode, "app-private-a") is Truth.YES


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("gateway_type", "target_key"),
    [
        (aws.VPN_GATEWAY, "gatewayId"),
        (aws.EGRESS_ONLY_GATEWAY, "egressOnlyGatewayId"),
        (aws.TRANSIT_GATEWAY, "transitGatewayId"),
        (aws.NAT_GATEWAY, "natGatewayId"),
    ],
)
def test_routes_to_other_gateways_keep_a_subnet_private(
    mode: IdMode, gateway_type: str, target_key: str
) -> None:
    builder = secure_stack()
    builder.add(gateway_type, "other-gateway", vpcId=Ref("app-vpc"))
    builder.add(
        aws.ROUTE,
        "to-other",
        routeTableId=Ref("app-private-a-rt"),
        destinationCidrBlock="192.168.0.0/16",
        **{target_key: Ref("other-gateway")},
    )
    assert public(builder, mode, "app-private-a") is Truth.NO


@pytest.mark.parametrize(
    ("gateway", "expected"),
    [("igw-0abc", Truth.YES), ("vgw-0abc", Truth.NO), ("local", Truth.NO), ("gw-unknown", Truth.UNKNOWN)],
)
def test_gateway_ids_outside_the_stack_are_judged_by_prefix(gateway: str, expected: Truth) -> None:
    builder = secure_stack()
    builder.add(
        aws.ROUTE,
        "external",
        routeTableId=Ref("app-private-a-rt"),
        destinationCidrBlock="0.0.0.0/0",
        gatewayId=gateway,
    )
    assert public(builder, IdMode.UNKNOWN, "app-private-a") is expected


def test_subnet_whose_route_table_is_outside_the_stack_is_unknown() -> None:
    builder = secure_stack()
    builder.set("app-private-a-rta", routeTableId="rtb-shared")
    index = index_of(builder, IdMode.UNKNOWN)
    answer = index.subnet_public(subnet(index, builder, "app-private-a"))
    assert (answer.truth, answer.outside_stack) == (Truth.UNKNOWN, True)
    assert (
        answer.because == "route table rtb-shared is not managed by this stack, so its routes cannot be seen"
    )


# --- zones ------------------------------------------------------------------------


def test_zone_of_reads_name_or_id_and_says_why_it_is_unknown() -> None:
    assert StackIndex.zone_of(_node("a", availabilityZone="eu-west-1a")).key == "availabilityZone=eu-west-1a"
    assert StackIndex.zone_of(_node("b", availabilityZoneId="euw1-az1")).key == "availabilityZoneId=euw1-az1"
    assert StackIndex.zone_of(_node("c", availabilityZone=UNKNOWN)).why_unknown == (
        "the availabilityZone of subnet 'c' is only known after apply"
    )
    assert StackIndex.zone_of(_node("d")).why_unknown == (
        "subnet 'd' sets no availabilityZone, so AWS picks one when it creates it"
    )
