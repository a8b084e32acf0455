"""EC2 workers for long-running processes, in the Lambda's private subnets, reached by the Lambda only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.ingress import client_only_security_group
from zappa_vpc.components.instance import amazon_linux_image, ssm_instance_profile
from zappa_vpc.components.naming import aws_name
from zappa_vpc.plan.names import LAUNCH_TEMPLATE_NAME
from zappa_vpc.plan.options import Problem, WorkerOptions, require_valid

LAMBDA_ROLE = "lambda"
# Amazon Linux 2023's root device (the AMI's RootDeviceName), so the mapping replaces the image's own volume.
ROOT_DEVICE = "/dev/xvda"


@dataclass(frozen=True)
class WorkersArgs:
    """options: size, ports and type. vpc_id: the VPC. subnet_ids: the Lambda's private subnets, one per AZ
    (the group spreads the workers over all of them). lambda_security_group_id: the only group admitted."""

    options: WorkerOptions
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    lambda_security_group_id: pulumi.Input[str]

    def problems(self) -> list[Problem]:
        problems = self.options.problems()
        if len(self.subnet_ids) < 2:
            problems.append(
                Problem("subnet_ids", len(self.subnet_ids), "the workers need subnets in at least 2 AZs")
            )
        return problems


class Workers(pulumi.ComponentResource):
    """A launch template and an Auto Scaling group of Graviton Amazon Linux 2023 instances: IMDSv2 only,
    encrypted gp3 root volumes, no public address, the SSM agent's role (Session Manager, no inbound port).

    Their security group admits the Lambda's group on the listed ports and nothing else; outbound is open,
    as the Lambda's is (NAT, endpoints, the database). `security_group` is for the database to admit.
    """

    def __init__(self, name: str, args: WorkersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        require_valid("Workers", args.problems())
        super().__init__("zappa-vpc:workers:Workers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.options = options = args.options

        self.security_group = client_only_security_group(
            name,
            vpc_id=args.vpc_id,
            port=options.ports,
            clients={LAMBDA_ROLE: args.lambda_security_group_id},
            service="workers",
            parent=self,
        )
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-egress-all",
            security_group_id=self.security_group.id,
            ip_protocol="-1",
            cidr_ipv4="0.0.0.0/0",
            description="all outbound, as the Lambda",
            opts=child,
        )
        profile = ssm_instance_profile(name, self)
        template_name = aws_name(f"{name}-template", LAUNCH_TEMPLATE_NAME)
        self.launch_template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            name=template_name,
            image_id=amazon_linux_image(options.architecture),
            instance_type=options.instance_type,
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=profile.arn),
            network_interfaces=[
                aws.ec2.LaunchTemplateNetworkInterfaceArgs(
                    device_index=0,
                    associate_public_ip_address="false",
                    security_groups=[self.security_group.id],
                    delete_on_termination="true",
                )
            ],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_tokens="required", http_endpoint="enabled"
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        encrypted="true", volume_type="gp3", delete_on_termination="true"
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(
                    resource_type=kind, tags={"Name": f"{name}-instance"}
                )
                for kind in ("instance", "volume")
            ],
            tags={"Name": f"{name}-template"},
            # A newer image makes a new template version, picked up as the group replaces instances.
            opts=child,
        )
        self.group = aws.autoscaling.Group(
            f"{name}-group",
            vpc_zone_identifiers=list(args.subnet_ids),
            min_size=options.min_size,
            max_size=options.max_size,
            # By its known name, so the cost estimate finds the template on a first preview too.
            launch_template=aws.autoscaling.GroupLaunchTemplateArgs(name=template_name, version="$Latest"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.launch_template]),
        )
        self.register_outputs(
            {"auto_scaling_group_name": self.group.name, "security_group_id": self.security_group.id}
        )
