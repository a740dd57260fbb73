"""The connection pair every repository shares, and the error translation.

One writer connection (aiosqlite runs it on its own thread) behind an asyncio lock, so
statements from different coroutines never land inside each other's transaction; and one
read-only connection on a second thread, so a screen-pop lookup never queues behind a burst
of CDR and journal writes (WAL lets readers and the writer run at the same time).
Every write is either one autocommitted statement or a short explicit transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import tzinfo
from typing import Any

import aiosqlite

from ccd.clock import Clock
from ccd.store.errors import DuplicateError, InvalidValueError, NotFoundError, StoreError

Params = Sequence[Any] | dict[str, Any]


def translate(exc: sqlite3.Error) -> StoreError:
    """Turn an sqlite error into the store's own, keeping sqlite's text for the log."""
    msg = str(exc)
    if isinstance(exc, sqlite3.IntegrityError):
        if "UNIQUE" in msg or "PRIMARY KEY" in msg:
            return DuplicateError(f"already exists ({msg})")
        if "FOREIGN KEY" in msg:
            return NotFoundError(f"refers to something that does not exist ({msg})")
        if "CHECK" in msg or "NOT NULL" in msg:
            return InvalidValueError(f"value not allowed ({msg})")
    if isinstance(exc, sqlite3.OperationalError) and "locked" in msg:
        return StoreError(f"database is busy: another ccd may be using it ({msg})")
    return StoreError(f"database error: {msg}")


class Database:
    """Writer + reader connections, the write lock, and the clock and time zone for records."""

    def __init__(
        self,
        writer: aiosqlite.Connection,
        reader: aiosqlite.Connection,
        inline: sqlite3.Connection,
        clock: Clock,
        tz: tzinfo,
    ) -> None:
        self.writer = writer
        self.reader = reader
        self.inline = inline
        self.clock = clock
        self.tz = tz
        self.lock = asyncio.Lock()

    async def write(self, sql: str, params: Params = ()) -> tuple[int, int]:
        """Run one write statement (autocommitted); return (lastrowid, rowcount)."""
        async with self.lock:
            try:
                cur = await self.writer.execute(sql, params)
            except sqlite3.Error as exc:
                raise translate(exc) from exc
            lastrowid, rowcount = cur.lastrowid or 0, cur.rowcount
            await cur.close()
            return lastrowid, rowcount

    async def write_many(self, sql: str, rows: Iterable[Params]) -> None:
        """`executemany` in one transaction: the fast path for bulk loads."""
        async with self.transaction() as db:
            await db.executemany(sql, rows)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Hold the write lock for a short BEGIN IMMEDIATE ... COMMIT on the writer.

        Yields the writer connection; anything raised inside rolls back and comes out as a
        `StoreError` (sqlite errors translated) or as itself.
        """
        async with self.lock:
            await self.writer.execute("BEGIN IMMEDIATE")
            try:
                yield self.writer
            except BaseException as exc:
                await self._rollback()
                if isinstance(exc, sqlite3.Error):
                    raise translate(exc) from exc
                raise
            else:
                try:
                    await self.writer.execute("COMMIT")
                except sqlite3.Error as exc:
                    await self._rollback()
                    raise translate(exc) from exc

    async def _rollback(self) -> None:
        # SQLite rolls back by itself on some errors (disk full, I/O): a second ROLLBACK would
        # fail with "no transaction is active" and hide the error that matters.
        if self.writer.in_transaction:
            await self.writer.execute("ROLLBACK")

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """A read on the reader connection (sees everything committed)."""
        try:
            return list(await self.reader.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    async def fetchall_inline(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """A *bounded* indexed read run right here on the event-loop thread.

        For the screen pop's lookup by caller number only: an index probe returning a few rows
        costs ~50 µs, while a hop to a worker thread and back costs two context switches —
        tens of ms at p99 when the CPUs are busy with 128 lines of DSP. Its busy timeout is
        tiny; if the database is momentarily busy the read falls back to the reader thread.
        Never use this for scans or anything whose size the caller does not bound.
        """
        try:
            return self.inline.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            return await self.fetchall(sql, params)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


def placeholders(n: int) -> str:
    """`?, ?, ?` for an IN list of n values (values still go in as parameters)."""
    return ", ".join("?" * n)
