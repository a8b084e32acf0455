"""The network picture: what it places where is read from the records, and it is written as a real image."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextPath
from preview_helpers import RecordBuilder, public_private_network

from preview import picture
from preview.engine import StackRun, shipped_stacks
from preview.network import NetworkView, Placement, describe_network
from preview.picture import draw_network, fit, text_width

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _tier_and_zone(view: NetworkView, placement: Placement) -> list[tuple[str, str]]:
    by_urn = {s.urn: s for s in view.subnets}
    return [(by_urn[u].tier, by_urn[u].availability_zone) for u in placement.subnet_urns]


def _placements(view: NetworkView, kind: str) -> list[Placement]:
    return [p for p in view.placements if p.kind == kind]


def test_subnets_are_laid_out_by_zone_and_tier_tag() -> None:
    view = describe_network(public_private_network(), "dev")

    assert view.availability_zones == ("us-east-1a", "us-east-1b")
    assert view.tiers == ("public", "private", "data")
    assert [s.cidr for s in view.subnet("us-east-1b", "data")] == ["10.20.144.0/20"]
    assert (view.vpc_cidr, view.region, view.pattern) == ("10.20.0.0/16", "us-east-1", "PublicPrivateVpc")


def test_things_sit_in_the_subnets_their_inputs_point_at() -> None:
    view = describe_network(public_private_network(), "dev")

    nats = _placements(view, "nat")
    assert sorted(zone for nat in nats for _, zone in _tier_and_zone(view, nat)) == [
        "us-east-1a",
        "us-east-1b",
    ]
    assert {tier for nat in nats for tier, _ in _tier_and_zone(view, nat)} == {"public"}
    (database,) = _placements(view, "database")
    assert _tier_and_zone(view, database) == [("data", "us-east-1a"), ("data", "us-east-1b")], (
        "through the DB subnet group to its subnets"
    )
    assert database.detail == "db.t4g.micro · Multi-AZ"
    (lambda_group,) = _placements(view, "lambda-group")
    assert {tier for tier, _ in _tier_and_zone(view, lambda_group)} == {"private"}


def test_each_subnet_shows_where_its_default_route_goes() -> None:
    view = describe_network(public_private_network(), "dev")
    routes = {s.name: s.internet_route for s in view.subnets}

    assert routes["dev-public-a"] == "0.0.0.0/0 → internet gateway"
    assert routes["dev-private-b"] == "0.0.0.0/0 → NAT gateway (b)", "inline routes of the AZ's own table"


def test_a_hybrid_stack_draws_its_vpn_and_corporate_routes(stack_run: Callable[..., StackRun]) -> None:
    view = describe_network(stack_run("hybrid").records, "hybrid")

    assert view.vpn is not None
    assert view.vpn.corporate_cidrs == ("172.16.0.0/12",)
    assert view.vpn.customer_gateway == "203.0.113.10", "no ASN shown for static routing, where it is unused"
    corporate = {s.tier for s in view.subnets if s.corporate_route}
    assert corporate == {"private", "data"}, "the public tier does not learn the corporate routes"
    assert {s.internet_route for s in view.subnets if s.tier == "data"} == {"no internet route"}


def test_the_picture_is_a_real_png_and_svg_by_suffix(tmp_path: Path) -> None:
    view = describe_network(public_private_network(), "dev")

    png = draw_network(view, tmp_path / "pictures" / "dev.png", command="python -m preview dev")
    svg = draw_network(view, tmp_path / "dev.svg", command="python -m preview dev")

    assert png.read_bytes()[:8] == PNG_MAGIC
    assert png.stat().st_size > 30_000, "a drawing, not an empty canvas"
    assert svg.read_text().lstrip().startswith("<?xml")


def test_a_stack_without_subnets_still_draws(tmp_path: Path) -> None:
    view = describe_network([], "empty")

    assert draw_network(view, tmp_path / "empty.png", command="python -m preview empty").stat().st_size > 0


def test_long_labels_are_shortened_to_fit_their_box() -> None:
    label = fit("a-very-long-subnet-name-that-cannot-fit-in-a-column-us-east-1a", 1.5, 7.5, bold=True)

    assert label.endswith("…")
    assert text_width(label, 7.5, bold=True) <= 1.5
    assert fit("short", 1.5, 7.5) == "short"


def test_the_bastion_says_whether_it_opens_ssh(stack_run: Callable[..., StackRun]) -> None:
    ssh = {"zappa-vpc:bastion": "ssh", "zappa-vpc:bastionSshAllowlist": ["198.51.100.7/32"]}

    (default,) = _placements(describe_network(stack_run("dev").records, "dev"), "bastion")
    (with_ssh,) = _placements(describe_network(stack_run("dev", ssh).records, "dev"), "bastion")

    assert default.detail == "t4g.nano · SSM only"
    assert with_ssh.detail == "t4g.nano · SSH allowlist"


def test_a_subnet_without_the_tier_tag_gets_a_row_of_its_own() -> None:
    build = RecordBuilder()
    build.add(
        "aws:ec2/subnet:Subnet", "legacy", {"availabilityZone": "eu-west-1a", "cidrBlock": "10.9.0.0/24"}
    )

    view = describe_network(build.records, "legacy")

    assert view.tiers == ("untagged",)
    assert [s.internet_route for s in view.subnet("eu-west-1a", "untagged")] == ["no internet route"]


@pytest.mark.parametrize("stack", shipped_stacks())
def test_text_is_measured_as_its_outline_measures_for_every_label_a_picture_draws(
    stack: str, stack_run: Callable[..., StackRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[tuple[str, float, bool]] = []
    measure = picture.text_width

    def recording(text: str, size: float, bold: bool = False) -> float:
        drawn.append((text, size, bold))
        return measure(text, size, bold)

    monkeypatch.setattr(picture, "text_width", recording)
    view = describe_network(stack_run(stack).records, stack)
    draw_network(view, tmp_path / f"{stack}.png", command=f"python -m preview {stack}")

    assert len(drawn) > 20, "every label is measured before it is placed"
    for text, size, bold in set(drawn):
        properties = FontProperties(family=picture.FONT, weight="bold" if bold else "normal")
        outline = TextPath((0, 0), text, size=size, prop=properties).get_extents().width / 72
        assert measure(text, size, bold) == pytest.approx(outline, abs=1e-9), repr(text)


def test_workers_span_the_private_subnets_with_their_type_and_size(
    stack_run: Callable[..., StackRun],
) -> None:
    view = describe_network(stack_run("dev", {"zappa-vpc:workers": True}).records, "dev")
    (workers,) = [p for p in view.placements if p.kind == "workers"]
    assert workers.detail == "t4g.small · 1-2 instances · Auto Scaling"
    private = {s.urn for s in view.subnets if s.tier == "private"}
    assert set(workers.subnet_urns) == private and len(private) == 2


def test_the_app_bucket_shows_in_the_endpoints_panel(stack_run: Callable[..., StackRun]) -> None:
    without = describe_network(stack_run("dev").records, "dev")
    assert not [e for e in without.endpoints if e.service == "App bucket"]
    view = describe_network(stack_run("dev", {"zappa-vpc:appBucket": True}).records, "dev")
    (bucket,) = [e for e in view.endpoints if e.service == "App bucket"]
    assert bucket.reached == "data via the S3 endpoint"
