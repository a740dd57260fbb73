"""Migration 6 on a database that already holds a journal and calls: its one-pass backfill finds
exactly the breaks the trigger would have recorded had it been there (rows written out of time
order, a year-long silence), after it the trigger records new ones, the agent reports equal the
walk, and the survey report reads its covering index and still counts what the calls say; and
the one-pass rebuild `bench/wallboard.py` runs after loading with the triggers off builds the
same breaks."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.store import Store
from ccd.store.migrations import MIGRATIONS
from ccd.store.reports import ReportQueries
from tests.metrics.helpers import journal_database
from tests.metrics.scenario import journal_tuples
from tests.metrics.test_agent_runs_parity import (
    D1,
    DAY,
    TOML,
    assert_rollup_equals_walk,
    periods,
    written_with_breaks,
)
from tests.store.migration_helpers import ccd_before, rebuild_rollups_like_the_bench

BREAKS = "SELECT agent, start, healed FROM rollup_agent_breaks ORDER BY 1, 2, 3"
# The survey report's figures counted straight from the calls
SURVEY = """SELECT coalesce(agent, ''), count(*), avg(survey_score), sum(survey_score = 1), sum(survey_score = 2),
    sum(survey_score = 3), sum(survey_score = 4), sum(survey_score = 5)
    FROM calls NOT INDEXED WHERE start >= ? AND start < ? AND survey_score IS NOT NULL GROUP BY 1 ORDER BY 1"""


def schema(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'index', 'trigger')"
            )
        }
    finally:
        conn.close()


def breaks_of(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(BREAKS).fetchall()
    finally:
        conn.close()


async def surveyed_calls(store: Store, rng: random.Random, n: int, tag: str) -> None:
    """`n` calls over the office days, most answered by an agent, a survey score on about a third."""
    for i in range(n):
        uid = f"{tag}{i}"
        start = DAY + rng.uniform(0, 3 * 86400)
        await store.calls.begin({"uniqueid": uid, "direction": "in", "start": start, "src": "13800000001"})
        if rng.random() < 0.8:
            await store.calls.answer(uid, start + 5)
        await store.calls.finish(uid, start + rng.uniform(20, 300), "ANSWERED")
        score = rng.randint(1, 5) if rng.random() < 0.35 else None
        agent = rng.choice(("1001", "1002", "Agent/1003", None))
        await store._db.write(
            "UPDATE calls SET survey_score = ?, agent = ? WHERE uniqueid = ?", (score, agent, uid)
        )


async def assert_survey_from_index(store: Store, where: str) -> None:
    for t0, t1 in [(DAY, DAY + 3 * 86400), (DAY + 3600.5, DAY + 86400 + 777.25), (DAY + 5, DAY + 6)]:
        got = await ReportQueries.of(store).survey(t0, t1)
        want = await store._db.fetchall(SURVEY, (t0, t1))
        assert [tuple(r.values()) for r in got] == [tuple(r) for r in want], (where, t0, t1)
    plan = await store._db.fetchall(
        "EXPLAIN QUERY PLAN SELECT coalesce(agent, '') AS agent, count(*), avg(survey_score) FROM calls "
        "WHERE start >= ? AND start < ? AND survey_score IS NOT NULL GROUP BY agent",
        (DAY, DAY + 86400),
    )
    assert any("COVERING INDEX calls_survey" in r[3] for r in plan), (where, [r[3] for r in plan])


async def test_an_older_database_upgrades_and_backfills(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, written, now = written_with_breaks(13)
    old = tmp_path / "old.db"
    with ccd_before(monkeypatch, 6):
        store = await Store.open(old, VirtualClock(now))
        try:
            assert await store.migrations() == [1, 2, 3, 4, 5]
            await store.journal.append_many(journal_tuples(written))
            await surveyed_calls(store, random.Random(4), 300, "old")
        finally:
            await store.close()
    assert not {"rollup_agent_breaks", "journal_agent_breaks", "calls_survey"} & schema(old)

    # what the trigger keeps when it is there from the start: the same rows written in the same order
    kept = tmp_path / "kept.db"
    await journal_database(kept, written, now)
    assert len(breaks_of(kept)) >= 3

    cfg = config_from_text(TOML)
    store = await Store.open(old, VirtualClock(now))
    try:
        assert await store.migrations() == sorted(MIGRATIONS)  # 6 (and those after it) applied
        assert {"rollup_agent_breaks", "journal_agent_breaks", "calls_survey"} <= schema(old)
        assert breaks_of(old) == breaks_of(kept)
        spans = [*periods(rows, now, random.Random(7)), (D1 + 10 * 3600, D1 + 11 * 3600 + 900)]
        await assert_rollup_equals_walk(store, cfg, spans, now)
        await assert_survey_from_index(store, "backfilled")

        # from here on the trigger keeps them: a row written late, then the sign-out that heals it
        before = len(breaks_of(old))
        await store.journal.append(now - 7200, None, None, "Agent/1001", "PAUSE", ("late",))
        await store.journal.append(now + 60, None, None, "Agent/1001", "AGENTLOGOFF", ("Local/801", ""))
        after = breaks_of(old)
        assert len(after) == before + 1 and ("1001", now - 7200, now + 60) in after
        await surveyed_calls(store, random.Random(5), 100, "new")
        await assert_survey_from_index(store, "after the upgrade")
        await assert_rollup_equals_walk(store, cfg, [(DAY, now + 60), (now - 9000, now + 60)], now + 60)
    finally:
        await store.close()


async def test_one_pass_rebuild_equals_the_trigger(tmp_path: Path) -> None:
    """What bench/wallboard.py does: rows loaded with the triggers off, every rollup rebuilt."""
    _, written, now = written_with_breaks(14)
    path = tmp_path / "r.db"
    await journal_database(path, written, now)
    conn = sqlite3.connect(path)
    try:
        kept = conn.execute(BREAKS).fetchall()
        rebuild_rollups_like_the_bench(conn)
        built = conn.execute(BREAKS).fetchall()
    finally:
        conn.close()
    assert len(kept) >= 3 and any(h is not None for _, _, h in kept) and built == kept
