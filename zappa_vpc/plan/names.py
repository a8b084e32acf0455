"""Physical names for AWS resources whose names AWS limits, derived from a stack or component name.

Pulumi allows a stack name of letters, digits, `-`, `_` and `.`, up to 100 characters (pulumi/pulumi
sdk/go/common/tokens/stack_name.go, ParseStackName), and a component name is any string. The names AWS
accepts are narrower: an RDS instance identifier is lower-case letters, digits and single hyphens, a letter
first, at most 63 characters (terraform-provider-aws internal/service/rds/validate.go, validIdentifier);
an IAM role name at most 64 characters. `physical_name` maps any input into the narrowest of these rules,
so one function serves every name, and appends a short hash of the input so that two inputs that clean
or truncate to the same text still get distinct names.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

HASH_LENGTH = 8
# Prepended when the cleaned text does not start with a letter (a stack named `2024`, `_x` or `.x`).
_LETTER_PREFIX = "z"


@dataclass(frozen=True)
class NameRule:
    """What AWS accepts for one kind of name, beyond the shared charset (lower-case letters, digits, `-`).

    max_length: the longest name AWS accepts. forbidden_prefix: a start AWS refuses (security groups:
    `sg-`, which AWS keeps for group ids).
    """

    kind: str
    max_length: int
    forbidden_prefix: str = ""


# Sources, each the rule's strictest reading:
# RDS: validIdentifier / validParamGroupName / validSubnetGroupName (terraform-provider-aws
# internal/service/rds/validate.go); identifier length: CreateDBInstance, DBInstanceIdentifier 1-63.
DB_INSTANCE_IDENTIFIER = NameRule("RDS instance identifier", 63)
# CreateDBProxy DBProxyName: the identifier rules; the RDS console caps it at 60 characters.
DB_PROXY_NAME = NameRule("RDS Proxy name", 60)
DB_SUBNET_GROUP_NAME = NameRule("DB subnet group name", 255)
DB_PARAMETER_GROUP_NAME = NameRule("DB parameter group name", 255)
# CreateRole RoleName: at most 64 characters of [\w+=,.@-].
IAM_ROLE_NAME = NameRule("IAM role name", 64)
# CreateSecurityGroup GroupName: at most 255 characters, "cannot start with sg-".
SECURITY_GROUP_NAME = NameRule("security group name", 255, forbidden_prefix="sg-")
# The final DB snapshot's identifier: at most 255 characters (terraform-provider-aws aws_db_instance
# final_snapshot_identifier: a letter first, letters, digits and hyphens, no `--`, no trailing `-`).
DB_SNAPSHOT_IDENTIFIER = NameRule("DB snapshot identifier", 255)
# S3 bucket naming rules (S3 user guide, "General purpose bucket naming rules"): 3 to 63 lower-case letters,
# digits, dots and hyphens, a letter or digit first; unique across all of AWS.
S3_BUCKET_NAME = NameRule("S3 bucket name", 63)
# CreateLaunchTemplate LaunchTemplateName: 3 to 128 characters of [a-zA-Z0-9().-/_], unique in the region.
LAUNCH_TEMPLATE_NAME = NameRule("launch template name", 128)


def short_hash(text: str) -> str:
    """8 hex digits of SHA-256: stable across runs and machines (Python's `hash` is salted per process)."""
    return hashlib.sha256(text.encode()).hexdigest()[:HASH_LENGTH]


def physical_name(readable: str, rule: NameRule, *, unique: str = "", reserve: int = 0) -> str:
    """A name `rule` accepts: `readable` cleaned and shortened, then `-` and a hash of `unique or readable`.

    Cleaning lower-cases, turns every other character than a letter or digit into `-`, collapses repeats
    and trims `-` at both ends; a name that would not start with a letter (or would start with the rule's
    forbidden prefix) gets a letter in front. `reserve` keeps that many characters free for a suffix the
    caller appends (`-` and letters or digits only), so the whole stays within `rule.max_length`.
    `unique` is what must tell names apart (for example project and component name), when `readable`
    alone does not.
    """
    cleaned = re.sub(r"[^a-z0-9]+", "-", readable.lower()).strip("-")
    # The hash follows a `-`, so `sg` alone would also make `sg-...`.
    forbidden = rule.forbidden_prefix and f"{cleaned}-".startswith(rule.forbidden_prefix)
    if not cleaned[:1].isalpha() or forbidden:
        cleaned = f"{_LETTER_PREFIX}{cleaned}" if cleaned[:1].isdigit() else f"{_LETTER_PREFIX}-{cleaned}"
    room = rule.max_length - reserve - HASH_LENGTH - 1
    if room < 1:
        raise ValueError(f"{rule.kind}: {reserve} reserved characters leave no room for a name")
    stem = cleaned[:room].rstrip("-")
    return f"{stem}-{short_hash(unique or readable)}"


@dataclass(frozen=True)
class DatabaseNames:
    """Every AWS-limited name of one private database, derived once from its component name.

    `unique` (project, stack and component name) goes into each hash, so two stacks or projects in one
    account never share a name even when their readable parts clean to the same text.
    """

    identifier: str
    subnet_group: str
    parameter_group: str
    proxy: str
    proxy_role: str
    security_group: str
    proxy_security_group: str

    def final_snapshot(self, suffix: str) -> str:
        """The final snapshot's identifier: the instance's, `-final-` and a suffix new for each instance, so
        a second replacement or destroy never meets the snapshot the first left (DBSnapshotAlreadyExists).
        """
        return f"{self.identifier}-final-{suffix}"

    def log_group(self, log: str) -> str:
        """Where RDS exports `log`: `/aws/rds/instance/<identifier>/<log>` (RDS User Guide, "Publishing
        database logs to Amazon CloudWatch Logs"); RDS creates it with no expiry unless it exists already."""
        return f"/aws/rds/instance/{self.identifier}/{log}"


def database_names(name: str, family: str, *, unique: str) -> DatabaseNames:
    """The names for the database component `name` with parameter group `family` (e.g. `postgres16`).

    The parameter group's name carries the family: a major upgrade needs a group of the new family, which
    Pulumi then creates beside the old one instead of failing on a name already taken.
    """
    return DatabaseNames(
        identifier=physical_name(f"{name}-instance", DB_INSTANCE_IDENTIFIER, unique=f"{unique}/instance"),
        subnet_group=physical_name(f"{name}-subnets", DB_SUBNET_GROUP_NAME, unique=f"{unique}/subnets"),
        parameter_group=physical_name(
            f"{name}-{family}", DB_PARAMETER_GROUP_NAME, unique=f"{unique}/parameters/{family}"
        ),
        proxy=physical_name(f"{name}-proxy", DB_PROXY_NAME, unique=f"{unique}/proxy"),
        proxy_role=physical_name(f"{name}-proxy", IAM_ROLE_NAME, unique=f"{unique}/proxy-role"),
        security_group=physical_name(name, SECURITY_GROUP_NAME, unique=f"{unique}/security-group"),
        proxy_security_group=physical_name(
            f"{name}-proxy", SECURITY_GROUP_NAME, unique=f"{unique}/proxy-security-group"
        ),
    )
