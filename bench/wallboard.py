"""Wallboard and report figures (issue 6): prints, never asserts.

1. Board: 128 lines and 40 agents change state continuously, read two ways: every line and
   agent changing 10 times a second (1,680 events/s), and 10 changes a second in all. The
   board runs headless; we measure the process CPU time it uses (process_time) over a fixed
   wall-time window, the events it took in, the frames it drew and the cells that changed.
2. Reports: a temp database with 1,000,000 calls and their queue journal as the ACD writes it
   (450 agents signing in and out for shifts round the clock, pausing with reasons, answering
   only while signed in and ready; built with executemany), then every report over the whole
   period, timed cold (file dropped from the page cache) and warm, with what the agent and
   sign-in reports found.

    python bench/wallboard.py [--seconds 10] [--calls 1000000] [--skip-board] [--skip-reports]
                              [--db PATH]

`--db PATH` keeps the built database at PATH, and reuses it when PATH already exists (building
takes minutes; a database built by an older ccd is upgraded by its migrations when opened, so
this also times a migration's backfill over a million calls).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

STATES_LINE = ("idle", "ringing", "wait_answer", "connected", "offhook", "wait_hangup")
STATES_AGENT = ("ready", "ringing", "on_call", "hold", "wrap_up", "not_ready")


class FloodDaemon:
    """A fake daemon pushing line and agent changes on a fixed wall-time schedule.

    `per_row=True`: every 100 ms a batch touching every line and every agent (each row 10x/s).
    `per_row=False`: 10 changes per second in all, each to a random line or agent.
    The events are made before the clock starts (a pool cycled through), so the CPU measured
    is the board's, not the random generator's."""

    def __init__(self, on_event: Any, on_state: Any, lines: int, agents: int, per_row: bool) -> None:
        self.on_event, self.on_state = on_event, on_state
        self.per_row = per_row
        rng = random.Random(6)
        now = time.time()
        pool: list[list[dict[str, Any]]] = []
        for _ in range(50):
            batch = [self._line(rng, i, now) for i in range(lines)]
            batch += [self._agent(rng, a, now) for a in range(agents)]
            if not per_row:
                batch = [rng.choice(batch)]  # one change every 100 ms
            pool.append(batch)
        self.pool = pool
        self.events = 0
        self._stop = asyncio.Event()

    @staticmethod
    def _line(rng: random.Random, i: int, now: float) -> dict[str, Any]:
        st = rng.choice(STATES_LINE)
        return {"event": "line.changed", "data": {"line": str(i + 1), "kind": "trunk" if i < 96 else "extension",
                "label": f"L{i + 1}", "state": st, "since": -rng.random() * 60,
                "caller": f"1380013{i:04d}" if st != "idle" else None, "caller_name": None, "call": None}}  # fmt: skip

    @staticmethod
    def _agent(rng: random.Random, a: int, now: float) -> dict[str, Any]:
        return {"event": "agent.changed", "data": {"agent": str(1001 + a), "name": f"A{a}", "extension": str(801 + a),
                "state": rng.choice(STATES_AGENT), "reason": "", "since": now - rng.random() * 300,
                "calls_today": rng.randint(0, 40)}}  # fmt: skip

    async def run(self) -> None:
        user = {"user": "admin", "role": "admin"}
        self.on_state("syncing", {"user": user})
        self.on_state("connected", {"snapshot": [], "user": user})
        n = 0
        due = time.perf_counter()
        while not self._stop.is_set():
            # batches fall due every 100 ms of wall time whether or not the board's loop got the
            # CPU in time: a late wake-up sends every batch it owes, as a socket buffer would
            while due <= time.perf_counter():
                due += 0.1
                for event in self.pool[n % len(self.pool)]:
                    self.events += 1
                    self.on_event(event)
                n += 1
            await asyncio.sleep(max(0.0, due - time.perf_counter()))

    def stop(self) -> None:
        self._stop.set()

    async def call(self, cmd: str, args: dict[str, Any] | None = None, **_: Any) -> Any:
        if cmd == "wallboard.stats":
            return {"now": time.time(), "clock": 0.0, "queues": {}, "agents": {}, "chart": {}}
        return {}


async def bench_board(seconds: float, lines: int, agents: int, per_row: bool) -> float:
    """Run the board headless under one load; print its figures and return its CPU %."""
    from tui.wallboard.app import WallboardApp

    made: dict[str, FloodDaemon] = {}

    def factory(socket: Any, auth: Any, on_event: Any, on_state: Any) -> FloodDaemon:
        made["d"] = FloodDaemon(on_event, on_state, lines, agents, per_row)
        return made["d"]

    app = WallboardApp("/nonexistent", backend_factory=factory)
    async with app.run_test(size=(200, 60)) as pilot:
        await asyncio.sleep(1.0)  # warm up: tables built
        cpu0, wall0 = time.process_time(), time.perf_counter()
        cells0, ev0, taken0, frames0 = app.cells_written, made["d"].events, app.events_taken, app.frames
        await asyncio.sleep(seconds)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        cells = app.cells_written - cells0
        events = made["d"].events - ev0
        taken = app.events_taken - taken0
        frames = app.frames - frames0
        await pilot.press("q")
    pct = 100 * cpu / wall
    what = "every line and agent changing 10x/s" if per_row else "10 changes/s in all (random rows)"
    print(f"board: {lines} lines + {agents} agents, {what}, {wall:.1f} s headless at 200x60")
    print(f"  events sent          {events / wall:8.0f} /s")
    print(f"  events taken in      {taken / wall:8.0f} /s (coalesced per row between frames)")
    print(f"  frames drawn         {frames / wall:8.1f} /s")
    print(f"  cells changed (diff) {cells / wall:8.0f} /s")
    print(f"  load average         {os.getloadavg()[0]:8.2f} (other processes on the 2 cores)")
    print(f"  CPU                  {pct:8.1f} % of one core (budget 20 %: {'OK' if pct <= 20 else 'OVER'})")
    return pct


# --- reports ---------------------------------------------------------------------------


T1 = 1767542400.0  # the bench period's end (2026-01-05 00:00 in China); it starts 30 days before
SPAN = 30 * 86400


# Agents sign in on working days in shifts staggered every two hours round the clock (calls arrive
# evenly day and night), so about a quarter of them are signed in at any moment: 450 agents keep
# ~110 signed in, enough for the ~72 busy at once that 850,000 answered calls of ~3.5 min need
# (420 left 4 % of the callers who would have waited without an agent; 450 about 2 %).
N_AGENTS = 450
SHIFT = 8.5 * 3600  # sign-in to sign-out, lunch included
REASONS = ("break", "lunch", "meeting", "training", "admin")  # the ACD's default codes an agent picks
# (no_answer and restart are set by the ACD itself, after unanswered rings or a restart)


def agent_days(rng: random.Random, a: int, t0: float, t1: float) -> list[tuple[float, str, tuple[str, ...]]]:
    """Agent `a`'s sign-in, sign-out and pause rows (ts, event, data) from the day before t0 up to t1,
    with the fields the ACD writes (`AcdQueue._agent_changed`): AGENTLOGIN Local/ext; AGENTLOGOFF
    Local/ext and ""; PAUSE reason; UNPAUSE "" — and AGENTLOGOFF then UNPAUSE at one instant when an
    agent signs out while paused. Five days a week (two days off in a row, a few days absent), a
    shift starting at one of twelve staggered hours (a little late or early each day), two breaks,
    lunch — signed out for it (a split shift) for two agents in five, paused "lunch" for the rest —
    and now and then a meeting, training or admin pause."""
    ext = f"Local/{801 + a}"
    base = (a % 12) * 7200.0
    off = {a % 7, (a + 1) % 7}
    split = a % 5 < 2
    rows: list[tuple[float, str, tuple[str, ...]]] = []
    day0 = t0 - 86400 - (t0 - _DAY_EDGE) % 86400  # local midnight before the day before t0
    for d in range(int((t1 - day0) // 86400) + 1):
        midnight = day0 + d * 86400
        if d % 7 in off or rng.random() < 0.03:  # day off, or absent
            continue
        login = midnight + base + rng.uniform(-300, 600)
        logoff = midnight + base + SHIFT + rng.uniform(-300, 900)
        lunch = login + 4 * 3600 + rng.uniform(-900, 900)
        lunch_end = lunch + rng.uniform(1800, 3600)
        pauses = [
            (login + 2 * 3600 + rng.uniform(-1200, 1200), rng.uniform(600, 1200), "break"),
            (lunch_end + 2 * 3600 + rng.uniform(-1200, 1200), rng.uniform(600, 1200), "break"),
        ]
        if not split:
            pauses.append((lunch, lunch_end - lunch, "lunch"))
        for p, lo, hi, reason in (
            (0.3, 300, 900, "admin"),
            (0.1, 1800, 3600, "meeting"),
            (0.05, 3600, 7200, "training"),
        ):
            if rng.random() < p:
                pauses.append((rng.uniform(login + 600, logoff - hi - 600), rng.uniform(lo, hi), reason))
        ends_paused = rng.random() < 0.1  # signs out from an admin pause
        if ends_paused:
            pauses.append((logoff - rng.uniform(300, 900), 0.0, "admin"))
        day: list[tuple[float, str, tuple[str, ...]]] = [(login, "AGENTLOGIN", (ext,))]
        if split:
            day += [(lunch, "AGENTLOGOFF", (ext, "")), (lunch_end, "AGENTLOGIN", (ext,))]
        busy_until = login
        for p0, length, reason in sorted(pauses):
            if p0 < busy_until + 60 or (split and p0 < lunch_end + 60 and p0 + length > lunch - 60):
                continue  # overlaps the pause before it or the lunch away: not taken
            day.append((p0, "PAUSE", (reason,)))
            if length:
                day.append((p0 + length, "UNPAUSE", ("",)))
            busy_until = p0 + length
        day.append((logoff, "AGENTLOGOFF", (ext, "")))
        if day[-2][1] == "PAUSE":  # the end-of-day admin pause (when it did not overlap a break)
            day.append((logoff, "UNPAUSE", ("",)))
        rows += sorted(day, key=lambda r: r[0])  # stable: LOGOFF before UNPAUSE at one instant
    return rows


_DAY_EDGE = T1  # a local midnight (China)


def available(rows: list[tuple[float, str, tuple[str, ...]]]) -> list[tuple[float, float]]:
    """The stretches an agent is signed in and not paused, from their session rows."""
    out, logged, paused, since = [], False, False, 0.0
    for ts, event, _ in rows:
        was = logged and not paused
        if event == "AGENTLOGIN":
            logged = True
        elif event == "AGENTLOGOFF":
            logged, paused = False, False
        elif event == "PAUSE":
            paused = True
        elif event == "UNPAUSE":
            paused = False
        now = logged and not paused
        if now and not was:
            since = ts
        elif was and not now and ts > since:
            out.append((since, ts))
    return out


def build_db(path: Path, n_calls: int, n_agents: int = N_AGENTS) -> tuple[float, float]:
    """A database with n calls over 30 days and their queue journal, as the ACD writes it: agents sign
    in and out in shifts and pause with reasons (`agent_days`); a call is answered by the agent
    longest free among those signed in and not paused whose stretch holds the whole call and its
    wrap-up (one call at a time, a WRAPUPEND after each wrap-up); returns (t0, t1). Rows go in with
    the rollup triggers off and the rollups are filled afterwards in one pass (what the triggers
    would have kept)."""
    from ccd.clock import VirtualClock
    from ccd.store import Store

    async def migrate() -> None:
        s = await Store.open(path, VirtualClock())
        await s.close()

    asyncio.run(migrate())
    rng = random.Random(1)
    t0 = T1 - SPAN
    span = SPAN
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    # the rollup triggers cost ~400 s over a million calls row by row: load with them off, then
    # fill the rollups in one set-based pass each (the migrations' own statements) and put them back
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    calls, journal = [], []
    shifts = random.Random(2)  # its own stream: the calls' draws stay those of the bench before shifts
    stretches: list[tuple[float, str, int]] = []  # (from, agent, index in spans[agent])
    spans: dict[str, list[tuple[float, float]]] = {}
    for a in range(n_agents):
        agent = f"Agent/{1001 + a}"
        rows = agent_days(shifts, a, t0, t1=T1)
        journal += [
            (ts, "NONE", "NONE", agent, event, *data, *[None] * (3 - len(data)))
            for ts, event, data in rows
            if ts < T1
        ]
        spans[agent] = available(rows)
        stretches += [(s, agent, k) for k, (s, _) in enumerate(spans[agent])]
    stretches.sort()
    nxt = 0
    free: list[tuple[float, str, int]] = []  # (free from, agent, stretch): agents signed in and not paused
    for i in range(n_calls):
        start = t0 + span * i / n_calls
        while nxt < len(stretches) and stretches[nxt][0] <= start:
            heapq.heappush(free, stretches[nxt])
            nxt += 1
        wait = rng.randint(0, 90)
        talk = rng.randint(20, 400)
        uid = f"{start:.0f}.{i}"
        trunk = str(1 + i % 8)
        q = ("sales", "support")[i % 2]
        answer = start + wait
        agent = None
        if rng.random() < 0.85:
            wrap = 10.0 if rng.random() < 0.7 else rng.uniform(1, 10)  # some end their wrap-up early
            agent = _take(free, spans, answer, answer + talk + wrap)
        journal.append((start, uid, q, "NONE", "ENTERQUEUE", "", "", "1"))
        if agent is not None:
            end = answer + talk
            journal.append((answer, uid, q, agent, "CONNECT", str(wait), uid, "3"))
            journal.append((end, uid, q, agent, "COMPLETECALLER", str(wait), str(talk), "1"))
            journal.append((end + wrap, "NONE", q, agent, "WRAPUPEND", "wrapup_done", None, None))
        else:
            end = start + wait
            journal.append((end, uid, q, "NONE", "ABANDON", "1", "1", str(wait)))
        answered = agent is not None
        calls.append((uid, uid, "in", start, start + wait if answered else None, end, int(end - start),
                      talk if answered else 0, f"1380013{i % 10000:04d}", trunk, q, agent,
                      "ANSWERED" if answered else "NO ANSWER", rng.randint(1, 5) if rng.random() < 0.2 else None,
                      f"1380013{i % 10000:04d}"))  # fmt: skip
    journal.sort(
        key=lambda r: r[0]
    )  # the daemon appends in time order (stable: same-instant rows keep theirs)
    conn.executemany(
        'INSERT INTO calls(uniqueid, linkedid, direction, start, answer, "end", duration, billsec, src, trunk, '
        "queue, agent, disposition, survey_score, peer_key) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        calls,
    )
    conn.executemany(
        "INSERT INTO journal(ts, callid, queue, agent, event, data1, data2, data3) VALUES (?,?,?,?,?,?,?,?)",
        journal,
    )
    conn.commit()
    answered = sum(c[4] is not None for c in calls)
    sessions = sum(r[4] == "AGENTLOGIN" for r in journal)
    pauses = sum(r[4] == "PAUSE" for r in journal)
    print(
        f"{n_agents} agents: {sessions:,} sign-ins, {pauses:,} pauses; {answered:,} of {n_calls:,} calls answered"
    )
    from ccd.store.migrations import rebuild_rollups_sql

    r0 = time.perf_counter()
    for sql in rebuild_rollups_sql():
        conn.execute(sql)
    for _, sql in triggers:
        conn.execute(sql)
    conn.commit()
    print(f"rollups filled in one pass in {time.perf_counter() - r0:.1f} s")
    conn.execute("ANALYZE")
    conn.close()
    return t0, t0 + span


def _take(
    free: list[tuple[float, str, int]], spans: dict[str, list[tuple[float, float]]], at: float, until: float
) -> str | None:
    """The agent longest free at `at` whose signed-in, unpaused stretch holds [at, until), now busy
    until `until`; None if there is none (the caller abandons). Entries of stretches that are over
    are dropped; agents whose stretch ends too soon for this call stay for shorter ones."""
    aside, agent = [], None
    while free and free[0][0] <= at and len(aside) < 16:
        entry = heapq.heappop(free)
        _, who, k = entry
        s_end = spans[who][k][1]
        if s_end <= at:
            continue  # signed out or paused since: a later stretch has its own entry
        if s_end < until:
            aside.append(entry)
            continue
        agent = who
        heapq.heappush(free, (until, who, k))
        break
    for entry in aside:
        heapq.heappush(free, entry)
    return agent


def _evict(path: Path) -> None:
    """Drop the database's files from the OS page cache, so the next report reads from disk (cold)."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if p.exists():
            fd = os.open(p, os.O_RDONLY)
            try:
                os.fsync(fd)  # dirty pages are not dropped
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


