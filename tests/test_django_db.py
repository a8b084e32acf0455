"""zappa_vpc.django_db against real PostgreSQL and MariaDB servers (started by .ci/db-servers.sh), with the
secret in Secrets Manager as moto serves it.

The servers require TLS and present a certificate for `localhost` signed by a CA the script makes, so the
shipped options are exercised as on RDS: the chain verified against the bundle, and the name checked.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import django
import psycopg
import pymysql
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.utils import ConnectionHandler, OperationalError
from moto import mock_aws

from zappa_vpc.django_db import credentials as credentials_module
from zappa_vpc.django_db import database
from zappa_vpc.plan.access_info import (
    LOCAL_PORT_OFFSET,
    MASTER_USERNAME,
    RDS_CA_BUNDLE_FILE,
    DatabaseAccess,
    client_command,
)
from zappa_vpc.plan.options import DatabaseEngine

ENV_FILE = Path(os.environ.get("DB_TEST_DIR", "/tmp/zappa-vpc-db")) / "env"
REGION = "eu-west-1"
ENGINES = {"postgresql": "django.db.backends.postgresql", "mysql": "django.db.backends.mysql"}

if not settings.configured:
    settings.configure(USE_TZ=True)
    django.setup()


def _server_facts() -> dict[str, str] | None:
    if not ENV_FILE.is_file():
        return None
    lines = (line.partition("=") for line in ENV_FILE.read_text().splitlines() if "=" in line)
    return {key: value for key, _, value in lines}


@pytest.fixture(scope="module")
def servers() -> dict[str, str]:
    facts = _server_facts()
    if facts is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{ENV_FILE} is missing: .ci/run must start the servers (.ci/db-servers.sh)")
        pytest.skip(f"no database servers ({ENV_FILE} missing): start them with `bash .ci/db-servers.sh`")
    return facts


@dataclass
class AppDatabase:
    """A database and its own user on one server, made for one test, and the admin connection to it."""

    engine: str
    port: str
    name: str
    password: str
    run_as_admin: Callable[..., None]

    def rotate_password(self) -> str:
        """What RDS does on rotation: a new password on the server (the secret is updated separately)."""
        self.password = secrets.token_hex(16)
        if self.engine == "postgresql":
            self.run_as_admin(f"ALTER ROLE {self.name} PASSWORD '{self.password}'")
        else:
            self.run_as_admin(f"ALTER USER '{self.name}'@'127.0.0.1' IDENTIFIED BY '{self.password}'")
        return self.password


def _admin(engine: str, facts: dict[str, str]) -> Callable[..., None]:
    if engine == "postgresql":

        def run(sql: str, dbname: str = "postgres") -> None:
            with psycopg.connect(
                host=facts["DB_TEST_HOST"],
                port=facts["DB_TEST_PG_PORT"],
                user=facts["DB_TEST_PG_ADMIN"],
                password=facts["DB_TEST_ADMIN_PASSWORD"],
                dbname=dbname,
                sslmode="verify-full",
                sslrootcert=facts["DB_TEST_CA"],
                autocommit=True,
            ) as connection:
                connection.execute(sql)

        return run

    def run_mysql(sql: str, dbname: str | None = None) -> None:
        connection = pymysql.connect(
            host=facts["DB_TEST_HOST"],
            port=int(facts["DB_TEST_MYSQL_PORT"]),
            user=facts["DB_TEST_MYSQL_ADMIN"],
            password=facts["DB_TEST_ADMIN_PASSWORD"],
            ssl_ca=facts["DB_TEST_CA"],
            ssl_verify_identity=True,
            database=dbname,
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql)
        finally:
            connection.close()

    return run_mysql


@pytest.fixture(params=sorted(ENGINES))
def app_database(request, servers) -> Iterator[AppDatabase]:
    engine = request.param
    name = f"app_{secrets.token_hex(4)}"
    password = secrets.token_hex(16)
    admin = _admin(engine, servers)
    port = servers["DB_TEST_PG_PORT" if engine == "postgresql" else "DB_TEST_MYSQL_PORT"]
    if engine == "postgresql":
        admin(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        admin(f"CREATE DATABASE {name} OWNER {name}")
    else:
        admin(f"CREATE DATABASE {name}")
        admin(f"CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY '{password}'")
        admin(f"GRANT ALL PRIVILEGES ON {name}.* TO '{name}'@'127.0.0.1'")
    yield AppDatabase(engine, port, name, password, admin)
    if engine == "postgresql":
        admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin(f"DROP ROLE IF EXISTS {name}")
    else:
        admin(f"DROP DATABASE IF EXISTS {name}")
        admin(f"DROP USER IF EXISTS '{name}'@'127.0.0.1'")


@pytest.fixture
def secrets_manager(monkeypatch) -> Iterator[object]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    credentials_module._cache.clear()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)
    credentials_module._cache.clear()


@pytest.fixture
def secret_reads(monkeypatch) -> list[str]:
    """Every read of Secrets Manager the backends make."""
    reads: list[str] = []
    real = credentials_module._read_secret

    def counting(secret_arn: str) -> dict[str, str]:
        reads.append(secret_arn)
        return real(secret_arn)

    monkeypatch.setattr(credentials_module, "_read_secret", counting)
    return reads


def _environment(db: AppDatabase, secret_arn: str, ca: str, host: str = "localhost") -> dict[str, str]:
    return {
        "DATABASE_ENGINE": ENGINES[db.engine],
        "DATABASE_HOST": host,
        "DATABASE_PORT": db.port,
        "DATABASE_NAME": db.name,
        "DATABASE_SECRET_ARN": secret_arn,
        "DATABASE_CA_BUNDLE": ca,
    }


def _connection(environment: dict[str, str]):
    """A Django connection built from exactly the settings zappa_vpc.django_db ships."""
    return ConnectionHandler({"default": database(environment)})["default"]


def _session_facts(connection) -> tuple[str, bool]:
    """(the user logged in, whether the session is encrypted), as the server sees them."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            user, encrypted = cursor.fetchone()
            return user, encrypted
        cursor.execute("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1)")
        (user,) = cursor.fetchone()
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        return user, bool(cursor.fetchone()[1])


