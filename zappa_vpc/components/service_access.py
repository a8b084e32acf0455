"""What the Lambda reaches privately on top of a network: the database and AWS services through endpoints."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from zappa_vpc.components.app_bucket import AppBucket, AppBucketArgs
from zappa_vpc.components.database import PrivateDatabase, PrivateDatabaseArgs, proxy_secrets_egress
from zappa_vpc.components.endpoints import VpcEndpoints, VpcEndpointsArgs
from zappa_vpc.components.existing_network import (
    ExistingNetwork,
    ExistingNetworkArgs,
    check_access,
    check_network,
)
from zappa_vpc.components.network import AccessTarget, VpcNetwork
from zappa_vpc.components.workers import Workers, WorkersArgs
from zappa_vpc.plan.access_info import (
    BastionHost,
    DatabaseAccess,
    app_bucket_environment,
    app_environment,
    client_command,
    lambda_vpc_config,
    private_api_resource_policy,
    tunnel_command,
    zappa_stage_fragment,
)
from zappa_vpc.plan.args import AccessArgs
from zappa_vpc.plan.options import InvalidOptionsError, Problem, problem_lines
from zappa_vpc.plan.settings import Settings


@dataclass(frozen=True, kw_only=True)
class ServiceAccessArgs(AccessArgs):
    """network: one of our VPC patterns, an ExistingNetwork, or an existing VPC's ids (ExistingNetworkArgs:
    ServiceAccess then builds the ExistingNetwork itself, as its child `<name>-network`, once every check of
    the network and the access passed). region: for the endpoints' service names. The other fields are the
    database and endpoint settings of the stack config (see AccessArgs)."""

    network: VpcNetwork | ExistingNetwork | ExistingNetworkArgs
    region: str

    @classmethod
    def from_settings(cls, settings: Settings, network: VpcNetwork) -> ServiceAccessArgs:
        """The access half of parsed stack settings, on the network built from them."""
        return cls._from_values(settings.values, network=network, region=settings.region)


def _region_problems(region: str) -> list[str]:
    if region:
        return []
    why = "the endpoints' service names need the region; give the stack's aws:region"
    return problem_lines([Problem("region", region, why)])


class ServiceAccess(pulumi.ComponentResource):
    """The private database (admitting the Lambda and the bastion only, and the workers when asked), the VPC
    endpoints, and the workers (admitting the Lambda only).

    `outputs` holds what users need: database host, port and secret ARN, the Zappa environment, the tunnel
    and client commands, the endpoint ids, and `zappa_settings`, the whole Zappa stage fragment; on an
    existing VPC's ids also the network's (`vpc_id`, `lambda_security_group_id`, `zappa_vpc_config`).
    Structured outputs are dicts and lists of Outputs (not one `apply`), so a first preview shows their keys.
    """

    # The type token's module; the component provider hosts its types in `index` only.
    TYPE_MODULE = "service_access"

    def __init__(
        self, name: str, args: ServiceAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Every problem, checked against the network as the stack config is, before anything registers:
        # on ids, the network's own checks too, since the network is not built yet.
        problems = _region_problems(args.region)
        network = args.network
        target: AccessTarget | None = None
        if isinstance(network, ExistingNetworkArgs):
            network_check = check_network(network)
            access_check = check_access(network, args, "ServiceAccess")
            problems = problem_lines(network_check.problems) + access_check.problems + problems
        else:
            try:
                target = network.access_target("ServiceAccess", args)
            except InvalidOptionsError as error:
                problems = error.problems + problems
        if problems:
            raise InvalidOptionsError.listing("ServiceAccess", problems, "args")
        super().__init__(f"zappa-vpc:{self.TYPE_MODULE}:ServiceAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.network: VpcNetwork | ExistingNetwork
        if target is None:
            assert isinstance(network, ExistingNetworkArgs) and access_check.options is not None
            self.network = ExistingNetwork(f"{name}-network", network, child, check=network_check)
            target = self.network.target(access_check.options)
        else:
            assert not isinstance(network, ExistingNetworkArgs)
            self.network = network
        self.options = target.options

        self.workers = None
        worker_options = target.options.workers
        if worker_options is not None:
            self.workers = Workers(
                f"{name}-workers",
                WorkersArgs(
                    worker_options, target.vpc_id, target.lambda_subnet_ids, target.lambda_security_group_id
                ),
                child,
            )

        self.database = None
        database_options = target.options.database
        if database_options is not None:
            clients = {"lambda": target.lambda_security_group_id}
            if target.bastion is not None:
                clients["bastion"] = target.bastion.security_group.id
            if self.workers is not None and self.workers.options.reach_database:
                clients["workers"] = self.workers.security_group.id
            self.database = PrivateDatabase(
                f"{name}-db",
                PrivateDatabaseArgs(database_options, target.vpc_id, target.data_subnet_ids, clients),
                child,
            )

        # Private DNS sends every caller of these services in the VPC to the endpoints, the database proxy
        # included (it fetches the database secret), so every group this stack puts in the VPC is a client:
        # the bastion's SSM agent too (ssm, ssmmessages, ec2messages, kms, logs). Named groups rather than the
        # VPC range: nothing else (the database itself, a stray instance) reaches AWS through them.
        endpoint_clients = {"lambda": target.lambda_security_group_id}
        if target.bastion is not None:
            endpoint_clients["bastion"] = target.bastion.security_group.id
        if self.workers is not None:
            endpoint_clients["workers"] = self.workers.security_group.id
        if self.database is not None and self.database.proxy_security_group is not None:
            endpoint_clients["database-proxy"] = self.database.proxy_security_group.id
        self.endpoints = VpcEndpoints(
            f"{name}-endpoints",
            VpcEndpointsArgs(
                target.options.endpoints,
                args.region,
                target.vpc_id,
                target.route_table_ids,
                target.lambda_subnet_ids,
                endpoint_clients,
            ),
            child,
        )

        database = self.database
        if database is not None and database.proxy_security_group is not None:
            # Required with a proxy (ServiceAccessOptions.problems), so the endpoint group exists.
            assert self.endpoints.security_group is not None
            proxy_secrets_egress(
                f"{name}-db",
                proxy_security_group_id=database.proxy_security_group.id,
                endpoint_security_group_id=self.endpoints.security_group.id,
                parent=database,
            )

        # The network's outputs when this component built it; a network the caller built has its own.
        built = isinstance(args.network, ExistingNetworkArgs)
        self.outputs: dict[str, pulumi.Input[object]] = {
            **(self.network.outputs if built else {}),
            "gateway_endpoint_ids": {service: e.id for service, e in self.endpoints.gateway.items()},
            "interface_endpoint_ids": {service: e.id for service, e in self.endpoints.interface.items()},
        }
        if self.workers is not None:
            self.outputs |= {
                "workers_security_group_id": self.workers.security_group.id,
                "workers_auto_scaling_group_name": self.workers.group.name,
            }
        private_api = self.endpoints.private_api
        if private_api is not None:
            self.outputs |= {
                "private_api_endpoint_id": private_api.id,
                # The endpoint's own hostname resolves from anywhere, so callers need no DNS forwarding.
                "private_api_hostname": private_api.dns_entries.apply(lambda entries: entries[0].dns_name),
                "zappa_apigateway_policy": private_api_resource_policy(private_api.id),
            }
        if self.database is not None:
            self.outputs |= self._database_outputs(args.region, target, self.database)
        self.app_bucket = None
        bucket_arns = None
        if target.options.app_bucket is not None:
            # Required with a bucket (ServiceAccessOptions.choice_problems).
            endpoint_id = self.endpoints.gateway["s3"].id
            self.app_bucket = AppBucket(
                f"{name}-app-bucket", AppBucketArgs(target.options.app_bucket, endpoint_id), child
            )
            bucket_arns = (self.app_bucket.bucket_arn, pulumi.Output.concat(self.app_bucket.bucket_arn, "/*"))
            environment = app_bucket_environment(self.app_bucket.bucket_name, endpoint_id)
            self.outputs |= {
                "app_bucket_name": self.app_bucket.bucket_name,
                "app_bucket_arn": self.app_bucket.bucket_arn,
                "app_bucket_vpce_id": endpoint_id,
                "zappa_environment": {**self.outputs.get("zappa_environment", {}), **environment},
            }
        self.outputs["zappa_settings"] = zappa_stage_fragment(
            args.region,
            lambda_vpc_config(target.lambda_subnet_ids, target.lambda_security_group_id),
            environment=self.outputs.get("zappa_environment"),
            secret_arn=self.database.secret_arn if self.database is not None else None,
            private_api=private_api is not None,
            bucket_arns=bucket_arns,
        )
        self.register_outputs(self.outputs)

    @staticmethod
    def _database_outputs(
        region: str, target: AccessTarget, database: PrivateDatabase
    ) -> dict[str, pulumi.Input[object]]:
        options = target.options.database
        assert options is not None

        def access(host: pulumi.Input[str]) -> pulumi.Output[DatabaseAccess]:
            return pulumi.Output.all(host, database.secret_arn).apply(
                lambda values: DatabaseAccess(
                    options.engine, values[0], options.port, options.database_name, values[1], region
                )
            )

        outputs: dict[str, pulumi.Input[object]] = {
            "database_host": database.host,
            "database_port": database.port,
            "database_secret_arn": database.secret_arn,
            "zappa_environment": app_environment(
                options.engine, database.host, options.port, options.database_name, database.secret_arn
            ),
        }
        # Administrators reach the instance itself (the proxy admits the Lambda only): through the bastion,
        # or straight over the VPN from the admitted corporate networks. Without either there is no way in.
        admin_access = access(database.instance.address)
        bastion = target.bastion
        if bastion is not None:
            host = pulumi.Output.all(bastion.instance.id, bastion.instance.public_ip).apply(
                lambda values: BastionHost(values[0], bastion.options.access, values[1] or "")
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
