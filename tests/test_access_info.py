"""The strings users copy: tunnel commands, client commands and the Zappa app's environment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from zappa_vpc.plan.access_info import (
    APIGATEWAY_POLICY_FILE,
    BastionHost,
    DatabaseAccess,
    app_environment,
    client_command,
    private_api_resource_policy,
    ssh_tunnel_command,
    tunnel_command,
    zappa_stage_fragment,
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


def test_client_commands_read_the_password_from_the_secret_and_verify_the_server():
    # psql verifies the RDS name while connecting to the tunnel's local end (libpq `hostaddr`).
    assert client_command(POSTGRES) == (
        f"PGPASSWORD=$({READ_PASSWORD}) "
        "psql 'host=app-db.proxy-c0ffee.eu-west-1.rds.amazonaws.com hostaddr=127.0.0.1 port=15432 "
        "dbname=app user=dbadmin sslmode=verify-full sslrootcert=rds-ca-bundle.pem'"
    )
    # The mysql client checks only the name it connects to: through a tunnel, the chain only.
    assert client_command(MYSQL) == (
        f"MYSQL_PWD=$({READ_PASSWORD}) "
        "mysql --host=127.0.0.1 --port=13306 --user=dbadmin --ssl-mode=VERIFY_CA "
        "--ssl-ca=rds-ca-bundle.pem shop"
    )


def test_client_commands_over_the_vpn_verify_the_name_too():
    assert "host=app-db.proxy-c0ffee.eu-west-1.rds.amazonaws.com port=5432 " in client_command(
        POSTGRES, through_tunnel=False
    )
    assert client_command(MYSQL, through_tunnel=False).endswith(
        "--host=app-db.c0ffee.eu-west-1.rds.amazonaws.com --port=3306 --user=dbadmin "
        "--ssl-mode=VERIFY_IDENTITY --ssl-ca=rds-ca-bundle.pem shop"
    )


def test_app_environment_names_the_database_without_credentials():
    assert app_environment(DatabaseEngine.POSTGRES, "db.example", 5432, "app", SECRET) == {
        "DATABASE_ENGINE": "django.db.backends.postgresql",
        "DATABASE_HOST": "db.example",
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "app",
        "DATABASE_SECRET_ARN": SECRET,
    }
    assert app_environment(DatabaseEngine.MYSQL, "h", 3306, "shop", SECRET)["DATABASE_ENGINE"] == (
        "django.db.backends.mysql"
    )


VPC_CONFIG = {"SubnetIds": ["subnet-1", "subnet-2"], "SecurityGroupIds": ["sg-1"]}


def test_zappa_fragment_without_a_database_is_the_network_only():
    assert zappa_stage_fragment("eu-west-1", VPC_CONFIG) == {
        "aws_region": "eu-west-1",
        "vpc_config": VPC_CONFIG,
    }


def test_zappa_fragment_lets_the_app_read_its_secret_and_nothing_else():
    environment = app_environment(DatabaseEngine.POSTGRES, "db.example", 5432, "app", SECRET)
    fragment = zappa_stage_fragment("eu-west-1", VPC_CONFIG, environment, SECRET)
    assert fragment["environment_variables"] == environment
    (statement,) = fragment["extra_permissions"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"] == SECRET
    assert "endpoint_configuration" not in fragment


def test_zappa_fragment_with_a_private_api_names_the_policy_file():
    fragment = zappa_stage_fragment("eu-west-1", VPC_CONFIG, private_api=True)
    assert fragment["endpoint_configuration"] == ["PRIVATE"]
    assert fragment["apigateway_policy"] == APIGATEWAY_POLICY_FILE


def test_private_api_policy_admits_only_calls_through_the_endpoint():
    deny, allow = private_api_resource_policy("vpce-0abc")["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"StringNotEquals": {"aws:SourceVpce": "vpce-0abc"}}
    assert allow["Effect"] == "Allow" and "Condition" not in allow
