"""A private RDS database for the Zappa app, optionally behind RDS Proxy.

Secure by construction, not by option: never publicly accessible, storage encrypted, TLS required, the
master password generated and rotated by RDS in Secrets Manager (it appears in no input, config or state),
and reachable on the engine port only from the security groups it is given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from zappa_vpc.components.ingress import (
    HTTPS_PORT,
    cidr_ingress_rule,
    client_only_security_group,
    client_role_problems,
)
from zappa_vpc.plan.access_info import MASTER_USERNAME
from zappa_vpc.plan.iam import assume_role_policy
from zappa_vpc.plan.options import (
    MAJOR_VERSION_PARTS,
    DatabaseEngine,
    DatabaseOptions,
    Problem,
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
    performance_insights: whether the free tier (7 days) works on every instance class. MySQL has none on
        the micro and small classes (our default), so it stays off for MySQL rather than fail a deploy.
    """

    proxy_engine_family: str
    tls_parameter: str
    log_exports: tuple[str, ...]
    performance_insights: bool


ENGINE_TRAITS = {
    DatabaseEngine.POSTGRES: EngineTraits("POSTGRESQL", "rds.force_ssl", ("postgresql", "upgrade"), True),
    DatabaseEngine.MYSQL: EngineTraits("MYSQL", "require_secure_transport", ("error", "slowquery"), False),
}
# Free Performance Insights retention, in days.
PERFORMANCE_INSIGHTS_RETENTION_DAYS = 7
# The proxy may use this share of the database's connections; the rest stays free for admin sessions and
# migrations run through the bastion.
PROXY_MAX_CONNECTIONS_PERCENT = 90


def parameter_group_family(engine: DatabaseEngine, version: str) -> str:
    """`postgres` 16.4 -> `postgres16`; `mysql` 8.0.39 -> `mysql8.0`."""
    parts = version.split(".")[: MAJOR_VERSION_PARTS[engine]]
    return engine.value + ".".join(parts)


def snapshot_identifier(name: str) -> str:
    """A valid RDS snapshot identifier for `name`: letters, digits and single hyphens, a letter first."""
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", name.lower())).strip("-")
    if not cleaned[:1].isalpha():
        cleaned = f"db-{cleaned}"
    return f"{cleaned[:240].rstrip('-')}-final"


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
            )
            clients[PROXY_ROLE] = self.proxy_security_group.id
        self.security_group = client_only_security_group(
            name, vpc_id=args.vpc_id, port=options.port, clients=clients, service=service, parent=self
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
            subnet_ids=list(args.subnet_ids),
            description=f"{service}: private data-tier subnets",
            opts=child,
        )
        self.parameter_group = aws.rds.ParameterGroup(
            f"{name}-parameters",
            family=parameter_group_family(options.engine, options.version),
            description=f"{service}: TLS required",
            parameters=[aws.rds.ParameterGroupParameterArgs(name=traits.tls_parameter, value="1")],
            opts=child,
        )
        self.instance = aws.rds.Instance(
            f"{name}-instance",
            engine=options.engine.value,
            engine_version=options.version,
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
            final_snapshot_identifier=snapshot_identifier(name) if options.final_snapshot else None,
            auto_minor_version_upgrade=True,
            # Free, and lets the app or an admin log in with short-lived IAM tokens instead of the password.
            iam_database_authentication_enabled=True,
            performance_insights_enabled=traits.performance_insights,
            performance_insights_retention_period=(
                PERFORMANCE_INSIGHTS_RETENTION_DAYS if traits.performance_insights else None
            ),
            enabled_cloudwatch_logs_exports=list(traits.log_exports),
            opts=child,
        )
        # RDS fills master_user_secrets once it manages the password; until then (or under mocks that answer
        # only the inputs) there is none, and the ARN is empty rather than a crash.
        self.secret_arn = self.instance.master_user_secrets.apply(
            lambda secrets: secrets[0].secret_arn if secrets else ""
        )

        self.proxy = None
        if self.proxy_security_group is not None:
            self.proxy = self._proxy(name, args, traits, self.proxy_security_group)
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

    def _proxy(
        self,
        name: str,
        args: PrivateDatabaseArgs,
        traits: EngineTraits,
        security_group: aws.ec2.SecurityGroup,
    ) -> aws.rds.Proxy:
        """RDS Proxy in the data tier: many concurrent Lambdas share a few database connections."""
        child = pulumi.ResourceOptions(parent=self)
        port = args.options.port
        # Security groups are stateful, so the proxy needs egress only for what it opens: the database, and
        # Secrets Manager (over HTTPS, through a NAT or the secretsmanager endpoint) for the credentials.
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
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-proxy-egress-secrets",
            security_group_id=security_group.id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=HTTPS_PORT,
            to_port=HTTPS_PORT,
            description="to Secrets Manager for the database credentials",
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-proxy-role",
            description="RDS Proxy reads the database's managed secret",
            assume_role_policy=aws.get_caller_identity_output().account_id.apply(
                lambda account: assume_role_policy("rds.amazonaws.com", source_account=account)
            ),
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
            # The proxy checks its secret as soon as it exists.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[read_secret]),
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
