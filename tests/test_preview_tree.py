"""The resource tree: grouped by component as `pulumi preview` prints it, with counts by type."""

from __future__ import annotations

from preview_helpers import PATTERN_TYPE, RecordBuilder, public_private_network

from preview.model import UNKNOWN
from preview.tree import build_tree, counts_by_type, display_type, render_outputs, render_tree


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(" +   ")]


def test_children_hang_under_the_component_that_registered_them() -> None:
    records = public_private_network()
    root = build_tree(records, "zappa-vpc-dev")

    assert [child.record.type for child in root.children] == [PATTERN_TYPE]
    pattern = root.children[0]
    assert len(pattern.children) == len(records) - 2, "every resource of the fixture is the pattern's child"


def test_a_resource_whose_parent_was_not_recorded_is_shown_under_the_stack() -> None:
    build = RecordBuilder()
    build.add("aws:ec2/vpc:Vpc", "lost", parent="urn:pulumi:dev::zappa-vpc::zappa-vpc:x:Gone::gone")

    root = build_tree(build.records, "zappa-vpc-dev")

    assert [child.record.name for child in root.children] == ["lost"]


def test_providers_are_hidden_and_a_missing_stack_resource_is_made_up() -> None:
    build = RecordBuilder(with_stack=False)
    provider = build.add("pulumi:providers:aws", "default")
    vpc = build.add("aws:ec2/vpc:Vpc", "v")
    root = build_tree([provider, vpc], "zappa-vpc-dev")

    assert (root.record.type, root.record.name) == ("pulumi:pulumi:Stack", "zappa-vpc-dev")
    assert [child.record.name for child in root.children] == ["v"]
    assert "pulumi:providers:aws" not in counts_by_type([provider, vpc])


def test_the_table_reads_like_a_first_pulumi_preview() -> None:
    text = render_tree(build_tree(public_private_network(), "zappa-vpc-dev"))
    rows = _rows(text)

    assert text.splitlines()[0].split() == ["Type", "Name", "Plan"]
    assert rows[0].split() == ["+", "pulumi:pulumi:Stack", "zappa-vpc-dev", "create"]
    assert rows[1].split() == ["+", "└─", PATTERN_TYPE, "dev", "create"]
    assert all(row.startswith(" +      ") for row in rows[2:]), "the pattern's children are indented under it"
    assert rows[2].split()[1:3] == ["├─", "aws:ec2:CustomerGateway"], "sorted by type, then name"
    assert rows[-1].split()[1:3] == ["└─", "aws:rds:SubnetGroup"]


def test_type_tokens_are_shortened_only_where_the_module_repeats_the_name() -> None:
    assert display_type("aws:ec2/vpc:Vpc") == "aws:ec2:Vpc"
    assert (
        display_type("aws:ec2/routeTableAssociation:RouteTableAssociation") == "aws:ec2:RouteTableAssociation"
    )
    assert display_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == (
        "aws:vpc:SecurityGroupIngressRule"
    )
    assert display_type("aws:rds/instance:Instance") == "aws:rds:Instance"
    assert display_type("aws:ec2/getAmi:Other") == "aws:ec2/getAmi:Other"
    assert display_type(PATTERN_TYPE) == PATTERN_TYPE


def test_counts_by_type_put_the_most_numerous_first_and_leave_out_the_stack() -> None:
    counts = counts_by_type(public_private_network())

    assert next(iter(counts.items())) == ("aws:ec2/routeTableAssociation:RouteTableAssociation", 6)
    assert counts["aws:ec2/subnet:Subnet"] == 6
    assert counts["aws:ec2/natGateway:NatGateway"] == 2
    assert "pulumi:pulumi:Stack" not in counts


def test_unknown_outputs_show_as_the_cli_shows_them() -> None:
    text = render_outputs({"vpc_id": UNKNOWN, "pattern": "hybrid", "ids": {"public": [UNKNOWN, UNKNOWN]}})

    assert text.splitlines() == [
        "Outputs:",
        "    ids    : {public: [output<string>, output<string>]}",
        '    pattern: "hybrid"',
        "    vpc_id : output<string>",
    ]
