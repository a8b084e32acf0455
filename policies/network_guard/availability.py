"""Survive the loss of one availability zone: DB subnet groups and Lambda VPC configs span several
AZs (mandatory); one NAT gateway per AZ and Multi-AZ databases (advisory)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import aws_types as aws
from .database import subnets_of_group
from .graph import Node, Refs, StackIndex, flag, is_unknown
from .rules import (
    AWS_LOOKUPS,
    LOOKUP_FIX,
    TRUST_UNMANAGED,
    Finding,
    Level,
    Rule,
    Setting,
    Severity,
    unverifiable,
    violation,
)

_SUBNET_ONLY = aws.SUBNET_TYPES

MIN_SUBNETS = Setting("minSubnets", "Fewest subnets allowed.", 2, minimum=1)
MIN_ZONES = Setting(
    "minAvailabilityZones", "Fewest distinct availability zones those subnets must span.", 2, minimum=1
)
MIN_CLUSTER_INSTANCES = Setting(
    "minClusterInstances",
    "Fewest instances an Aurora cluster needs so that a reader can take over.",
    2,
    minimum=1,
)


@dataclass(frozen=True, slots=True)
class Spread:
    """How many AZs a set of subnets spans: certainly at least `fewest`, at most `most`."""

    zones: tuple[str, ...]
    fewest: int
    most: int
    doubts: tuple[str, ...]
    outside_stack: bool

    def describe(self, subnets: int) -> str:
        if not self.zones:
            return f"{subnets} subnet{'s' if subnets != 1 else ''}"
        shown = ", ".join(zone.split("=", 1)[1] for zone in self.zones)
        return f"{subnets} subnet{'s' if subnets != 1 else ''} in {shown}"


def spread_of(index: StackIndex, subnets: Refs) -> Spread:
    zones: set[str] = set()
    doubts: list[str] = []
    wildcards = len(subnets.unmanaged) + subnets.unresolved
    if wildcards:
        doubts.append(subnets.gap())
    for subnet in subnets.nodes:
        zone = index.zone_of(subnet)
        if zone.key:
            zones.add(zone.key)
        else:
            wildcards += 1
            doubts.append(zone.why_unknown)
    fewest = len(zones)
    forms = {zone.split("=", 1)[0] for zone in zones}
    if len(forms) > 1:
        # A zone name and a zone id may be the same AZ: only the larger group is certainly distinct.
        fewest = max(sum(zone.split("=", 1)[0] == form for zone in zones) for form in forms)
        doubts.append("its subnets mix availabilityZone and availabilityZoneId, which cannot be compared")
    extra_fewest, extra_most = _spread_of_candidates(index, subnets, zones)
    if subnets.maybe:
        doubts.append(subnets.gap())
    return Spread(
        zones=tuple(sorted(zones)),
        fewest=fewest + extra_fewest,
        most=len(zones) + wildcards + extra_most,
        doubts=tuple(doubts),
        outside_stack=bool(subnets.unmanaged),
    )


def _spread_of_candidates(index: StackIndex, subnets: Refs, zones: set[str]) -> tuple[int, int]:
    """Fewest and most new AZs when `maybe_count` of the candidate subnets are used."""
    if not subnets.maybe:
        return 0, 0
    new_zones: dict[str, int] = {}
    free = 0  # candidates that may add no new zone
    for subnet in subnets.maybe:
        key = index.zone_of(subnet).key
        if key is None or key in zones:
            free += 1
        else:
            new_zones[key] = new_zones.get(key, 0) + 1
    still_needed, fewest = subnets.maybe_count - free, 0
    for size in sorted(new_zones.values(), reverse=True):
        if still_needed <= 0:
            break
        still_needed -= size
        fewest += 1
    unknown_zone = sum(index.zone_of(subnet).key is None for subnet in subnets.maybe)
    return fewest, min(subnets.maybe_count, len(new_zones) + unknown_zone)


def _check_spread(
    index: StackIndex, holder: Node, subnets: Refs, settings: Mapping[str, Any], what: str
) -> Iterator[Finding]:
    min_subnets, min_zones = settings[MIN_SUBNETS.name], settings[MIN_ZONES.name]
    spread = spread_of(index, subnets)
    fix = f"use at least {min_subnets} subnets in at least {min_zones} availability zones"
    if subnets.count < min_subnets or spread.most < min_zones:
        yield violation(
            holder,
            f"its {what} {'has' if subnets.count == 1 else 'have'} "
            f"{spread.describe(subnets.count)}, so one AZ outage takes it down",
            fix,
        )
    elif spread.fewest < min_zones:
        yield unverifiable(
            holder,
            f"its {what} may span fewer than {min_zones} availability zones: {'; '.join(spread.doubts)}",
            # A looked-up id has no availabilityZone to set: AWS can say where it is.
            LOOKUP_FIX if spread.outside_stack else "give each subnet a literal availabilityZone",
            outside_stack=spread.outside_stack,
        )


# --- db-subnet-group-multi-az ----------------------------------------------------------------------


def check_subnet_group_spread(index: StackIndex, settings: Mapping[str, Any]) -> Iterator[Finding]:
    for group in index.of_type(aws.DB_SUBNET_GROUP):
        yield from _check_spread(index, group, subnets_of_group(index, group), settings, "subnetIds")


# --- lambda-vpc-multi-az ---------------------------------------------------------------------------


def check_lambda_spread(index: StackIndex, settings: Mapping[str, Any]) -> Iterator[Finding]:
    for function in index.of_type(aws.LAMBDA_FUNCTION):
        config = function.props.get("vpcConfig")
        if config is None:
            continue
        subnet_ids = (
            config if is_unknown(config) else config.get("subnetIds") if isinstance(config, Mapping) else None
        )
        if subnet_ids in (None, []):
            continue  # not attached to a VPC
        subnets = index.refs(function, "vpcConfig", subnet_ids, _SUBNET_ONLY)
        yield from _check_spread(index, function, subnets, settings, "vpcConfig.subnetIds")


# --- nat-gateway-per-az ----------------------------------------------------------------------------


def check_nat_per_zone(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    fix = (
        "give each AZ its own NAT gateway, in a public subnet of that AZ, and route each private subnet to "
        "the NAT gateway of its own AZ"
    )
    routed_by_vpc: dict[str, list[tuple[Node, str | None, list[Refs]]]] = {}
    for subnet in index.of_type(aws.SUBNET):
        nats = index.nat_gateways_of(subnet)
        if nats:
            vpcs = index.vpcs_of(subnet).nodes
            routed_by_vpc.setdefault(vpcs[0].urn if vpcs else "", []).append(
                (subnet, index.zone_of(subnet).key, nats)
            )
    for routed in routed_by_vpc.values():
        if len({zone for _subnet, zone, _nats in routed if zone}) < 2:
            continue  # all in one AZ: one NAT gateway there serves them without crossing AZs
        for subnet, zone, nats in routed:
            yield from _check_nat_zones(index, subnet, zone, nats, fix)


def _check_nat_zones(
    index: StackIndex, subnet: Node, zone: str | None, nats: list[Refs], fix: str
) -> Iterator[Finding]:
    for refs in nats:
        if not refs.certain:
            yield unverifiable(
                subnet,
                f"the NAT gateway it routes to cannot be seen: {refs.gap()}",
                fix,
                outside_stack=bool(refs.unmanaged),
            )
            continue
        for nat in refs.nodes:
            if nat.props.get("availabilityMode") == "regional":
                continue  # a regional NAT gateway serves every AZ
            nat_subnets = index.refs(nat, "subnetId", nat.props.get("subnetId"), _SUBNET_ONLY).nodes
            nat_zone = index.zone_of(nat_subnets[0]).key if nat_subnets else None
            if zone is None or nat_zone is None:
                yield unverifiable(
                    subnet,
                    f"the availability zone of it or of {nat.label} is not known",
                    "give subnets a literal availabilityZone",
                )
            elif zone != nat_zone:
                yield violation(
                    subnet,
                    f"it is in {zone.split('=', 1)[1]} but reaches the internet through "
                    f"{nat.label} in {nat_zone.split('=', 1)[1]}: an outage of that AZ cuts "
                    "its egress, and its traffic pays for crossing AZs",
                    fix,
                )


# --- rds-multi-az ----------------------------------------------------------------------------------


def check_database_multi_az(index: StackIndex, settings: Mapping[str, Any]) -> Iterator[Finding]:
    for instance in index.of_type(aws.RDS_INSTANCE):
        if instance.props.get("replicateSourceDb") not in (None, ""):
            continue  # a read replica is itself the redundancy
        multi_az = flag(instance.props.get("multiAz"))
        if is_unknown(multi_az):
            yield unverifiable(instance, "multiAz is only known after apply", "set it to a literal true")
        elif multi_az is not True:
            yield violation(
                instance,
                "multiAz is not true, so it runs in one AZ and an outage or maintenance "
                "there stops the database",
                "set multiAz: true (a standby in a second AZ with automatic failover)",
            )
    minimum = settings[MIN_CLUSTER_INSTANCES.name]
    for cluster in index.of_type(aws.RDS_CLUSTER):
        engine = cluster.props.get("engine")
        if is_unknown(engine):
            yield unverifiable(cluster, "its engine is only known after apply", "set engine literally")
            continue
        if not str(engine or "").startswith("aurora") or cluster.props.get("engineMode") == "serverless":
            continue  # Multi-AZ DB clusters and Aurora Serverless v1 span AZs by themselves
        members = index.cluster_members(cluster)
        if len(members) < minimum:
            yield violation(
                cluster,
                f"it has {len(members)} cluster instance{'s' if len(members) != 1 else ''}, "
                f"fewer than {minimum}: with no reader in another AZ, an AZ outage stops it",
                f"add cluster instances until there are {minimum}; Aurora spreads them over the AZs "
                "of its DB subnet group",
            )


RULES = (
    Rule(
        name="db-subnet-group-multi-az",
        description="A DB subnet group must span at least 2 subnets in at least 2 availability zones.",
        level=Level.MANDATORY,
        severity=Severity.HIGH,
        remediation="Add subnets in other availability zones to the DB subnet group's subnetIds (thresholds: "
        "minSubnets, minAvailabilityZones).",
        check_stack=check_subnet_group_spread,
        settings=(MIN_SUBNETS, MIN_ZONES, TRUST_UNMANAGED, AWS_LOOKUPS),
    ),
    Rule(
        name="lambda-vpc-multi-az",
        description="A Lambda function attached to a VPC must use at least 2 subnets in at least 2 "
        "availability zones.",
        level=Level.MANDATORY,
        severity=Severity.HIGH,
        remediation="List subnets from several availability zones in vpcConfig.subnetIds (thresholds: "
        "minSubnets, minAvailabilityZones).",
        check_stack=check_lambda_spread,
        settings=(MIN_SUBNETS, MIN_ZONES, TRUST_UNMANAGED, AWS_LOOKUPS),
        aws_config="lambda-vpc-multi-az-check",
    ),
    Rule(
        name="nat-gateway-per-az",
        description="Where private subnets in several availability zones reach the internet through NAT, "
        "each AZ must use a NAT gateway of its own AZ.",
        level=Level.ADVISORY,
        severity=Severity.MEDIUM,
        remediation="Create one NAT gateway per AZ in that AZ's public subnet and route each private subnet "
        "to the NAT gateway of its own AZ (or use a regional NAT gateway).",
        check_stack=check_nat_per_zone,
        settings=(TRUST_UNMANAGED, AWS_LOOKUPS),
    ),
    Rule(
        name="rds-multi-az",
        description="RDS instances must be Multi-AZ and Aurora clusters must have instances to fail over to.",
        level=Level.ADVISORY,
        severity=Severity.MEDIUM,
        remediation="Set multiAz: true on RDS instances; give Aurora clusters at least minClusterInstances "
        "cluster instances.",
        check_stack=check_database_multi_az,
        settings=(MIN_CLUSTER_INSTANCES,),
        checkov="CKV_AWS_157",
        aws_config="rds-multi-az-support, rds-cluster-multi-az-enabled",
    ),
)
