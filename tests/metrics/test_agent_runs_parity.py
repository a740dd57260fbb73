"""The agent and sign-in reports walk only the stretches of an agent's period the rollups cannot
vouch for (migration 6), and still equal one row-by-row walk over the whole period: over several
days (daily twins read), with restarts of the daemon (wrap-ups and calls cut off, agents restored
by AGENTLOGIN and PAUSE 'restart'), wrap-ups with and without WRAPUPEND, agents in wrap-up at a
period's start or end or at "now", rows written out of time order and a year-long silence (the
breaks of migration 6), the store closed and opened again between writes, and one agent asked
for; and a restart costs walks of a few buckets, not of the agents' whole period."""

from __future__ import annotations

import math
import random
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import ccd.metrics.agent_time as agent_time
from ccd.clock import VirtualClock
from ccd.config import config_from_text
from ccd.metrics.agent_time import pure_agent_times, rollup_agent_times
from ccd.metrics.definitions import wrap_times
from ccd.metrics.journal import HANDLED, Row, wrap_lookup
from ccd.store import Store
from ccd.store.migrations import agent_breaks_backfill_sql
from ccd.store.reports import AgentRollups
from tests.metrics.helpers import assert_agent_times_same
from tests.metrics.scenario import DAY, journal_tuples

TOML = """
[[queues]]
name = "sales"
wrap_up = 10.0

[[queues]]
name = "support"
wrap_up = 45.0

[[agents]]
login = "1003"
wrap_up = 120.0
"""


def assert_same(got: dict[str, Any], want: dict[str, Any], where: object) -> None:
    """As the migration-4 parity test, to within 10 µs: a timestamp near 1.77e9 is exact only to
    2.4e-7 s, and the rollup and the walk subtract timestamps at different points, so over days
    of intervals the seconds differ by a few such steps (the reports show tenths of a second)."""
    assert_agent_times_same(got, want, where, tol=1e-5)


AGENTS = ("1001", "1002", "1003", "1004", "1005", "1006")
DAYS = 3


def restarts(rng: random.Random) -> list[tuple[float, float]]:
    """(down, up) of the daemon: one or two restarts a day, down from 30 s to two hours."""
    out = []
    for k in range(DAYS):
        for _ in range(rng.choice((1, 2))):
            down = DAY + k * 86400 + rng.uniform(7 * 3600, 19 * 3600)
            out.append((down, down + rng.choice((30.0, 400.0, 1800.0, 7200.0))))
    out.sort()
    return [w for i, w in enumerate(out) if i == 0 or w[0] > out[i - 1][1]]


