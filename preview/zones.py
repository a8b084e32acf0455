"""The availability zones of AWS's commercial regions: zone names and zone ids, pure data.

What `aws ec2 describe-availability-zones` lists for a new account (zone type `availability-zone`, no
Local or Wavelength Zones). Zone ids are the same in every account; in the regions opened before
November 2012 (us-east-1, us-west-1, us-west-2, eu-west-1, sa-east-1, ap-northeast-1, ap-southeast-1,
ap-southeast-2) AWS pairs names with ids per account, so there the pairing below is one account's
(AWS Regions and Availability Zones guide, "AZ IDs"). Regions not listed are answered with a/b/c.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Zone:
    name: str  # us-east-1a
    zone_id: str  # use1-az1


def _zones(region: str, pairs: str) -> tuple[Zone, ...]:
    """`pairs` as "a:az1 b:az2": letter of the name, suffix of the id (the id's prefix is the region's)."""
    prefix = _ID_PREFIXES[region]
    return tuple(
        Zone(f"{region}{letter}", f"{prefix}-{suffix}")
        for letter, suffix in (pair.split(":") for pair in pairs.split())
    )


_ID_PREFIXES = {
    "us-east-1": "use1",
    "us-east-2": "use2",
    "us-west-1": "usw1",
    "us-west-2": "usw2",
    "af-south-1": "afs1",
    "ap-east-1": "ape1",
    "ap-south-1": "aps1",
    "ap-south-2": "aps2",
    "ap-southeast-1": "apse1",
    "ap-southeast-2": "apse2",
    "ap-southeast-3": "apse3",
    "ap-southeast-4": "apse4",
    "ap-southeast-5": "apse5",
    "ap-southeast-7": "apse7",
    "ap-northeast-1": "apne1",
    "ap-northeast-2": "apne2",
    "ap-northeast-3": "apne3",
    "ca-central-1": "cac1",
    "ca-west-1": "caw1",
    "eu-central-1": "euc1",
    "eu-central-2": "euc2",
    "eu-west-1": "euw1",
    "eu-west-2": "euw2",
    "eu-west-3": "euw3",
    "eu-south-1": "eus1",
    "eu-south-2": "eus2",
    "eu-north-1": "eun1",
    "il-central-1": "ilc1",
    "me-south-1": "mes1",
    "me-central-1": "mec1",
    "mx-central-1": "mxc1",
    "sa-east-1": "sae1",
}

_THREE = "a:az1 b:az2 c:az3"
_PAIRS = {
    "us-east-1": "a:az1 b:az2 c:az4 d:az6 e:az3 f:az5",
    "us-east-2": _THREE,
    "us-west-1": "b:az3 c:az1",  # new accounts see two of its three zones
    "us-west-2": "a:az2 b:az1 c:az3 d:az4",
    "ap-south-1": "a:az1 b:az3 c:az2",
    "ap-southeast-1": "a:az2 b:az1 c:az3",
    "ap-southeast-2": "a:az3 b:az1 c:az2",
    "ap-northeast-1": "a:az4 c:az1 d:az2",  # apne1-az3 is closed to new accounts
    "ap-northeast-2": "a:az1 b:az2 c:az3 d:az4",
    "ca-central-1": "a:az1 b:az2 d:az4",
    "eu-central-1": "a:az2 b:az3 c:az1",
    "eu-west-1": "a:az3 b:az1 c:az2",
    "eu-west-2": "a:az2 b:az3 c:az1",
}

ZONES: dict[str, tuple[Zone, ...]] = {
    region: _zones(region, _PAIRS.get(region, _THREE)) for region in _ID_PREFIXES
}


def region_zones(region: str) -> tuple[Zone, ...]:
    """The region's zones in name order; a region not in the table gets a, b and c."""
    if region in ZONES:
        return ZONES[region]
    return tuple(Zone(f"{region}{letter}", f"{region}-az{index}") for index, letter in enumerate("abc", 1))
