"""No public database: not publicly accessible, not in a public subnet, not open to the internet,
storage encrypted. All mandatory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import aws_types as aws
from .admission import admission, internet
from .graph import Node, Refs, StackIndex, Truth, Unreadable, declared_region, flag, is_unknown, shown
from .rules import (
    AWS_LOOKUPS,
    LOOKUP_FIX,
    TRUST_UNMANAGED,
    Finding,
    Level,
    Rule,
    Severity,
    unverifiable,
    violation,
)

_SUBNET_ONLY = aws.SUBNET_TYPES
_SUBNET_GROUP_ONLY = frozenset({aws.DB_SUBNET_GROUP})
_SAME_KIND = {aws.RDS_INSTANCE: frozenset({aws.RDS_INSTANCE}), aws.RDS_CLUSTER: frozenset({aws.RDS_CLUSTER})}
# What a replica names its source with: an instance's replicateSourceDb, an Aurora cluster's
# replicationSourceIdentifier (pulumi-aws rds.Instance / rds.Cluster).
_SOURCE_KEYS = {aws.RDS_INSTANCE: "replicateSourceDb", aws.RDS_CLUSTER: "replicationSourceIdentifier"}
# Where a restored database comes from; it takes that one's encryption unless asked to encrypt.
_RESTORE_KEYS = ("snapshotIdentifier", "restoreToPointInTime", "s3Import")
_POINT_IN_TIME_SOURCES = ("sourceDbInstanceIdentifier", "sourceClusterIdentifier")


@dataclass(frozen=True, slots=True)
class Source:
    """The database a replica copies: the node when this stack has it, how to name it, and whether it
    is in another region."""

    node: Node | None
    name: str
    cross_region: Truth
    outside_stack: bool


def replica_source(index: StackIndex, database: Node) -> Source | None:
    key = _SOURCE_KEYS.get(database.type)
    value = database.props.get(key) if key else None
    if value in (None, ""):
        return None
    region = declared_region(database)
    refs = index.refs(database, key, value, _SAME_KIND[database.type])
    if refs.nodes:
        source = refs.nodes[0]
        return Source(source, source.label, _other_region(region, declared_region(source)), False)
    if not isinstance(value, str) or is_unknown(value):
        return Source(None, "a database only known after apply", Truth.UNKNOWN, False)
    if value.startswith("arn:"):
        parts = value.split(":")
        return Source(None, value, _other_region(region, parts[3] if len(parts) > 3 else ""), True)
    # An identifier (not an ARN) names a database of the replica's own region (terraform aws_db_instance
    # replicate_source_db: "use the ARN for cross-region replicas").
    return Source(None, value, Truth.NO, True)


def _other_region(region: str, source_region: str) -> Truth:
    if region == source_region:
        return Truth.NO  # both stated and equal, or both from the same default provider
    return Truth.YES if region and source_region else Truth.UNKNOWN


def databases(index: StackIndex) -> Iterator[Node]:
    """The resources that choose a database's subnets and security groups: instances and clusters
    (a cluster's instances inherit both from it)."""
    yield from index.of_type(aws.RDS_INSTANCE)
    yield from index.of_type(aws.RDS_CLUSTER)


def subnet_group_of(index: StackIndex, database: Node) -> Refs:
    return index.refs(
        database, "dbSubnetGroupName", database.props.get("dbSubnetGroupName"), _SUBNET_GROUP_ONLY
    )


def subnets_of_group(index: StackIndex, group: Node) -> Refs:
    return index.refs(group, "subnetIds", group.props.get("subnetIds"), _SUBNET_ONLY)


# --- rds-no-public-access --------------------------------------------------------------------------


def check_public_access(database: Node, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    value = flag(database.props.get("publiclyAccessible"))
    if value is Unreadable.VALUE:
        yield unverifiable(
            database,
            f"publiclyAccessible = {shown(database.props['publiclyAccessible'])} is not true or false",
            "set it to a literal false",
        )
    elif value is True:
        yield violation(
            database,
            "publiclyAccessible is true, so RDS gives it a public DNS name that resolves to a public address",
            "set publiclyAccessible: false and reach it from inside the VPC",
        )
    elif is_unknown(value):
        yield unverifiable(
            database, "publiclyAccessible is only known after apply", "set it to a literal false"
        )


# --- db-storage-encrypted --------------------------------------------------------------------------


def check_storage_encrypted(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    for database in databases(index):
        yield from _check_encryption(index, database)


def _check_encryption(index: StackIndex, database: Node) -> Iterator[Finding]:
    props = database.props
    value = flag(props.get("storageEncrypted"))
    if value is True:
        return
    if is_unknown(value):
        yield unverifiable(database, "storageEncrypted is only known after apply", "set it to a literal true")
        return
    source = replica_source(index, database)
    if source is not None:
        # A replica has its source's encryption (and AWS takes a kmsKeyId only for an encrypted source).
        if source.node is None and not props.get("kmsKeyId"):
            yield unverifiable(
                database,
                f"it is a read replica of {source.name} and has that database's encryption, which cannot be "
                "seen",
                "set kmsKeyId, which AWS accepts only for a replica of an encrypted source",
                outside_stack=source.outside_stack,
            )
        return  # a source in this stack is checked itself
    restored = next((key for key in _RESTORE_KEYS if props.get(key) not in (None, "", [], {})), None)
    if restored is not None and value is None:
        if restored == "restoreToPointInTime" and _point_in_time_source_in_stack(index, database):
            return  # it takes the encryption of a source this stack has, which is checked itself
        yield unverifiable(
            database,
            f"it is restored ({restored}) and takes the encryption of what it is restored from, which this "
            "stack cannot see",
            "set storageEncrypted: true (with kmsKeyId)",
        )
        return
    engine = props.get("engine")
    if database.type == aws.RDS_CLUSTER and value is None:
        if is_unknown(engine):
            yield unverifiable(
                database,
                "its engine is only known after apply, and whether AWS encrypts it depends on it",
                "set engine literally",
            )
            return
        if str(engine or "").startswith("aurora") or props.get("engineMode") == "serverless":
            # Aurora encrypts every cluster created since 2026-02-18 with an AWS owned key (Aurora User
            # Guide, "Encrypting Amazon Aurora resources"); Serverless v1 always was. Multi-AZ DB clusters
            # (engine mysql or postgres) and RDS instances are still unencrypted unless asked.
            return
    yield violation(
        database,
        "storageEncrypted is not true, so its storage, automated backups and snapshots are unencrypted",
        "set storageEncrypted: true (with kmsKeyId for a customer-managed key); an existing database "
        "has to be restored from an encrypted copy of a snapshot",
    )


def _point_in_time_source_in_stack(index: StackIndex, database: Node) -> bool:
    block = database.props.get("restoreToPointInTime")
    if not isinstance(block, Mapping):
        return False
    names = [block.get(key) for key in _POINT_IN_TIME_SOURCES if block.get(key) not in (None, "")]
    return bool(names) and bool(
        index.refs(database, "restoreToPointInTime", names, _SAME_KIND[database.type]).nodes
    )


# --- db-subnet-group-private -----------------------------------------------------------------------


def check_subnet_groups_private(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    fix = "list only private subnets (no route to an internet gateway) in its subnetIds"
    for group in index.of_type(aws.DB_SUBNET_GROUP):
        subnets = subnets_of_group(index, group)
        answers = [(subnet, index.subnet_public(subnet)) for subnet in subnets.nodes]
        public = next(((s, a) for s, a in answers if a.truth is Truth.YES), None)
        maybe = [(subnet, index.subnet_public(subnet)) for subnet in subnets.maybe]
        maybe_public = [(s, a) for s, a in maybe if a.truth is Truth.YES]
        if public is None and maybe_public and subnets.maybe_count > len(maybe) - len(maybe_public):
            public = maybe_public[0]  # it uses more of the candidates than there are private ones
        if public is not None:
            # One finding per public subnet: each is a cause to fix.
            for subnet, answer in [(s, a) for s, a in answers if a.truth is Truth.YES] or [public]:
                yield violation(group, f"it holds {subnet.label}, which is public: {answer.because}", fix)
            continue
        doubt = next((a for _s, a in answers + maybe if a.truth is Truth.UNKNOWN), None)
        if doubt is not None:
            yield unverifiable(
                group,
                doubt.because,
                "give its subnets route tables this stack manages",
                outside_stack=doubt.outside_stack,
            )
        elif maybe_public or subnets.unmanaged or subnets.unresolved:
            yield unverifiable(
                group,
                f"its subnets cannot all be seen: {subnets.gap()}",
                LOOKUP_FIX if subnets.unmanaged else "pass the subnet resources' ids to subnetIds",
                outside_stack=bool(subnets.unmanaged),
            )
    yield from _databases_outside_subnet_groups(index)


def _databases_outside_subnet_groups(index: StackIndex) -> Iterator[Finding]:
    fix = "set dbSubnetGroupName to a DB subnet group of private subnets"
    for database in databases(index):
        groups = subnet_group_of(index, database)
        if groups.count == 0:
            yield from _default_subnet_group(index, database, fix)
        elif not groups.certain:
            yield unverifiable(
                database,
                f"its DB subnet group cannot be seen: {groups.gap()}",
                "manage the DB subnet group in this stack",
                outside_stack=bool(groups.unmanaged),
            )


def _default_subnet_group(index: StackIndex, database: Node, fix: str) -> Iterator[Finding]:
    """A database naming no DB subnet group: RDS uses the default VPC's default group, except that a
    read replica in its source's region takes its source's (terraform aws_db_instance
    db_subnet_group_name: "a replica in a different region defaults to the default subnet group")."""
    source = replica_source(index, database)
    if source is None:
        yield violation(
            database,
            "it names no dbSubnetGroupName, so RDS places it in the default VPC, whose subnets are public",
            fix,
        )
    elif source.cross_region is Truth.YES:
        yield violation(
            database,
            f"it is a read replica of {source.name} in another region and names no dbSubnetGroupName: a "
            "cross-region replica does not take its source's DB subnet group, so RDS places it in the "
            "default VPC of its region, whose subnets are public",
            fix + " in the replica's region",
        )
    elif source.cross_region is Truth.UNKNOWN:
        yield unverifiable(
            database,
            f"it is a read replica of {source.name} and names no dbSubnetGroupName; whether the source is in "
            "another region (where the replica would not take its DB subnet group but use the default VPC's) "
            "cannot be told",
            fix,
            outside_stack=source.outside_stack,
        )


# --- db-security-group-no-internet-ingress ---------------------------------------------------------


def _security_group_keys(index: StackIndex, database: Node) -> tuple[list[str], Refs]:
    keys, refs = index.security_group_keys(database, "vpcSecurityGroupIds")
    if refs.count == 0:
        # No group named: RDS attaches the VPC's default security group.
        vpcs = [
            vpc
            for group in subnet_group_of(index, database).nodes
            for subnet in subnets_of_group(index, group).nodes
            for vpc in index.vpcs_of(subnet).nodes
        ]
        keys = list(dict.fromkeys(index.default_security_group_key(vpc) for vpc in vpcs))
    return keys, refs


def check_database_ingress(index: StackIndex, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    fix = (
        "admit only the security groups of its clients (for example the Lambda's), or VPC ranges; "
        "never 0.0.0.0/0 or ::/0"
    )
    rules = admission(index)
    for database in databases(index):
        keys, refs = _security_group_keys(index, database)
        doubt: tuple[str, bool] | None = None
        if not refs.certain:
            doubt = (f"its security groups cannot all be seen: {refs.gap()}", bool(refs.unmanaged))
        # Unmanaged ids are already in refs.gap(); the rules this stack adds to them still count.
        reaching = [(key, ingress) for key in keys for ingress in rules.ingress_of(key)]
        opened = next(((key, ingress) for key, ingress in reaching if ingress.world.truth is Truth.YES), None)
        if opened:
            key, ingress = opened
            via = "" if ingress.holder.urn == key else f" through {ingress.holder.label}"
            yield violation(
                database, f"{index.security_group_title(key)} admits {ingress.world.because}{via}", fix
            )
            continue
        together = internet([ingress for _key, ingress in reaching])
        if together.truth is Truth.YES:
            yield violation(database, f"its security groups together admit {together.because}", fix)
            continue
        if together.truth is Truth.UNKNOWN and doubt is None:
            doubt = (together.because, together.outside_stack)
        stray = next((ingress for ingress in rules.untraced if ingress.world.truth is not Truth.NO), None)
        if doubt is None and stray is not None:
            doubt = (
                f"{stray.holder.label} may admit the internet and its security group is only known after "
                "apply",
                False,
            )
        if doubt is not None:
            yield unverifiable(
                database, doubt[0], "use literal CIDRs and security group references", outside_stack=doubt[1]
            )


RULES = (
    Rule(
        name="rds-no-public-access",
        description="RDS databases must not be publicly accessible.",
        level=Level.MANDATORY,
        severity=Severity.CRITICAL,
        remediation="Set publiclyAccessible: false on the RDS instance, cluster instance or cluster. Reach "
        "the database from inside the VPC (Lambda in the private subnets, or SSM port forwarding).",
        check_resource=check_public_access,
        resource_types=frozenset({aws.RDS_INSTANCE, aws.RDS_CLUSTER_INSTANCE, aws.RDS_CLUSTER}),
        checkov="CKV_AWS_17",
        aws_config="rds-instance-public-access-check",
    ),
    Rule(
        name="db-subnet-group-private",
        description="Databases must sit in private subnets: no DB subnet group may hold a subnet routed to "
        "an internet gateway, and no database may fall back to the default VPC.",
        level=Level.MANDATORY,
        severity=Severity.CRITICAL,
        remediation="List only private subnets in the DB subnet group's subnetIds (subnets whose route "
        "table, explicit or the VPC's main one, has no route to an internet gateway), and set "
        "dbSubnetGroupName on every RDS instance and cluster.",
        check_stack=check_subnet_groups_private,
        settings=(TRUST_UNMANAGED, AWS_LOOKUPS),
    ),
    Rule(
        name="db-security-group-no-internet-ingress",
        description="No security group of a database may admit 0.0.0.0/0 or ::/0, inline or through rule "
        "resources.",
        level=Level.MANDATORY,
        severity=Severity.CRITICAL,
        remediation="Remove ingress from 0.0.0.0/0 and ::/0 from the database's security groups (inline "
        "ingress, aws.ec2.SecurityGroupRule, aws.vpc.SecurityGroupIngressRule); admit the clients' security "
        "groups.",
        check_stack=check_database_ingress,
        settings=(TRUST_UNMANAGED, AWS_LOOKUPS),
        aws_config="vpc-sg-open-only-to-authorized-ports (closest)",
    ),
    Rule(
        name="db-storage-encrypted",
        description="RDS database storage must be encrypted at rest.",
        level=Level.MANDATORY,
        severity=Severity.HIGH,
        remediation="Set storageEncrypted: true (and kmsKeyId for a customer-managed key). Encryption cannot "
        "be switched on in place: restore the database from an encrypted copy of a snapshot. New Aurora "
        "clusters are encrypted by AWS; replicas have their source's encryption.",
        check_stack=check_storage_encrypted,
        settings=(TRUST_UNMANAGED,),
        checkov="CKV_AWS_16, CKV_AWS_96",
        aws_config="rds-storage-encrypted",
    ),
)
