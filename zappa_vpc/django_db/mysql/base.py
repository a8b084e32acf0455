"""Django's MySQL backend on PyMySQL (pure Python: no libmysqlclient on Lambda), with the password read
from the RDS secret, re-read on a failed login."""

import pymysql

# Django's MySQL backend imports MySQLdb; PyMySQL stands in for it (PyMySQL docs, install_as_MySQLdb).
pymysql.install_as_MySQLdb()

from django.db.backends.mysql import base  # noqa: E402

from ..credentials import RotatingCredentials  # noqa: E402

# ER_ACCESS_DENIED_ERROR (MySQL server error reference).
ACCESS_DENIED = 1045


class DatabaseWrapper(RotatingCredentials, base.DatabaseWrapper):
    def is_login_failure(self, error: Exception) -> bool:
        return bool(error.args) and error.args[0] == ACCESS_DENIED
