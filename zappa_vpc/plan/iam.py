"""IAM documents the components share (pure, no Pulumi import)."""

from __future__ import annotations

import json
from collections.abc import Sequence


def assume_role_policy(service: str, source_account: str | None = None) -> str:
    """The trust policy that lets an AWS service (e.g. `ec2.amazonaws.com`) assume a role.

    `source_account` limits it to that service acting for this account, so another account cannot make the
    service use the role on its behalf (the confused-deputy guard AWS recommends for service roles).
    """
    statement: dict[str, object] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def endpoint_policy(accounts: Sequence[str]) -> str:
    """A VPC endpoint policy admitting principals of `accounts` acting on resources of `accounts` only.

    Endpoint policies need a Principal, `*` on gateway endpoints (AWS PrivateLink guide, "Control access to
    VPC endpoints using endpoint policies"); the conditions do the scoping. `...IfExists` on the resource
    account: actions on no account's resource (`ssmmessages:*`, `sts:GetCallerIdentity`) still pass.
    """
    statement = {
        "Sid": "OwnAccountsOnly",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "*",
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:PrincipalAccount": list(accounts)},
            "StringEqualsIfExists": {"aws:ResourceAccount": list(accounts)},
        },
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


# The actions of AWS's documented flow-log role ("IAM role for publishing flow logs to CloudWatch Logs",
# Amazon VPC user guide), which grants them on "*".
FLOW_LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
)


def flow_log_role_policy(log_group_arn: str) -> str:
    """AWS's flow-log actions, on the flow log's group only; DescribeLogGroups lists groups, so it gets the
    region's `log-group:*`, the narrowest resource it is authorized on."""
    listing = {"logs:DescribeLogGroups"}
    region_groups = log_group_arn.split(":log-group:", 1)[0] + ":log-group:*"
    statements = [
        {
            "Effect": "Allow",
            "Action": [action for action in FLOW_LOG_ACTIONS if action not in listing],
            "Resource": [log_group_arn, f"{log_group_arn}:*"],
        },
        {"Effect": "Allow", "Action": sorted(listing), "Resource": region_groups},
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


# What "data access" means for the app bucket: reading, writing, deleting and listing objects (and their
# versions, tags and ACLs), the actions the Lambda is granted. Bucket configuration (policy, versioning,
# encryption) is left to IAM, so the deployer can always fix the policy.
BUCKET_DATA_ACTIONS = (
    "s3:GetObject*",
    "s3:PutObject*",
    "s3:DeleteObject*",
    "s3:ListBucket*",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:RestoreObject",
)
# What the app itself needs on its bucket (Zappa `extra_permissions`): objects and listing, no ACLs.
APP_BUCKET_ACTIONS = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")


def app_bucket_policy(bucket_arn: str, endpoint_id: str, admin_role_arns: Sequence[str]) -> str:
    """The app bucket's policy: deny anything without TLS; deny data access that does not come through
    `endpoint_id` (the VPC's S3 gateway endpoint), unless the caller is one of `admin_role_arns`.

    Deny statements only: grants stay with IAM. `aws:SourceVpce` is set only on requests through a VPC
    endpoint; `aws:PrincipalArn` of an assumed role is the role's ARN (IAM user guide, "AWS global condition
    context keys"). Conditions of one statement must all hold, so an admin role is denied nothing here.
    """
    resources = [bucket_arn, f"{bucket_arn}/*"]
    outside: dict[str, object] = {"StringNotEquals": {"aws:SourceVpce": endpoint_id}}
    if admin_role_arns:
        outside["ArnNotLike"] = {"aws:PrincipalArn": list(admin_role_arns)}
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyDataAccessOutsideTheVpc",
            "Effect": "Deny",
            "Principal": "*",
            "Action": list(BUCKET_DATA_ACTIONS),
            "Resource": resources,
            "Condition": outside,
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})
