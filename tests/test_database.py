"""The private database: what a user relies on, checked on what the component registers under mocks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import pulumi
import pytest
from pulumi.runtime.settings import reset_options
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from preview.engine import RecordingMonitor
from preview.mocks import AwsMocks
from tests.access_helpers import (
    EGRESS_RULE,
    INGRESS_RULE,
    PROJECT,
    REGION,
    Recorded,
    StandInNetwork,
    resolved,
    run_program,
    run_rejected_program,
    walk,
)
from tests.test_names import valid_final_snapshot_identifier, valid_identifier
from zappa_vpc.components.database import (
    PrivateDatabase,
    PrivateDatabaseArgs,
    extended_support_warning,
    parameter_group_family,
)
from zappa_vpc.plan.options import DatabaseEngine, DatabaseOptions, extended_support_year

INSTANCE = "aws:rds/instance:Instance"
DB = "app-db"


def build(
    options: DatabaseOptions,
    roles: tuple[str, ...] = ("lambda", "bastion"),
    *,
    preview: bool = True,
    name: str = DB,
) -> tuple[dict[str, Any], Recorded]:
    """Register the stand-in network and a database for it; return the database's resolved outputs too."""

    def program() -> dict[str, Any]:
        network = StandInNetwork.build()
        database = PrivateDatabase(
            name,
            PrivateDatabaseArgs(
                options=options,
                vpc_id=network.vpc.id,
                subnet_ids=[subnet.id for subnet in network.data_subnets],
                client_security_groups=network.sg_ids(*roles),
            ),
        )
        outputs: dict[str, list[Any]] = {key: [] for key in ("host", "port", "secret_arn", "database_name")}
        for key, sink in outputs.items():
            resolved(getattr(database, key), sink)
        return outputs

    outputs, recorded = run_program(program, preview=preview)
    return {key: values[0] for key, values in outputs.items() if values}, recorded


def ingress_sources(recorded: Recorded, security_group: str) -> dict[str, tuple[str, int, int]]:
    """Source resource name -> (protocol, from port, to port) for each rule on `security_group`.

    Fails if a rule admits anything but a security group: a CIDR or a prefix list.
    """
    sources = {}
    for rule in recorded.rules_of(security_group, INGRESS_RULE):
        open_to = {key for key in ("cidrIpv4", "cidrIpv6", "prefixListId") if key in rule.properties}
        assert not open_to, f"{rule.urn} admits {open_to}, not only security groups"
        (source,) = recorded.source_names(rule, "referencedSecurityGroupId")
        props = rule.properties
        sources[source] = (props["ipProtocol"], int(props["fromPort"]), int(props["toPort"]))
    return sources


@pytest.fixture(scope="module")
def default_database() -> tuple[dict[str, Any], Recorded]:
    return build(DatabaseOptions())


def test_database_is_private_encrypted_and_keeps_no_password(default_database):
    _, recorded = default_database
    instance = recorded.named(f"{DB}-instance")
    props = instance.properties
    assert props["publiclyAccessible"] is False, instance.urn
    assert props["storageEncrypted"] is True, instance.urn
    assert props["manageMasterUserPassword"] is True, instance.urn
    # No password in any input of any resource: RDS generates it and keeps it in Secrets Manager.
    password_inputs = [
        (record.urn, path)
        for record in recorded.records
        for path, _ in walk(record.properties)
        if re.search("password", path, re.IGNORECASE) and path != "manageMasterUserPassword"
    ]
    assert password_inputs == []


def test_database_lives_in_the_given_data_subnets_of_two_azs(default_database):
    _, recorded = default_database
    instance = recorded.named(f"{DB}-instance")
    assert recorded.source_names(instance, "dbSubnetGroupName") == {f"{DB}-subnet-group"}
    subnet_group = recorded.named(f"{DB}-subnet-group")
    assert recorded.source_names(subnet_group, "subnetIds") == {"net-data-a", "net-data-b"}
    zones = {recorded.named(name).properties["availabilityZone"] for name in ("net-data-a", "net-data-b")}
    assert len(zones) == 2


