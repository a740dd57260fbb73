"""Migration 5 on a database that already holds calls and a journal: it fills the per-caller
rollups and the wait histogram's twins in one pass with exactly what the triggers would have
kept, and its triggers keep them from then on; and the one-pass rebuild `bench/wallboard.py`
runs after loading with the triggers off builds the same tables."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.store import Store
from ccd.store.migrations import MIGRATIONS
from tests.metrics.scenario import journal_tuples
from tests.metrics.test_wait_twins_parity import assert_twins_follow, office_days
from tests.reports.test_rollup_callers import (
    DAY,
    NUMBERS,
    SPAN,
    assert_report_equals_cdrs,
    assert_rollups_equal_cdrs,
    fill,
)
from tests.store.migration_helpers import ccd_before, rebuild_rollups_like_the_bench

NEW_TABLES = ("rollup_caller_day", "rollup_caller_week", "rollup_waits_hour", "rollup_waits_day")


def tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    finally:
        conn.close()


async def old_database(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database as ccd wrote it before migration 5: customers, calls, a few days of journal."""
    with ccd_before(monkeypatch, 5):
        store = await Store.open(path, VirtualClock(DAY + SPAN))
        try:
            assert await store.migrations() == [1, 2, 3, 4]
            ids = [(await store.customers.add(f"客户{i}", numbers=[NUMBERS[i]])).id for i in range(6)]
            uids = await fill(store, random.Random(8), 700, ids, "old")
            for uid in uids[::9]:
                await store._db.write("DELETE FROM calls WHERE uniqueid = ?", (uid,))
            await store.journal.append_many(journal_tuples(office_days(3, True, 0.95)))
        finally:
            await store.close()


async def test_an_older_database_upgrades_and_backfills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    await old_database(path, monkeypatch)
    before = tables(path)
    assert not set(NEW_TABLES) & before and "calls_customer" in before

    store = await Store.open(path, VirtualClock(DAY + SPAN))
    try:
        assert await store.migrations() == sorted(MIGRATIONS)  # 5 (and those after it) applied
        after = tables(path)
        assert set(NEW_TABLES) <= after
        assert "calls_customer_start" in after and "calls_customer" not in after

        async def all_agree(when: str) -> None:
            assert_rollups_equal_cdrs(path, when)
            conn = sqlite3.connect(path)
            try:
                assert_twins_follow(conn, when)
            finally:
                conn.close()
            await assert_report_equals_cdrs(store, when)

        await all_agree("backfilled")

        # from here on the triggers keep them
        customers = await store._db.fetchall("SELECT id FROM customers")
        uids = await fill(store, random.Random(3), 200, [r["id"] for r in customers], "new")
        for uid in uids[::5]:
            await store._db.write("DELETE FROM calls WHERE uniqueid = ?", (uid,))
        await store.journal.append_many(
            journal_tuples([r for r in office_days(5, True, 1.0) if r.ts > DAY + 3 * 30 * 3600])
        )
        await all_agree("after the upgrade")
    finally:
        await store.close()


async def test_one_pass_rebuild_equals_the_triggers(tmp_path: Path) -> None:
    """What bench/wallboard.py does: rows loaded with the triggers off, every rollup rebuilt."""
    path = tmp_path / "r.db"
    store = await Store.open(path, VirtualClock(DAY + SPAN))
    try:
        ids = [(await store.customers.add(f"客户{i}", numbers=[NUMBERS[i]])).id for i in range(6)]
        await fill(store, random.Random(2), 400, ids, "u")
        await store.journal.append_many(journal_tuples(office_days(3, True, 1.0)))
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    try:
        kept = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall() for t in NEW_TABLES}
        rebuild_rollups_like_the_bench(conn)
        built = {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3, 4").fetchall() for t in NEW_TABLES}
    finally:
        conn.close()
    for t in NEW_TABLES:
        assert built[t] and built[t] == kept[t], t
