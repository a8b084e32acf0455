"""Django `DATABASES` for the zappa-vpc database, for a Zappa app on Lambda (PostgreSQL or MySQL).

    # settings.py
    from zappa_vpc.django_db import database
    DATABASES = {"default": database()}

It reads the variables the stack output `zappa_environment` sets (DATABASE_ENGINE, _HOST, _PORT, _NAME,
_SECRET_ARN) and DATABASE_CA_BUNDLE (default `rds-ca-bundle.pem`, relative to the Lambda task root). The
backends it names (`<this package>.postgresql`, `.mysql`) read the user and password from the RDS-managed
secret when they connect, and read it again once when a login fails, so a rotation costs one retry.
TLS is always verified: certificate chain against the bundle, and the server's name.

This package imports only the standard library, Django and the drivers (psycopg 3; PyMySQL, which needs
no libmysqlclient on Lambda): copy it into your project if you would rather not install zappa-vpc there.
Nothing here is read or fetched at import; the secret is read at the first connection.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .credentials import SECRET_ARN_SETTING

ENVIRONMENT = ("DATABASE_ENGINE", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_SECRET_ARN")
CA_BUNDLE_VARIABLE = "DATABASE_CA_BUNDLE"
DEFAULT_CA_BUNDLE = "rds-ca-bundle.pem"

# DATABASE_ENGINE holds Django's own backend name; each maps to the retrying backend beside this module.
BACKENDS = {
    "django.db.backends.postgresql": f"{__name__}.postgresql",
    "django.db.backends.mysql": f"{__name__}.mysql",
}


def _improperly_configured(message: str) -> Exception:
    from django.core.exceptions import ImproperlyConfigured

    return ImproperlyConfigured(message)


def ca_bundle_path(environ: Mapping[str, str]) -> str:
    """DATABASE_CA_BUNDLE as an absolute path: relative paths start at the Lambda task root (where Zappa
    unpacks the project), else at the current directory."""
    path = Path(environ.get(CA_BUNDLE_VARIABLE) or DEFAULT_CA_BUNDLE)
    if not path.is_absolute():
        path = Path(environ.get("LAMBDA_TASK_ROOT") or os.getcwd()) / path
    return str(path)


def tls_options(engine: str, ca_bundle: str) -> dict[str, Any]:
    """Driver options that verify the server's certificate chain against `ca_bundle` and its name."""
    if engine == "django.db.backends.postgresql":
        # libpq: verify-full checks the chain and that the host name matches the certificate.
        return {"sslmode": "verify-full", "sslrootcert": ca_bundle}
    # PyMySQL's Connection arguments (pymysql/connections.py): ssl_verify_identity implies verifying the
    # chain; its older `ssl` dict is deprecated. mysqlclient's `ssl_mode` is refused by PyMySQL.
    return {"ssl_ca": ca_bundle, "ssl_verify_cert": True, "ssl_verify_identity": True, "charset": "utf8mb4"}


def database(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One entry of `DATABASES`, from the environment Zappa gives the Lambda."""
    env = os.environ if environ is None else environ
    missing = [name for name in ENVIRONMENT if not env.get(name)]
    if missing:
        raise _improperly_configured(
            f"{', '.join(missing)} not set: add the stack output zappa_environment to the stage's "
            "environment_variables (python -m zappa_vpc.zappa_settings does)"
        )
    engine = env["DATABASE_ENGINE"]
    if engine not in BACKENDS:
        raise _improperly_configured(
            f"DATABASE_ENGINE = {engine!r}: expected one of {', '.join(BACKENDS)} (Django's names; "
            "DATABASES then uses the backends of zappa_vpc.django_db)"
        )
    return {
        "ENGINE": BACKENDS[engine],
        "HOST": env["DATABASE_HOST"],
        "PORT": env["DATABASE_PORT"],
        "NAME": env["DATABASE_NAME"],
        SECRET_ARN_SETTING: env["DATABASE_SECRET_ARN"],
        "OPTIONS": tls_options(engine, ca_bundle_path(env)),
    }
