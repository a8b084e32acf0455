"""What every EC2 instance of the stack shares: the SSM agent's role, and the Amazon Linux 2023 image."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.naming import aws_name
from zappa_vpc.plan.iam import assume_role_policy
from zappa_vpc.plan.names import IAM_ROLE_NAME

SSM_MANAGED_POLICY = "policy/AmazonSSMManagedInstanceCore"


def ssm_instance_profile(name: str, parent: pulumi.Resource) -> aws.iam.InstanceProfile:
    """An instance profile `{name}-profile` whose role holds AWS's SSM managed-instance policy only: Session
    Manager shells and port forwarding, nothing of the app's data."""
    child = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(
        f"{name}-role",
        name=aws_name(f"{name}-role", IAM_ROLE_NAME),
        assume_role_policy=assume_role_policy("ec2.amazonaws.com"),
        opts=child,
    )
    aws.iam.RolePolicyAttachment(
        f"{name}-ssm-policy",
        role=role.name,
        # The partition makes it work in GovCloud and China as well.
        policy_arn=aws.get_partition_output().partition.apply(
            lambda partition: f"arn:{partition}:iam::aws:{SSM_MANAGED_POLICY}"
        ),
        opts=child,
    )
    return aws.iam.InstanceProfile(f"{name}-profile", role=role.name, opts=child)


def amazon_linux_image(architecture: str) -> pulumi.Output[str]:
    """The id of the newest Amazon Linux 2023 image for `architecture` (`arm64` or `x86_64`)."""
    return aws.ec2.get_ami_output(
        most_recent=True,
        owners=["amazon"],
        filters=[aws.ec2.GetAmiFilterArgs(name="name", values=[f"al2023-ami-2023.*-{architecture}"])],
    ).id
