"""Errors the store raises instead of sqlite's own.

Callers (the server, the CLI) turn these into named protocol errors or one clear line on
stderr; an `sqlite3.IntegrityError` leaking out would say nothing a user can act on.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class NotFoundError(StoreError):
    """The row asked for (user, call, customer, ...) does not exist."""


class DuplicateError(StoreError):
    """A unique value (login, SKU, call uniqueid, ...) is already taken."""


class InvalidValueError(StoreError, ValueError):
    """A value is outside what the schema accepts (role, level, status, custom field type...)."""


class SchemaTooNewError(StoreError):
    """The database was written by a newer ccd; opening it here could damage it."""
