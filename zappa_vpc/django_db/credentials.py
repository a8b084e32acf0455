"""The database user and password, read from Secrets Manager when first needed and again after a rotation.

Standard library only at import: boto3 (in every Lambda Python runtime) is imported when a secret is read.
"""

from __future__ import annotations

import json
import os
from typing import Any

# The key of a DATABASES entry naming the secret (JSON with `username` and `password`, as RDS keeps it).
SECRET_ARN_SETTING = "SECRET_ARN"

_cache: dict[str, dict[str, str]] = {}


def _read_secret(secret_arn: str) -> dict[str, str]:
    import boto3

    # The ARN names the secret's region; Lambda's AWS_REGION is only a fallback for a bare name.
    parts = secret_arn.split(":")
    region = parts[3] if secret_arn.startswith("arn:") and len(parts) > 3 else os.environ.get("AWS_REGION")
    client = boto3.client("secretsmanager", region_name=region)
    secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    return {"username": secret["username"], "password": secret["password"]}


def credentials(secret_arn: str, *, refresh: bool = False) -> dict[str, str]:
    """`username` and `password`, cached per Lambda container; `refresh` reads the secret again."""
    if refresh or secret_arn not in _cache:
        _cache[secret_arn] = _read_secret(secret_arn)
    return _cache[secret_arn]


class RotatingCredentials:
    """Mixed into a Django DatabaseWrapper: log in with the secret's credentials; on a failed login, read
    the secret once more and retry, since RDS may have rotated the password since it was cached."""

    settings_dict: dict[str, Any]

    def is_login_failure(self, error: Exception) -> bool:
        raise NotImplementedError

    def _use_secret(self, *, refresh: bool) -> None:
        secret_arn = self.settings_dict.get(SECRET_ARN_SETTING)
        if secret_arn:
            secret = credentials(secret_arn, refresh=refresh)
            self.settings_dict["USER"], self.settings_dict["PASSWORD"] = (
                secret["username"],
                secret["password"],
            )

    def _check_ca_bundle(self) -> None:
        from django.core.exceptions import ImproperlyConfigured

        options = self.settings_dict.get("OPTIONS", {})
        bundle = options.get("sslrootcert") or options.get("ssl_ca")
        if bundle and not os.path.isfile(bundle):
            raise ImproperlyConfigured(
                f"the database CA bundle {bundle} does not exist: download it into the project before "
                "`zappa deploy` (README: Zappa) or point DATABASE_CA_BUNDLE at it"
            )

    def get_connection_params(self):
        self._check_ca_bundle()
        self._use_secret(refresh=False)
        return super().get_connection_params()

    def get_new_connection(self, conn_params):
        try:
            return super().get_new_connection(conn_params)
        except self.Database.OperationalError as error:
            if not self.settings_dict.get(SECRET_ARN_SETTING) or not self.is_login_failure(error):
                raise
        self._use_secret(refresh=True)
        return super().get_new_connection(super().get_connection_params())