def test_only_the_client_security_groups_reach_the_engine_port(default_database):
    _, recorded = default_database
    instance = recorded.named(f"{DB}-instance")
    assert recorded.source_names(instance, "vpcSecurityGroupIds") == {f"{DB}-security-group"}
    assert ingress_sources(recorded, f"{DB}-security-group") == {
        "net-lambda": ("tcp", 5432, 5432),
        "net-bastion": ("tcp", 5432, 5432),
    }
    group = recorded.named(f"{DB}-security-group")
    assert "ingress" not in group.properties and "egress" not in group.properties, group.urn
    assert recorded.rules_of(f"{DB}-security-group", EGRESS_RULE) == []


def test_database_requires_tls_and_keeps_backups(default_database):
    _, recorded = default_database
    props = recorded.named(f"{DB}-instance").properties
    assert props["backupRetentionPeriod"] == 7
    assert props["storageType"] == "gp3"
    assert (props["engine"], props["engineVersion"]) == ("postgres", "16")
    parameters = recorded.named(f"{DB}-parameters").properties
    assert parameters["family"] == "postgres16"
    assert [(p["name"], p["value"]) for p in parameters["parameters"]] == [("rds.force_ssl", "1")]


def test_mysql_uses_its_own_port_and_tls_setting_and_writes_the_slow_query_log_it_exports():
    _, recorded = build(DatabaseOptions(engine=DatabaseEngine.MYSQL), roles=("lambda",))
    props = recorded.named(f"{DB}-instance").properties
    # 8.4 by default: 8.0 left RDS standard support on 2026-07-31.
    assert (props["engine"], props["engineVersion"], props["port"]) == ("mysql", "8.4", 3306)
    assert ingress_sources(recorded, f"{DB}-security-group") == {"net-lambda": ("tcp", 3306, 3306)}
    parameters = recorded.named(f"{DB}-parameters").properties
    assert parameters["family"] == "mysql8.4"
    # The slowquery export is empty unless the server writes the slow query log.
    assert "slowquery" in props["enabledCloudwatchLogsExports"]
    assert [(p["name"], p["value"]) for p in parameters["parameters"]] == [
        ("require_secure_transport", "1"),
        ("slow_query_log", "1"),
        ("log_output", "FILE"),
    ]
    # MySQL has no Performance Insights on the small classes; asking for it would fail the deployment.
    assert props["performanceInsightsEnabled"] is False


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            {"multi_az": True, "deletion_protection": True, "final_snapshot": True},
            {
                "multiAz": True,
                "deletionProtection": True,
                "skipFinalSnapshot": False,
            },
        ),
        (
            {"multi_az": False, "deletion_protection": False, "final_snapshot": False},
            {
                "multiAz": False,
                "deletionProtection": False,
                "skipFinalSnapshot": True,
                "finalSnapshotIdentifier": None,
            },
        ),
    ],
    ids=["prod", "throwaway"],
)
def test_protection_settings_reach_the_instance(settings: Mapping[str, bool], expected: Mapping[str, object]):
    _, recorded = build(DatabaseOptions(**settings))
    props = recorded.named(f"{DB}-instance").properties
    assert {key: props.get(key) for key in expected} == expected


def test_engine_storage_and_class_come_from_the_options():
    options = DatabaseOptions(
        engine_version="16.4",
        instance_class="db.r7g.large",
        storage_gb=50,
        max_storage_gb=50,
        database_name="shop",
        backup_retention_days=30,
    )
    _, recorded = build(options)
    props = recorded.named(f"{DB}-instance").properties
    assert {
        key: props.get(key)
        for key in (
            "engineVersion",
            "instanceClass",
            "allocatedStorage",
            "maxAllocatedStorage",
            "dbName",
            "backupRetentionPeriod",
        )
    } == {
        "engineVersion": "16.4",
        "instanceClass": "db.r7g.large",
        "allocatedStorage": 50,
        # Equal to the allocation: fixed storage, no autoscaling ceiling sent to RDS.
        "maxAllocatedStorage": None,
        "dbName": "shop",
        "backupRetentionPeriod": 30,
    }


