"""What the Lambda reaches privately on top of a network: the database and AWS services through endpoints."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from zappa_vpc.components.database import PrivateDatabase, PrivateDatabaseArgs
from zappa_vpc.components.endpoints import VpcEndpoints, VpcEndpointsArgs
from zappa_vpc.components.network import VpcNetwork
from zappa_vpc.plan.access_info import (
    BastionHost,
    DatabaseAccess,
    app_environment,
    client_command,
    private_api_resource_policy,
    tunnel_command,
)
from zappa_vpc.plan.options import ServiceAccessOptions, Tier, require_valid


@dataclass(frozen=True)
class ServiceAccessArgs:
    """options: database and endpoints, checked against the network's pattern. region: for endpoint names."""

    options: ServiceAccessOptions
    region: str
    network: VpcNetwork


class ServiceAccess(pulumi.ComponentResource):
    """The private database (admitting the Lambda and the bastion only) and the VPC endpoints.

    `outputs` holds what users need: database host, port and secret ARN, the Zappa environment, the tunnel
    and client commands, the endpoint ids.
    """

    def __init__(
        self, name: str, args: ServiceAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        network = args.network
        require_valid("ServiceAccess", args.options.problems(network.options))
        super().__init__("zappa-vpc:service_access:ServiceAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lambda_tier = network.options.traits.lambda_tier
        lambda_group_id = network.lambda_network.security_group.id

        self.database = None
        database_options = args.options.database
        if database_options is not None:
            clients = {"lambda": lambda_group_id}
            if network.bastion is not None:
                clients["bastion"] = network.bastion.security_group.id
            self.database = PrivateDatabase(
                f"{name}-db",
                PrivateDatabaseArgs(
                    database_options, network.vpc.id, [s.id for s in network.subnets[Tier.DATA]], clients
                ),
                child,
            )

        # Private DNS sends every caller of these services in the VPC to the endpoints, the database proxy
        # included (it fetches the database secret), so every group this stack puts in the VPC is a client:
        # the bastion's SSM agent too (ssm, ssmmessages, ec2messages, kms, logs). Named groups rather than the
        # VPC range: nothing else (the database itself, a stray instance) reaches AWS through them.
        endpoint_clients = {"lambda": lambda_group_id}
        if network.bastion is not None:
            endpoint_clients["bastion"] = network.bastion.security_group.id
        if self.database is not None and self.database.proxy_security_group is not None:
            endpoint_clients["database-proxy"] = self.database.proxy_security_group.id
        # Gateway endpoints go on every table the Lambda or the database uses (the public one in `single`).
        route_table_ids = network.labelled_route_table_ids(include_public=lambda_tier is Tier.PUBLIC)
        self.endpoints = VpcEndpoints(
            f"{name}-endpoints",
            VpcEndpointsArgs(
                args.options.endpoints,
                args.region,
                network.vpc.id,
                route_table_ids,
                [s.id for s in network.subnets[lambda_tier]],
                endpoint_clients,
            ),
            child,
        )

        self.outputs: dict[str, pulumi.Input[object]] = {
            "gateway_endpoint_ids": {service: e.id for service, e in self.endpoints.gateway.items()},
            "interface_endpoint_ids": {service: e.id for service, e in self.endpoints.interface.items()},
        }
        private_api = self.endpoints.private_api
        if private_api is not None:
            self.outputs |= {
                "private_api_endpoint_id": private_api.id,
                # The endpoint's own hostname resolves from anywhere, so callers need no DNS forwarding.
                "private_api_hostname": private_api.dns_entries.apply(lambda entries: entries[0].dns_name),
                "zappa_apigateway_policy": private_api.id.apply(private_api_resource_policy),
            }
        if self.database is not None:
            self.outputs |= self._database_outputs(args, self.database)
        self.register_outputs(self.outputs)

    @staticmethod
    def _database_outputs(
        args: ServiceAccessArgs, database: PrivateDatabase
    ) -> dict[str, pulumi.Input[object]]:
        options = args.options.database
        assert options is not None

        def access(host: pulumi.Input[str]) -> pulumi.Output[DatabaseAccess]:
            return pulumi.Output.all(host, database.secret_arn).apply(
                lambda values: DatabaseAccess(
                    options.engine, values[0], options.port, options.database_name, values[1], args.region
                )
            )

        outputs: dict[str, pulumi.Input[object]] = {
            "database_host": database.host,
            "database_port": database.port,
            "database_secret_arn": database.secret_arn,
            "zappa_environment": access(database.host).apply(app_environment),
        }
        # Administrators reach the instance itself (the proxy admits the Lambda only): through the bastion,
        # or straight over the VPN from the admitted corporate networks. Without either there is no way in.
        admin_access = access(database.instance.address)
        bastion = args.network.bastion
        bastion_options = args.network.options.bastion
        if bastion is not None and bastion_options is not None:
            host = pulumi.Output.all(bastion.instance.id, bastion.instance.public_ip).apply(
                lambda values: BastionHost(values[0], bastion_options.access, values[1] or "")
            )
            outputs["database_tunnel_command"] = pulumi.Output.all(admin_access, host).apply(
                lambda values: tunnel_command(*values)
            )
            outputs["database_client_command"] = admin_access.apply(client_command)
        elif options.admin_cidrs:
            outputs["database_client_command"] = admin_access.apply(
                lambda database_access: client_command(database_access, through_tunnel=False)
            )
        return outputs
