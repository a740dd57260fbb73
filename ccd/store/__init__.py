"""The store: one SQLite file (WAL, foreign keys, numbered migrations) and its repositories.

The only place in ccd that writes SQL. Open it with ``await Store.open(path, clock)``.
"""

from ccd.store.db import Store
from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError, SchemaTooNewError, StoreError

__all__ = ["DuplicateError", "InvalidValueError", "NotFoundError", "SchemaTooNewError", "Store", "StoreError"]