@pytest.fixture(scope="module")
def proxied_database() -> tuple[dict[str, Any], Recorded]:
    return build(DatabaseOptions(proxy=True))


def test_proxy_is_reached_from_the_lambda_only_and_requires_tls(proxied_database):
    _, recorded = proxied_database
    proxy = recorded.named(f"{DB}-proxy")
    assert proxy.properties["requireTls"] is True, proxy.urn
    assert proxy.properties["engineFamily"] == "POSTGRESQL"
    assert recorded.source_names(proxy, "vpcSecurityGroupIds") == {f"{DB}-proxy-security-group"}
    assert recorded.source_names(proxy, "vpcSubnetIds") == {"net-data-a", "net-data-b"}
    assert ingress_sources(recorded, f"{DB}-proxy-security-group") == {"net-lambda": ("tcp", 5432, 5432)}


def test_database_admits_the_proxy_beside_its_clients(proxied_database):
    _, recorded = proxied_database
    assert ingress_sources(recorded, f"{DB}-security-group") == {
        "net-lambda": ("tcp", 5432, 5432),
        "net-bastion": ("tcp", 5432, 5432),
        f"{DB}-proxy-security-group": ("tcp", 5432, 5432),
    }
    egress = {
        rule.name: (
            recorded.source_names(rule, "referencedSecurityGroupId"),
            rule.properties.get("cidrIpv4"),
            int(rule.properties["fromPort"]),
        )
        for rule in recorded.rules_of(f"{DB}-proxy-security-group", EGRESS_RULE)
    }
    # Nothing to the world: its way to Secrets Manager is the endpoint, added by ServiceAccess.
    assert egress == {f"{DB}-proxy-egress-database": ({f"{DB}-security-group"}, None, 5432)}


def test_proxy_targets_the_instance_with_its_managed_secret(proxied_database):
    _, recorded = proxied_database
    target = recorded.named(f"{DB}-proxy-target")
    assert recorded.source_names(target, "dbInstanceIdentifier") == {f"{DB}-instance"}
    assert recorded.source_names(target, "dbProxyName") == {f"{DB}-proxy"}
    proxy = recorded.named(f"{DB}-proxy")
    assert recorded.source_names(proxy, "auths") >= {f"{DB}-instance"}
    assert proxy.properties["auths"][0]["authScheme"] == "SECRETS"


def test_proxy_role_reads_only_the_database_secret_and_outputs_point_at_the_proxy():
    outputs, recorded = build(DatabaseOptions(proxy=True), preview=False)
    secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!app-db-instance"
    policy = json.loads(recorded.named(f"{DB}-proxy-read-secret").properties["policy"])
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}
    ]
    assert recorded.named(f"{DB}-proxy").properties["auths"][0]["secretArn"] == secret
    assert outputs == {
        "host": "app-db-proxy.proxy-c0ffee.eu-west-1.rds.amazonaws.com",
        "port": 5432,
        "secret_arn": secret,
        "database_name": "app",
    }


def test_without_a_proxy_the_host_is_the_instance_and_nothing_proxies():
    outputs, recorded = build(DatabaseOptions(), preview=False)
    assert outputs["host"] == "app-db-instance.c0ffee.eu-west-1.rds.amazonaws.com"
    assert recorded.of_type("aws:rds/proxy:Proxy") == []


def lambda_database(network: StandInNetwork, options: DatabaseOptions, name: str = DB) -> PrivateDatabase:
    """A database in the stand-in network's data subnets, reached by its Lambda group only."""
    return PrivateDatabase(
        name,
        PrivateDatabaseArgs(
            options, network.vpc.id, [s.id for s in network.data_subnets], network.sg_ids("lambda")
        ),
    )


