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
