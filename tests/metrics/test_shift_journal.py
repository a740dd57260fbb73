"""A journal of agents working shifts, as the ACD writes it (AGENTLOGIN Local/ext; AGENTLOGOFF
Local/ext and ""; PAUSE reason; UNPAUSE ""; AGENTLOGOFF then UNPAUSE at one instant when an agent
signs out while paused; WRAPUPEND with callid NONE): the sign-in sessions read from migration 7's
covering index equal the walk's, over split shifts, a night shift over midnight and an agent spelled
without "Agent/"; that read touches the index alone; a database from before migration 7 gets the
index when opened; and the queue report's raw edge costs in proportion to its rows however many
NONE-callid rows (WRAPUPEND, sign-ins) the journal holds (it visited every one of them for each such
row of the edge: 297 s for a 15-minute edge of the bench's million calls)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.metrics.agent_time import pure_agent_times, rollup_agent_times
from ccd.metrics.definitions import wrap_times
from ccd.metrics.journal import Row, wrap_lookup
from ccd.store import Store
from ccd.store.migrations import MIGRATIONS
from ccd.store.reports import AgentRollups, ReportQueries
from tests.metrics.scenario import DAY, journal_tuples
from tests.metrics.test_agent_runs_parity import TOML, assert_same
from tests.store.migration_helpers import ccd_before

DAYS = 3
# agent -> (shift start, hours after local midnight; lunch signed out (split shift)?)
SHIFTS = {
    "1001": (7.0, True),
    "1002": (9.0, False),
    "1003": (14.0, True),
    "1004": (21.5, False),
    "1006": (8.0, False),
}


def shift_rows(rng: random.Random) -> list[Row]:
    """Each agent's days from the day before DAY: sign-in, breaks and lunch (signed out for it or
    paused), a meeting now and then, calls in the ready stretches, and some days signed out from
    an admin pause — rows spelled as the ACD spells them ("1006" without the prefix)."""
    rows: list[Row] = []
    n = 0
    for agent, (start, split) in SHIFTS.items():
        me = f"Agent/{agent}" if agent != "1006" else agent
        ext = f"Local/{800 + int(agent) % 100}"
        for d in range(-1, DAYS):
            if rng.random() < 0.15:
                continue  # a day off
            login = DAY + d * 86400 + start * 3600 + rng.uniform(-300, 600)
            logoff = login + 8.5 * 3600 + rng.uniform(-600, 600)
            lunch = login + 4 * 3600 + rng.uniform(-900, 900)
            back = lunch + rng.uniform(1800, 3600)
            away = [(login + 2 * 3600, login + 2 * 3600 + rng.uniform(600, 1200), "break")]
            away.append((back + 2 * 3600, back + 2 * 3600 + rng.uniform(600, 1200), "break"))
            if not split:
                away.append((lunch, back, "lunch"))
            if rng.random() < 0.3:
                away.append((back + 600, back + 600 + rng.uniform(900, 1800), "meeting"))
            day = [(login, "AGENTLOGIN", (ext,))]
            if split:
                day += [(lunch, "AGENTLOGOFF", (ext, "")), (back, "AGENTLOGIN", (ext,))]
            for p0, p1, reason in away:
                day += [(p0, "PAUSE", (reason,)), (p1, "UNPAUSE", ("",))]
            paused_out = rng.random() < 0.4
            if paused_out:
                day.append((logoff - rng.uniform(300, 900), "PAUSE", ("admin",)))
            day.append((logoff, "AGENTLOGOFF", (ext, "")))
            if paused_out:
                day.append((logoff, "UNPAUSE", ("",)))
            day.sort(key=lambda r: r[0])
            rows += [Row(ts, "NONE", "NONE", me, event, data) for ts, event, data in day]
            # calls in the stretches signed in and not paused
            ready, on, paused, since = [], False, False, 0.0
            for ts, event, _ in day:
                was = on and not paused
                on = {"AGENTLOGIN": True, "AGENTLOGOFF": False}.get(event, on)
                paused = {"PAUSE": True, "UNPAUSE": False, "AGENTLOGOFF": False}.get(event, paused)
                if on and not paused and not was:
                    since = ts
                elif was and not (on and not paused):
                    ready.append((since, ts))
            for s0, s1 in ready:
                t = s0 + rng.uniform(5, 120)
                while True:
                    talk, wrap = rng.uniform(30, 400), rng.choice((10.0, rng.uniform(1, 10)))
                    if t + talk + wrap >= s1:
                        break
                    n += 1
                    uid, q = f"c{n}", rng.choice(("sales", "support"))
                    rows += [
                        Row(t - 20, uid, q, "NONE", "ENTERQUEUE", ("", "138", "1")),
                        Row(t, uid, q, me, "CONNECT", ("20", f"{uid}-801", "3")),
                        Row(t + talk, uid, q, me, "COMPLETECALLER", ("20", str(round(talk)), "1")),
                        Row(t + talk + wrap, "NONE", q, me, "WRAPUPEND", ("wrapup_done",)),
                    ]
                    t += talk + wrap + rng.uniform(5, 300)
    rows.sort(key=lambda r: r.ts)
    return rows


def spans(rng: random.Random) -> list[tuple[float, float]]:
    """The whole time, Beijing days, UTC days, and ragged periods starting inside shifts."""
    out = [(DAY - 86400, DAY + DAYS * 86400), (DAY, DAY + 86400), (DAY + 8 * 3600, DAY + 32 * 3600)]
    for _ in range(6):
        a = DAY + rng.uniform(-3600, (DAYS - 1) * 86400)
        out.append((a, a + rng.uniform(1800, 2 * 86400)))
    return out


async def assert_sessions_equal_walk(store: Store, now: float, rng: random.Random) -> int:
    """The rollup path's figures and sessions equal the walk's; returns the sessions seen."""
    cfg = config_from_text(TOML)
    wrap_for = wrap_lookup(*wrap_times(cfg))
    q = AgentRollups.of(store)
    seen = 0
    for t0, t1 in spans(rng):
        end = min(t1, now)
        want = await pure_agent_times(q, t0, end, wrap_for)
        assert_same(await rollup_agent_times(q, t0, end, wrap_for), want, (t0, t1))
        for one in ("1003", "1006"):
            got = await rollup_agent_times(q, t0, end, wrap_for, one)
            assert_same(got, {k: v for k, v in want.items() if k == one}, (t0, t1, one))
        seen += sum(len(a.sessions) for a in want.values())
    return seen


async def test_sessions_of_shifts_equal_the_walk(tmp_path: Path) -> None:
    rows = shift_rows(random.Random(3))
    now = DAY + DAYS * 86400 - 3 * 3600  # the night agent signed in "now"
    store = await Store.open(tmp_path / "s.db", VirtualClock(now))
    try:
        await store.journal.append_many(journal_tuples([r for r in rows if r.ts <= now]))
        assert await assert_sessions_equal_walk(store, now, random.Random(4)) > 40
        # the whole period: a split shift is two sessions a day, a session open at the start and "now"
        t0 = DAY
        times = await pure_agent_times(AgentRollups.of(store), t0, now, lambda *_: 10.0)
        assert any(s[0] == t0 for s in times["1004"].sessions)  # signed in over midnight
        assert any(s[1] is None for a in times.values() for s in a.sessions)
        assert len(times["1001"].sessions) >= 2 * (DAYS - 1)
        assert times["1002"].not_ready.get("lunch", 0) > 0 and times["1002"].not_ready.get("break", 0) > 0
    finally:
        await store.close()


async def test_signin_rows_read_the_covering_index_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await Store.open(tmp_path / "s.db", VirtualClock(DAY + DAYS * 86400))
    try:
        await store.journal.append_many(journal_tuples(shift_rows(random.Random(5))))
        q = AgentRollups.of(store)
        seen: list[tuple[str, list[Any]]] = []
        fetchall = store._db.fetchall

        async def spy(sql: str, params: Any = ()) -> Any:
            seen.append((sql, list(params)))
            return await fetchall(sql, params)

        monkeypatch.setattr(store._db, "fetchall", spy)
        for agent in (None, "1006"):
            seen.clear()
            rows = await q.signin_rows(DAY, DAY + 86400, agent)
            assert rows and {e for _, _, e in rows} == {"AGENTLOGIN", "AGENTLOGOFF"}
            monkeypatch.undo()
            sql, params = seen[-1]
            plan = [r[3] for r in await store._db.fetchall("EXPLAIN QUERY PLAN " + sql, params)]
            assert any("COVERING INDEX journal_signins" in p for p in plan), plan
            monkeypatch.setattr(store._db, "fetchall", spy)
    finally:
        await store.close()


async def test_a_database_from_before_migration_7_gets_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    rows = shift_rows(random.Random(6))
    now = rows[-1].ts + 60
    with ccd_before(monkeypatch, 7):
        store = await Store.open(path, VirtualClock(now))
        try:
            await store.journal.append_many(journal_tuples(rows))
        finally:
            await store.close()
    conn = sqlite3.connect(path)
    index = "SELECT count(*) FROM sqlite_master WHERE name = 'journal_signins'"
    assert conn.execute(index).fetchone()[0] == 0
    conn.close()
    store = await Store.open(path, VirtualClock(now))
    try:
        assert await store.migrations() == sorted(MIGRATIONS)
        assert await assert_sessions_equal_walk(store, now, random.Random(7)) > 40
    finally:
        await store.close()
    conn = sqlite3.connect(path)
    assert conn.execute(index).fetchone()[0] == 1
    conn.close()


async def _raw_edge_steps(path: Path, calls: int) -> int:
    """SQLite VM steps (in thousands) of the queue counts over a 10-minute ragged edge holding
    `calls` answered calls, each with its WRAPUPEND (callid NONE, as the ACD writes it)."""
    t0 = DAY + 9 * 3600 + 100
    rows = []
    for i in range(calls):
        t, uid, me = t0 + 500 * i / calls, f"u{i}", f"Agent/{1001 + i % 50}"
        rows += [
            (t, uid, "sales", "NONE", "ENTERQUEUE", ("", "138", "1")),
            (t + 1, uid, "sales", me, "CONNECT", ("1", f"{uid}-801", "1")),
            (t + 2, uid, "sales", me, "COMPLETECALLER", ("1", "1", "1")),
            (t + 3, "NONE", "sales", me, "WRAPUPEND", ("wrapup_done",)),
        ]
    store = await Store.open(path, VirtualClock(t0 + 600))
    try:
        await store.journal.append_many(rows)
        steps = 0

        def count() -> int:
            nonlocal steps
            steps += 1
            return 0

        await store._db.reader.set_progress_handler(count, 1000)
        got = await ReportQueries(store._db).queue_counts(
            t0, t0 + 600, end=t0 + 600, thresholds={}, default=(20.0, 5.0), queue_wrap={}, agent_wrap={}
        )
        await store._db.reader.set_progress_handler(None, 1000)
        assert sum(r["answered"] for r in got) == calls and sum(r["handled"] for r in got) == calls
        return steps
    finally:
        await store.close()


async def test_the_queue_reports_raw_edge_grows_with_its_rows_not_their_square(tmp_path: Path) -> None:
    small = await _raw_edge_steps(tmp_path / "a.db", 250)
    large = await _raw_edge_steps(tmp_path / "b.db", 1000)
    assert large < 6 * small, (small, large)  # 4x the rows: ~4x the steps (16x when quadratic)