def test_two_databases_do_not_collide():
    def program() -> None:
        network = StandInNetwork.build()
        for name in ("orders", "users"):
            lambda_database(network, DatabaseOptions(proxy=True), name)

    _, recorded = run_program(program)
    instances = recorded.of_type(INSTANCE)
    assert len(instances) == 2
    assert len({record.urn for record in recorded.records}) == len(recorded.records)
    assert len({instance.properties["identifier"] for instance in instances}) == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"subnets": 1},
            "subnet_ids = '1 subnet(s)': RDS needs data-tier subnets in at least 2 availability zones",
        ),
        ({"roles": ()}, "client_security_groups = {}: give at least one client security group"),
        (
            {"roles": ("bastion",), "options": {"proxy": True}},
            "client_security_groups = ['bastion']: RDS Proxy admits only the Lambda security group",
        ),
        (
            {"roles": ("lambda", "proxy")},
            "client_security_groups['proxy'] = 'proxy': is a role this component adds",
        ),
        ({"roles": ("Lambda",)}, "client_security_groups['Lambda'] = 'Lambda': a role is lower-case letters"),
        (
            {"options": {"engine_version": "sixteen"}},
            "engine_version = 'sixteen': a postgres version such as 16",
        ),
        (
            {"options": {"engine": DatabaseEngine.MYSQL, "engine_version": "8"}},
            "engine_version = '8': a mysql version such as 8.4",
        ),
        ({"options": {"backup_retention_days": 0}}, "backup_retention_days = 0: RDS keeps automated backups"),
        ({"options": {"log_retention_days": 10}}, "log_retention_days = 10: CloudWatch Logs keeps logs"),
    ],
    ids=[
        "one-subnet",
        "no-clients",
        "proxy-without-lambda",
        "reserved-role",
        "bad-role",
        "bad-version",
        "mysql-major-only",
        "no-backups",
        "bad-log-retention",
    ],
)
def test_bad_input_names_the_problem_and_registers_nothing(change: Mapping[str, Any], message: str):
    options = replace(DatabaseOptions(), **change.get("options", {}))
    roles = change.get("roles", ("lambda",))

    def program() -> None:
        network = StandInNetwork.build()
        subnets = [subnet.id for subnet in network.data_subnets][: change.get("subnets", 2)]
        clients = {role: network.security_groups["lambda"].id for role in roles}
        PrivateDatabase(DB, PrivateDatabaseArgs(options, network.vpc.id, subnets, clients))

    error, recorded = run_rejected_program(program)
    assert message in str(error)
    assert recorded.names_outside() == []


@pytest.mark.parametrize(
    ("engine", "version", "family"),
    [
        (DatabaseEngine.POSTGRES, "16", "postgres16"),
        (DatabaseEngine.POSTGRES, "16.4", "postgres16"),
        (DatabaseEngine.MYSQL, "8.0", "mysql8.0"),
        (DatabaseEngine.MYSQL, "8.0.39", "mysql8.0"),
        (DatabaseEngine.MYSQL, "8.4.3", "mysql8.4"),
    ],
)
def test_parameter_group_family(engine: DatabaseEngine, version: str, family: str):
    assert parameter_group_family(engine, version) == family


# A component name from a stack Pulumi allows but AWS's names do not: upper case, `_`, `.`, a digit first.
AWKWARD = "2024_Shop.Prod-access-db"


def test_every_aws_name_passes_the_providers_rules_whatever_the_stack_is_called():
    _, recorded = build(DatabaseOptions(proxy=True), preview=False, name=AWKWARD)
    instance = recorded.named(f"{AWKWARD}-instance").properties
    identifier = instance["identifier"]
    assert valid_identifier(identifier, 63), identifier
    assert valid_final_snapshot_identifier(instance["finalSnapshotIdentifier"])
    assert valid_identifier(recorded.named(f"{AWKWARD}-proxy").properties["name"], 60)
    subnet_group = recorded.named(f"{AWKWARD}-subnet-group").properties["name"]
    assert re.fullmatch(r"[0-9a-z_ .-]{1,255}", subnet_group), subnet_group
    parameter_group = recorded.named(f"{AWKWARD}-parameters").properties["name"]
    assert valid_identifier(parameter_group, 255), parameter_group
    role = recorded.named(f"{AWKWARD}-proxy-role").properties["name"]
    assert re.fullmatch(r"[\w+=,.@-]{1,64}", role), role
    for group in (f"{AWKWARD}-security-group", f"{AWKWARD}-proxy-security-group"):
        assert not recorded.named(group).properties["name"].startswith("sg-")
    # The instance really uses the groups of those names.
    assert recorded.source_names(recorded.named(f"{AWKWARD}-instance"), "dbSubnetGroupName") == {
        f"{AWKWARD}-subnet-group"
    }