async def bench_reports(path: Path, t0: float, t1: float, n_calls: int) -> None:
    """Every report over the whole period: cold (the file dropped from the page cache and the store
    opened afresh) and warm (best of two more runs on that store); for the agent and sign-in reports
    what they found, so an empty journal of sessions cannot pass for a fast report."""
    from ccd.clock import VirtualClock
    from ccd.config import config_from_text
    from ccd.metrics.reports import REPORTS, run_report
    from ccd.store import Store
    from ccd.store.db import CHINA_TZ

    cfg = config_from_text('[[queues]]\nname = "sales"\n[[queues]]\nname = "support"\n')
    print(f"reports over {n_calls:,} calls (30 days), load average {os.getloadavg()[0]:.2f}:")
    samples: list[str] = []
    for name in REPORTS:
        for interval in (None, "1h") if name in ("queue", "traffic") else (None,):
            _evict(path)
            store = await Store.open(path, VirtualClock(t1))
            try:
                took = []
                for _ in range(3):
                    c0 = time.perf_counter()
                    rep = await run_report(store, cfg, name, t0, t1, now=t1, tz=CHINA_TZ, interval=interval)
                    took.append(time.perf_counter() - c0)
            finally:
                await store.close()
            cold, warm = took[0], min(took[1:])
            label = f"{name}{'/' + interval if interval else ''}"
            verdict = "OK" if max(cold, warm) <= 1 else "OVER 1 s"
            print(f"  {label:12s} cold {cold:5.2f} s  warm {warm:5.2f} s  {len(rep.rows):6d} rows  {verdict}")
            if name in ("agent", "signin"):
                samples.append(_sample(name, rep.rows))
    for line in samples:
        print(line)


