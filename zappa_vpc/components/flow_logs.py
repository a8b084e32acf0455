"""VPC flow logs to CloudWatch Logs."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.naming import aws_name
from zappa_vpc.plan.iam import assume_role_policy, flow_log_role_policy
from zappa_vpc.plan.names import IAM_ROLE_NAME
from zappa_vpc.plan.options import FlowLogOptions, require_valid


@dataclass(frozen=True)
class FlowLogsArgs:
    options: FlowLogOptions
    vpc_id: pulumi.Input[str]


class FlowLogs(pulumi.ComponentResource):
    """Every accepted and rejected connection in the VPC, kept `retention_days` in a log group."""

    def __init__(self, name: str, args: FlowLogsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        require_valid("FlowLogs", args.options.problems())
        super().__init__("zappa-vpc:flow_logs:FlowLogs", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-log-group", retention_in_days=args.options.retention_days, opts=child
        )
        role = aws.iam.Role(
            f"{name}-role",
            name=aws_name(f"{name}-role", IAM_ROLE_NAME),
            assume_role_policy=aws.get_caller_identity_output().account_id.apply(
                lambda account: assume_role_policy("vpc-flow-logs.amazonaws.com", source_account=account)
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=self.log_group.arn.apply(flow_log_role_policy),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=args.vpc_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=child,
        )
        self.register_outputs({"log_group_name": self.log_group.name})
