"""The strings users copy: tunnel commands, client commands and the Zappa app's environment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from zappa_vpc.plan.access_info import (
    BastionHost,
    DatabaseAccess,
    app_environment,
    client_command,
    ssh_tunnel_command,
    tunnel_command,
)
from zappa_vpc.plan.options import BastionAccess, DatabaseEngine

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-abc-Xy12"
POSTGRES = DatabaseAccess(
    engine=DatabaseEngine.POSTGRES,
    host="app-db.proxy-c0ffee.eu-west-1.rds.amazonaws.com",
    port=5432,
    database_name="app",
    secret_arn=SECRET,
    region="eu-west-1",
)
MYSQL = replace(
    POSTGRES,
    engine=DatabaseEngine.MYSQL,
    host="app-db.c0ffee.eu-west-1.rds.amazonaws.com",
    port=3306,
    database_name="shop",
)
SSM_BASTION = BastionHost(instance_id="i-0123456789abcdef0", access=BastionAccess.SSM)
SSH_BASTION = BastionHost(
    instance_id="i-0123456789abcdef0", access=BastionAccess.SSH, public_address="203.0.113.7"
)
# The ARN is single-quoted and the substitution not double-quoted: either way an interactive bash would
# expand the ARN's `!` from its history.
READ_PASSWORD = (
    f"aws secretsmanager get-secret-value --secret-id '{SECRET}' --query SecretString --output text "
    "--region eu-west-1 | jq -r .password"
)


def test_ssm_bastion_forwards_a_local_port_to_the_database():
    assert tunnel_command(POSTGRES, SSM_BASTION) == (
        "aws ssm start-session --target i-0123456789abcdef0 "
        "--document-name AWS-StartPortForwardingSessionToRemoteHost "
        "--parameters host=app-db.proxy-c0ffee.eu-west-1.rds.amazonaws.com,"
        "portNumber=5432,localPortNumber=15432 "
        "--region eu-west-1"
    )


def test_ssh_bastion_pushes_a_key_then_tunnels():
    assert tunnel_command(MYSQL, SSH_BASTION) == (
        "aws ec2-instance-connect send-ssh-public-key --instance-id i-0123456789abcdef0 "
        "--instance-os-user ec2-user --region eu-west-1 --ssh-public-key file://~/.ssh/id_ed25519.pub"
        " && ssh -i ~/.ssh/id_ed25519 -N -L 13306:app-db.c0ffee.eu-west-1.rds.amazonaws.com:3306 "
        "ec2-user@203.0.113.7"
    )


def test_ssh_tunnel_needs_the_bastion_address():
    with pytest.raises(ValueError, match="public address"):
        ssh_tunnel_command(POSTGRES, BastionHost(instance_id="i-0123", access=BastionAccess.SSH))


def test_client_commands_read_the_password_from_the_secret_and_require_tls():
    assert client_command(POSTGRES) == (
        f"PGPASSWORD=$({READ_PASSWORD}) "
        "psql 'host=127.0.0.1 port=15432 dbname=app user=dbadmin sslmode=require'"
    )
    assert client_command(MYSQL) == (
        f"MYSQL_PWD=$({READ_PASSWORD}) "
        "mysql --host=127.0.0.1 --port=13306 --user=dbadmin --ssl-mode=REQUIRED shop"
    )


def test_app_environment_names_the_database_without_credentials():
    assert app_environment(POSTGRES) == {
        "DATABASE_ENGINE": "django.db.backends.postgresql",
        "DATABASE_HOST": "app-db.proxy-c0ffee.eu-west-1.rds.amazonaws.com",
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "app",
        "DATABASE_SECRET_ARN": SECRET,
    }
    assert app_environment(MYSQL)["DATABASE_ENGINE"] == "django.db.backends.mysql"
