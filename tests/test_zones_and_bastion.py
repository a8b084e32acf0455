"""Which zones the stack uses, and where the bastion goes and which image it runs, as EC2 would answer."""

from __future__ import annotations

import re

import pytest

from preview.engine import run_stack
from preview.mocks import AwsMocks
from tests.stack_queries import SUBNET, referenced, the_one
from zappa_vpc.plan.options import InstanceTypeOffer, Problem, bastion_placement

# A region's own zones: region name + one letter. Local Zones (us-east-1-atl-2a) and Wavelength Zones
# (us-east-1-wl1-bos-wlz-1) carry more dashes.
_REGION_ZONE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$")


def test_the_stack_uses_the_regions_own_zones_not_local_zones(monkeypatch):
    # An account that opted into Local Zones lists them as available too, and they sort first.
    asked: list[dict] = []
    answer = AwsMocks.call

    def opted_in(self, args):
        result = answer(self, args)
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            asked.append(args.args)
            wanted = [f["values"] for f in args.args.get("filters") or [] if f["name"] == "zone-type"]
            if not wanted or "local-zone" in wanted[0]:
                result = {**result, "names": ["us-east-1-atl-2a", "us-east-1-bos-1a", *result["names"]]}
        return result

    monkeypatch.setattr(AwsMocks, "call", opted_in)
    run = run_stack("dev")
    assert run.error is None, run.error
    zones = sorted({subnet.properties["availabilityZone"] for subnet in run.of_type(SUBNET)})
    assert zones == ["us-east-1a", "us-east-1b"], zones
    assert all(_REGION_ZONE.match(zone) for zone in zones)
    assert asked, "the zones come from the data source"


def _bastion_zone(run) -> str:
    instance = the_one(run.of_type("aws:ec2/instance:Instance"), "bastion")
    (subnet,) = referenced(run, instance, "subnetId")
    return subnet.properties["availabilityZone"]


def test_the_bastion_goes_to_a_zone_that_offers_its_instance_type(stack_run):
    # us-east-1e offers no Graviton type (t4g.nano, the default).
    run = stack_run("dev", {"zappa-vpc:availabilityZones": ["us-east-1e", "us-east-1f"]})
    assert run.error is None, run.error
    assert _bastion_zone(run) == "us-east-1f"
    assert _bastion_zone(stack_run("dev")) == "us-east-1a"


def test_an_instance_type_no_zone_offers_is_refused_before_anything_registers(stack_run):
    run = stack_run("dev", {"zappa-vpc:bastionInstanceType": "m5.nonexistent"})
    assert run.error is not None
    assert "zappa-vpc:bastionInstanceType = m5.nonexistent: no zone of this network" in run.error, run.error
    assert run.resources == []


@pytest.mark.parametrize(
    ("instance_type", "image_architecture"),
    [("a1.medium", "arm64"), ("t4g.nano", "arm64"), ("t3.nano", "x86_64"), ("t2.micro", "x86_64")],
)
def test_the_bastion_image_has_the_instance_types_architecture(
    monkeypatch, instance_type, image_architecture
):
    """`a1.*` is Graviton (arm64) although no `g` marks it: the architecture comes from EC2, not the name."""
    asked: list[dict] = []
    answer = AwsMocks.call

    def recording_call(self, args):
        if args.token == "aws:ec2/getAmi:getAmi":
            asked.append(args.args)
        return answer(self, args)

    monkeypatch.setattr(AwsMocks, "call", recording_call)
    run = run_stack("dev", config_overrides={"zappa-vpc:bastionInstanceType": instance_type})
    assert run.error is None, run.error
    (image_filter,) = [f for request in asked for f in request["filters"] if f["name"] == "name"]
    assert image_filter["values"] == [f"al2023-ami-2023.*-{image_architecture}"]


def test_placement_takes_the_first_offering_zone_and_refuses_what_has_no_image():
    zones = ("us-east-1e", "us-east-1f")
    offer = InstanceTypeOffer(zones=("us-east-1f",), architectures=("i386", "x86_64"))
    assert bastion_placement("t2.micro", zones, offer) == ("us-east-1f", "x86_64")
    nowhere = bastion_placement("t4g.nano", zones, InstanceTypeOffer((), ()))
    assert isinstance(nowhere, Problem) and nowhere.field == "instance_type"
    mac = bastion_placement("mac1.metal", zones, InstanceTypeOffer(zones, ("x86_64_mac",)))
    assert isinstance(mac, Problem) and "x86_64_mac" in mac.reason


def test_each_region_question_is_asked_once_per_run_and_never_carried_to_the_next(monkeypatch):
    # The settings check and the components' own checks ask the same questions; on `pulumi up` each one is
    # an EC2 API call. A second run (another deployment, here another region's answer) asks afresh.
    asked: list[str] = []
    answer = AwsMocks.call

    def counted(self, args):
        asked.append(args.token)
        return answer(self, args)

    monkeypatch.setattr(AwsMocks, "call", counted)
    first = run_stack("prod")
    assert first.error is None, first.error
    assert asked.count("aws:index/getAvailabilityZones:getAvailabilityZones") == 1, asked
    # The bastion's and the workers' types: one offering question each.
    assert asked.count("aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings") == 2, asked

    asked.clear()
    zones = {
        "aws:index/getAvailabilityZones:getAvailabilityZones": {
            "names": ["us-east-1c", "us-east-1d", "us-east-1f"]
        }
    }
    second = run_stack("dev", answers=zones)
    assert asked.count("aws:index/getAvailabilityZones:getAvailabilityZones") == 1, asked
    assert {s.properties["availabilityZone"] for s in second.of_type(SUBNET)} == {"us-east-1c", "us-east-1d"}