def test_a_major_upgrade_is_allowed(default_database):
    _, recorded = default_database
    assert recorded.named(f"{DB}-instance").properties["allowMajorVersionUpgrade"] is True


def test_each_instance_gets_its_own_final_snapshot_name():
    """A random suffix kept in state and renewed with every input whose change replaces the instance, so the
    second replacement or destroy does not meet the first one's snapshot (DBSnapshotAlreadyExists)."""
    _, recorded = build(DatabaseOptions(), preview=False)
    instance = recorded.named(f"{DB}-instance")
    suffix = recorded.named(f"{DB}-snapshot-suffix")
    assert recorded.source_names(instance, "finalSnapshotIdentifier") == {f"{DB}-snapshot-suffix"}
    identifier = instance.properties["identifier"]
    assert instance.properties["finalSnapshotIdentifier"] == f"{identifier}-final-{suffix_hex(suffix)}"
    # The inputs that replace an aws_db_instance (ForceNew) renew the suffix.
    assert suffix.properties["keepers"] == {
        "identifier": identifier,
        "engine": "postgres",
        "db_name": "app",
        "username": instance.properties["username"],
        "storage_encrypted": "true",
    }


def suffix_hex(record: Any) -> str:
    return AwsMocks(REGION, preview=False).new_resource(
        pulumi.runtime.MockResourceArgs(record.type, record.name, record.properties, "", "", True)
    )[1]["hex"]


def test_no_snapshot_suffix_without_a_final_snapshot():
    _, recorded = build(DatabaseOptions(final_snapshot=False))
    assert recorded.of_type("random:index/randomId:RandomId") == []


class OptionsMonitor(RecordingMonitor):
    """Also keeps each registration's resource options: protect and deleteBeforeReplace."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.options: dict[str, tuple[bool, bool]] = {}

    def RegisterResource(self, request):
        self.options[request.name] = (request.protect, request.deleteBeforeReplace)
        return super().RegisterResource(request)


def registration_options(options: DatabaseOptions) -> dict[str, tuple[bool, bool]]:
    reset_options(project=PROJECT, stack="test", preview=True)
    monitor = OptionsMonitor(AwsMocks(region=REGION, preview=True))
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack="test", preview=True, monitor=monitor)

    _sync_await(run_pulumi_func(lambda: lambda_database(StandInNetwork.build(), options)))
    return monitor.options


@pytest.mark.parametrize("deletion_protection", [True, False])
def test_deletion_protection_also_protects_the_instance_in_pulumi(deletion_protection: bool):
    """Protected, a replacement is refused at preview (pulumi/pulumi pkg/resource/deploy/step_generator.go:
    "unable to replace resource ... as it is currently marked for protection") instead of creating a second
    database. The fixed identifier makes a replacement free the name first."""
    protect, delete_before_replace = registration_options(
        DatabaseOptions(deletion_protection=deletion_protection, proxy=True)
    )[f"{DB}-instance"]
    assert (protect, delete_before_replace) == (deletion_protection, True)


def test_exported_logs_go_to_log_groups_the_stack_owns_and_expires():
    _, recorded = build(DatabaseOptions(log_retention_days=365), preview=False)
    instance = recorded.named(f"{DB}-instance")
    identifier = instance.properties["identifier"]
    groups = {
        record.properties["name"]: record for record in recorded.of_type("aws:cloudwatch/logGroup:LogGroup")
    }
    # RDS writes each export to /aws/rds/instance/<identifier>/<log>.
    assert sorted(groups) == [f"/aws/rds/instance/{identifier}/{log}" for log in ("postgresql", "upgrade")]
    assert {group.properties["retentionInDays"] for group in groups.values()} == {365}
    # Created before the instance, else RDS creates them first, never expiring.
    assert {group.urn for group in groups.values()} <= set(instance.dependencies)


class InputsOnlyMocks(pulumi.runtime.Mocks):
    """The plain SDK mocks: every resource returns its inputs, nothing computed (as after an import)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


