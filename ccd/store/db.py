"""`Store`: the one SQLite file behind ccd.

Opened once by the daemon (or by an offline admin command): WAL so readers never wait for
the writer, `synchronous=NORMAL` (a power cut can lose the last commits but never corrupts
the file; every commit is not an fsync, which is what lets 128 lines write hundreds of rows a
second), foreign keys on, a busy timeout so a second process (a backup, `ccd cdr`) waits
instead of failing. Migrations run at open; a file from a newer ccd is refused.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta, timezone, tzinfo
from pathlib import Path

import aiosqlite

from ccd.clock import Clock
from ccd.crm.numbers import NumberPlan
from ccd.store.base import Database
from ccd.store.calls import Calls
from ccd.store.customers import Customers
from ccd.store.errors import StoreError
from ccd.store.journal import Journal
from ccd.store.migrations import apply_migrations
from ccd.store.notes import Notes
from ccd.store.orders import Orders, Products
from ccd.store.recordings import Recordings
from ccd.store.reminders import Reminders
from ccd.store.settings import Settings
from ccd.store.users import Users

log = logging.getLogger(__name__)

CHINA_TZ = timezone(timedelta(hours=8), "CST")
BUSY_TIMEOUT_MS = 5000
CACHE_KIB = 65536  # per connection; a million customers' hot index pages fit
MMAP_BYTES = 256 * 2**20


async def _connect(path: Path, *, readonly: bool) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if readonly:
            await conn.execute("PRAGMA query_only = ON")
            await conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
        else:
            rows = await conn.execute_fetchall("PRAGMA journal_mode = WAL")
            mode = next(iter(rows))[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"{path}: cannot switch the database to WAL mode (got {mode!r})")
            await conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await conn.close()
        raise
    return conn


def _connect_inline(path: Path) -> sqlite3.Connection:
    """The synchronous read-only connection for bounded lookups on the loop thread (see base.py)."""
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in (
        "busy_timeout = 50",
        "query_only = ON",
        f"cache_size = -{CACHE_KIB}",
        f"mmap_size = {MMAP_BYTES}",
    ):
        conn.execute(f"PRAGMA {pragma}")
    return conn


class Store:
    """The database, with one repository per kind of record as attributes.

    Use `await Store.open(path, clock)`; `await store.close()` when done.
    """

    users: Users
    calls: Calls
    journal: Journal
    customers: Customers
    notes: Notes
    products: Products
    orders: Orders
    recordings: Recordings
    reminders: Reminders
    settings: Settings

    def __init__(self, path: Path, db: Database, plan: NumberPlan) -> None:
        self.path = path
        self.plan = plan
        self._db = db
        self.users = Users(db)
        self.customers = Customers(db, plan)
        self.calls = Calls(db, plan)
        self.journal = Journal(db)
        self.notes = Notes(db)
        self.products = Products(db)
        self.orders = Orders(db)
        self.recordings = Recordings(db)
        self.reminders = Reminders(db, self.customers)
        self.settings = Settings(db)
        self._closed = False

    @classmethod
    async def open(
        cls,
        path: str | Path,
        clock: Clock,
        *,
        country: str = "CN",
        area_code: str = "010",
        tz: tzinfo = CHINA_TZ,
    ) -> Store:
        """Open (creating if needed) the database at `path` and bring its schema up to date.

        `country`/`area_code` are the office's numbering plan (from ccd.toml `[daemon]`), used to
        normalise phone numbers; `tz` decides what "today" means for reminders and order numbers.
        Raises StoreError with a readable message for a missing folder, a file that is not a
        database, or one written by a newer ccd.
        """
        p = Path(path)
        if str(p) == ":memory:" or not str(p):
            raise StoreError("the store needs a file path (WAL and the reader connection need a real file)")
        if not p.parent.is_dir():
            raise StoreError(f"cannot create database {p}: folder {p.parent} does not exist")
        if p.is_dir():
            raise StoreError(f"cannot open database {p}: it is a folder")
        try:
            writer = await _connect(p, readonly=False)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open database {p}: {exc}") from exc
        reader: aiosqlite.Connection | None = None
        try:
            applied = await apply_migrations(writer, clock.wall())
            reader = await _connect(p, readonly=True)
            inline = _connect_inline(p)
        except BaseException as exc:
            if reader is not None:
                await reader.close()
            await writer.close()
            if isinstance(exc, sqlite3.DatabaseError):
                raise StoreError(f"cannot open database {p}: {exc}") from exc
            raise
        if applied:
            log.info("database %s: schema now at migration %d", p, applied[-1])
        plan = NumberPlan(country, area_code)
        return cls(p, Database(writer, reader, inline, clock, tz), plan)

    async def close(self) -> None:
        """Close both connections (idempotent). Checkpoints the WAL so the file stands alone."""
        if self._closed:
            return
        self._closed = True
        try:
            async with self._db.lock:
                await self._db.writer.execute("PRAGMA optimize")
                await self._db.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:  # closing must not fail because a checkpoint could not run
            log.warning("database %s: checkpoint at close failed: %s", self.path, exc)
        finally:
            self._db.inline.close()
            await self._db.reader.close()
            await self._db.writer.close()

    @property
    def clock(self) -> Clock:
        """The clock records are stamped with."""
        return self._db.clock

    @property
    def tz(self) -> tzinfo:
        """The office's time zone: what "today" means for reminders and order numbers."""
        return self._db.tz

    async def integrity_check(self) -> str:
        """`PRAGMA integrity_check` plus a foreign-key check: "ok" or the problems found."""
        rows = await self._db.fetchall("PRAGMA integrity_check")
        result = "\n".join(str(r[0]) for r in rows)
        fk = await self._db.fetchall("PRAGMA foreign_key_check")
        if fk:
            problems = "\n".join(f"foreign key: {r[0]} row {r[1]} -> {r[2]}" for r in fk)
            result = problems if result == "ok" else f"{result}\n{problems}"
        return result

    async def pragma(self, name: str) -> object:
        """Read one PRAGMA value (for diagnostics and tests); only known names are allowed."""
        if name not in {"journal_mode", "foreign_keys", "synchronous", "busy_timeout", "user_version"}:
            raise StoreError(f"pragma {name!r} is not readable through the store")
        rows = await self._db.writer.execute_fetchall(f"PRAGMA {name}")
        return next(iter(rows))[0]

    async def migrations(self) -> list[int]:
        rows = await self._db.fetchall("SELECT number FROM _migrations ORDER BY number")
        return [int(r[0]) for r in rows]

    async def __aenter__(self) -> Store:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