def agent_rows(rng: random.Random, agent: str, share: float, down: list[tuple[float, float]]) -> list[Row]:
    """One agent's days, 06:00-20:00 Beijing (over UTC midnight), as ccd journals them; whatever would
    fall while the daemon is down is lost, and at restart the agent is signed in again as it was."""
    me = f"Agent/{agent}" if agent != "1006" else agent  # one agent spelled without the prefix
    rows: list[Row] = []
    n = 0

    def add(ts: float, event: str, *data: str, queue: str | None = None, cid: str | None = None) -> None:
        rows.append(Row(ts, cid, queue, me, event, tuple(data)))

    def outage(a: float, b: float) -> tuple[float, float] | None:
        return next(((d, u) for d, u in down if a < d < b or d <= a < u), None)

    for k in range(DAYS):
        t = DAY + k * 86400 + 6 * 3600 + rng.uniform(0, 1800)
        stop = DAY + k * 86400 + 20 * 3600
        if outage(t - 1, t + 1):
            continue
        add(t, "AGENTLOGIN", f"Local/8{agent[-2:]}")
        paused = ""
        while t < stop:
            roll = rng.random()
            n += 1
            cid = f"{agent}-{n}"
            queue = rng.choice(("sales", "support"))
            if roll < 0.75:  # a call: answered, talked, handled, wrap-up
                at = t + rng.uniform(1, 120)
                done = at + rng.uniform(20, 600)
                wrap = {"sales": 10.0, "support": 45.0}[queue] * (rng.random() if rng.random() < 0.3 else 1.0)
                if agent == "1003":
                    wrap = rng.uniform(5, 120)
                if rng.random() < 0.04:  # left in wrap-up for a long while (ended by a supervisor)
                    wrap = rng.uniform(1200, 3600)
                cut = outage(t, done + wrap + 2)
                if cut is None or cut[0] > at:
                    add(at, "CONNECT", str(round(at - t)), cid, "1", queue=queue, cid=cid)
                if cut is None or cut[0] > done:
                    ev = "BLINDTRANSFER" if rng.random() < 0.1 else "COMPLETECALLER"
                    data = (
                        ("803", "ext", "3", str(round(done - at)), "1")
                        if ev == "BLINDTRANSFER"
                        else ("3", str(round(done - at)), "1")
                    )
                    add(done, ev, *data, queue=queue, cid=cid)  # fmt: skip
                if cut is None:
                    if rng.random() < share:
                        add(done + wrap, "WRAPUPEND", "wrapup_done", queue=queue)
                    t = done + wrap + rng.uniform(0.5, 90)
            elif roll < 0.85:  # a break
                reason = rng.choice(("lunch", "training", ""))
                back = t + rng.uniform(60, 2400)
                cut = outage(t, back)
                if cut is None or cut[0] > t:
                    add(t, "PAUSE", reason)
                    paused = reason or "break"
                if cut is None:
                    add(back, "UNPAUSE", "")
                    paused = ""
                    t = back + rng.uniform(1, 60)
            elif roll < 0.95:  # rang, not answered
                cut = outage(t, t + 20)
                if cut is None:
                    add(t + 15, "RINGNOANSWER", "15000", queue=queue, cid=cid)
                    t += 20 + rng.uniform(1, 30)
            else:  # signed out for a while, or for the day
                cut = outage(t, t + 1)
                if cut is None:
                    add(t, "AGENTLOGOFF", f"Local/8{agent[-2:]}", "")
                    if rng.random() < 0.5:
                        break
                    t += rng.uniform(300, 3600)
                    if outage(t - 1, t + 1):
                        break
                    add(t, "AGENTLOGIN", f"Local/8{agent[-2:]}")
                    paused = ""
            if cut is not None:  # the daemon went down: restored as the journal last saw the agent
                t = cut[1] + rng.uniform(0.5, 3)
                add(t, "AGENTLOGIN", f"Local/8{agent[-2:]}")
                add(t, "PAUSE", paused or "restart")
                paused = paused or "restart"
                if rng.random() < 0.7:
                    t += rng.uniform(5, 60)
                    add(t, "UNPAUSE", "")
                    paused = ""
        else:
            if agent != "1005":  # 1005 never signs out: signed in over night
                add(stop + rng.uniform(0, 600), "AGENTLOGOFF", f"Local/8{agent[-2:]}", "")
    return rows


def office(seed: int, share: float) -> list[Row]:
    rng = random.Random(seed)
    down = restarts(rng)
    rows = [r for a in AGENTS for r in agent_rows(rng, a, share, down)]
    rows.sort(key=lambda r: r.ts)
    return rows


def now_in_wrapup(rows: list[Row]) -> float:
    """A moment 3 s after a handled call of the last day: that agent is in wrap-up at "now"."""
    last_day = DAY + (DAYS - 1) * 86400
    handled = [r for r in rows if r.event in HANDLED and r.ts > last_day + 12 * 3600]
    return handled[0].ts + 3.0


def now_in_outage(rows: list[Row], seed: int) -> float:
    """A moment well into a long outage that cut an agent's wrap-up off: their newest row is that
    handled call, buckets ago, and nothing has ended the wrap-up yet."""
    for down, up in restarts(random.Random(seed)):
        last = {r.agent: r for r in rows if r.ts < down}
        if up - down >= 1800 and any(r.event in HANDLED for r in last.values()):
            return down + 1700.0
    raise AssertionError("no outage cut a wrap-up off: pick another seed")


