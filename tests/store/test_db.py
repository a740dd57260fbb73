"""Opening the database: migrations, pragmas, refusals with clear messages."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.store import SchemaTooNewError, Store, StoreError
from ccd.store.migrations import MIGRATIONS


async def test_fresh_database_is_wal_with_foreign_keys_and_passes_integrity_check(store: Store) -> None:
    assert await store.pragma("journal_mode") == "wal"
    assert await store.pragma("foreign_keys") == 1
    assert await store.pragma("synchronous") == 1  # NORMAL
    assert await store.pragma("busy_timeout") >= 1000
    assert await store.integrity_check() == "ok"
    assert store.path.exists()


async def test_migrations_run_once_and_reopening_is_idempotent(
    store_path: Path, store_clock: VirtualClock
) -> None:
    s = await Store.open(store_path, store_clock)
    assert await s.migrations() == sorted(MIGRATIONS)
    await s.users.add("admin", "Admin", "admin", "pw")
    await s.close()
    for _ in range(2):
        s = await Store.open(store_path, store_clock)
        assert await s.migrations() == sorted(MIGRATIONS)  # nothing re-applied, nothing lost
        assert [u.login for u in await s.users.list()] == ["admin"]
        await s.close()


async def test_database_from_newer_ccd_is_refused(store_path: Path, store_clock: VirtualClock) -> None:
    s = await Store.open(store_path, store_clock)
    await s.close()
    with sqlite3.connect(store_path) as raw:
        raw.execute("INSERT INTO _migrations(number, name, applied) VALUES (999, 'm999_future', 0)")
    with pytest.raises(SchemaTooNewError, match="newer ccd"):
        await Store.open(store_path, store_clock)


async def test_file_that_is_not_a_database_gives_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"this is not sqlite at all, just some text " * 100)
    with pytest.raises(StoreError, match="cannot open database"):
        await Store.open(bad, VirtualClock())


async def test_missing_folder_gives_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        await Store.open(tmp_path / "nope" / "ccd.db", VirtualClock())


async def test_close_is_idempotent_and_leaves_a_standalone_file(
    store_path: Path, store_clock: VirtualClock
) -> None:
    s = await Store.open(store_path, store_clock)
    await s.settings.set("k", {"a": [1, 2]})
    await s.close()
    await s.close()
    with sqlite3.connect(store_path) as raw:  # readable by plain sqlite3 (WAL checkpointed)
        assert raw.execute("SELECT value FROM settings WHERE key = 'k'").fetchone() == ('{"a": [1, 2]}',)


async def test_settings_round_trip_json_values(store: Store) -> None:
    assert await store.settings.get("missing", 42) == 42
    await store.settings.set("wallboard.columns", ["queue", "waiting"])
    await store.settings.set("wallboard.columns", ["queue"])
    await store.settings.set("名称", "总机")
    assert await store.settings.all() == {"wallboard.columns": ["queue"], "名称": "总机"}
    with pytest.raises(StoreError):
        await store.settings.set("bad", object())