def _sample(name: str, rows: list[dict[str, Any]]) -> str:
    """One line on what the agent or sign-in report found (sums over its rows and its first row)."""
    if not rows:
        return f"  {name}: EMPTY"
    if name == "signin":
        open_ = sum(r["sign_out"] == "(signed in)" for r in rows)
        hours = sum(r["duration"] for r in rows) / 3600
        first = rows[0]
        return (
            f"  signin: {len(rows):,} sessions of {len({r['agent'] for r in rows})} agents, {hours:,.0f} h, "
            f"{open_} still signed in; first: {first['agent']} {first['sign_in']} -> {first['sign_out']}"
        )
    hours = {
        k: sum(r[k] or 0 for r in rows) / 3600
        for k in ("logged_in", "ready", "on_call", "wrap_up", "not_ready")
    }
    first = rows[0]
    return (
        "  agent: "
        + ", ".join(f"{k} {v:,.0f} h" for k, v in hours.items())
        + f", answered {sum(r['answered'] or 0 for r in rows):,}; first: {first['agent']} "
        f"logged in {first['logged_in'] / 3600:.1f} h, not ready {first['not_ready_reasons']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--lines", type=int, default=128)
    ap.add_argument("--agents", type=int, default=40)
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--skip-board", action="store_true")
    ap.add_argument("--skip-reports", action="store_true")
    ap.add_argument("--db", type=Path, help="keep the report database here; reuse it if it exists")
    args = ap.parse_args()
    if not args.skip_board:
        # the "10 updates per second": read both ways, both printed
        asyncio.run(bench_board(args.seconds, args.lines, args.agents, per_row=True))
        asyncio.run(bench_board(args.seconds, args.lines, args.agents, per_row=False))
    if not args.skip_reports:
        if args.db is not None:
            reports_on(args.db, args.calls)
        else:
            with tempfile.TemporaryDirectory(prefix="ccd-bench-") as d:
                reports_on(Path(d) / "bench.db", args.calls)


def reports_on(path: Path, n_calls: int) -> None:
    """Build the report database at `path` (or reuse the one there) and time every report."""
    if path.exists():
        n_calls = sqlite3.connect(path).execute("SELECT count(*) FROM calls").fetchone()[0]
        print(f"reusing {path} ({n_calls:,} calls)")
        t0, t1 = T1 - SPAN, T1
        asyncio.run(upgrade(path))
    else:
        c0 = time.perf_counter()
        t0, t1 = build_db(path, n_calls)
        print(f"built {n_calls:,} calls + journal in {time.perf_counter() - c0:.1f} s")
    asyncio.run(bench_reports(path, t0, t1, n_calls))


async def upgrade(path: Path) -> None:
    """Open a reused database once, so migrations it lacks run (and are timed) before the reports."""
    from ccd.clock import VirtualClock
    from ccd.store import Store

    c0 = time.perf_counter()
    store = await Store.open(path, VirtualClock(T1))
    await store.close()
    print(f"opened (migrations applied) in {time.perf_counter() - c0:.1f} s")


if __name__ == "__main__":
    main()
