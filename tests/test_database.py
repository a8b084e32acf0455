"""The private database: what a user relies on, checked on what the component registers under mocks."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from tests.access_helpers import (
    EGRESS_RULE,
    INGRESS_RULE,
    Recorded,
    StandInNetwork,
    resolved,
    run_program,
    run_rejected_program,
    walk,
)
from zappa_vpc.components.database import (
    PrivateDatabase,
    PrivateDatabaseArgs,
    parameter_group_family,
    snapshot_identifier,
)
from zappa_vpc.plan.options import DatabaseEngine, DatabaseOptions

INSTANCE = "aws:rds/instance:Instance"
DB = "app-db"


def build(
    options: DatabaseOptions, roles: tuple[str, ...] = ("lambda", "bastion"), *, preview: bool = True
) -> tuple[dict[str, Any], Recorded]:
    """Register the stand-in network and a database for it; return the database's resolved outputs too."""

    def program() -> dict[str, Any]:
        network = StandInNetwork.build()
        database = PrivateDatabase(
            DB,
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


def test_mysql_uses_its_own_port_and_tls_setting():
    _, recorded = build(DatabaseOptions(engine=DatabaseEngine.MYSQL), roles=("lambda",))
    props = recorded.named(f"{DB}-instance").properties
    assert (props["engine"], props["engineVersion"], props["port"]) == ("mysql", "8.0", 3306)
    assert ingress_sources(recorded, f"{DB}-security-group") == {"net-lambda": ("tcp", 3306, 3306)}
    parameters = recorded.named(f"{DB}-parameters").properties
    assert parameters["family"] == "mysql8.0"
    assert [(p["name"], p["value"]) for p in parameters["parameters"]] == [("require_secure_transport", "1")]
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
                "finalSnapshotIdentifier": f"{DB}-final",
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
    assert egress == {
        f"{DB}-proxy-egress-database": ({f"{DB}-security-group"}, None, 5432),
        f"{DB}-proxy-egress-secrets": (set(), "0.0.0.0/0", 443),
    }


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


def test_two_databases_do_not_collide():
    def program() -> None:
        network = StandInNetwork.build()
        for name in ("orders", "users"):
            PrivateDatabase(
                name,
                PrivateDatabaseArgs(
                    DatabaseOptions(proxy=True),
                    network.vpc.id,
                    [s.id for s in network.data_subnets],
                    network.sg_ids("lambda"),
                ),
            )

    _, recorded = run_program(program)
    assert len(recorded.of_type(INSTANCE)) == 2
    assert len({record.urn for record in recorded.records}) == len(recorded.records)


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
            "engine_version = '8': a mysql version such as 8.0",
        ),
        ({"options": {"backup_retention_days": 0}}, "backup_retention_days = 0: RDS keeps automated backups"),
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


@pytest.mark.parametrize(
    ("name", "identifier"),
    [("app-db", "app-db-final"), ("Shop_DB--prod", "shop-db-prod-final"), ("2024-db", "db-2024-db-final")],
)
def test_snapshot_identifier_is_valid_for_rds(name: str, identifier: str):
    assert snapshot_identifier(name) == identifier
