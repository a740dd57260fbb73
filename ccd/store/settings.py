"""Key/value settings kept in the database (values are JSON), for state that outlives a restart
but does not belong in ccd.toml (e.g. the demo workspace's version, last report run)."""

from __future__ import annotations

import json
from typing import Any

from ccd.store.base import Database
from ccd.store.errors import InvalidValueError


class Settings:
    """`store.settings`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str, default: Any = None) -> Any:
        row = await self._db.fetchone("SELECT value FROM settings WHERE key = ?", (key,))
        return default if row is None else json.loads(row[0])

    async def set(self, key: str, value: Any) -> None:
        if not isinstance(key, str) or not key or len(key) > 200:
            raise InvalidValueError("a setting key must be 1-200 characters")
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(f"setting {key!r} must be JSON-serialisable: {exc}") from None
        await self._db.write(
            "INSERT INTO settings(key, value, updated) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated = excluded.updated",
            (key, text, self._db.clock.wall()),
        )

    async def delete(self, key: str) -> None:
        await self._db.write("DELETE FROM settings WHERE key = ?", (key,))

    async def all(self) -> dict[str, Any]:
        rows = await self._db.fetchall("SELECT key, value FROM settings ORDER BY key")
        return {r[0]: json.loads(r[1]) for r in rows}
