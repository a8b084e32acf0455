"""Django's PostgreSQL backend (psycopg 3) with the password read from the RDS secret, re-read on a failed
login."""

from django.db.backends.postgresql import base

from ..credentials import RotatingCredentials

# SQLSTATE invalid_password and invalid_authorization_specification (PostgreSQL, errcodes appendix).
LOGIN_FAILURES = {"28P01", "28000"}


class DatabaseWrapper(RotatingCredentials, base.DatabaseWrapper):
    def is_login_failure(self, error: Exception) -> bool:
        return getattr(error, "sqlstate", None) in LOGIN_FAILURES or "password authentication failed" in str(
            error
        )