def _create_secret(client, db: AppDatabase) -> str:
    secret = {"username": db.name, "password": db.password, "engine": db.engine}
    return client.create_secret(Name=f"rds!db-{db.name}", SecretString=json.dumps(secret))["ARN"]


def test_app_connects_over_verified_tls_with_the_secrets_credentials(
    app_database, servers, secrets_manager, secret_reads
):
    arn = _create_secret(secrets_manager, app_database)
    connection = _connection(_environment(app_database, arn, servers["DB_TEST_CA"]))
    try:
        assert _session_facts(connection) == (app_database.name, True)
    finally:
        connection.close()
    assert secret_reads == [arn]


def test_after_a_rotation_a_failed_login_rereads_the_secret_once(
    app_database, servers, secrets_manager, secret_reads
):
    arn = _create_secret(secrets_manager, app_database)
    connection = _connection(_environment(app_database, arn, servers["DB_TEST_CA"]))
    try:
        _session_facts(connection)
        connection.close()  # the Lambda's connection ends between invocations
        # RDS rotates: a new password on the server, then in the secret; this container's copy is stale.
        new_password = app_database.rotate_password()
        secrets_manager.put_secret_value(
            SecretId=arn, SecretString=json.dumps({"username": app_database.name, "password": new_password})
        )
        assert _session_facts(connection) == (app_database.name, True)
    finally:
        connection.close()
    assert secret_reads == [arn, arn]


