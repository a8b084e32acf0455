"""What users need to reach the private database: tunnel commands, client commands, the app's environment.

Pure Python (no Pulumi import): the program applies these to resolved outputs, and tests call them directly.
The database is never public, so an administrator reaches it through the bastion: SSM port forwarding (no
inbound port at all) or an SSH tunnel when the bastion is reached over SSH. The password is never printed:
the client commands read it from the RDS-managed secret at the moment they run.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from zappa_vpc.plan.iam import APP_BUCKET_ACTIONS
from zappa_vpc.plan.options import BastionAccess, DatabaseEngine

# The master user RDS creates; its password lives only in the RDS-managed secret (key `password`).
MASTER_USERNAME = "dbadmin"

# Tunnels listen on the engine's port plus this, so a database already running on the laptop's usual
# port (5432 / 3306) keeps working beside the tunnel.
LOCAL_PORT_OFFSET = 10_000

DJANGO_BACKENDS = {
    DatabaseEngine.POSTGRES: "django.db.backends.postgresql",
    DatabaseEngine.MYSQL: "django.db.backends.mysql",
}

# The RDS CA bundle for every commercial region (AWS docs, UsingWithRDS.SSL "Certificate bundles for all AWS
# Regions"). RDS Proxy presents an ACM certificate instead, so with the proxy append Amazon Root CA 1.
RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
AMAZON_ROOT_CA_URL = "https://www.amazontrust.com/repository/AmazonRootCA1.pem"
RDS_CA_BUNDLE_FILE = "rds-ca-bundle.pem"

# Where Zappa's `apigateway_policy` points: a file beside zappa_settings.json.
APIGATEWAY_POLICY_FILE = "apigateway_resource_policy.json"
READ_SECRET_SID = "ZappaVpcReadDatabaseSecret"
APP_BUCKET_OBJECTS_SID = "ZappaVpcAppBucketObjects"
APP_BUCKET_LIST_SID = "ZappaVpcAppBucketList"

# A plain string or a Pulumi Output: the Zappa structures are built the same way from either.
V = TypeVar("V")

# The key EC2 Instance Connect pushes for the SSH tunnel; any key the user has will do.
DEFAULT_SSH_PUBLIC_KEY = "~/.ssh/id_ed25519.pub"
# Amazon Linux's login user, which EC2 Instance Connect installs keys for.
DEFAULT_BASTION_USER = "ec2-user"


@dataclass(frozen=True)
class DatabaseAccess:
    """Resolved facts about the private database.

    host: for the app, the RDS Proxy endpoint when there is a proxy, else the instance address; for a
        tunnel, always the instance address (the proxy admits the Lambda only).
    secret_arn: the secret RDS keeps the master user's credentials in (JSON with `username` and `password`).
    """

    engine: DatabaseEngine
    host: str
    port: int
    database_name: str
    secret_arn: str
    region: str

    @property
    def local_port(self) -> int:
        return self.port + LOCAL_PORT_OFFSET


@dataclass(frozen=True)
class BastionHost:
    """The bastion an administrator tunnels through.

    public_address: its public IP or DNS name; needed only when access is SSH.
    ssh_user: the login user; ec2-user for Amazon Linux.
    ssh_public_key: the local public key EC2 Instance Connect installs for 60 seconds before the tunnel
        opens; its private key (the same path without `.pub`) signs the SSH login.
    """

    instance_id: str
    access: BastionAccess
    public_address: str = ""
    ssh_user: str = DEFAULT_BASTION_USER
    ssh_public_key: str = DEFAULT_SSH_PUBLIC_KEY


def ssm_tunnel_command(database: DatabaseAccess, bastion: BastionHost) -> str:
    """Forward localhost:<local port> to the database through SSM Session Manager (no inbound port needed).

    Needs the AWS CLI and its Session Manager plugin on the administrator's machine.
    """
    parameters = f"host={database.host},portNumber={database.port},localPortNumber={database.local_port}"
    return shlex.join(
        [
            "aws",
            "ssm",
            "start-session",
            "--target",
            bastion.instance_id,
            "--document-name",
            "AWS-StartPortForwardingSessionToRemoteHost",
            "--parameters",
            parameters,
            "--region",
            database.region,
        ]
    )


def ssh_tunnel_command(database: DatabaseAccess, bastion: BastionHost) -> str:
    """Push a key with EC2 Instance Connect, then forward localhost:<local port> to the database over SSH.

    Drop the first command when your key is already installed on the bastion.
    """
    if not bastion.public_address:
        raise ValueError("an SSH tunnel needs the bastion's public address")
    # Paths stay unquoted so the shell expands `~`; they come from our defaults or the caller, not from AWS.
    public_key = bastion.ssh_public_key
    private_key = public_key.removesuffix(".pub")
    push_key = (
        shlex.join(
            [
                "aws",
                "ec2-instance-connect",
                "send-ssh-public-key",
                "--instance-id",
                bastion.instance_id,
                "--instance-os-user",
                bastion.ssh_user,
                "--region",
                database.region,
            ]
        )
        + f" --ssh-public-key file://{public_key}"
    )
    forward = f"{database.local_port}:{database.host}:{database.port}"
    tunnel = f"ssh -i {private_key} -N -L {shlex.quote(forward)} " + shlex.quote(
        f"{bastion.ssh_user}@{bastion.public_address}"
    )
    return f"{push_key} && {tunnel}"


def tunnel_command(database: DatabaseAccess, bastion: BastionHost) -> str:
    """The tunnel for the bastion's access method: SSM port forwarding, or SSH when SSH is configured."""
    if bastion.access is BastionAccess.SSH:
        return ssh_tunnel_command(database, bastion)
    return ssm_tunnel_command(database, bastion)


