"""Private access to AWS services: gateway endpoints on the route tables, interface endpoints in every AZ.

With these the Lambda reaches S3, DynamoDB, SQS, SNS, Secrets Manager... without the Internet: the isolated
and internal patterns have no other way out, and the others keep that traffic off the NAT (cheaper, and it
never leaves the AWS network).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.ingress import (
    HTTPS_PORT,
    cidr_ingress_rule,
    client_only_security_group,
    client_role_problems,
)
from zappa_vpc.plan.iam import endpoint_policy
from zappa_vpc.plan.options import (
    INTERFACE_ENDPOINT_SERVICES,
    PRIVATE_API_SERVICE,
    EndpointOptions,
    Problem,
    endpoint_service_name,
    require_valid,
)

_REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


@dataclass(frozen=True)
class VpcEndpointsArgs:
    """Where the endpoints go and who may use the interface endpoints.

    route_table_ids: label -> route table id; every gateway endpoint is added to all of them (give the
        private and data route tables).
    subnet_ids: one subnet per AZ (at least 2) for the interface endpoints' network interfaces.
    client_security_groups: role -> security group allowed to reach the interface endpoints on their
        services' ports. Private DNS sends every caller in the VPC to them, so give every client the VPC has.
    """

    options: EndpointOptions
    region: str
    vpc_id: pulumi.Input[str]
    route_table_ids: Mapping[str, pulumi.Input[str]]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_groups: Mapping[str, pulumi.Input[str]]


def endpoint_problems(args: VpcEndpointsArgs) -> list[Problem]:
    """Everything wrong with `args`, as the component reports it before registering anything."""
    options = args.options
    problems = options.problems()
    if not _REGION_PATTERN.match(args.region):
        problems.append(Problem("region", args.region, "an AWS region name, such as us-east-1"))
    if options.gateway and not args.route_table_ids:
        problems.append(
            Problem(
                "route_table_ids",
                {},
                "gateway endpoints work through route tables; give the private "
                "route tables, or no gateway services",
            )
        )
    if (options.interface or options.private_api_cidrs) and len(args.subnet_ids) < 2:
        problems.append(
            Problem(
                "subnet_ids",
                f"{len(args.subnet_ids)} subnet(s)",
                "interface endpoints need a subnet in at least 2 availability zones to survive an AZ "
                "outage; give one per AZ",
            )
        )
    if options.interface:
        problems += client_role_problems("client_security_groups", args.client_security_groups)
    return problems


class VpcEndpoints(pulumi.ComponentResource):
    """Gateway endpoints (free) on the given route tables, interface endpoints with private DNS in every AZ.

    Private DNS makes the services' usual names (sqs.us-east-1.amazonaws.com) resolve to the endpoints, so
    the app's boto3 code needs no change; it requires DNS support and DNS hostnames on the VPC.
    Every endpoint whose service supports endpoint policies gets one admitting the stack's account (and
    `policy_accounts`) only; AWS's default policy would let anyone's credentials reach anyone's resources.
    """

    gateway: dict[str, aws.ec2.VpcEndpoint]
    interface: dict[str, aws.ec2.VpcEndpoint]
    security_group: aws.ec2.SecurityGroup | None
    private_api: aws.ec2.VpcEndpoint | None

    def __init__(self, name: str, args: VpcEndpointsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        require_valid("VpcEndpoints", endpoint_problems(args))
        super().__init__("zappa-vpc:endpoints:VpcEndpoints", name, None, opts)
        options = args.options

        def endpoint(service: str, **placement: Any) -> aws.ec2.VpcEndpoint:
            # `ecr.api` -> `<name>-ecr-api`: dots read as separators in names and URNs.
            return aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=args.vpc_id,
                service_name=endpoint_service_name(
                    args.region, service, gateway=placement["vpc_endpoint_type"] == "Gateway"
                ),
                opts=pulumi.ResourceOptions(parent=self),
                **placement,
            )

        policy = aws.get_caller_identity_output().account_id.apply(
            lambda account: endpoint_policy([account, *options.policy_accounts])
        )
        route_table_ids = list(args.route_table_ids.values())
        # S3 and DynamoDB gateway endpoints both take policies.
        self.gateway = {
            service: endpoint(
                service, vpc_endpoint_type="Gateway", route_table_ids=route_table_ids, policy=policy
            )
            for service in options.gateway
        }

        self.interface = {}
        groups: dict[tuple[int, ...], aws.ec2.SecurityGroup] = {}
        for service in options.interface:
            ports = INTERFACE_ENDPOINT_SERVICES[service].ports
            if ports not in groups:
                # The HTTPS group keeps the component's name; one group per other port set (SMTP).
                groups[ports] = client_only_security_group(
                    name if ports == (HTTPS_PORT,) else f"{name}-{service}",
                    vpc_id=args.vpc_id,
                    port=ports,
                    clients=args.client_security_groups,
                    service="AWS service endpoints",
                    parent=self,
                )
            self.interface[service] = endpoint(
                service,
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=list(args.subnet_ids),
                security_group_ids=[groups[ports].id],
                **({"policy": policy} if _takes_policy(args.region, service) else {}),
            )
        self.security_group = groups.get((HTTPS_PORT,))
        self.private_api = self._private_api(name, args, endpoint) if options.private_api_cidrs else None
        self.register_outputs(
            {
                "gatewayEndpointIds": {service: resource.id for service, resource in self.gateway.items()},
                "interfaceEndpointIds": {
                    service: resource.id for service, resource in self.interface.items()
                },
            }
        )

    def _private_api(
        self, name: str, args: VpcEndpointsArgs, endpoint: Callable[..., aws.ec2.VpcEndpoint]
    ) -> aws.ec2.VpcEndpoint:
        """API Gateway's endpoint for a private API, admitting the corporate callers only.

        Private DNS stays off: with it, every API Gateway call from the VPC, to public APIs too, would go
        to this endpoint. Callers use the endpoint's own `vpce` hostname, which resolves anywhere.
        """
        security_group = aws.ec2.SecurityGroup(
            f"{name}-private-api-security-group",
            vpc_id=args.vpc_id,
            description="Private API: HTTPS from the corporate networks only",
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, cidr in enumerate(args.options.private_api_cidrs):
            cidr_ingress_rule(
                f"{name}-private-api-ingress-{index}",
                security_group_id=security_group.id,
                cidr=cidr,
                port=HTTPS_PORT,
                description="private API from the corporate network",
                parent=self,
            )
        return endpoint(
            PRIVATE_API_SERVICE,
            vpc_endpoint_type="Interface",
            private_dns_enabled=False,
            subnet_ids=list(args.subnet_ids),
            security_group_ids=[security_group.id],
        )


def _takes_policy(region: str, service: str) -> bool:
    """Whether the service takes endpoint policies, as EC2 says (DescribeVpcEndpointServices
    VpcEndpointPolicySupported, AWS PrivateLink guide "View endpoint policy support"); AWS allows full access
    through the others whatever policy they are given, so they get none that would claim otherwise."""
    described = aws.ec2.get_vpc_endpoint_service(
        service_name=endpoint_service_name(region, service), service_type="Interface"
    )
    return bool(described.vpc_endpoint_policy_supported)
