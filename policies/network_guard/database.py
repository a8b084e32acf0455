"""No public database: not publicly accessible, not in a public subnet, not open to the internet,
storage encrypted. All mandatory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import aws_types as aws
from .graph import Node, Refs, StackIndex, Truth, is_unknown
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


def _is_replica(database: Node) -> bool:
    # A read replica takes its source's encryption and (in-region) its subnet group.
    return database.props.get("replicateSourceDb") not in (None, "")


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
    value = database.props.get("publiclyAccessible")
    if value is True:
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


def check_storage_encrypted(database: Node, _settings: Mapping[str, Any]) -> Iterator[Finding]:
    props = database.props
    if _is_replica(database) or props.get("engineMode") == "serverless":
        return  # Aurora Serverless v1 is always encrypted; a replica is checked through its source.
    value = props.get("storageEncrypted")
    if is_unknown(value):
        yield unverifiable(database, "storageEncrypted is only known after apply", "set it to a literal true")
    elif value is not True:
        yield violation(
            database,
            "storageEncrypted is not true, so its storage, automated backups and snapshots are unencrypted",
            "set storageEncrypted: true (with kmsKeyId for a customer-managed key); an existing database "
            "has to be restored from an encrypted copy of a snapshot",
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
            subnet, answer = public
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
    for database in databases(index):
        if _is_replica(database):
            continue
        groups = subnet_group_of(index, database)
        if groups.count == 0:
            yield violation(
                database,
                "it names no dbSubnetGroupName, so RDS places it in the default VPC, whose subnets are "
                "public",
                "set dbSubnetGroupName to a DB subnet group of private subnets",
            )
        elif not groups.certain:
            yield unverifiable(
                database,
                f"its DB subnet group cannot be seen: {groups.gap()}",
                "manage the DB subnet group in this stack",
                outside_stack=bool(groups.unmanaged),
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
    for database in databases(index):
        keys, refs = _security_group_keys(index, database)
        doubt: tuple[str, bool] | None = None
        if not refs.certain:
            doubt = (f"its security groups cannot all be seen: {refs.gap()}", bool(refs.unmanaged))
        opened = None
        for key in keys:
            if key.startswith("id:"):
                continue  # already in refs.gap()
            for ingress in index.ingress_of(key):
                if ingress.world.truth is Truth.YES:
                    opened = (key, ingress)
                    break
                if ingress.world.truth is Truth.UNKNOWN and doubt is None:
                    doubt = (ingress.world.because, ingress.world.outside_stack)
            if opened:
                break
        if opened:
            key, ingress = opened
            via = "" if ingress.holder.urn == key else f" through {ingress.holder.label}"
            yield violation(
                database, f"{index.security_group_title(key)} admits {ingress.world.because}{via}", fix
            )
            continue
        stray = next(
            (ingress for ingress in index.untraced_ingress if ingress.world.truth is not Truth.NO), None
        )
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
        "be switched on in place: restore the database from an encrypted copy of a snapshot.",
        check_resource=check_storage_encrypted,
        resource_types=frozenset({aws.RDS_INSTANCE, aws.RDS_CLUSTER}),
        checkov="CKV_AWS_16, CKV_AWS_96",
        aws_config="rds-storage-encrypted",
    ),
)