def cut_off(rows: list[Row]) -> set[str | None]:
    """Agents with a wrap-up a restart cut off (their next row signs them in again)."""
    nxt: dict[str | None, Row] = {}
    out = set()
    for r in reversed(rows):
        n = nxt.get(r.agent)
        if r.event in HANDLED and n is not None and n.event == "AGENTLOGIN":
            out.add(r.agent)
        nxt[r.agent] = r
    return out


def long_wrapups(rows: list[Row]) -> list[tuple[float, float]]:
    """(handled, WRAPUPEND) of wrap-ups longer than a bucket."""
    nxt: dict[str | None, Row] = {}
    out = []
    for r in reversed(rows):
        n = nxt.get(r.agent)
        if r.event in HANDLED and n is not None and n.event == "WRAPUPEND" and n.ts - r.ts > 1200:
            out.append((r.ts, n.ts))
        nxt[r.agent] = r
    return sorted(out)


def periods(rows: list[Row], now: float, rng: random.Random) -> list[tuple[float, float]]:
    """Whole and ragged periods, over days and UTC midnights, and periods that start or end inside
    a wrap-up (ended by a WRAPUPEND or not) or inside a restart."""
    out = [
        (DAY, DAY + DAYS * 86400),  # everything, "now" inside
        (DAY + 86400, DAY + 2 * 86400),  # one Beijing day: two ragged UTC days
        (DAY + 8 * 3600, DAY + 8 * 3600 + 86400),  # one UTC day, aligned
        (DAY + 437.5, now - 1234.25),  # ragged both ends, the whole office
        (DAY + 86400 + 10 * 3600 + 1, DAY + 86400 + 10 * 3600 + 800),  # inside one bucket
    ]
    handled = [r for r in rows if r.event in HANDLED and r.ts < now]
    for r in rng.sample(handled, 12):
        b = math.floor(r.ts / 900) * 900
        out += [(DAY, r.ts + 2), (r.ts + 1, now), (b, b + 1800), (DAY + 3600, b + 900)]
    for h, e in long_wrapups(rows)[:6]:  # starting or ending inside a wrap-up longer than buckets
        b = math.floor(h / 900) * 900
        out += [(h - 2000, h + 1900), (h + 5, e - 50), (h + 5, e + 2000), (b - 900, h + 1000)]
    return out


async def assert_rollup_equals_walk(
    store: Store, cfg: Any, spans: list[tuple[float, float]], now: float
) -> None:
    wrap_for = wrap_lookup(*wrap_times(cfg))
    q = AgentRollups.of(store)
    for i, (t0, t1) in enumerate(spans):
        end = min(t1, now)
        if end <= t0:
            continue
        want = await pure_agent_times(q, t0, end, wrap_for)
        assert_same(await rollup_agent_times(q, t0, end, wrap_for), want, (t0, t1))
        if i % 4 == 0:
            for one in ("1003", "1006"):
                got = await rollup_agent_times(q, t0, end, wrap_for, one)
                assert_same(got, {k: v for k, v in want.items() if k == one}, (t0, t1, one))


