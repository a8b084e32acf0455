"""What a network needs to know of the region before it plans: its zones, and which of them offer an
instance type. Both are data sources, answered by AWS on a real preview (and by the offline preview's
mocks); mocks that answer only the inputs give nothing, and the checks that need the answer are skipped.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Hashable, Sequence
from typing import TypeVar

import pulumi_aws as aws
from pulumi.runtime.settings import get_monitor

from zappa_vpc.plan.options import InstanceTypeOffer

_Answer = TypeVar("_Answer")
# Deployment (its resource monitor) -> question -> answer. The stack's settings check and each component's
# own check ask the same questions, and on a real run every question is an AWS API call.
_ANSWERS: weakref.WeakKeyDictionary[object, dict[Hashable, object]] = weakref.WeakKeyDictionary()


def _once_per_deployment(lookup: Callable[..., _Answer]) -> Callable[..., _Answer]:
    """`lookup` asked once per deployment for each set of arguments: the region and the account, so the
    answer, stay the same for a whole run. The SDK configures a new monitor for each deployment (and
    `set_mocks` for each mocked run; pulumi/runtime/settings.py `configure`), so answers never cross runs."""

    @functools.wraps(lookup)
    def once(*args: Hashable) -> _Answer:
        answers = _ANSWERS.setdefault(get_monitor(), {})
        key = (lookup.__name__, *args)
        if key not in answers:
            answers[key] = lookup(*args)
        return answers[key]  # type: ignore[return-value]

    return once


@_once_per_deployment
def available_zones() -> list[str]:
    """The region's own available zones, in the order AWS lists them.

    Opted-in Local Zones and Wavelength Zones are "available" too, and sort first (us-east-1-atl-1a): the
    zone-type filter keeps the region's own (EC2 DescribeAvailabilityZones, filter `zone-type`).
    """
    return (
        aws.get_availability_zones(
            state="available",
            filters=[aws.GetAvailabilityZonesFilterArgs(name="zone-type", values=["availability-zone"])],
        ).names
        or []
    )


def instance_type_offer(instance_type: str, zones: Sequence[str]) -> InstanceTypeOffer | None:
    """Which of `zones` offer `instance_type` (DescribeInstanceTypeOfferings) and its architectures
    (DescribeInstanceTypes); None when EC2 said nothing (mocks answering only the inputs)."""
    return _instance_type_offer(instance_type, tuple(zones))


@_once_per_deployment
def _instance_type_offer(instance_type: str, zones: tuple[str, ...]) -> InstanceTypeOffer | None:
    offered = aws.ec2.get_instance_type_offerings(
        location_type="availability-zone",
        filters=[
            aws.ec2.GetInstanceTypeOfferingsFilterArgs(name="instance-type", values=[instance_type]),
            aws.ec2.GetInstanceTypeOfferingsFilterArgs(name="location", values=list(zones)),
        ],
    ).locations
    if offered is None:
        return None
    if not offered:  # EC2 does not know the type, or these zones do not offer it: nothing to describe
        return InstanceTypeOffer((), ())
    described = aws.ec2.get_instance_type(instance_type=instance_type)
    return InstanceTypeOffer(tuple(offered), tuple(described.supported_architectures or ()))