def _read_password(database: DatabaseAccess) -> str:
    # Read at run time from the managed secret, so the password is in no output, file or shell history.
    read_secret = shlex.join(
        [
            "aws",
            "secretsmanager",
            "get-secret-value",
            "--secret-id",
            database.secret_arn,
            "--query",
            "SecretString",
            "--output",
            "text",
            "--region",
            database.region,
        ]
    )
    # Unquoted on purpose: an assignment is not word-split, and inside double quotes an interactive bash
    # would expand the `!` of the ARN (`...:secret:rds!db-...`) from its history, even in single quotes.
    return f"$({read_secret} | jq -r .password)"


def client_command(database: DatabaseAccess, *, through_tunnel: bool = True) -> str:
    """Connect psql or mysql with TLS verified against the RDS CA bundle (RDS_CA_BUNDLE_FILE in the current
    directory): to the tunnel's local end, or, from a corporate network admitted over the VPN
    (`through_tunnel=False`), to the database itself.

    psql checks the certificate's name even through the tunnel: libpq connects to `hostaddr` and verifies
    `host` (PostgreSQL docs, libpq-connect "hostaddr"). The mysql client has no such split, so through the
    tunnel it checks the chain only (VERIFY_CA: the RDS CA signs RDS databases alone), over the VPN the name
    too (VERIFY_IDENTITY).
    """
    password = _read_password(database)
    ca = RDS_CA_BUNDLE_FILE
    if database.engine is DatabaseEngine.POSTGRES:
        address = (
            f"hostaddr=127.0.0.1 port={database.local_port}" if through_tunnel else f"port={database.port}"
        )
        connection = (
            f"host={database.host} {address} dbname={database.database_name} user={MASTER_USERNAME} "
            f"sslmode=verify-full sslrootcert={ca}"
        )
        return f"PGPASSWORD={password} psql {shlex.quote(connection)}"
    host, port, mode = (
        ("127.0.0.1", database.local_port, "VERIFY_CA")
        if through_tunnel
        else (database.host, database.port, "VERIFY_IDENTITY")
    )
    return (
        f"MYSQL_PWD={password} mysql --host={host} --port={port} "
        f"--user={MASTER_USERNAME} --ssl-mode={mode} --ssl-ca={ca} {database.database_name}"
    )