class Walks:
    """Counts whole-period walks of the rollup path and the seconds of each stretch it walks."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.whole = 0
        self.stretches: list[float] = []
        pure, walk = agent_time.pure_agent_times, agent_time._walk

        async def counted_pure(*args: Any, **kw: Any) -> Any:
            self.whole += 1
            return await pure(*args, **kw)

        async def counted_walk(q: Any, t0: float, t1: float, *args: Any) -> Any:
            self.stretches.append(t1 - t0)
            return await walk(q, t0, t1, *args)

        monkeypatch.setattr(agent_time, "pure_agent_times", counted_pure)
        monkeypatch.setattr(agent_time, "_walk", counted_walk)


async def filled(path: Path, rows: list[Row], now: float, reopen_at: float | None = None) -> Store:
    """A store holding the rows up to `now`, written in time order; closed and opened again at
    `reopen_at` (the daemon restarted: the triggers carry on from the state kept in the file)."""
    rows = [r for r in rows if r.ts <= now]
    cut = len(rows) if reopen_at is None else sum(r.ts < reopen_at for r in rows)
    store = await Store.open(path, VirtualClock(now))
    await store.journal.append_many(journal_tuples(rows[:cut]))
    if cut < len(rows):
        await store.close()
        store = await Store.open(path, VirtualClock(now))
        await store.journal.append_many(journal_tuples(rows[cut:]))
    return store


@pytest.mark.parametrize("now_at", ["wrap-up", "outage"])
@pytest.mark.parametrize("share", [1.0, 0.8, 0.0])
async def test_rollup_with_restarts_equals_the_walk(tmp_path: Path, share: float, now_at: str) -> None:
    cfg = config_from_text(TOML)
    rows = office(11, share)
    now = now_in_wrapup(rows) if now_at == "wrap-up" else now_in_outage(rows, 11)
    assert long_wrapups(rows) or share == 0.0
    store = await filled(tmp_path / "r.db", rows, now, reopen_at=DAY + 86400 + 13 * 3600)
    try:
        await assert_rollup_equals_walk(store, cfg, periods(rows, now, random.Random(5)), now)
    finally:
        await store.close()
    assert cut_off(rows)  # a restart did cut a wrap-up off


async def test_a_restart_costs_a_few_buckets_not_the_whole_period(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = config_from_text(TOML)
    rows = office(20, 1.0)  # every wrap-up ends with a WRAPUPEND, but those the restarts cut off
    now = DAY + DAYS * 86400
    store = await filled(tmp_path / "w.db", rows, now)
    walks = Walks(monkeypatch)
    try:
        q = AgentRollups.of(store)
        runs = await agent_time.unvouched_runs(
            q, DAY, now, now, await q.agents(), await q.state_at(DAY, list(AGENTS)), None
        )
        got = await rollup_agent_times(q, DAY, now, wrap_lookup(*wrap_times(cfg)))
    finally:
        await store.close()
    cut = {agent.split("/")[-1] for agent in cut_off(rows)}
    assert cut and set(runs) >= cut
    assert walks.whole == 0 and all(rs is not None for rs in runs.values())
    # a stretch is a wrap-up cut off (at most an hour here) and the outage after it (at most two
    # hours), in whole buckets: nothing like the three days each agent's whole walk would take
    assert walks.stretches and max(walks.stretches) <= 3600 + 2 * 3600 + 2 * 900
    assert sum(a.logged_in for a in got.values()) > 0


D1 = DAY + 86400  # the second day, where the rows written late lie


def written_with_breaks(seed: int) -> tuple[list[Row], list[Row], float]:
    """(rows in time order, the same rows in the order written, now): a few rows written after later
    rows of the same agent; 1007's lunch written after its end (the trigger keeps them paused until
    their next sign-out, which heals the break and whose own bucket still holds the wrong lunch);
    1008 the same but never signing out (never healed); 1009 signed in a year before their next row."""
    rng = random.Random(seed)
    rows = office(seed, 1.0)
    now = now_in_wrapup(rows)
    rows = [r for r in rows if r.ts <= now]
    late = rng.sample([i for i, r in enumerate(rows) if r.ts < D1 + 12 * 3600], 6)
    late += [i for i, r in enumerate(rows) if r.event == "PAUSE"][:1]
    written = [r for i, r in enumerate(rows) if i not in late]
    written[len(written) // 2 : len(written) // 2] = [rows[i] for i in sorted(late)]  # written late
    lonely = Row(DAY - 370 * 86400, None, None, "Agent/1009", "AGENTLOGIN", ("Local/809",))
    written.insert(0, lonely)
    written.append(Row(D1 + 9 * 3600, None, None, "Agent/1009", "AGENTLOGOFF", ("Local/809", "")))
    for ts, event, data in [
        (D1 + 8 * 3600, "AGENTLOGIN", ("Local/807",)),
        (D1 + 9 * 3600 + 600, "UNPAUSE", ("",)),
        (D1 + 9 * 3600, "PAUSE", ("lunch",)),
        (D1 + 11 * 3600 + 100, "AGENTLOGOFF", ("Local/807", "")),
        (D1 + 12 * 3600, "AGENTLOGIN", ("Local/807",)),
        (D1 + 13 * 3600, "AGENTLOGOFF", ("Local/807", "")),
    ]:
        written.append(Row(ts, None, None, "Agent/1007", event, data))
    for ts, event, data in [
        (D1 + 8 * 3600, "AGENTLOGIN", ("Local/808",)),
        (D1 + 9 * 3600 + 600, "UNPAUSE", ("",)),
        (D1 + 9 * 3600, "PAUSE", ("lunch",)),
        (D1 + 14 * 3600, "CONNECT", ("3", "x8", "1")),
        (D1 + 14 * 3600 + 300, "COMPLETECALLER", ("3", "300", "1")),
        (D1 + 14 * 3600 + 310, "WRAPUPEND", ("wrapup_done",)),
    ]:
        written.append(Row(ts, "x8" if event != "WRAPUPEND" else None, "sales", "Agent/1008", event, data))
    return rows, written, now


async def test_rows_out_of_time_order_and_a_year_of_silence(tmp_path: Path) -> None:
    """Breaks (migration 6): rows appended after later rows of the same agent, and a sign-in a year
    before the agent's next row. The rollup is not the walk's there until the agent's next in-order
    sign-out; periods after a late row, which hold no doubt of migration 4 at all, included."""
    cfg = config_from_text(TOML)
    rows, written, now = written_with_breaks(13)
    lonely, d1 = written[0], D1
    path = tmp_path / "b.db"
    store = await Store.open(path, VirtualClock(now))
    try:
        await store.journal.append_many(journal_tuples(written))
        breaks = await store._db.fetchall(
            "SELECT agent, start, healed FROM rollup_agent_breaks ORDER BY rowid"
        )
        assert len(breaks) >= 3 and any(b["agent"] == "1009" and b["start"] == lonely.ts for b in breaks)
        assert [tuple(b) for b in breaks if b["agent"] == "1007"] == [
            ("1007", d1 + 9 * 3600, d1 + 11 * 3600 + 100)
        ]
        assert [tuple(b) for b in breaks if b["agent"] == "1008"] == [("1008", d1 + 9 * 3600, None)]
        spans = periods(rows, now, random.Random(6))
        spans += [(DAY + 86400 + 12 * 3600 + k * 4321.5, now) for k in range(6)]  # after the late rows
        spans += [(DAY + 2 * 3600, DAY + 86400 + 10 * 3600)]  # 1009 signed in since a year
        spans += [(d1 + 10 * 3600, d1 + 11 * 3600 + 900), (d1 + 9 * 3600 + 900, d1 + 12.5 * 3600)]
        spans += [(d1 + 13 * 3600, d1 + 20 * 3600), (d1 + 14.5 * 3600, now)]
        await assert_rollup_equals_walk(store, cfg, spans, now)
    finally:
        await store.close()

    # the one-pass backfill finds the breaks the trigger recorded
    conn = sqlite3.connect(path)
    try:
        kept = conn.execute(
            "SELECT agent, start, healed FROM rollup_agent_breaks ORDER BY 1, 2, 3"
        ).fetchall()
        conn.execute("DELETE FROM rollup_agent_breaks")
        for sql in agent_breaks_backfill_sql():
            conn.execute(sql)
        built = conn.execute(
            "SELECT agent, start, healed FROM rollup_agent_breaks ORDER BY 1, 2, 3"
        ).fetchall()
    finally:
        conn.close()
    assert built == kept