def test_the_readmes_app_user_can_migrate_its_database_and_nothing_more(
    app_database, servers, secrets_manager
):
    # README, "An app user less powerful than the master user": the SQL run through the admin path.
    user, password = f"{app_database.name}_app", secrets.token_hex(16)
    if app_database.engine == "postgresql":
        for sql in (
            f"CREATE ROLE {user} LOGIN PASSWORD '{password}'",
            f"GRANT CONNECT ON DATABASE {app_database.name} TO {user}",
            f"GRANT USAGE, CREATE ON SCHEMA public TO {user}",
        ):
            app_database.run_as_admin(sql, dbname=app_database.name)
        forbidden = f"CREATE ROLE {user}_other"
    else:
        # MySQL's '%' host; the test server resolves no names, so the account is for 127.0.0.1.
        app_database.run_as_admin(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY '{password}' REQUIRE SSL")
        app_database.run_as_admin(f"GRANT ALL ON {app_database.name}.* TO '{user}'@'127.0.0.1'")
        forbidden = f"CREATE DATABASE {user}_other"
    app_database.name, app_database.password, owner = user, password, app_database.name
    arn = _create_secret(secrets_manager, app_database)
    connection = _connection(
        {**_environment(app_database, arn, servers["DB_TEST_CA"]), "DATABASE_NAME": owner}
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE polls_question (id integer PRIMARY KEY, text varchar(200))")
            cursor.execute("DROP TABLE polls_question")
            with pytest.raises(Exception, match=r"(?i)permission denied|access denied"):
                cursor.execute(forbidden)
    finally:
        connection.close()
        app_database.name = owner
        drop = (
            f"DROP OWNED BY {user}; DROP ROLE {user}"
            if app_database.engine == "postgresql"
            else (f"DROP USER '{user}'@'127.0.0.1'")
        )
        app_database.run_as_admin(drop, dbname=owner)


def test_a_wrong_password_in_the_secret_still_fails_after_one_reread(
    app_database, servers, secrets_manager, secret_reads
):
    app_database.password = "not-the-password"
    arn = _create_secret(secrets_manager, app_database)
    connection = _connection(_environment(app_database, arn, servers["DB_TEST_CA"]))
    with pytest.raises(OperationalError):
        connection.ensure_connection()
    assert secret_reads == [arn, arn]


def test_a_server_whose_certificate_does_not_name_the_host_is_refused(
    app_database, servers, secrets_manager, secret_reads
):
    # The certificate names `localhost`; 127.0.0.1 is the same server under a name it does not carry.
    arn = _create_secret(secrets_manager, app_database)
    connection = _connection(_environment(app_database, arn, servers["DB_TEST_CA"], host="127.0.0.1"))
    with pytest.raises(OperationalError, match=r"(?i)certificate|hostname|match"):
        connection.ensure_connection()
    assert secret_reads == [arn], "a TLS failure is not a login failure: no re-read"


def test_a_server_signed_by_another_ca_is_refused(app_database, servers, secrets_manager, tmp_path):
    # A CA with the same name as the one that signed the server, but another key.
    other_ca = tmp_path / "other-ca.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=zappa-vpc test CA", "-keyout", str(tmp_path / "k"), "-out", str(other_ca)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    arn = _create_secret(secrets_manager, app_database)
    connection = _connection(_environment(app_database, arn, str(other_ca)))
    with pytest.raises(OperationalError, match=r"(?i)certificate|verify"):
        connection.ensure_connection()


def test_a_missing_ca_bundle_is_named_before_connecting(app_database, secrets_manager, tmp_path):
    arn = _create_secret(secrets_manager, app_database)
    connection = _connection(_environment(app_database, arn, str(tmp_path / "rds-ca-bundle.pem")))
    with pytest.raises(ImproperlyConfigured, match=r"rds-ca-bundle\.pem does not exist"):
        connection.ensure_connection()


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_settings_name_the_retrying_backend_and_verify_the_server(engine):
    environment = {
        "DATABASE_ENGINE": ENGINES[engine],
        "DATABASE_HOST": "app.proxy-c0ffee.eu-west-1.rds.amazonaws.com",
        "DATABASE_PORT": "5432",
        "DATABASE_NAME": "app",
        "DATABASE_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-x",
        "LAMBDA_TASK_ROOT": "/var/task",
    }
    settings_dict = database(environment)
    assert settings_dict["ENGINE"] == f"zappa_vpc.django_db.{engine}"
    assert "USER" not in settings_dict and "PASSWORD" not in settings_dict, (
        "read from the secret, not settings"
    )
    if engine == "postgresql":
        assert settings_dict["OPTIONS"] == {
            "sslmode": "verify-full",
            "sslrootcert": "/var/task/rds-ca-bundle.pem",
        }
    else:
        assert settings_dict["OPTIONS"]["ssl_ca"] == "/var/task/rds-ca-bundle.pem"
        assert settings_dict["OPTIONS"]["ssl_verify_identity"] is True
        assert "ssl_mode" not in settings_dict["OPTIONS"], "mysqlclient's option; PyMySQL refuses it"


def test_missing_or_unknown_settings_are_named():
    with pytest.raises(ImproperlyConfigured, match="DATABASE_HOST, DATABASE_SECRET_ARN not set"):
        database({"DATABASE_ENGINE": ENGINES["mysql"], "DATABASE_PORT": "3306", "DATABASE_NAME": "app"})
    with pytest.raises(ImproperlyConfigured, match=r"DATABASE_ENGINE = 'myproject\.db'"):
        database(
            {
                "DATABASE_ENGINE": "myproject.db",
                "DATABASE_HOST": "h",
                "DATABASE_PORT": "1",
                "DATABASE_NAME": "n",
                "DATABASE_SECRET_ARN": "arn",
            }
        )


def test_the_settings_module_imports_no_django_and_reads_no_secret():
    code = (
        "import sys, zappa_vpc.django_db as m; "
        "assert not any(n == 'django' or n.startswith(('django.', 'boto3', 'psycopg', 'pymysql')) "
        "for n in sys.modules), sorted(n for n in sys.modules if n.startswith(('django', 'boto3')))"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parent.parent)


def test_the_admin_psql_command_verifies_the_server_through_the_tunnel(servers, tmp_path):
    # The database's port 10000 below the server's, so the command's local tunnel port is the server itself.
    access = DatabaseAccess(
        engine=DatabaseEngine.POSTGRES,
        host=servers["DB_TEST_HOST"],
        port=int(servers["DB_TEST_PG_PORT"]) - LOCAL_PORT_OFFSET,
        database_name="postgres",
        secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-x",
        region=REGION,
    )
    command = client_command(access)
    assert "hostaddr=127.0.0.1" in command
    # What runs after the password is read from the secret: psql with the command's own connection string.
    psql = shlex.split(command.partition(" psql ")[2])
    shutil.copy(servers["DB_TEST_CA"], tmp_path / RDS_CA_BUNDLE_FILE)
    environment = {**os.environ, "PGPASSWORD": servers["DB_TEST_ADMIN_PASSWORD"]}
    as_admin = [part.replace(f"user={MASTER_USERNAME}", "user=postgres") for part in psql]
    query = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    result = subprocess.run(
        ["psql", *as_admin, "-Atc", query], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout.strip()) == (0, "t"), result.stderr
    # The same string against a name the certificate lacks fails: the name is checked, not only the chain.
    wrong_name = [part.replace(f"host={servers['DB_TEST_HOST']} ", "host=db.example ") for part in as_admin]
    result = subprocess.run(
        ["psql", *wrong_name, "-Atc", query], cwd=tmp_path, env=environment, capture_output=True, text=True
    )
    assert result.returncode != 0 and "does not match host name" in result.stderr, result.stderr


def test_a_copy_under_another_name_names_its_own_backends(tmp_path):
    # The README offers copying the package into the app instead of installing zappa-vpc (and Pulumi) there.
    shutil.copytree(
        Path(__file__).resolve().parent.parent / "zappa_vpc" / "django_db",
        tmp_path / "mydb",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    code = (
        "import importlib, mydb\n"
        "env = dict(DATABASE_ENGINE='django.db.backends.mysql', DATABASE_HOST='h', DATABASE_PORT='3306',\n"
        "           DATABASE_NAME='n', DATABASE_SECRET_ARN='arn')\n"
        "engine = mydb.database(env)['ENGINE']\n"
        "assert engine == 'mydb.mysql', engine\n"
        "from django.conf import settings; settings.configure()\n"
        "assert importlib.import_module(engine + '.base').DatabaseWrapper\n"
        "assert importlib.import_module('mydb.postgresql.base').DatabaseWrapper\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path)