def app_environment(
    engine: DatabaseEngine, host: V, port: int, database_name: str, secret_arn: V
) -> dict[str, V | str]:
    """Environment variables for the Zappa app (`environment_variables` in zappa_settings.json).

    `host` and `secret_arn` may be plain strings or Pulumi Outputs: the result is a structure of them, so a
    preview shows every key with only the ids unknown. No credentials: the app reads the secret named by
    DATABASE_SECRET_ARN (zappa_vpc.django_db does). Lambda sets AWS_REGION itself and refuses it as a user
    variable, so it is not listed. Zappa refuses a value that is not a string (cli.py `check_environment`).
    """
    return {
        "DATABASE_ENGINE": DJANGO_BACKENDS[engine],
        "DATABASE_HOST": host,
        "DATABASE_PORT": str(port),
        "DATABASE_NAME": database_name,
        "DATABASE_SECRET_ARN": secret_arn,
    }


def read_secret_permissions(secret_arn: V) -> list[dict[str, object]]:
    """Zappa's `extra_permissions`: the app may read its database secret and nothing else.

    No kms:Decrypt: RDS keeps the managed secret under the aws/secretsmanager key, whose key policy lets
    Secrets Manager decrypt for any principal of the account (AWS docs, "Password management with Amazon
    RDS and AWS Secrets Manager"). The Sid lets `zappa_vpc.zappa_settings` find its own statement again.
    """
    return [
        {
            "Sid": READ_SECRET_SID,
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secret_arn,
        }
    ]


def app_bucket_environment(bucket_name: V, endpoint_id: V) -> dict[str, V]:
    """The app bucket for the Zappa app: its name, and the S3 gateway endpoint its data is reached through."""
    return {"APP_BUCKET": bucket_name, "APP_BUCKET_VPCE_ID": endpoint_id}


def app_bucket_permissions(bucket_arn: V, objects: V) -> list[dict[str, object]]:
    """Zappa's `extra_permissions` for the app bucket: its `objects` (`<bucket arn>/*`) read, written and
    deleted, the bucket listed; nothing else (no ACLs, no bucket settings). Sids as for the secret's."""
    return [
        {
            "Sid": APP_BUCKET_OBJECTS_SID,
            "Effect": "Allow",
            "Action": list(APP_BUCKET_ACTIONS),
            "Resource": objects,
        },
        {"Sid": APP_BUCKET_LIST_SID, "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
    ]


def private_api_resource_policy(endpoint_id: V) -> dict[str, object]:
    """The API Gateway resource policy for Zappa's `apigateway_policy` file: the API answers only calls that
    come through the private API endpoint, whatever else reaches API Gateway."""
    invoke = {"Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                **invoke,
                "Condition": {"StringNotEquals": {"aws:SourceVpce": endpoint_id}},
            },
            {"Effect": "Allow", **invoke},
        ],
    }


def lambda_vpc_config(subnet_ids: Sequence[V], security_group_id: V) -> dict[str, list[V]]:
    """Zappa's `vpc_config`, passed to Lambda as its VpcConfig: the subnets and the function's group."""
    return {"SubnetIds": list(subnet_ids), "SecurityGroupIds": [security_group_id]}


def zappa_stage_fragment(
    region: str,
    vpc_config: Mapping[str, object],
    environment: Mapping[str, object] | None = None,
    secret_arn: object | None = None,
    private_api: bool = False,
    bucket_arns: tuple[object, object] | None = None,
) -> dict[str, object]:
    """The keys of a Zappa stage this stack decides, as Zappa reads them (zappa/cli.py `load_settings`).

    `apigateway_policy` names a file, which Zappa opens and reads (the CUSTOM_SETTINGS loop ending in
    `policy`): `python -m zappa_vpc.zappa_settings` writes the `zappa_apigateway_policy` document there.
    """
    fragment: dict[str, object] = {"aws_region": region, "vpc_config": dict(vpc_config)}
    if environment is not None:
        fragment["environment_variables"] = dict(environment)
    permissions = []
    if secret_arn is not None:
        permissions += read_secret_permissions(secret_arn)
    if bucket_arns is not None:  # the bucket's ARN and its objects'
        permissions += app_bucket_permissions(*bucket_arns)
    if permissions:
        fragment["extra_permissions"] = permissions
    if private_api:
        fragment["endpoint_configuration"] = ["PRIVATE"]
        fragment["apigateway_policy"] = APIGATEWAY_POLICY_FILE
    return fragment