@pulumi.runtime.test
def test_no_managed_secret_returned_gives_no_arn_instead_of_a_crash():
    pulumi.runtime.set_mocks(InputsOnlyMocks(), project=PROJECT, stack="test", preview=False)
    database = lambda_database(StandInNetwork.build(), DatabaseOptions(proxy=True))
    return database.secret_arn.apply(assert_none)


def assert_none(value: object) -> None:
    assert value is None, value


def test_proxy_role_trusts_rds_exactly_as_aws_documents(proxied_database):
    """The RDS User Guide's trust policy for the RDS Proxy role: rds.amazonaws.com, no condition."""
    _, recorded = proxied_database
    policy = json.loads(recorded.named(f"{DB}-proxy-role").properties["assumeRolePolicy"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "rds.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }


@pytest.mark.parametrize(
    ("engine", "version", "on", "year"),
    [
        (DatabaseEngine.MYSQL, "8.0", date(2026, 7, 31), None),
        (DatabaseEngine.MYSQL, "8.0.39", date(2026, 8, 1), 1),
        (DatabaseEngine.MYSQL, "8.0", date(2028, 8, 1), 3),
        (DatabaseEngine.MYSQL, "8.4", date(2026, 12, 1), None),
        (DatabaseEngine.POSTGRES, "13.4", date(2026, 12, 1), 1),
        (DatabaseEngine.POSTGRES, "16", date(2026, 12, 1), None),
        (DatabaseEngine.POSTGRES, "99", date(2026, 12, 1), None),
    ],
)
def test_extended_support_starts_the_day_after_standard_support_ends(engine, version, on, year):
    assert extended_support_year(engine, version, on) == year


def test_a_major_past_standard_support_is_warned_about_not_refused():
    options = DatabaseOptions(engine=DatabaseEngine.MYSQL, engine_version="8.0")
    warning = extended_support_warning(options, date(2026, 12, 1))
    assert warning is not None and "mysql 8.0 is past the end of RDS standard support" in warning
    assert options.problems() == []
    assert extended_support_warning(DatabaseOptions(engine=DatabaseEngine.MYSQL), date(2026, 12, 1)) is None


def test_the_proxy_reaches_secrets_manager_only_through_the_endpoint(stack_run):
    """RDS Proxy reads its secret through its own interfaces in the data subnets, which have no NAT route."""
    run = stack_run("prod")
    assert run.error is None, run.error
    by_urn = run.by_urn()
    proxy_group = next(r for r in run.resources if r.name == "prod-access-db-proxy-security-group")
    egress = {
        rule.name: {
            by_urn[urn].name for urn in rule.property_dependencies.get("referencedSecurityGroupId", ())
        }
        for rule in run.of_type(EGRESS_RULE)
        if proxy_group.urn in rule.property_dependencies.get("securityGroupId", ())
    }
    assert egress == {
        "prod-access-db-proxy-egress-database": {"prod-access-db-security-group"},
        "prod-access-db-proxy-egress-secrets": {"prod-access-endpoints-security-group"},
    }
    rule = next(r for r in run.of_type(EGRESS_RULE) if r.name == "prod-access-db-proxy-egress-secrets")
    assert (rule.properties["fromPort"], "cidrIpv4" in rule.properties) == (443, False)


def test_a_proxy_without_the_secretsmanager_endpoint_is_refused(stack_run):
    run = stack_run("dev", {"zappa-vpc:databaseProxy": True})
    assert run.error is not None and "RDS Proxy reads the database secret" in run.error, run.error
    assert "add 'secretsmanager'" in run.error and run.resources == []
