"""What a network needs to know of the region before it plans: its zones, and which of them offer an
instance type. Both are data sources, answered by AWS on a real preview (and by the offline preview's
mocks); mocks that answer only the inputs give nothing, and the checks that need the answer are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi_aws as aws

from zappa_vpc.plan.options import InstanceTypeOffer


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
