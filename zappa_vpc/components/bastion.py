"""An admin bastion in the public tier: SSM Session Manager by default, SSH only from an allowlist."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.ingress import cidr_ingress_rule
from zappa_vpc.components.instance import amazon_linux_image, ssm_instance_profile
from zappa_vpc.plan.options import BastionAccess, BastionOptions, require_valid

SSH_PORT = 22


@dataclass(frozen=True)
class BastionArgs:
    """options: access and size. vpc_id / vpc_cidr: the VPC (outbound is open to it, for tunnels).
    subnet_id: a public subnet, so the SSM agent reaches AWS without a NAT."""

    options: BastionOptions
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_id: pulumi.Input[str]


class Bastion(pulumi.ComponentResource):
    """A Graviton Amazon Linux 2023 instance with IMDSv2 only, an encrypted disk and the SSM agent's role.

    Its security group opens no port unless SSH is asked for, and then only to the allowlist (EC2 Instance
    Connect or your own key). Outbound: HTTPS anywhere (SSM, updates) and anything inside the VPC (tunnels).
    """

    def __init__(self, name: str, args: BastionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        require_valid("Bastion", args.options.problems())
        super().__init__("zappa-vpc:bastion:Bastion", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.options = options = args.options

        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Bastion: SSM Session Manager; SSH only from the configured allowlist",
            vpc_id=args.vpc_id,
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=["0.0.0.0/0"],
                    description="SSM and updates",
                ),
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_blocks=[args.vpc_cidr],
                    description="tunnels into the VPC",
                ),
            ],
            tags={"Name": f"{name}-sg"},
            opts=child,
        )
        if options.access is BastionAccess.SSH:
            for index, cidr in enumerate(options.ssh_allowlist):
                cidr_ingress_rule(
                    f"{name}-ssh-{index}",
                    security_group_id=self.security_group.id,
                    cidr=cidr,
                    port=SSH_PORT,
                    description="SSH from the configured allowlist",
                    parent=self,
                )

        profile = ssm_instance_profile(name, self)
        self.instance = aws.ec2.Instance(
            f"{name}-instance",
            ami=amazon_linux_image(options.architecture),
            instance_type=options.instance_type,
            subnet_id=args.subnet_id,
            vpc_security_group_ids=[self.security_group.id],
            iam_instance_profile=profile.name,
            associate_public_ip_address=True,
            metadata_options=aws.ec2.InstanceMetadataOptionsArgs(
                http_tokens="required", http_endpoint="enabled"
            ),
            root_block_device=aws.ec2.InstanceRootBlockDeviceArgs(encrypted=True, volume_type="gp3"),
            tags={"Name": f"{name}-instance"},
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["ami"]),
        )
        self.register_outputs({"instance_id": self.instance.id, "security_group_id": self.security_group.id})
