"""Agent time from the rollups of migration 4 equals one row-by-row walk over the same period,
for aligned and ragged periods, with and without WRAPUPEND rows, sign-outs and pauses over
bucket edges; and the one-pass backfill builds the same rollups as the trigger."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.metrics.agent_time import pure_agent_times, rollup_agent_times
from ccd.metrics.definitions import wrap_times
from ccd.metrics.journal import Row, wrap_lookup
from ccd.store import Store
from ccd.store.migrations import agent_backfill_sql
from ccd.store.reports import AgentRollups
from tests.metrics.helpers import assert_agent_times_same, journal_database
from tests.metrics.scenario import DAY, journal_tuples
from tests.metrics.test_rollup_parity import PERIODS, TOML, office_day

AGENT_TABLES = (
    "agent_now",
    "rollup_agent",
    "rollup_agent_calls",
    "rollup_agent_day",
    "rollup_agent_calls_day",
)


def office_with_breaks(wrapupend: bool) -> list[Row]:
    """The random morning (every wrap-up ended by a WRAPUPEND, or none), plus a sign-out and back,
    a pause over a bucket edge and a late sign-in."""
    rows = office_day(6, wrapupend, wrapupend_share=1.0)
    rows += [
        Row(DAY + 9 * 3600 + 850, None, None, "Agent/1004", "AGENTLOGOFF", ("",)),
        Row(DAY + 9 * 3600 + 2000, None, None, "Agent/1004", "AGENTLOGIN", ("Local/804",)),
        Row(DAY + 10 * 3600 - 100, None, None, "Agent/1003", "PAUSE", ("training",)),
        Row(DAY + 10 * 3600 + 1000, None, None, "Agent/1003", "UNPAUSE", ("",)),
        Row(DAY + 8 * 3600 + 3000, None, None, "Agent/1009", "AGENTLOGIN", ("Local/809",)),
    ]
    rows.sort(key=lambda r: r.ts)
    return rows


def assert_same(got: dict, want: dict, where: object) -> None:
    assert_agent_times_same(got, want, where, tol=1e-6)


@pytest.mark.parametrize("wrapupend", [True, False])
async def test_rollup_agent_time_equals_the_walk(tmp_path: Path, wrapupend: bool) -> None:
    cfg = config_from_text(TOML)
    rows = office_with_breaks(wrapupend)
    now = rows[-1].ts - 400  # some wrap-ups still running at "now"
    store = await Store.open(tmp_path / "a.db", VirtualClock(now))
    await store.journal.append_many(journal_tuples([r for r in rows if r.ts <= now]))
    wrap_for = wrap_lookup(*wrap_times(cfg))
    q = AgentRollups.of(store)
    try:
        for t0, t1 in [*PERIODS, (DAY + 8 * 3600, now), (DAY + 9 * 3600 + 1, now)]:
            end = min(t1, now)
            got = await rollup_agent_times(q, t0, end, wrap_for)
            want = await pure_agent_times(q, t0, end, wrap_for)
            assert_same(got, want, (t0, t1))
            one = await rollup_agent_times(q, t0, end, wrap_for, "1003")
            assert_same(one, {k: v for k, v in want.items() if k == "1003"}, (t0, t1, "1003"))
    finally:
        await store.close()
    # the whole morning is in the report, breaks included
    assert want["1003"].not_ready.get("training", 0) > 0 and len(want["1004"].sessions) >= 1


async def test_backfill_builds_the_rollups_the_trigger_keeps(tmp_path: Path) -> None:
    rows = office_with_breaks(True)
    path = tmp_path / "b.db"
    await journal_database(path, rows, rows[-1].ts)
    conn = sqlite3.connect(path)
    try:
        kept = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in AGENT_TABLES}
        for t in AGENT_TABLES:
            conn.execute(f"DELETE FROM {t}")
        for sql in agent_backfill_sql():
            conn.execute(sql)
        built = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in AGENT_TABLES}
    finally:
        conn.close()
    for t in AGENT_TABLES:
        assert built[t] and len(built[t]) == len(kept[t]), t
        assert _approx_rows(built[t], kept[t]), t


def _approx_rows(a: list[tuple], b: list[tuple]) -> bool:
    for x, y in zip(a, b, strict=True):
        for u, v in zip(x, y, strict=True):
            if isinstance(u, float) or isinstance(v, float):
                if abs(float(u or 0) - float(v or 0)) > 1e-6:
                    return False
            elif u != v:
                return False
    return True
