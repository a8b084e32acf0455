"""A private RDS database for the Zappa app, optionally behind RDS Proxy.

Secure by construction, not by option: never publicly accessible, storage encrypted, TLS required, the
master password generated and rotated by RDS in Secrets Manager (it appears in no input, config or state),
and reachable on the engine port only from the security groups it is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from zappa_vpc.components.ingress import (
    HTTPS_PORT,
    cidr_ingress_rule,
    client_only_security_group,
    client_role_problems,
)
from zappa_vpc.components.naming import stack_scoped
from zappa_vpc.plan.access_info import MASTER_USERNAME
from zappa_vpc.plan.iam import assume_role_policy
from zappa_vpc.plan.names import DatabaseNames, database_names
from zappa_vpc.plan.options import (
    DatabaseEngine,
    DatabaseOptions,
    Problem,
    extended_support_year,
    major_version,
    require_valid,
)

LAMBDA_ROLE = "lambda"
# The role under which the database admits its proxy; callers may not use it for their own groups.
PROXY_ROLE = "proxy"


@dataclass(frozen=True)
class EngineTraits:
    """What differs between the engines we support.

    tls_parameter: the parameter that makes the server refuse unencrypted connections.
    log_exports: logs sent to CloudWatch Logs, for incident response (AWS Security Hub RDS.9).
    log_parameters: what the server must be told to write those logs at all: MySQL writes no slow query
        log unless `slow_query_log` is on, and RDS exports it only from a file, `log_output=FILE` (RDS User
        Guide, "Publishing MySQL logs to Amazon CloudWatch Logs"): else an empty export.
    performance_insights: whether the free tier (7 days) works on every instance class. MySQL has none on
        the micro and small classes (our default), so it stays off for MySQL rather than fail a deploy.
    """

    proxy_engine_family: str
    tls_parameter: str
    log_exports: tuple[str, ...]
    log_parameters: tuple[tuple[str, str], ...]
    performance_insights: bool


ENGINE_TRAITS = {
    DatabaseEngine.POSTGRES: EngineTraits("POSTGRESQL", "rds.force_ssl", ("postgresql", "upgrade"), (), True),
    DatabaseEngine.MYSQL: EngineTraits(
        "MYSQL",
        "require_secure_transport",
        ("error", "slowquery"),
        (("slow_query_log", "1"), ("log_output", "FILE")),
        False,
    ),
}
# Free Performance Insights retention, in days.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
# The proxy may use this share of the database's connections; the rest stays free for admin sessions and
# migrations run through the bastion.
PROXY_MAX_CONNECTIONS_PERCENT = 90


# Bytes of the random suffix each instance's final snapshot carries: 8 hex digits.
SNAPSHOT_SUFFIX_BYTES = 4


def parameter_group_family(engine: DatabaseEngine, version: str) -> str:
    """`postgres` 16.4 -> `postgres16`; `mysql` 8.4.3 -> `mysql8.4`."""
    return engine.value + major_version(engine, version)


def extended_support_warning(options: DatabaseOptions, today: date) -> str | None:
    """What to tell the user when the engine major is past RDS standard support `today`, else None.

    A warning, not a refusal: refusing would also block every update of a database already on that major,
    whose upgrade must be planned and tested; the cost estimate prices the Extended Support it incurs.
    """
    year = extended_support_year(options.engine, options.version, today)
    if year is None:
        return None
    major = major_version(options.engine, options.version)
    return (
        f"{options.engine.value} {major} is past the end of RDS standard support: RDS bills Extended Support "
        f"per vCPU-hour on top of the instance (year {year}); upgrade to a supported major "
        "(engine_version, databaseEngineVersion)"
    )


def proxy_secrets_egress(
    name: str,
    *,
    proxy_security_group_id: pulumi.Input[str],
    endpoint_security_group_id: pulumi.Input[str],
    parent: pulumi.Resource,
) -> aws.vpc.SecurityGroupEgressRule:
    """The proxy's only egress besides the database: HTTPS to the `secretsmanager` interface endpoint.

    RDS Proxy reads its database secret from Secrets Manager through its own network interfaces in the
    VPC, so in the data subnets (no NAT route) it needs the endpoint, and a security group rule to reach
    it; without them the targets stay unavailable (PENDING_PROXY_CAPACITY): see
    https://openillumi.com/?p=96600 and the RDS User Guide, "Troubleshooting for RDS Proxy".
    """
    return aws.vpc.SecurityGroupEgressRule(
        f"{name}-proxy-egress-secrets",
        security_group_id=proxy_security_group_id,
        referenced_security_group_id=endpoint_security_group_id,
        ip_protocol="tcp",
        from_port=HTTPS_PORT,
        to_port=HTTPS_PORT,
        description="to the Secrets Manager endpoint for the database credentials",
        opts=pulumi.ResourceOptions(parent=parent),
    )


@dataclass(frozen=True)
class PrivateDatabaseArgs:
    """Where the database lives and who may reach it.

    subnet_ids: data-tier subnets, one per AZ (at least 2, as RDS requires for a subnet group).
    client_security_groups: role -> security group id, e.g. {"lambda": ..., "bastion": ...}; each role gets
        one ingress rule on the engine port. With a proxy, `lambda` is required: it reaches the database
        through the proxy, and only it may reach the proxy.
    """

    options: DatabaseOptions
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    client_security_groups: Mapping[str, pulumi.Input[str]]


def database_problems(args: PrivateDatabaseArgs) -> list[Problem]:
    """Everything wrong with `args`, as the component reports it before registering anything."""
    options = args.options
    problems = options.problems()
    if len(args.subnet_ids) < 2:
        problems.append(
            Problem(
                "subnet_ids",
                f"{len(args.subnet_ids)} subnet(s)",
                "RDS needs data-tier subnets in at least 2 availability zones; give one per AZ",
            )
        )
    problems += client_role_problems(
        "client_security_groups", args.client_security_groups, reserved=frozenset({PROXY_ROLE})
    )
    if options.proxy and LAMBDA_ROLE not in args.client_security_groups:
        problems.append(
            Problem(
                "client_security_groups",
                sorted(args.client_security_groups),
                f"RDS Proxy admits only the Lambda security group; give it under the role '{LAMBDA_ROLE}'",
            )
        )
    return problems


class PrivateDatabase(pulumi.ComponentResource):
    """An RDS instance in the data tier, reachable only from its client security groups (and its proxy).

    Outputs: `host` (the proxy endpoint when there is a proxy, else the instance address), `port`,
    `secret_arn` (the RDS-managed secret holding `username` and `password`), `database_name`.
    """

    instance: aws.rds.Instance
    security_group: aws.ec2.SecurityGroup
    subnet_group: aws.rds.SubnetGroup
    parameter_group: aws.rds.ParameterGroup
    proxy: aws.rds.Proxy | None
    proxy_security_group: aws.ec2.SecurityGroup | None
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    secret_arn: pulumi.Output[str]
    database_name: pulumi.Output[str]

    def __init__(
        self, name: str, args: PrivateDatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        require_valid("PrivateDatabase", database_problems(args))
        super().__init__("zappa-vpc:database:PrivateDatabase", name, None, opts)
        options = args.options
        traits = ENGINE_TRAITS[options.engine]
        child = pulumi.ResourceOptions(parent=self)
        service = f"{options.engine.value} database"
        family = parameter_group_family(options.engine, options.version)
        # Explicit names, each AWS's rules met whatever the stack is called; the hash input tells apart
        # projects and stacks sharing an account.
        names = database_names(name, family, unique=stack_scoped(name))
        self.names = names
        warning = extended_support_warning(options, date.today())
        if warning:
            pulumi.log.warn(warning, resource=self)

        clients = dict(args.client_security_groups)
        self.proxy_security_group = None
        if options.proxy:
            self.proxy_security_group = client_only_security_group(
                f"{name}-proxy",
                vpc_id=args.vpc_id,
                port=options.port,
                clients={LAMBDA_ROLE: clients[LAMBDA_ROLE]},
                service=f"{options.engine.value} proxy",
                parent=self,
                group_name=names.proxy_security_group,
            )
            clients[PROXY_ROLE] = self.proxy_security_group.id
        self.security_group = client_only_security_group(
            name,
            vpc_id=args.vpc_id,
            port=options.port,
            clients=clients,
            service=service,
            parent=self,
            group_name=names.security_group,
        )
        for index, cidr in enumerate(options.admin_cidrs):
            cidr_ingress_rule(
                f"{name}-ingress-admin-{index}",
                security_group_id=self.security_group.id,
                cidr=cidr,
                port=options.port,
                description=f"{service} from administrators over the VPN",
                parent=self,
            )

        self.subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnet-group",
            name=names.subnet_group,
            subnet_ids=list(args.subnet_ids),
            description=f"{service}: private data-tier subnets",
            opts=child,
        )
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-parameters",
            name=names.parameter_group,
            family=family,
            description=f"{service}: TLS required",
            parameters=[
                aws.rds.ParameterGroupParameterArgs(name=parameter, value=value)
                for parameter, value in ((traits.tls_parameter, "1"), *traits.log_parameters)
            ],
            opts=child,
        )
        # RDS creates the export log groups itself, never expiring, outside the stack: create them first.
        self.log_groups = [
            aws.cloudwatch.LogGroup(
                f"{name}-log-{log}",
                name=names.log_group(log),
                retention_in_days=options.log_retention_days,
                opts=child,
            )
            for log in traits.log_exports
        ]
        self.instance = self._instance(name, args, traits, names)
        # A refresh or an import can return no managed secret: no ARN then, rather than a crash.
        self.secret_arn = self.instance.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn if secrets else None
        )

        self.proxy = None
        if self.proxy_security_group is not None:
            self.proxy = self._proxy(name, args, traits, names, self.proxy_security_group)
        self.host = self.proxy.endpoint if self.proxy is not None else self.instance.address
        self.port = pulumi.Output.from_input(options.port)
        self.database_name = self.instance.db_name
        self.register_outputs(
            {
                "host": self.host,
                "port": self.port,
                "secretArn": self.secret_arn,
                "databaseName": self.database_name,
            }
        )

    def _instance(
        self, name: str, args: PrivateDatabaseArgs, traits: EngineTraits, names: DatabaseNames
    ) -> aws.rds.Instance:
        options = args.options
        # These inputs replace the instance when they change (terraform-provider-aws aws_db_instance:
        # ForceNew), and a new instance needs a final snapshot name of its own: a new suffix with each one.
        replaced_by = {
            "identifier": names.identifier,
            "engine": options.engine.value,
            "db_name": options.database_name,
            "username": MASTER_USERNAME,
            "storage_encrypted": "true",
        }
        snapshot_suffix = (
            random.RandomId(
                f"{name}-snapshot-suffix",
                byte_length=SNAPSHOT_SUFFIX_BYTES,
                keepers=replaced_by,
                opts=pulumi.ResourceOptions(parent=self),
            )
            if options.final_snapshot
            else None
        )
        return aws.rds.Instance(
            f"{name}-instance",
            identifier=names.identifier,
            engine=options.engine.value,
            engine_version=options.version,
            # Without it RDS refuses a change of major version, and the update fails part-way.
            allow_major_version_upgrade=True,
            instance_class=options.instance_class,
            storage_type="gp3",
            allocated_storage=options.storage_gb,
            # Equal sizes mean fixed storage; RDS wants a ceiling above the allocation to autoscale.
            max_allocated_storage=options.max_storage_gb
            if options.max_storage_gb > options.storage_gb
            else None,
            storage_encrypted=True,
            db_name=options.database_name,
            username=MASTER_USERNAME,
            manage_master_user_password=True,
            port=options.port,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[self.security_group.id],
            parameter_group_name=self.parameter_group.name,
            publicly_accessible=False,
            multi_az=options.multi_az,
            backup_retention_period=options.backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=options.deletion_protection,
            skip_final_snapshot=not options.final_snapshot,
            final_snapshot_identifier=snapshot_suffix.hex.apply(names.final_snapshot)
            if snapshot_suffix is not None
            else None,
            auto_minor_version_upgrade=True,
            # Free, and lets the app or an admin log in with short-lived IAM tokens instead of the password.
            iam_database_authentication_enabled=True,
            performance_insights_enabled=traits.performance_insights,
            performance_insights_retention_period=(
                PERFORMANCE_INSIGHTS_RETENTION_DAYS if traits.performance_insights else None
            ),
            enabled_cloudwatch_logs_exports=list(traits.log_exports),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=self.log_groups,
                # The identifier is fixed, so a replacement must free it first (its final snapshot is taken).
                delete_before_replace=True,
                # With deletion protection, a replacement is refused at preview instead of creating a second
                # database and then failing to delete the first.
                protect=options.deletion_protection,
            ),
        )

    def _proxy(
        self,
        name: str,
        args: PrivateDatabaseArgs,
        traits: EngineTraits,
        names: DatabaseNames,
        security_group: aws.ec2.SecurityGroup,
    ) -> aws.rds.Proxy:
        """RDS Proxy in the data tier: many concurrent Lambdas share a few database connections.

        Its egress to Secrets Manager is `proxy_secrets_egress`, added where the endpoint is known.
        """
        child = pulumi.ResourceOptions(parent=self)
        port = args.options.port
        # Security groups are stateful, so the proxy needs egress only for what it opens: the database.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-proxy-egress-database",
            security_group_id=security_group.id,
            referenced_security_group_id=self.security_group.id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            description="to the database",
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-proxy-role",
            name=names.proxy_role,
            description="RDS Proxy reads the database's managed secret",
            # AWS's documented trust policy for the proxy role: the service principal, no condition (RDS
            # User Guide, "Configuring IAM authentication for RDS Proxy", rds-proxy-iam-setup).
            assume_role_policy=assume_role_policy("rds.amazonaws.com"),
            opts=child,
        )
        # Only this secret. The RDS-managed secret is encrypted with the aws/secretsmanager key, whose key
        # policy already lets Secrets Manager decrypt for any principal of the account, so no kms statement.
        read_secret = aws.iam.RolePolicy(
            f"{name}-proxy-read-secret",
            role=role.id,
            policy=self.secret_arn.apply(
                lambda arn: json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn}
                        ],
                    }
                )
            ),
            opts=child,
        )
        proxy = aws.rds.Proxy(
            f"{name}-proxy",
            name=names.proxy,
            engine_family=traits.proxy_engine_family,
            role_arn=role.arn,
            vpc_subnet_ids=list(args.subnet_ids),
            vpc_security_group_ids=[security_group.id],
            require_tls=True,
            auths=[
                aws.rds.ProxyAuthArgs(
                    auth_scheme="SECRETS",
                    iam_auth="DISABLED",
                    secret_arn=self.secret_arn,
                    description="the RDS-managed master user secret",
                )
            ],
            # The proxy checks its secret as soon as it exists. Its name is fixed, so a replacement frees it.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[read_secret], delete_before_replace=True),
        )
        pool = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-proxy-pool",
            db_proxy_name=proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=PROXY_MAX_CONNECTIONS_PERCENT,
            ),
            opts=child,
        )
        aws.rds.ProxyTarget(
            f"{name}-proxy-target",
            db_proxy_name=proxy.name,
            target_group_name=pool.name,
            db_instance_identifier=self.instance.identifier,
            opts=child,
        )
        return proxy
