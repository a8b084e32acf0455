"""The flow log's role: exactly the actions of AWS's documented flow-log role, on this log group."""

from __future__ import annotations

import json

from tests.stack_queries import the_one

# Amazon VPC user guide, "IAM role for publishing flow logs to CloudWatch Logs".
AWS_DOCUMENTED_ACTIONS = {
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
}


def test_the_flow_log_role_has_the_documented_actions_scoped_to_its_log_group(stack_run):
    run = stack_run("prod", preview=False)
    policy = the_one(
        [p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if "flow-logs" in p.name], "policy"
    )
    statements = json.loads(policy.properties["policy"])["Statement"]
    granted = {action: statement["Resource"] for statement in statements for action in statement["Action"]}
    assert set(granted) == AWS_DOCUMENTED_ACTIONS, policy.urn
    group_arn, group_streams = granted["logs:PutLogEvents"]
    assert group_arn.startswith("arn:aws:logs:us-east-1:123456789012:log-group:") and group_streams == (
        group_arn + ":*"
    )
    for action, resources in granted.items():
        if action == "logs:DescribeLogGroups":  # lists groups: authorized on the region's log-group:* only
            assert resources == "arn:aws:logs:us-east-1:123456789012:log-group:*"
        else:
            assert resources == [group_arn, group_streams], action
    assert all(statement["Effect"] == "Allow" for statement in statements)
